"""The production backend: GEM (or another vision-language model) behind an OpenAI-compatible
chat-completions endpoint, through the ``openai`` client.

One request per draft::

    system: GEM's system prompt
    user:   [image_url: the 12 x 1 page as a PNG data URL,
             input_ecg: the [12, 5000] signal part (gem_core.ecg_part; unless send_ecg=False),
             text: GEM's grounding instruction (with the context block if send_context)]

``revise`` sends the same first turn, the previous draft as the assistant turn and the
verifier's feedback (:func:`gem_core.prompting.revise_prompt`) as a second user turn.
Decoding follows GEM's evaluation: greedy (temperature 0), up to 1024 new tokens.

Retries are done here, not by the ``openai`` client (built with ``max_retries=0``): timeouts,
connection errors and HTTP 408/409/429/5xx are retried ``max_retries`` times with exponential
backoff from ``backoff_s`` (a server's ``Retry-After`` is honoured up to MAX_BACKOFF_S); any
other 4xx fails at once. Failures map onto :mod:`gem_core.backends.base`'s errors.
"""

from __future__ import annotations

import base64
import io
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx2
import numpy as np
import openai
from openai.types.chat import ChatCompletion
from PIL import Image
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from gem_core import GEM_MODEL_ID
from gem_core.backends.base import (
    BackendError,
    BackendRejected,
    BackendResponseError,
    BackendTimeout,
    BackendUnavailable,
    Draft,
    InterpretRequest,
    Usage,
)
from gem_core.ecg_part import encode_ecg_part
from gem_core.inputs import gem_signal
from gem_core.prompting import interpret_prompt, revise_prompt, system_prompt
from tools.errors import CorruptFileError
from tools.render import render_ecg
from tools.render.page import PNG_COMPRESS_LEVEL

#: HTTP statuses worth retrying: request timeout, conflict/lock, rate limit (5xx too).
RETRY_STATUSES = frozenset({408, 409, 429})
#: Longest wait between two attempts, whatever the backoff or Retry-After says.
MAX_BACKOFF_S = 30.0
#: Least share of printable characters (and least letters) in usable model text.
MIN_PRINTABLE_FRACTION = 0.9
MIN_LETTERS = 3
#: Characters of a server's error body quoted in an error message.
MAX_ERROR_BODY_CHARS = 300
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class EndpointSettings(BaseSettings):
    """Where and how to call the model; every field reads ``GEM_AGENT_<FIELD>`` from the env.

    ``api_key`` reads ``GEM_AGENT_API_KEY`` (a local server ignores it; ``EMPTY`` is sent
    when unset). ``send_ecg`` adds the ``input_ecg`` part that only gem-agent's server
    understands; turn it off for a generic vision-language server. ``send_context`` puts
    the measurement summary and similar cases in the prompt (GEM was not trained with it).
    """

    model_config = SettingsConfigDict(env_prefix="GEM_AGENT_", extra="ignore")

    base_url: str = "http://127.0.0.1:8000/v1"
    model: str = GEM_MODEL_ID
    api_key: SecretStr | None = None
    timeout_s: float = Field(default=300.0, gt=0)
    max_retries: int = Field(default=2, ge=0, le=10)
    backoff_s: float = Field(default=1.0, ge=0)
    send_ecg: bool = True
    send_context: bool = False
    max_tokens: int = Field(default=1024, gt=0)
    temperature: float = Field(default=0.0, ge=0)
    ecg_dtype: str = Field(default="float16", pattern="^float(16|32)$")


class EndpointBackend:
    """Interpretation by a model behind an OpenAI-compatible ``/chat/completions`` endpoint.

    Parameters
    ----------
    settings
        Endpoint settings (from the environment when omitted).
    http_client
        An ``httpx2.Client`` for the ``openai`` client (tests pass one with a mock transport).
    client
        A ready ``openai.OpenAI`` client (overrides ``http_client``).
    sleep
        Called with the seconds to wait between attempts (tests pass a recorder).
    """

    name = "endpoint"
    needs_image = True

    def __init__(
        self,
        settings: EndpointSettings | None = None,
        *,
        http_client: httpx2.Client | None = None,
        client: openai.OpenAI | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings or EndpointSettings()
        key = self.settings.api_key.get_secret_value() if self.settings.api_key else "EMPTY"
        self.client = client or openai.OpenAI(
            base_url=self.settings.base_url,
            api_key=key,
            timeout=self.settings.timeout_s,
            max_retries=0,
            http_client=http_client,
        )
        self._sleep = sleep

    @property
    def endpoint(self) -> str:
        """``<base_url>, model <model>``: where requests go, for messages and summaries."""
        return f"{self.settings.base_url}, model {self.settings.model}"

    # ---- the two calls ---------------------------------------------------------------------
    def interpret(self, request: InterpretRequest) -> Draft:
        """Ask the model for a grounded interpretation of ``request``."""
        first, summary = self._first_turn(request)
        messages = [{"role": "system", "content": system_prompt()}, first]
        return self._complete(messages, summary, kind="interpret")

    def revise(self, request: InterpretRequest, previous: Draft, feedback: str) -> Draft:
        """Ask the model to rewrite ``previous`` given the verifier's ``feedback``."""
        first, summary = self._first_turn(request)
        prompt = revise_prompt(None, feedback)
        messages = [
            {"role": "system", "content": system_prompt()},
            first,
            {"role": "assistant", "content": previous.text},
            {"role": "user", "content": [{"type": "text", "text": prompt}]},
        ]
        summary["revise_prompt"] = prompt
        summary["previous_chars"] = len(previous.text)
        return self._complete(messages, summary, kind="revise")

    # ---- request ---------------------------------------------------------------------------
    def _first_turn(self, request: InterpretRequest) -> tuple[dict[str, Any], dict[str, Any]]:
        """The first user message (image, ECG, text) and the summary of what it carries."""
        s = self.settings
        prompt = interpret_prompt(
            measurements=request.measurements, cases=request.cases, include_context=s.send_context
        )
        png = page_png(request)
        parts: list[dict[str, Any]] = [
            {"type": "image_url", "image_url": {"url": _data_url(png)}},
        ]
        summary: dict[str, Any] = {
            "endpoint": s.base_url,
            "model": s.model,
            "max_tokens": s.max_tokens,
            "temperature": s.temperature,
            "prompt": prompt,
            "context_included": s.send_context,
            "n_cases": len(request.cases),
            "image_png_bytes": len(png),
            "image_rendered_here": request.image_png is None,
            "ecg_sent": s.send_ecg,
        }
        if s.send_ecg:
            signal = gem_signal(request.record, dtype=np.dtype(s.ecg_dtype))
            parts.append(encode_ecg_part(signal))
            summary["ecg"] = signal.summary()
        parts.append({"type": "text", "text": prompt})
        return {"role": "user", "content": parts}, summary

    def _complete(
        self, messages: Sequence[dict[str, Any]], summary: dict[str, Any], *, kind: str
    ) -> Draft:
        start = time.perf_counter()
        response, attempts = self._call_with_retries(messages)
        latency_ms = round((time.perf_counter() - start) * 1000, 3)
        text, finish_reason = self._content(response)
        summary = {**summary, "kind": kind, "attempts": attempts}
        return Draft(
            text=text,
            backend=self.name,
            model=response.model or self.settings.model,
            usage=_usage(response),
            latency_ms=latency_ms,
            raw_response=response.model_dump(mode="json"),
            structured={"finish_reason": finish_reason, "truncated": finish_reason == "length"},
            request_summary=summary,
            kind="revise" if kind == "revise" else "interpret",
        )

    # ---- transport and errors ----------------------------------------------------------------
    def _call_with_retries(self, messages: Sequence[dict[str, Any]]) -> tuple[ChatCompletion, int]:
        s = self.settings
        attempts = 0
        while True:
            attempts += 1
            try:
                response = self.client.chat.completions.create(
                    model=s.model,
                    messages=list(messages),  # type: ignore[arg-type]
                    max_tokens=s.max_tokens,
                    temperature=s.temperature,
                )
            except openai.OpenAIError as err:
                retry_after = _retry_after_s(err)
                if retry_after is None or attempts > s.max_retries:
                    raise self._mapped(err, attempts) from err
                self._sleep(min(MAX_BACKOFF_S, max(retry_after, _backoff(s.backoff_s, attempts))))
                continue
            if not isinstance(response, ChatCompletion):
                raise BackendResponseError(
                    self.name,
                    self.endpoint,
                    f"the answer is not a chat completion (got {type(response).__name__}: "
                    f"{str(response)[:MAX_ERROR_BODY_CHARS]!r})",
                )
            return response, attempts

    def _mapped(self, err: openai.OpenAIError, attempts: int) -> BackendError:
        """The backend error for an ``openai`` error after ``attempts`` tries."""
        tries = f"after {attempts} attempt{'s' if attempts != 1 else ''}"
        if isinstance(err, openai.APITimeoutError):
            return BackendTimeout(
                self.name,
                self.endpoint,
                f"no answer within {self.settings.timeout_s:g} s {tries}; raise "
                "GEM_AGENT_TIMEOUT_S or check the server's load",
            )
        if isinstance(err, openai.APIConnectionError):
            cause = err.__cause__ or err
            return BackendUnavailable(
                self.name, self.endpoint, f"cannot connect {tries}: {cause}; is the server running?"
            )
        if isinstance(err, openai.APIStatusError):
            body = _error_body(err)
            status = err.status_code
            if status >= 500 or status in RETRY_STATUSES:
                return BackendUnavailable(
                    self.name, self.endpoint, f"HTTP {status} {tries}: {body}"
                )
            return BackendRejected(
                self.name,
                self.endpoint,
                f"HTTP {status}, request rejected (not retried): {body}",
                status,
            )
        if isinstance(err, openai.APIResponseValidationError):
            return BackendResponseError(self.name, self.endpoint, f"malformed answer: {err}")
        return BackendError(self.name, self.endpoint, f"{type(err).__name__}: {err}")

    def _content(self, response: ChatCompletion) -> tuple[str, str | None]:
        """The answer's text, or :class:`BackendResponseError` when it is empty or garbage."""
        choices = getattr(response, "choices", None) or []
        if not choices:
            raise BackendResponseError(self.name, self.endpoint, "the answer has no choices")
        choice = choices[0]
        message = getattr(choice, "message", None)
        content = getattr(message, "content", None)
        if not isinstance(content, str) or not content.strip():
            raise BackendResponseError(self.name, self.endpoint, "the answer's content is empty")
        text = content.strip()
        printable = sum(ch.isprintable() or ch in "\n\t" for ch in text) / len(text)
        letters = sum(ch.isalpha() for ch in text)
        if printable < MIN_PRINTABLE_FRACTION or letters < MIN_LETTERS:
            raise BackendResponseError(
                self.name,
                self.endpoint,
                f"the answer is not text ({letters} letters, {printable:.0%} printable): "
                f"{text[:80]!r}",
            )
        return text, getattr(choice, "finish_reason", None)


def _retry_after_s(err: openai.OpenAIError) -> float | None:
    """Seconds a retryable error asks to wait (0 when unspecified); ``None``: do not retry."""
    if isinstance(err, openai.APIConnectionError):  # includes APITimeoutError
        return 0.0
    if isinstance(err, openai.APIStatusError):
        if err.status_code < 500 and err.status_code not in RETRY_STATUSES:
            return None
        headers = err.response.headers
        for name, scale in (("retry-after-ms", 1e-3), ("retry-after", 1.0)):
            try:
                value = float(headers.get(name, ""))
            except ValueError:
                continue
            if math.isfinite(value) and value >= 0:
                return value * scale
        return 0.0
    return None


def _backoff(base_s: float, attempt: int) -> float:
    """Exponential backoff: ``base_s * 2 ** (attempt - 1)``."""
    return base_s * 2.0 ** (attempt - 1)


def _error_body(err: openai.APIStatusError) -> str:
    body = err.body
    if isinstance(body, dict):
        message = body.get("message") or body.get("error") or body
        text = str(message)
    else:
        text = err.response.text if body is None else str(body)
    return text[:MAX_ERROR_BODY_CHARS] or err.message


def _usage(response: ChatCompletion) -> Usage | None:
    usage = getattr(response, "usage", None)
    if usage is None:
        return None
    try:
        return Usage(
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            total_tokens=usage.total_tokens,
        )
    except (TypeError, ValueError):
        return None


def page_png(request: InterpretRequest) -> bytes:
    """The request's page PNG, or GEM's 12 x 1 page rendered from the record."""
    if request.image_png is not None:
        if not request.image_png.startswith(PNG_SIGNATURE):
            raise CorruptFileError(request.record.record_id, "image_png is not a PNG image")
        return request.image_png
    pixels = render_ecg(request.record, layout="gem")
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return buffer.getvalue()


def _data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
