"""A ``/v1/chat/completions`` body checked and turned into an engine request.

Decoding defaults follow GEM's evaluation, not OpenAI's: an omitted ``temperature`` means
greedy decoding (0), an omitted ``max_tokens`` the server's default (1024, GEM's
``max_new_tokens``). ``max_completion_tokens`` wins over ``max_tokens`` when both are set.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from gem_core.engine import SamplingParams
from gem_core.serve.errors import ApiError, bad_request
from gem_core.serve.schemas import ChatCompletionRequest
from gem_core.serve.settings import MAX_STOP_STRINGS, ServeSettings


@dataclass(frozen=True)
class ChatOptions:
    """The checked request: what to decode and how to answer."""

    chat: ChatCompletionRequest
    params: SamplingParams
    stops: tuple[str, ...]
    stream: bool
    include_usage: bool


def parse_chat_body(body: bytes) -> ChatCompletionRequest:
    """The request model from the raw body.

    Raises
    ------
    ApiError
        HTTP 400: not JSON, not an object, or a field of the wrong type or range.
    """
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise bad_request(f"the body is not valid JSON: {err}", code="invalid_json") from None
    if not isinstance(payload, dict):
        raise bad_request(f"the body must be a JSON object, got {type(payload).__name__}")
    try:
        return ChatCompletionRequest.model_validate(payload)
    except ValidationError as err:
        first = err.errors()[0]
        param = _loc(first["loc"])
        raise bad_request(f"{param}: {first['msg']}", param=param) from None


def chat_options(
    chat: ChatCompletionRequest, settings: ServeSettings, served_model: str
) -> ChatOptions:
    """Check the request against what this server can do and build the sampling settings.

    Raises
    ------
    ApiError
        404 for another model; 400 for ``n`` > 1, ``logprobs``, or bad ``stop`` strings.
    """
    if chat.model != served_model:
        raise ApiError(
            404,
            f"model {chat.model!r} is not served here; this server serves {served_model!r}",
            param="model",
            code="model_not_found",
        )
    if chat.n not in (None, 1):
        raise bad_request(f"n must be 1 (GEM answers once per request), got {chat.n}", param="n")
    if chat.logprobs:
        raise bad_request("logprobs are not supported by this server", param="logprobs")
    stops = _stops(chat.stop)
    params = SamplingParams(
        max_new_tokens=chat.max_completion_tokens or chat.max_tokens or settings.default_max_tokens,
        temperature=0.0 if chat.temperature is None else chat.temperature,
        top_p=1.0 if chat.top_p is None else chat.top_p,
        seed=chat.seed,
    )
    include_usage = bool(chat.stream_options and chat.stream_options.include_usage)
    return ChatOptions(chat, params, stops, bool(chat.stream), include_usage)


def _stops(stop: str | Sequence[str] | None) -> tuple[str, ...]:
    stops = (stop,) if isinstance(stop, str) else tuple(stop or ())
    if len(stops) > MAX_STOP_STRINGS:
        raise bad_request(
            f"stop holds {len(stops)} strings; at most {MAX_STOP_STRINGS}", param="stop"
        )
    if any(not s for s in stops):
        raise bad_request("stop strings must not be empty", param="stop")
    return stops


def _loc(loc: Sequence[int | str]) -> str:
    text = ""
    for item in loc:
        text += f"[{item}]" if isinstance(item, int) else (f".{item}" if text else str(item))
    return text or "body"
