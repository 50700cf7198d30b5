"""The HTTP app of ``gem-agent serve``: OpenAI-compatible chat completions for GEM.

Routes: ``POST /v1/chat/completions`` (JSON or SSE), ``GET /v1/models``, ``GET /health``,
``GET /metrics`` (Prometheus text). ``/v1/*`` requires ``Authorization: Bearer <key>`` when
the server has a key; ``/health`` and ``/metrics`` are open (they carry no request data).
Errors use OpenAI's JSON shape (:mod:`gem_core.serve.errors`).

>>> app = create_app(engine, ServeSettings(api_key="secret"))   # doctest: +SKIP
>>> uvicorn.run(app, host="127.0.0.1", port=8000)               # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from gem_core.engine import Engine, EngineError, EngineFull, GenerationRequest, PromptTooLong
from gem_core.serve.chat import ChatOptions, chat_options, parse_chat_body
from gem_core.serve.errors import ApiError, bad_request
from gem_core.serve.loop import EngineLoop, EngineUnavailable, RequestStream
from gem_core.serve.messages import GemPrompt, gem_prompt
from gem_core.serve.metrics import ServeMetrics
from gem_core.serve.respond import Answer, Generation, complete, engine_api_error, sse_stream
from gem_core.serve.schemas import ModelCard, ModelList
from gem_core.serve.settings import ServeSettings, engine_image_size, engine_lead_order

log = logging.getLogger(__name__)

PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass
class ServerState:
    """What the handlers share: the engine loop, settings, metrics and the served model id."""

    loop: EngineLoop
    settings: ServeSettings
    metrics: ServeMetrics
    model_name: str
    created: int
    lead_order: tuple[str, ...]
    image_size: int


def create_app(
    engine: Engine, settings: ServeSettings | None = None, *, metrics: ServeMetrics | None = None
) -> Starlette:
    """The Starlette app serving ``engine``; its lifespan starts and stops the engine thread.

    Parameters
    ----------
    engine
        A continuous-batching engine (:class:`gem_core.engine.Engine`).
    settings
        Limits, API key, lead order and image size.
    metrics
        Where to record metrics (a fresh :class:`ServeMetrics` when omitted).
    """
    settings = settings or ServeSettings()
    metrics = metrics or ServeMetrics()
    loop = EngineLoop(engine, metrics, max_pending=engine.max_batch + settings.max_queue)
    state = ServerState(
        loop=loop,
        settings=settings,
        metrics=metrics,
        model_name=settings.model_name or engine.model_name,
        created=int(time.time()),
        lead_order=engine_lead_order(engine, settings.lead_order),
        image_size=engine_image_size(engine, settings.image_size),
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        loop.start()
        try:
            yield
        finally:
            await asyncio.to_thread(loop.stop)

    app = Starlette(
        routes=[
            Route("/v1/chat/completions", chat_completions, methods=["POST"]),
            Route("/v1/models", list_models, methods=["GET"]),
            Route("/health", health, methods=["GET"]),
            Route("/metrics", metrics_text, methods=["GET"]),
        ],
        exception_handlers={
            ApiError: _api_error_handler,
            HTTPException: _http_error_handler,
            Exception: _unexpected_error_handler,
        },
        lifespan=lifespan,
    )
    app.state.gem = state
    return app


def _state(request: Request) -> ServerState:
    state: ServerState = request.app.state.gem
    return state


# ---- routes ------------------------------------------------------------------------------------
async def chat_completions(request: Request) -> Response:
    """``POST /v1/chat/completions``."""
    state = _state(request)
    received_s = time.monotonic()
    try:
        _check_auth(request, state.settings)
        body = await read_body(request, state.settings.max_body_bytes)
        options = chat_options(parse_chat_body(body), state.settings, state.model_name)
        gem = await asyncio.to_thread(
            gem_prompt,
            options.chat.messages,
            lead_order=state.lead_order,
            image_size=state.image_size,
        )
        completion_id = f"chatcmpl-{uuid.uuid4().hex}"
        stream = await _submit(state.loop, completion_id, gem, options)
    except ApiError as err:
        state.metrics.record_request(err.status)
        return error_response(err)
    generation = Generation(stream, state.loop, state.metrics, received_s, options.stops)
    answer = Answer(completion_id, state.model_name, int(time.time()), gem.inputs_summary())
    if options.stream:

        def on_end(status: int) -> None:
            latency = generation.latency_s() if status == 200 else None
            state.metrics.record_request(status, latency)

        events = sse_stream(generation, answer, include_usage=options.include_usage, on_end=on_end)
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(events, media_type="text/event-stream", headers=headers)
    try:
        result = await complete(request, generation, answer)
    except ApiError as err:
        state.metrics.record_request(err.status)
        return error_response(err)
    state.metrics.record_request(200, generation.latency_s())
    return JSONResponse(result.model_dump(mode="json"))


async def _submit(
    loop: EngineLoop, completion_id: str, gem: GemPrompt, options: ChatOptions
) -> RequestStream:
    request = GenerationRequest(completion_id, gem.prompt, gem.ecg, gem.image, options.params)
    try:
        return await loop.submit(request)
    except EngineFull as err:
        raise ApiError(429, f"the server's queue is full: {err}", code="queue_full") from None
    except PromptTooLong as err:
        raise bad_request(str(err), param="messages", code="context_length_exceeded") from None
    except EngineError as err:
        message = f"the engine refused the request: {err}"
        raise bad_request(message, code="engine_rejected") from None
    except EngineUnavailable as err:
        raise engine_api_error(err) from None


async def list_models(request: Request) -> Response:
    """``GET /v1/models``: the one model served."""
    state = _state(request)
    _check_auth(request, state.settings)
    cards = ModelList(data=[ModelCard(id=state.model_name, created=state.created)])
    return JSONResponse(cards.model_dump(mode="json"))


async def health(request: Request) -> Response:
    """``GET /health``: 200 while the engine thread runs, 503 otherwise."""
    state = _state(request)
    m = state.metrics
    body = {
        "status": "ok" if state.loop.alive else "unavailable",
        "model": state.model_name,
        "running": m.running,
        "queue_depth": m.queue_depth,
        "max_batch": state.loop.engine.max_batch,
    }
    return JSONResponse(body, status_code=200 if state.loop.alive else 503)


async def metrics_text(request: Request) -> Response:
    """``GET /metrics``: Prometheus text exposition."""
    text = _state(request).metrics.render()
    return PlainTextResponse(text, headers={"Content-Type": PROMETHEUS_CONTENT_TYPE})


# ---- request checks ----------------------------------------------------------------------------
def _check_auth(request: Request, settings: ServeSettings) -> None:
    if settings.api_key is None:
        return
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    expected = settings.api_key.encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected):
        raise ApiError(
            401,
            "missing or wrong API key: send 'Authorization: Bearer <key>'",
            code="invalid_api_key",
        )


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The request body, refused (HTTP 413) past ``max_bytes``: by its declared
    ``Content-Length`` before reading, and while reading (chunked or lying clients)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise bad_request(f"Content-Length is not a number: {declared!r}") from None
        if size > max_bytes:
            raise _too_large(size, max_bytes)
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > max_bytes:
            raise _too_large(total, max_bytes, at_least=True)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(size: int, max_bytes: int, *, at_least: bool = False) -> ApiError:
    size_text = f"{'more than ' if at_least else ''}{size:,}"
    return ApiError(
        413,
        f"request body of {size_text} bytes exceeds the limit of {max_bytes:,} bytes "
        "(--max-body-bytes)",
        code="request_too_large",
    )


# ---- errors ------------------------------------------------------------------------------------
def error_response(err: ApiError) -> JSONResponse:
    """OpenAI's error body with the error's status."""
    return JSONResponse(err.body(), status_code=err.status, headers=err.headers())


async def _api_error_handler(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, ApiError):  # pragma: no cover - registered for ApiError only
        raise exc
    return error_response(exc)


async def _http_error_handler(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, HTTPException):  # pragma: no cover - registered for it only
        raise exc
    detail: Any = exc.detail
    return error_response(ApiError(exc.status_code, f"{request.url.path}: {detail}"))


async def _unexpected_error_handler(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s", request.url.path, exc_info=exc)
    return error_response(
        ApiError(500, f"internal server error ({type(exc).__name__})", code="internal_error")
    )
