"""GemEngine: continuous batching (joins mid-decode), abort, limits, stop reasons, streaming."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

import torch

from gem_core.engine import (
    Engine,
    EngineError,
    EngineFull,
    PromptTooLong,
    StepResult,
    TokenEvent,
)
from gem_core.model import GemEngine, LoadedGem, load_engine
from gem_core.model.generate import generate
from gem_core.model.tiny import TinyCheckpoint
from tests.model_builders import QUESTIONS, make_request


@pytest.fixture
def engine(gem: LoadedGem) -> GemEngine:
    return GemEngine(gem, max_batch=4, max_queue=4)


@pytest.fixture
def eos_always(gem: LoadedGem) -> Iterator[None]:
    """Make EOS the model's top token everywhere (a forward hook on the LM head)."""

    def hook(_module: object, _args: object, logits: torch.Tensor) -> torch.Tensor:
        boosted = logits.clone()
        boosted[..., gem.tokenizer.eos_id] += 1e4
        return boosted

    handle = gem.model.llm.lm_head.register_forward_hook(hook)
    yield
    handle.remove()


Events = dict[str, list[TokenEvent]]


def _drain(engine: GemEngine, max_steps: int = 200) -> tuple[list[StepResult], Events]:
    steps: list[StepResult] = []
    events: dict[str, list[TokenEvent]] = defaultdict(list)
    while engine.has_work():
        assert len(steps) < max_steps
        result = engine.step()
        steps.append(result)
        for event in result.events:
            events[event.request_id].append(event)
    return steps, events


def _tokens(events: list[TokenEvent]) -> list[int]:
    return [e.token_id for e in events if e.token_id is not None]


class TestProtocol:
    def test_is_an_engine(self, engine: GemEngine, tiny: TinyCheckpoint) -> None:
        assert isinstance(engine, Engine)
        assert engine.model_name == tiny.checkpoint_dir.name
        assert (engine.max_batch, engine.running, engine.waiting) == (4, 0, 0)
        assert not engine.has_work()
        assert engine.step() == StepResult(events=[], prefilled=0, decode_batch_size=0)

    def test_count_tokens(self, engine: GemEngine, gem: LoadedGem) -> None:
        request = make_request("a")
        n_ids = len(gem.tokenizer.encode_prompt(request.prompt))
        assert engine.count_tokens(request.prompt) == n_ids - 1 + 677
        engine.add(request)
        first = engine.step().events[0]
        assert first.prompt_tokens == engine.count_tokens(request.prompt)

    def test_load_engine(self, tiny: TinyCheckpoint) -> None:
        engine = load_engine(
            tiny.checkpoint_dir,
            ecg_tower=tiny.ecg_tower_path,
            vision_tower=tiny.vision_tower_dir,
            device="cpu",
            dtype="fp32",
            max_batch=3,
            max_queue=5,
        )
        assert engine.max_batch == 3
        assert engine.image_size == 336
        assert engine.lead_order[4] == "aVF"  # MIMIC-IV-ECG order by default


class TestContinuousBatching:
    def test_join_mid_decode(self, engine: GemEngine, gem: LoadedGem) -> None:
        requests = [
            make_request(f"r{i}", q, input_seed=i, max_new_tokens=6 + 2 * i)
            for i, q in enumerate(QUESTIONS)
        ]
        engine.add(requests[0])
        first = [engine.step() for _ in range(3)]
        assert [s.decode_batch_size for s in first] == [1, 1, 1]
        engine.add(requests[1])
        engine.add(requests[2])
        assert engine.waiting == 2
        steps, events = _drain(engine)
        joined = steps[0]
        assert joined.prefilled == 2 and joined.decode_batch_size == 3
        # The static batch gives each request's tokens alone (test_model_generate).
        static = generate(gem.model, gem.tokenizer, requests)
        for request, reference in zip(requests, static, strict=True):
            got = [e for s in first for e in s.events if e.request_id == request.request_id]
            got += events[request.request_id]
            assert _tokens(got) == reference.token_ids
            assert got[-1].finish_reason == "length"
            assert got[-1].completion_tokens == request.params.max_new_tokens
            assert [e.finished for e in got].count(True) == 1
        assert engine.running == 0 and engine.waiting == 0

    def test_max_batch_limits_running(self, gem: LoadedGem) -> None:
        engine = GemEngine(gem, max_batch=2, max_queue=8)
        for i in range(3):
            engine.add(make_request(f"r{i}", input_seed=i, max_new_tokens=3))
        result = engine.step()
        assert (result.prefilled, result.decode_batch_size) == (2, 2)
        assert (engine.running, engine.waiting) == (2, 1)
        steps, events = _drain(engine)
        assert max(s.decode_batch_size for s in steps) <= 2
        assert sorted(events) == ["r0", "r1", "r2"]

    def test_max_prefill_per_step(self, gem: LoadedGem) -> None:
        engine = GemEngine(gem, max_batch=4, max_queue=8, max_prefill=1)
        for i in range(3):
            engine.add(make_request(f"r{i}", input_seed=i, max_new_tokens=4))
        assert [engine.step().prefilled for _ in range(3)] == [1, 1, 1]


class TestAbort:
    def test_abort_running(self, engine: GemEngine, gem: LoadedGem) -> None:
        engine.add(make_request("keep", input_seed=1, max_new_tokens=6))
        engine.add(make_request("drop", input_seed=2, max_new_tokens=6))
        engine.step()
        engine.abort("drop")
        result = engine.step()
        aborted = [e for e in result.events if e.request_id == "drop"]
        assert len(aborted) == 1
        assert aborted[0].finish_reason == "abort" and aborted[0].token_id is None
        assert result.decode_batch_size == 1
        _, events = _drain(engine)
        assert "drop" not in events
        keep = make_request("keep", input_seed=1, max_new_tokens=6)
        alone = generate(gem.model, gem.tokenizer, [keep])[0].token_ids
        after_first_step = [e for e in result.events if e.request_id == "keep"]
        assert _tokens(after_first_step + events["keep"]) == alone[2:]

    def test_abort_waiting(self, engine: GemEngine) -> None:
        engine.add(make_request("w"))
        engine.abort("w")
        assert engine.waiting == 0 and engine.has_work()
        result = engine.step()
        assert [(e.request_id, e.finish_reason) for e in result.events] == [("w", "abort")]
        assert result.prefilled == 0 and not engine.has_work()

    def test_abort_unknown_is_ignored(self, engine: GemEngine) -> None:
        engine.abort("nobody")
        assert not engine.has_work()


class TestLimits:
    def test_queue_full(self, gem: LoadedGem) -> None:
        engine = GemEngine(gem, max_batch=1, max_queue=1)
        engine.add(make_request("a"))
        with pytest.raises(EngineFull, match=r"'b': the queue is full \(1 waiting\)"):
            engine.add(make_request("b"))

    def test_duplicate_id(self, engine: GemEngine) -> None:
        engine.add(make_request("same"))
        with pytest.raises(EngineError, match="'same' is already in the engine"):
            engine.add(make_request("same"))

    def test_invalid_request(self, engine: GemEngine) -> None:
        request = make_request("two")
        object.__setattr__(request, "prompt", "<image><image>")
        with pytest.raises(EngineError, match="exactly one <image>"):
            engine.add(request)
        assert engine.waiting == 0

    def test_prompt_too_long(self, engine: GemEngine) -> None:
        with pytest.raises(PromptTooLong, match="exceeds the context"):
            engine.add(make_request("long", max_new_tokens=5000))

    @pytest.mark.parametrize("bad", [{"max_batch": 0}, {"max_queue": 0}, {"max_prefill": 0}])
    def test_bad_settings(self, gem: LoadedGem, bad: dict[str, Any]) -> None:
        with pytest.raises(ValueError, match="must be >= 1"):
            GemEngine(gem, **bad)


class TestFinish:
    def test_eos_stops(self, engine: GemEngine, eos_always: None) -> None:
        engine.add(make_request("e", max_new_tokens=5))
        _, events = _drain(engine)
        (event,) = events["e"]
        assert (event.finish_reason, event.token_id, event.text) == ("stop", 2, "")
        assert event.completion_tokens == 1

    def test_stop_token_ids(self, engine: GemEngine, gem: LoadedGem) -> None:
        plain = generate(gem.model, gem.tokenizer, [make_request("p", max_new_tokens=5)])[0]
        engine.add(make_request("s", max_new_tokens=5, stop_token_ids=(plain.token_ids[1],)))
        _, events = _drain(engine)
        last = events["s"][-1]
        assert last.finish_reason == "stop"
        cut = plain.token_ids.index(plain.token_ids[1]) + 1
        assert _tokens(events["s"]) == plain.token_ids[:cut]

    def test_one_token(self, engine: GemEngine) -> None:
        engine.add(make_request("one", max_new_tokens=1))
        result = engine.step()
        assert [e.finish_reason for e in result.events] == ["length"]
        assert result.decode_batch_size == 0 and engine.running == 0

    def test_text_deltas_concatenate(self, engine: GemEngine, gem: LoadedGem) -> None:
        engine.add(make_request("t", max_new_tokens=24))
        _, events = _drain(engine)
        text = "".join(e.text for e in events["t"])
        assert text == gem.tokenizer.decode(_tokens(events["t"]))
        assert sum(1 for e in events["t"] if e.text) > 1  # streamed, not all at the end

    def test_seeded_sampling_reproducible(self, gem: LoadedGem) -> None:
        def run(with_neighbour: bool) -> list[int]:
            engine = GemEngine(gem, max_batch=4)
            engine.add(make_request("s", max_new_tokens=10, temperature=0.9, top_p=0.95, seed=11))
            if with_neighbour:
                engine.add(make_request("n", QUESTIONS[1], max_new_tokens=10, temperature=1.0))
            return _tokens(_drain(engine)[1]["s"])

        assert run(False) == run(True)
