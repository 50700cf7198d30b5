"""GEM serving speed on a GPU: HF ``generate`` as GEM runs it vs our engine's KV caches.

Device machine (nvidia-h200; its image has torch 2.11, transformers 5.17, safetensors,
sentencepiece, numpy, scipy, pillow, jinja2, but NOT pydantic). Here, in the repo root, once:

    echo /.whl/ >> .git/info/exclude
    python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
        --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
        --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
        --platform manylinux1_x86_64 -d .whl pydantic==2.14.4 pydantic-core==2.50.5 \
        annotated-types==0.8.0 typing-inspection==0.4.5 typing-extensions==4.16.0

then one ``run`` with ``carry: [".whl"]`` and ``timeout_s: 540``:

    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site || exit; \
    PYTHONUNBUFFERED=1 python3 benchmarks/gpu_serving.py --quick --out $OUT/gpu_serving.json

A full-size GEM (Vicuna-7B LLM, CLIP ViT-L/14-336, 768 x 12 ECG tower) is built with random
weights directly on the GPU in bf16 (meta device, ``to_empty``, in-place init: no download,
no host copy), with a stand-in tokenizer (the tiny SentencePiece model; ids beyond it decode
modulo its size; EOS never ends a request). Every request is GEM's: 677 ECG/image embeddings
+ ``--text-tokens`` prompt tokens, greedy, exactly ``--new-tokens`` new tokens. Measured, in
this order (the JSON is rewritten after each; ``--budget-s`` skips the optional rest):

1. the copy bandwidth (a large ``copy_``, bytes read + written) and the bandwidth floor of a
   decode step: LLM weight bytes / bandwidth;
2. our engine, one request at a time, static KV cache + CUDA graphs;
3. our engine at 8, 32 and 64 concurrent requests (``max_batch`` = concurrency), static
   cache + CUDA graphs: tokens/s over the whole run and the steady decode step;
4. HF ``generate`` at batch 1 with its dynamic cache, as GEM's code calls it (the baseline);
5. our engine one request at a time: dynamic cache; static cache without graphs;
6. our engine with the dynamic cache at 32 concurrent requests;
7. static cache + ``torch.compile`` + CUDA graphs, one request (minutes of compilation;
   capped by the budget).

Each engine configuration runs its workload once to warm up (graph captures, compilation),
then again to measure. ``--quick`` (64 new tokens, budget 240 s) fits a 9-minute limit;
``--tiny`` runs tiny dimensions on the CPU in seconds (the test suite does).

    python benchmarks/gpu_serving.py                 # full: 256 new tokens (GPU)
    python benchmarks/gpu_serving.py --tiny --out /tmp/gpu_serving_tiny.json
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import gc  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from collections.abc import Callable, Iterator, Sequence  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from dataclasses import asdict, dataclass  # noqa: E402
from functools import partial  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo, when not installed

import numpy as np  # noqa: E402
import torch  # noqa: E402
from common import RESULTS_DIR, print_table, write_results  # noqa: E402

from gem_core.engine import GenerationRequest, SamplingParams  # noqa: E402
from gem_core.model.engine import GemEngine  # noqa: E402
from gem_core.model.loader import LoadedGem  # noqa: E402
from gem_core.model.random_gem import random_loaded_gem  # noqa: E402
from gem_core.model.tokenizer import GemTokenizer  # noqa: E402
from gem_core.prompting import IMAGE_TOKEN  # noqa: E402

#: The issue's goals: single stream within 1.3x the bandwidth floor; >= 10x GEM's tokens/s
#: (HF generate, batch 1) at 32 concurrent requests.
FLOOR_GOAL_RATIO = 1.3
#: Runs of HF `generate` per length (the fastest counts): the per-step time is a difference.
HF_REPEATS = 3
THROUGHPUT_GOAL_RATIO = 10.0
#: Bytes copied to measure the bandwidth (GPU: far beyond the 60 MB L2; CPU: beyond the LLC).
COPY_BYTES_GPU = 2 * 2**30
COPY_BYTES_CPU = 64 * 2**20
#: The question whose words fill the text part of the prompt (GEM's evaluation instruction).
QUESTION = (
    "Interpret the provided ECG image, identify key features and abnormalities in each lead, "
    "and generate a clinical diagnosis that is supported by the observed evidence."
)
#: Least budget left to start compiling (a 7B decode step compiles in about a minute or more).
MIN_COMPILE_S = 60.0
#: Characters of an error message kept in the JSON (Dynamo's run to pages).
MAX_ERROR_CHARS = 600
#: Engine configurations: name -> GemEngine cache options.
CONFIGS: dict[str, dict[str, Any]] = {
    "dynamic": {"kv_cache": "dynamic"},
    "static": {"kv_cache": "static", "cuda_graphs": False},
    "static+graphs": {"kv_cache": "static", "cuda_graphs": True},
    "static+compile": {"kv_cache": "static", "cuda_graphs": False, "compile": True},
    "static+compile+graphs": {"kv_cache": "static", "cuda_graphs": True, "compile": True},
}


@dataclass(frozen=True)
class Plan:
    """What one run measures."""

    mode: str
    device: str
    dtype: str
    new_tokens: int
    text_tokens: int
    concurrency: tuple[int, ...]
    max_context: int
    budget_s: float | None
    compile: bool


class Run:
    """Progress lines with timestamps, the JSON rewritten after every measurement."""

    def __init__(self, plan: Plan, out: Path) -> None:
        self.plan, self.out, self.start = plan, out, time.perf_counter()
        self.interrupted = False  # a measurement was stopped by the budget's alarm
        self.payload: dict[str, Any] = {
            "benchmark": "gpu_serving",
            "plan": asdict(plan),
            "environment": environment(plan.device),
            "single_stream": [],
            "concurrent": [],
            "skipped": [],
            "errors": [],
        }

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def log(self, message: str) -> None:
        print(f"[{self.elapsed():7.1f}s] {message}", flush=True)

    def save(self) -> None:
        self.payload["elapsed_s"] = round(self.elapsed(), 1)
        write_results(self.out, self.payload)

    def over_budget(self, name: str, needed_s: float = 0.0) -> bool:
        budget = self.plan.budget_s
        if budget is None or self.elapsed() + needed_s <= budget:
            return False
        self.skip(name, f"budget: {self.elapsed():.0f} s of {budget:.0f} s used")
        return True

    def skip(self, name: str, why: str) -> None:
        self.payload["skipped"].append({"name": name, "why": why})
        self.log(f"skipped {name}: {why}")
        self.save()

    def measure(self, section: str, name: str, func: Callable[[], dict[str, Any]]) -> None:
        """Run one measurement; record its row, or its error, and save."""
        self.log(f"{name} ...")
        try:
            row = {"name": name, **func()}
        except Exception as err:  # a failed configuration must not lose the others
            traceback.print_exc()
            message = f"{type(err).__name__}: {err}"[:MAX_ERROR_CHARS]
            self.payload["errors"].append({"name": name, "error": message})
            self.log(f"{name} failed: {message}")
        else:
            self.payload[section].append(row)
            self.log(f"{name}: {summary(row)}")
        finally:
            free_memory(self.plan.device)
        self.save()


def environment(device: str) -> dict[str, Any]:
    import transformers

    info: dict[str, Any] = {
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "device": device,
    }
    if device.startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name(device)
        info["cuda"] = torch.version.cuda
    return info


def summary(row: dict[str, Any]) -> str:
    keys = ("ms_per_step", "tokens_per_s", "steady_ms_per_step", "steady_tokens_per_s")
    return ", ".join(f"{k} {row[k]:.2f}" for k in keys if isinstance(row.get(k), float))


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)


def free_memory(device: str) -> None:
    gc.collect()
    if device.startswith("cuda"):
        torch.cuda.empty_cache()


def copy_bandwidth(device: str) -> float:
    """Bytes per second of a large device copy, counting bytes read and written."""
    size = COPY_BYTES_GPU if device.startswith("cuda") else COPY_BYTES_CPU
    src = torch.empty(size, dtype=torch.uint8, device=device)
    dst = torch.empty_like(src)
    dst.copy_(src)
    sync(device)
    repeats = 10
    start = time.perf_counter()
    for _ in range(repeats):
        dst.copy_(src)
    sync(device)
    seconds = (time.perf_counter() - start) / repeats
    return 2 * size / seconds


def build(plan: Plan) -> tuple[LoadedGem, int]:
    """The random GEM, and its LLM's weight bytes."""
    gem = random_loaded_gem(tiny=plan.mode == "tiny", device=plan.device, dtype=plan.dtype)
    sync(plan.device)
    weight_bytes = sum(p.numel() * p.element_size() for p in gem.model.llm.parameters())
    return gem, weight_bytes


def bench_prompt(tokenizer: GemTokenizer, text_tokens: int) -> str:
    """A ``USER: <image>\\n... ASSISTANT:`` prompt of about ``text_tokens`` text tokens."""
    words = QUESTION.split()
    chosen: list[str] = []
    while True:
        prompt = f"USER: {IMAGE_TOKEN}\n{' '.join(chosen)} ASSISTANT:"
        if len(tokenizer.encode_prompt(prompt)) - 1 >= text_tokens:
            return prompt
        chosen.append(words[len(chosen) % len(words)])


def requests(gem: LoadedGem, plan: Plan, n: int, tag: str) -> list[GenerationRequest]:
    """``n`` GEM requests with random inputs, each generating exactly ``new_tokens``."""
    rng = np.random.default_rng(len(tag) + n)
    prompt = bench_prompt(gem.tokenizer, plan.text_tokens)
    side = gem.model.image_size
    return [
        GenerationRequest(
            request_id=f"{tag}-{i}",
            prompt=prompt,
            ecg=rng.normal(0.0, 0.3, size=(12, 5000)).astype(np.float32),
            image=rng.normal(0.0, 1.0, size=(3, side, side)).astype(np.float32),
            params=SamplingParams(max_new_tokens=plan.new_tokens),
        )
        for i in range(n)
    ]


def drive(engine: GemEngine, batch: list[GenerationRequest]) -> list[tuple[float, int, int]]:
    """Run ``batch`` to completion; per step ``(ms, prefilled, decode_batch_size)``."""
    for request in batch:
        engine.add(request)
    steps = []
    while engine.has_work():
        start = time.perf_counter()
        result = engine.step()
        steps.append(
            ((time.perf_counter() - start) * 1e3, result.prefilled, result.decode_batch_size)
        )
    return steps


def engine_run(gem: LoadedGem, plan: Plan, config: str, concurrency: int) -> dict[str, Any]:
    """Warm-up pass, then the measured pass, of ``concurrency`` requests at once."""
    engine = GemEngine(
        gem,
        max_batch=concurrency,
        max_queue=concurrency,
        max_context=plan.max_context,
        **CONFIGS[config],
    )
    drive(engine, requests(gem, plan, concurrency, "warm"))
    if plan.device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats(plan.device)
    start = time.perf_counter()
    steps = drive(engine, requests(gem, plan, concurrency, "run"))
    wall_s = time.perf_counter() - start
    full = [ms for ms, prefilled, size in steps if not prefilled and size == concurrency]
    decode = full or [ms for ms, prefilled, size in steps if not prefilled and size]
    steady_ms = statistics.median(decode)
    tokens = concurrency * plan.new_tokens
    runner = getattr(engine.running_batch, "runner", None)
    row: dict[str, Any] = {
        "config": config,
        "concurrency": concurrency,
        "new_tokens": plan.new_tokens,
        "prompt_tokens": engine.count_tokens(bench_prompt(gem.tokenizer, plan.text_tokens)),
        "wall_s": wall_s,
        "tokens_per_s": tokens / wall_s,
        "steady_ms_per_step": steady_ms,
        "steady_tokens_per_s": concurrency * 1e3 / steady_ms,
        "steps": len(steps),
        "prefill_steps": sum(1 for _, prefilled, _ in steps if prefilled),
        "first_step_ms": steps[0][0],
        "graphs_captured": None if runner is None else runner.captured,
    }
    if plan.device.startswith("cuda"):
        row["peak_gib"] = torch.cuda.max_memory_allocated(plan.device) / 2**30
    return row


def single_stream(gem: LoadedGem, plan: Plan, config: str) -> dict[str, Any]:
    """One request alone: ms per decode step (steady), and end-to-end tokens/s."""
    row = engine_run(gem, plan, config, 1)
    ms = row.pop("steady_ms_per_step")
    del row["steady_tokens_per_s"]
    row["e2e_tokens_per_s"] = row.pop("tokens_per_s")
    return {**row, "ms_per_step": ms, "tokens_per_s": 1e3 / ms, "prefill_ms": row["first_step_ms"]}


def hf_generate(gem: LoadedGem, plan: Plan) -> dict[str, Any]:
    """GEM's way: towers + splice, then ``LlamaForCausalLM.generate`` at batch 1 (greedy,
    dynamic cache); per-step time from a 1-token and an ``new_tokens`` run."""
    from transformers import GenerationConfig

    model = gem.model
    request = requests(gem, plan, 1, "hf")[0]
    ids = gem.tokenizer.encode_prompt(request.prompt)
    signal_t = torch.from_numpy(request.ecg)[None].to(plan.device)
    pixels = torch.from_numpy(request.image)[None].to(plan.device)

    def timed(new_tokens: int) -> float:
        config = GenerationConfig(
            max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False, num_beams=1,
            use_cache=True, eos_token_id=gem.config.eos_token_id, pad_token_id=0,
        )  # fmt: skip
        sync(plan.device)
        start = time.perf_counter()
        with torch.inference_mode():
            prompt = model.prompt_embeds([ids], model.multimodal_embeds(signal_t, pixels))
            out = model.llm.generate(
                inputs_embeds=prompt.embeds,
                attention_mask=prompt.attention_mask,
                generation_config=config,
            )
        generated = out.shape[-1]
        sync(plan.device)
        if generated != new_tokens:
            raise RuntimeError(f"generate returned {generated} tokens, not {new_tokens}")
        return time.perf_counter() - start

    timed(2)  # warm-up
    # The fastest of a few runs each, interleaved: a load spike only slows a run down, and a
    # slow one-token run must not make the per-step time (a difference) negative.
    runs = [(timed(1), timed(plan.new_tokens)) for _ in range(HF_REPEATS)]
    one = min(r[0] for r in runs)
    full = min(r[1] for r in runs)
    ms = (full - one) * 1e3 / (plan.new_tokens - 1)
    return {
        "config": "hf-generate-dynamic",
        "new_tokens": plan.new_tokens,
        "prefill_ms": one * 1e3,
        "ms_per_step": ms,
        "tokens_per_s": 1e3 / ms,
        "e2e_tokens_per_s": plan.new_tokens / full,
    }


@contextmanager
def time_limit(seconds: float, run: Run) -> Iterator[None]:
    """Raise ``TimeoutError`` in the main thread after ``seconds`` (POSIX); mark ``run``
    interrupted (the error may reach us wrapped by torch.compile)."""

    def expire(_signum: int, _frame: object) -> None:
        run.interrupted = True
        raise TimeoutError(f"stopped after {seconds:.0f} s (budget)")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def measure_all(run: Run, gem: LoadedGem, weight_bytes: int) -> None:
    """The measurements, most important first (module docstring)."""
    plan, cuda = run.plan, run.plan.device.startswith("cuda")
    bandwidth = copy_bandwidth(plan.device)
    run.payload["bandwidth"] = {
        "copy_bytes_per_s": bandwidth,
        "llm_weight_bytes": weight_bytes,
        "floor_ms_per_step": weight_bytes / bandwidth * 1e3,
    }
    run.log(
        f"copy bandwidth {bandwidth / 1e9:.0f} GB/s; floor {weight_bytes / bandwidth * 1e3:.2f} ms"
    )
    run.save()
    best = "static+graphs" if cuda else "static"
    run.measure("single_stream", f"engine {best}", lambda: single_stream(gem, plan, best))
    for n in plan.concurrency:
        run.measure("concurrent", f"engine {best} x{n}", partial(engine_run, gem, plan, best, n))
    optional: list[tuple[str, str, Callable[[], dict[str, Any]]]] = [
        ("single_stream", "hf generate (GEM)", lambda: hf_generate(gem, plan)),
        ("single_stream", "engine dynamic", lambda: single_stream(gem, plan, "dynamic")),
    ]
    if cuda:
        optional.append(
            ("single_stream", "engine static", lambda: single_stream(gem, plan, "static"))
        )
    middle = min(plan.concurrency, key=lambda n: abs(n - 32))
    optional.append(
        (
            "concurrent",
            f"engine dynamic x{middle}",
            lambda: engine_run(gem, plan, "dynamic", middle),
        )
    )
    for section, name, func in optional:
        if not run.over_budget(name):
            run.measure(section, name, func)
    measure_compile(run, gem)


def measure_compile(run: Run, gem: LoadedGem) -> None:
    plan = run.plan
    config = "static+compile+graphs" if plan.device.startswith("cuda") else "static+compile"
    name = f"engine {config}"
    if not plan.compile:
        run.skip(name, "compile off (--compile)")
        return
    left = None if plan.budget_s is None else plan.budget_s - run.elapsed()
    if left is not None and left < MIN_COMPILE_S:
        run.skip(name, f"budget: {left:.0f} s left, compiling needs about {MIN_COMPILE_S:.0f}")
        return

    def compiled() -> dict[str, Any]:
        if left is None:
            return single_stream(gem, plan, config)
        with time_limit(left, run):
            return single_stream(gem, plan, config)

    run.measure("single_stream", name, compiled)


def report(run: Run) -> None:
    """Tables on stdout and the goals in the JSON."""
    payload = run.payload
    floor = payload.get("bandwidth", {}).get("floor_ms_per_step")
    singles = payload["single_stream"]
    print_table(
        "Single stream (batch 1)",
        ["config", "ms/step", "tokens/s", "x floor", "prefill ms", "e2e tokens/s"],
        [[r["config"], r["ms_per_step"], r["tokens_per_s"],
          r["ms_per_step"] / floor if floor else None, r["prefill_ms"],
          r.get("e2e_tokens_per_s")] for r in singles],
    )  # fmt: skip
    hf = next((r for r in singles if r["config"] == "hf-generate-dynamic"), None)
    rows = payload["concurrent"]
    for row in rows:
        row["floor_ms_per_step"] = kv_floor_ms(payload, row)
    print_table(
        "Concurrent requests",
        ["config", "requests", "tokens/s", "x GEM", "steady ms/step", "floor ms", "wall s"],
        [[r["config"], r["concurrency"], r["tokens_per_s"],
          r["tokens_per_s"] / hf["e2e_tokens_per_s"] if hf else None,
          r["steady_ms_per_step"], r["floor_ms_per_step"], r["wall_s"]] for r in rows],
    )  # fmt: skip
    if floor:
        print(f"\nbandwidth floor: {floor:.2f} ms/step ({1e3 / floor:.1f} tokens/s)")
    static = [r["ms_per_step"] for r in singles if r["config"].startswith("static")]
    at_32 = [r["tokens_per_s"] for r in rows if r["concurrency"] == 32 and "graphs" in r["config"]]
    payload["goals"] = {
        "single_stream_ms_goal": FLOOR_GOAL_RATIO * floor if floor else None,
        "single_stream_best_ms": min(static, default=None),
        "single_stream_met": bool(floor and static and min(static) <= FLOOR_GOAL_RATIO * floor),
        "x_gem_at_32": at_32[0] / hf["e2e_tokens_per_s"] if hf and at_32 else None,
        "x_gem_goal": THROUGHPUT_GOAL_RATIO,
    }
    run.save()


def kv_floor_ms(payload: dict[str, Any], row: dict[str, Any]) -> float | None:
    """Bandwidth floor of a batched decode step: the weights once, plus every request's
    cached keys/values at its mean context (prompt + half the answer)."""
    bandwidth = payload.get("bandwidth")
    if not bandwidth:
        return None
    context = row["prompt_tokens"] + row["new_tokens"] / 2
    kv = row["concurrency"] * context * payload["model"]["kv_bytes_per_token"]
    return float((bandwidth["llm_weight_bytes"] + kv) / bandwidth["copy_bytes_per_s"] * 1e3)


def parse_plan(argv: Sequence[str] | None) -> tuple[Plan, Path]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="64 new tokens, 240 s budget (GPU)")
    mode.add_argument("--tiny", action="store_true", help="tiny dimensions on the CPU (tests)")
    parser.add_argument("--device", help="default: cuda (cpu with --tiny)")
    parser.add_argument("--dtype", help="default: bf16 on cuda, fp32 on cpu")
    parser.add_argument("--new-tokens", type=int, help="per request (default 256; quick 64)")
    parser.add_argument("--text-tokens", type=int, default=60, help="prompt text tokens")
    parser.add_argument("--concurrency", type=int, nargs="+", help="default 8 32 64")
    parser.add_argument("--max-context", type=int, default=1024, help="static cache slots' size")
    parser.add_argument("--budget-s", type=float, help="skip optional steps after (quick 240)")
    parser.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--out", type=Path, help="JSON file (default: benchmarks/results/)")
    args = parser.parse_args(argv)
    name = "tiny" if args.tiny else "quick" if args.quick else "full"
    device = args.device or ("cpu" if args.tiny else "cuda")
    plan = Plan(
        mode=name,
        device=device,
        dtype=args.dtype or ("bf16" if device.startswith("cuda") else "fp32"),
        new_tokens=args.new_tokens or {"tiny": 4, "quick": 64, "full": 256}[name],
        text_tokens=args.text_tokens,
        concurrency=tuple(args.concurrency or ((2, 3) if args.tiny else (8, 32, 64))),
        max_context=args.max_context,
        budget_s=args.budget_s if args.budget_s is not None else {"quick": 240.0}.get(name),
        compile=args.compile if args.compile is not None else name != "tiny",
    )
    if plan.new_tokens < 2:
        parser.error("--new-tokens must be >= 2 (a decode step needs a second token)")
    return plan, args.out or RESULTS_DIR / f"gpu_serving_{name}.json"


def main(argv: Sequence[str] | None = None) -> None:
    plan, out = parse_plan(argv)
    run = Run(plan, out)
    run.log(f"plan: {asdict(plan)}")
    gem, weight_bytes = build(plan)
    config = gem.config
    run.payload["model"] = {
        "kv_bytes_per_token": 2
        * config.num_hidden_layers
        * config.kv_heads
        * (config.hidden_size // config.num_attention_heads)
        * gem.dtype.itemsize,
        "llm_parameters": sum(p.numel() for p in gem.model.llm.parameters()),
        "parameters": sum(p.numel() for p in gem.model.parameters()),
        "build_s": round(run.elapsed(), 1),
    }
    run.log(f"built GEM ({run.payload['model']['parameters'] / 1e6:.1f} M parameters)")
    run.save()
    measure_all(run, gem, weight_bytes)
    report(run)
    run.log(f"wrote {out}")
    if run.interrupted:  # compile workers stopped mid-way can stall the interpreter's exit
        sys.stdout.flush()
        os._exit(0)


if __name__ == "__main__":
    main()
