"""Turn a request's token events into the OpenAI answer: one JSON body or an SSE stream.

:class:`Generation` reads the engine's events, applies stop strings, and aborts the engine
request whenever it stops reading early (a stop string, a client that left, an error).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from gem_core.engine import FinishReason
from gem_core.serve.errors import ApiError
from gem_core.serve.loop import EngineFailure, EngineLoop, EngineUnavailable, RequestStream
from gem_core.serve.metrics import ServeMetrics
from gem_core.serve.schemas import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    Choice,
    ChunkChoice,
    Delta,
    Usage,
)
from gem_core.serve.stops import StopChecker

log = logging.getLogger(__name__)

#: HTTP status recorded for a client that disconnected before its answer (nginx's convention).
CLIENT_CLOSED_STATUS = 499


@dataclass
class Answer:
    """Identity of one answer: id, model, creation time, and what GEM was fed."""

    completion_id: str
    model: str
    created: int
    gem_inputs: dict[str, Any]


@dataclass
class Generation:
    """The stop-trimmed text deltas of one accepted request.

    Attributes set while iterating: ``finish_reason``, ``prompt_tokens``,
    ``completion_tokens``; ``done`` once the request ended normally.
    """

    stream: RequestStream
    loop: EngineLoop
    metrics: ServeMetrics
    received_s: float
    stops: tuple[str, ...] = ()
    finish_reason: FinishReason = "stop"
    prompt_tokens: int = 0
    completion_tokens: int = 0
    done: bool = False
    _checker: StopChecker = field(init=False)

    def __post_init__(self) -> None:
        self._checker = StopChecker(self.stops)

    @property
    def usage(self) -> Usage:
        """Token counts so far."""
        return Usage(
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            total_tokens=self.prompt_tokens + self.completion_tokens,
        )

    async def deltas(self) -> AsyncIterator[str]:
        """Text deltas; the engine request is aborted if iteration ends before it finished."""
        try:
            while True:
                event = await self.stream.next_event()
                if self.completion_tokens == 0 and event.token_id is not None:
                    self.metrics.record_first_token(time.monotonic() - self.received_s)
                self.prompt_tokens = event.prompt_tokens
                self.completion_tokens = event.completion_tokens
                text, hit = self._checker.push(event.text)
                if text:
                    yield text
                if hit or event.finished:
                    tail = "" if hit else self._checker.flush()
                    if tail:
                        yield tail
                    self.finish_reason = "stop" if hit else (event.finish_reason or "stop")
                    self.done = event.finished
                    return
        finally:
            if not self.done:
                self.loop.abort(self.stream.request_id)

    def latency_s(self) -> float:
        """Seconds since the request was received."""
        return time.monotonic() - self.received_s


def engine_api_error(err: EngineFailure | EngineUnavailable) -> ApiError:
    """HTTP 500 for an engine failure, 503 for a stopped engine."""
    if isinstance(err, EngineUnavailable):
        return ApiError(503, str(err), code="engine_unavailable")
    return ApiError(500, str(err), code="engine_error")


async def complete(request: Request, generation: Generation, answer: Answer) -> ChatCompletion:
    """The whole answer; the engine request is aborted if the client disconnects first.

    Raises
    ------
    ApiError
        500/503 when the engine fails; ``CLIENT_CLOSED_STATUS`` when the client left.
    """

    async def collect() -> str:
        return "".join([delta async for delta in generation.deltas()])

    collecting = asyncio.ensure_future(collect())
    leaving = asyncio.ensure_future(_client_left(request))
    await asyncio.wait({collecting, leaving}, return_when=asyncio.FIRST_COMPLETED)
    leaving.cancel()
    if not collecting.done():
        collecting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await collecting
        raise ApiError(CLIENT_CLOSED_STATUS, "client closed the connection", code="client_closed")
    try:
        text = collecting.result()
    except (EngineFailure, EngineUnavailable) as err:
        raise engine_api_error(err) from None
    return ChatCompletion(
        id=answer.completion_id,
        created=answer.created,
        model=answer.model,
        choices=[
            Choice(message=AssistantMessage(content=text), finish_reason=generation.finish_reason)
        ],
        usage=generation.usage,
        gem_inputs=answer.gem_inputs,
    )


async def _client_left(request: Request) -> None:
    """Return when the client disconnects (the body has been read already)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def sse_stream(
    generation: Generation,
    answer: Answer,
    *,
    include_usage: bool,
    on_end: Callable[[int], None],
) -> AsyncIterator[str]:
    """Server-sent events: a role chunk, content chunks, the finish chunk, usage, ``[DONE]``.

    ``on_end`` gets the HTTP status to record: 200, 500/503 after an engine error (sent as
    an ``error`` event), or ``CLIENT_CLOSED_STATUS`` when the client left mid-stream.
    """

    def chunk(delta: Delta, finish: FinishReason | None = None, **extra: Any) -> str:
        body = ChatCompletionChunk(
            id=answer.completion_id,
            created=answer.created,
            model=answer.model,
            choices=[ChunkChoice(delta=delta, finish_reason=finish)],
            **extra,
        )
        return _event(body.model_dump(mode="json"))

    status = CLIENT_CLOSED_STATUS
    try:
        yield chunk(Delta(role="assistant", content=""), gem_inputs=answer.gem_inputs)
        async for text in generation.deltas():
            yield chunk(Delta(content=text))
        yield chunk(Delta(), generation.finish_reason)
        if include_usage:
            usage = ChatCompletionChunk(
                id=answer.completion_id,
                created=answer.created,
                model=answer.model,
                choices=[],
                usage=generation.usage,
            )
            yield _event(usage.model_dump(mode="json"))
        yield "data: [DONE]\n\n"
        status = 200
    except (EngineFailure, EngineUnavailable) as err:
        error = engine_api_error(err)
        status = error.status
        yield _event(error.body())
    finally:
        on_end(status)


def _event(payload: dict[str, Any]) -> str:
    return f"data: {json.dumps(payload, separators=(',', ':'))}\n\n"
