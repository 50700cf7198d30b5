"""Static KV cache: same greedy tokens as the dynamic cache, slot reuse, no reallocation, limits."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

import torch
from click.testing import Result

from gem_core.engine import EngineError, PromptTooLong, TokenEvent
from gem_core.model import GemEngine, LoadedGem, load_engine
from gem_core.model.generate import generate
from gem_core.model.kvcache import DecodeBatch, new_cache
from gem_core.model.random_gem import gem_shape_config, random_gem
from gem_core.model.static_cache import (
    LENGTH_BUCKET,
    StaticKVCache,
    StaticRunningBatch,
    batch_bucket,
    length_bucket,
)
from gem_core.model.static_decode import decode_forward, llama_parts
from gem_core.model.tiny import TinyCheckpoint
from tests.model_builders import QUESTIONS, make_request


@dataclass
class Scenario:
    """What one engine did: tokens per request, and per step the slots and cache addresses."""

    tokens: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    finish: dict[str, str] = field(default_factory=dict)
    slots: list[dict[str, int]] = field(default_factory=list)
    pointers: list[list[int]] = field(default_factory=list)


def _cache_pointers(engine: GemEngine) -> list[int]:
    cache = engine.running_batch.cache  # type: ignore[attr-defined]
    return [t.data_ptr() for t in (*cache.keys, *cache.values)]


def _play(gem: LoadedGem, kv_cache: str) -> Scenario:
    """r0 alone; r1 (long prompt) and r2 join mid-decode; r1 is aborted; r3 joins into the
    freed slot; r2 finishes (its slot freed) and r4 joins; everything drains."""
    engine = GemEngine(gem, max_batch=3, max_queue=4, kv_cache=kv_cache)  # type: ignore[arg-type]
    seen = Scenario()

    def step(times: int = 1) -> None:
        for _ in range(times):
            for event in engine.step().events:
                _record(seen, event)
            if kv_cache == "static":
                slots = engine.running_batch.slots  # type: ignore[attr-defined]
                seen.slots.append(dict(zip(engine.running_ids, slots, strict=True)))
                seen.pointers.append(_cache_pointers(engine))

    engine.add(make_request("r0", QUESTIONS[0], input_seed=0, max_new_tokens=16))
    step(2)
    engine.add(make_request("r1", QUESTIONS[1], input_seed=1, max_new_tokens=12))
    engine.add(make_request("r2", QUESTIONS[2], input_seed=2, max_new_tokens=4))
    step(2)
    engine.abort("r1")
    step()
    engine.add(make_request("r3", QUESTIONS[1], input_seed=3, max_new_tokens=6))
    step(2)
    engine.add(make_request("r4", QUESTIONS[0], input_seed=4, max_new_tokens=3))
    while engine.has_work():
        step()
    return seen


def _record(seen: Scenario, event: TokenEvent) -> None:
    if event.token_id is not None:
        seen.tokens[event.request_id].append(event.token_id)
    if event.finish_reason is not None:
        seen.finish[event.request_id] = event.finish_reason


@pytest.fixture(scope="module")
def played(gem: LoadedGem) -> dict[str, Scenario]:
    return {kind: _play(gem, kind) for kind in ("dynamic", "static")}


class TestSameTokensAsDynamic:
    def test_every_request_identical(self, played: dict[str, Scenario]) -> None:
        dynamic, static = played["dynamic"], played["static"]
        assert dict(static.tokens) == dict(dynamic.tokens)
        assert static.finish == dynamic.finish
        assert static.finish == {
            "r0": "length", "r1": "abort", "r2": "length", "r3": "length", "r4": "length"
        }  # fmt: skip
        assert [len(static.tokens[r]) for r in ("r0", "r2", "r3", "r4")] == [16, 4, 6, 3]

    def test_joined_request_matches_running_alone(
        self, gem: LoadedGem, played: dict[str, Scenario]
    ) -> None:
        r3 = make_request("r3", QUESTIONS[1], input_seed=3, max_new_tokens=6)
        assert (
            played["static"].tokens["r3"] == generate(gem.model, gem.tokenizer, [r3])[0].token_ids
        )


class TestSlots:
    def test_lowest_free_slot_is_reused(self, played: dict[str, Scenario]) -> None:
        slots = played["static"].slots
        assert slots[0] == {"r0": 0}
        assert {"r0": 0, "r1": 1, "r2": 2} in slots
        with_r3 = next(s for s in slots if "r3" in s)
        assert with_r3["r3"] == 1  # r1's slot, freed by its abort
        with_r4 = next(s for s in slots if "r4" in s)
        assert with_r4["r4"] == 2  # r2's slot, freed when it finished
        assert all(len(set(s.values())) == len(s) for s in slots)

    def test_all_slots_free_after_drain(self, gem: LoadedGem) -> None:
        engine = GemEngine(gem, max_batch=2, kv_cache="static")
        engine.add(make_request("a", max_new_tokens=2))
        while engine.has_work():
            engine.step()
        batch = engine.running_batch
        assert batch.size == 0 and batch.slots == ()  # type: ignore[attr-defined]
        assert sorted(batch._free) == [0, 1]  # type: ignore[attr-defined]


class TestNoReallocation:
    def test_cache_tensors_never_move(self, played: dict[str, Scenario]) -> None:
        pointers = played["static"].pointers
        assert len(pointers) > 10
        assert all(p == pointers[0] for p in pointers)

    def test_decode_writes_in_place(self, gem: LoadedGem) -> None:
        batch = StaticRunningBatch(gem.model, max_batch=2, max_context=256)
        prefilled = _fake_prefill(gem, [5, 3], width=5)
        batch.join(prefilled, [0, 1])
        keys = batch.cache.keys[0]
        before = (keys.data_ptr(), keys.clone())
        batch.decode([7, 9])
        assert keys.data_ptr() == before[0] and batch.lengths == (6, 4)
        changed = (keys != before[1]).any(dim=(1, 3))  # [slot, column]
        assert changed.nonzero().tolist() == [[0, 5], [1, 3]]


class TestWritePrompts:
    def test_left_padded_rows_land_left_aligned(self) -> None:
        cache = StaticKVCache.allocate(
            layers=1, max_batch=4, kv_heads=2, max_context=16, head_dim=3,
            dtype=torch.float32, device=torch.device("cpu"),
        )  # fmt: skip
        keys = torch.randn(3, 2, 6, 3)
        values = torch.randn(3, 2, 6, 3)
        cache.write_prompts([1, 3], [(keys, values)], rows=[2, 0], lengths=[2, 6])
        assert torch.equal(cache.keys[0][1, :, :2], keys[2, :, 4:])
        assert torch.equal(cache.values[0][3, :, :6], values[0])
        assert not cache.keys[0][0].any() and not cache.keys[0][2].any()

    def test_prompt_longer_than_slot(self) -> None:
        cache = StaticKVCache.allocate(
            layers=1, max_batch=1, kv_heads=1, max_context=4, head_dim=2,
            dtype=torch.float32, device=torch.device("cpu"),
        )  # fmt: skip
        layer = (torch.zeros(1, 1, 6, 2), torch.zeros(1, 1, 6, 2))
        with pytest.raises(EngineError, match=r"6 tokens does not fit .* 4 positions"):
            cache.write_prompts([0], [layer], rows=[0], lengths=[6])


class TestBuckets:
    @pytest.mark.parametrize(
        ("rows", "bucket"), [(1, 1), (2, 2), (3, 4), (5, 8), (8, 8), (9, 16), (17, 24), (33, 40)]
    )
    def test_batch_bucket(self, rows: int, bucket: int) -> None:
        assert batch_bucket(rows, 64) == bucket

    def test_batch_bucket_capped(self) -> None:
        assert batch_bucket(11, 12) == 12

    def test_length_bucket(self) -> None:
        assert length_bucket(1, 4096) == LENGTH_BUCKET
        assert length_bucket(LENGTH_BUCKET, 4096) == LENGTH_BUCKET
        assert length_bucket(LENGTH_BUCKET + 1, 4096) == 2 * LENGTH_BUCKET
        assert length_bucket(1000, 1010) == 1010


class TestDecodeForward:
    """The fixed-shape step against transformers' own forward on a random tiny LLaMA."""

    @pytest.fixture
    def model(self) -> torch.nn.Module:
        config, vision = gem_shape_config(tiny=True)
        return random_gem(config, vision, device="cpu", dtype=torch.float32, std=0.2)

    def test_matches_transformers_and_ignores_idle_rows(self, model: torch.nn.Module) -> None:
        llm = model.llm  # type: ignore[union-attr]
        prompt = torch.randint(3, 300, (1, 9), generator=torch.Generator().manual_seed(0))
        with torch.inference_mode():
            cache = new_cache()
            model.forward_llm(  # type: ignore[operator]
                cache=cache,
                attention_mask=torch.ones(1, 9, dtype=torch.long),
                position_ids=torch.arange(9)[None],
                input_ids=prompt,
            )
            prefilled = [(k.clone(), v.clone()) for k, v in _layers(cache)]
            expected = model.forward_llm(  # type: ignore[operator]
                cache=cache,
                attention_mask=torch.ones(1, 10, dtype=torch.long),
                position_ids=torch.tensor([[9]]),
                input_ids=torch.tensor([[42]]),
            )
            static = StaticKVCache.allocate(
                layers=2, max_batch=3, kv_heads=4, max_context=32, head_dim=16,
                dtype=torch.float32, device=torch.device("cpu"),
            )  # fmt: skip
            static.write_prompts([0], prefilled, rows=[0], lengths=[9])
            args = (llama_parts(llm), static.keys, static.values)
            alone = decode_forward(*args, torch.tensor([42]), torch.tensor([9]), torch.arange(16))
            padded = decode_forward(
                *args, torch.tensor([42, 0, 0]), torch.tensor([9, 0, 0]), torch.arange(32)
            )
        torch.testing.assert_close(alone, expected, atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(padded[:1], alone, atol=1e-5, rtol=1e-5)


class TestLimits:
    def test_prompt_too_long_for_max_context(self, gem: LoadedGem) -> None:
        engine = GemEngine(gem, max_batch=1, kv_cache="static", max_context=900)
        request = make_request("long", QUESTIONS[0], max_new_tokens=100)
        with pytest.raises(PromptTooLong, match=r"'long'.*max_context of 900 tokens"):
            engine.add(request)
        assert engine.waiting == 0 and engine.context_tokens == 900
        engine.add(make_request("fits", QUESTIONS[0], max_new_tokens=4))
        assert engine.waiting == 1

    def test_decode_past_the_slot(self, gem: LoadedGem) -> None:
        batch = StaticRunningBatch(gem.model, max_batch=1, max_context=6)
        batch.join(_fake_prefill(gem, [5], width=5), [0])
        batch.decode([3])
        with pytest.raises(EngineError, match="reached the static KV cache's 6 positions"):
            batch.decode([3])

    def test_join_without_free_slot(self, gem: LoadedGem) -> None:
        batch = StaticRunningBatch(gem.model, max_batch=1, max_context=16)
        with pytest.raises(EngineError, match="2 requests to admit but only 1 free"):
            batch.join(_fake_prefill(gem, [2, 3], width=3), [0, 1])


class TestOptions:
    def test_unknown_cache(self, gem: LoadedGem) -> None:
        with pytest.raises(ValueError, match="kv_cache must be one of dynamic, static"):
            GemEngine(gem, kv_cache="paged")  # type: ignore[arg-type]

    def test_graphs_need_the_static_cache(self, gem: LoadedGem) -> None:
        with pytest.raises(ValueError, match="need kv_cache='static'"):
            GemEngine(gem, cuda_graphs=True)

    def test_cuda_graphs_need_cuda(self, gem: LoadedGem) -> None:
        with pytest.raises(ValueError, match="CUDA graphs need a CUDA device"):
            GemEngine(gem, kv_cache="static", cuda_graphs=True)

    @pytest.mark.parametrize("bad", [0, 5000])
    def test_max_context_range(self, gem: LoadedGem, bad: int) -> None:
        with pytest.raises(ValueError, match=r"max_context must be in 1\.\.4096"):
            GemEngine(gem, kv_cache="static", max_context=bad)

    def test_load_engine_static(self, tiny: TinyCheckpoint) -> None:
        engine = load_engine(tiny.checkpoint_dir, kv_cache="static", max_batch=2, max_context=1024)
        assert engine.kv_cache == "static" and engine.context_tokens == 1024
        cache = engine.running_batch.cache  # type: ignore[attr-defined]
        assert tuple(cache.keys[0].shape) == (2, 4, 1024, 16)
        assert cache.nbytes == 2 * 2 * 2 * 4 * 1024 * 16 * 4
        assert not engine.running_batch.runner.cuda_graphs  # type: ignore[attr-defined]


class TestServeOption:
    """``gem-agent serve --kv-cache static --max-context N`` reaches the engine."""

    @staticmethod
    def _serve(tiny: TinyCheckpoint, *extra: str) -> tuple[Result, dict[str, Any]]:
        import typer
        from typer.testing import CliRunner

        from agent import cli_serve

        seen: dict[str, Any] = {}
        app = typer.Typer()
        app.command()(cli_serve.serve)
        args = [
            *("--checkpoint", str(tiny.checkpoint_dir), "--ecg-tower", str(tiny.ecg_tower_path)),
            *("--vision-tower", str(tiny.vision_tower_dir), "--device", "cpu", *extra),
        ]
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(cli_serve, "_run", lambda app, host, port: seen.update(app=app))
            result = CliRunner().invoke(app, args)
        return result, seen

    def test_static_cache_served(self, tiny: TinyCheckpoint) -> None:
        result, seen = self._serve(tiny, "--kv-cache", "static", "--max-context", "1024")
        assert result.exit_code == 0, result.output
        engine = seen["app"].state.gem.loop.engine
        assert engine.kv_cache == "static" and engine.context_tokens == 1024
        assert "static KV cache" in result.output

    def test_bad_max_context_is_one_line(self, tiny: TinyCheckpoint) -> None:
        result, seen = self._serve(tiny, "--kv-cache", "static", "--max-context", "9000")
        assert result.exit_code == 2 and "app" not in seen
        assert "max_context must be in 1..4096" in result.output
        assert "Traceback" not in result.output


def _layers(cache: object) -> list[tuple[torch.Tensor, torch.Tensor]]:
    from gem_core.model.kvcache import cache_layers

    return cache_layers(cache)


def _fake_prefill(gem: LoadedGem, lengths: list[int], width: int) -> DecodeBatch:
    """A prefill batch of random keys/values (left-padded to ``width``) without running the
    model."""
    config = gem.config
    head_dim = config.hidden_size // config.num_attention_heads
    shape = (len(lengths), config.kv_heads, width, head_dim)
    layers = [(torch.randn(shape), torch.randn(shape)) for _ in range(config.num_hidden_layers)]
    mask = torch.tensor([[0] * (width - n) + [1] * n for n in lengths])
    return DecodeBatch(new_cache(layers), mask, list(lengths))
