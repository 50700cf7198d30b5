"""The engine thread (gem_core.serve.loop.EngineLoop) driving the fake engine."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from gem_core.engine import EngineFull, GenerationRequest, PromptTooLong, SamplingParams
from gem_core.serve.loop import EngineFailure, EngineLoop, EngineUnavailable, RequestStream
from gem_core.serve.metrics import ServeMetrics
from tests.fake_engine import FakeEngine

WAIT_S = 10.0


def _request(rid: str, text: str = "Q", **params: object) -> GenerationRequest:
    prompt = f"SYS USER: <image>\n{text} ASSISTANT:"
    return GenerationRequest(rid, prompt, params=SamplingParams(**params))  # type: ignore[arg-type]


@contextmanager
def running(engine: FakeEngine, **kw: object) -> Iterator[EngineLoop]:
    loop = EngineLoop(engine, ServeMetrics(), **kw)  # type: ignore[arg-type]
    loop.start()
    try:
        yield loop
    finally:
        engine.release()
        loop.stop()


async def _until(condition: Callable[[], bool]) -> None:
    """Poll ``condition`` (bounded; fails the test if it never holds)."""
    for _ in range(int(WAIT_S / 0.005)):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition not reached")


async def _collect(stream: RequestStream) -> tuple[str, str | None, int]:
    pieces = []
    while True:
        event = await stream.next_event()
        pieces.append(event.text)
        if event.finished:
            return "".join(pieces), event.finish_reason, event.completion_tokens


class TestSubmit:
    def test_events_routed_to_their_requests(self) -> None:
        engine = FakeEngine(max_batch=2)
        requests = [_request(f"r{i}", f"question {i}") for i in range(5)]

        async def main() -> list[tuple[str, str | None, int]]:
            tasks = [asyncio.ensure_future(loop.submit(r)) for r in requests]
            while len(engine.added) < len(requests):  # one step at a time until all are in
                engine.permit(1)
                await asyncio.sleep(0.005)
            engine.release()
            streams = [await task for task in tasks]
            return list(await asyncio.gather(*(_collect(s) for s in streams)))

        engine.hold()
        with running(engine) as loop:
            results = asyncio.run(main())
            assert loop.pending == 0
        for request, (text, reason, n_tokens) in zip(requests, results, strict=True):
            assert text == FakeEngine.expected_text(request, engine.answer_tokens)
            assert reason == "stop" and n_tokens == engine.answer_tokens + 1  # + EOS
        assert max(len(batch) for batch in engine.step_batches) == 2  # max_batch respected

    def test_request_joins_running_batch_between_steps(self) -> None:
        engine = FakeEngine(answer_tokens=30)
        engine.hold()

        async def main() -> tuple[str, str]:
            first = await loop.submit(_request("A", max_new_tokens=40))
            engine.permit(3)  # A is prefilled and decodes 3 tokens
            head = "".join([(await first.next_event()).text for _ in range(3)])
            # B reaches the inbox while step 4 is held; the engine takes it after that step.
            pending_b = asyncio.ensure_future(loop.submit(_request("B")))
            await asyncio.sleep(0)
            engine.release()
            second = await pending_b
            a, b = await asyncio.gather(_collect(first), _collect(second))
            return head + a[0], b[0]

        with running(engine) as loop:
            text_a, text_b = asyncio.run(main())
        assert engine.admitted_at["A"] < engine.admitted_at["B"] < engine.finished_at["A"]
        assert ("A", "B") in engine.step_batches
        assert text_a == FakeEngine.expected_text(engine.added["A"], 30)
        assert text_b == FakeEngine.expected_text(engine.added["B"], 30)
        assert loop.metrics.decode_batch_max == 2

    def test_max_new_tokens_gives_length(self) -> None:
        engine = FakeEngine()

        async def main() -> tuple[str, str | None, int]:
            return await _collect(await loop.submit(_request("r", max_new_tokens=4)))

        with running(engine) as loop:
            text, reason, n_tokens = asyncio.run(main())
        assert reason == "length" and n_tokens == 4
        assert text == FakeEngine.expected_text(engine.added["r"], 4)


class TestLimits:
    def test_max_pending_refused_before_the_engine(self) -> None:
        engine = FakeEngine()
        engine.hold()

        async def main() -> None:
            await loop.submit(_request("a"))
            second = asyncio.ensure_future(loop.submit(_request("b")))
            await _until(lambda: loop.pending == 2)
            with pytest.raises(EngineFull, match="2 requests in flight"):
                await loop.submit(_request("c"))
            engine.release()
            await second

        with running(engine, max_pending=2) as loop:
            asyncio.run(main())
        assert "c" not in engine.added

    def test_engine_queue_full_propagates(self) -> None:
        engine = FakeEngine(max_queue=0)

        async def main() -> None:
            with pytest.raises(EngineFull, match="already waiting"):
                await loop.submit(_request("a"))

        with running(engine) as loop:
            asyncio.run(main())
            assert loop.pending == 0

    def test_prompt_too_long_propagates(self) -> None:
        engine = FakeEngine(context_tokens=700)

        async def main() -> None:
            with pytest.raises(PromptTooLong, match="exceed the 700-token context"):
                await loop.submit(_request("a", max_new_tokens=100))

        with running(engine) as loop:
            asyncio.run(main())


class TestAbortAndFailure:
    def test_abort_removes_running_request(self) -> None:
        engine = FakeEngine(answer_tokens=50)
        engine.hold()

        async def main() -> None:
            stream = await loop.submit(_request("a", max_new_tokens=60))
            engine.permit(2)
            await stream.next_event()
            loop.abort("a")
            engine.release()
            await _until(lambda: loop.pending == 0)

        with running(engine) as loop:
            asyncio.run(main())
        assert engine.aborted == ["a"]
        assert engine.finished_at["a"] < 50
        assert loop.metrics.finished["abort"] == 1

    def test_step_failure_fails_live_requests_and_recovers(self) -> None:
        engine = FakeEngine(fail_on_step=2)

        async def main() -> str:
            stream = await loop.submit(_request("a"))
            with pytest.raises(EngineFailure, match="simulated device failure"):
                await _collect(stream)
            again = await loop.submit(_request("b"))
            return (await _collect(again))[0]

        with running(engine) as loop:
            text = asyncio.run(main())
            assert loop.alive and loop.pending == 0
        assert text == FakeEngine.expected_text(engine.added["b"], engine.answer_tokens)

    def test_stop_fails_in_flight_and_refuses_new(self) -> None:
        engine = FakeEngine()
        engine.hold()
        loop = EngineLoop(engine)
        loop.start()

        async def main() -> None:
            stream = await loop.submit(_request("a"))
            stopping = asyncio.get_running_loop().run_in_executor(None, loop.stop)
            engine.release()
            await stopping
            with pytest.raises(EngineUnavailable, match="shutting down"):
                await _collect(stream)
            with pytest.raises(EngineUnavailable, match="not running"):
                await loop.submit(_request("b"))

        asyncio.run(main())
        assert not loop.alive
