"""The endpoint backend against a mocked transport (httpx2.MockTransport) and a real loopback
HTTP server: request layout, image and ECG parts, retries, error mapping, usage."""

from __future__ import annotations

import base64
import io
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import httpx2
import numpy as np
import openai
import pytest
from PIL import Image

from gem_core.backends import get_backend
from gem_core.backends.base import (
    Backend,
    BackendRejected,
    BackendResponseError,
    BackendTimeout,
    BackendUnavailable,
    Draft,
    InterpretRequest,
)
from gem_core.backends.endpoint import MAX_BACKOFF_S, EndpointBackend, EndpointSettings
from gem_core.ecg_part import decode_ecg_part
from gem_core.inputs import gem_signal
from gem_core.prompting import interpret_prompt, system_prompt
from tools.errors import CorruptFileError
from tools.leads import MIMIC_LEADS
from tools.measure.pipeline import measure_record
from tools.synth import SynthSpec, synthesize

BASE_URL = "http://gem.test/v1"
GEM_ANSWER = (
    "The ECG shows sinus rhythm at about 72 bpm. QRS durations in lead II range from 92 to "
    "96 ms and the PR interval is about 156 ms. No ST elevation is seen. Diagnosis: normal ECG."
)


def completion(content: Any = GEM_ANSWER, *, usage: bool = True, **extra: Any) -> dict:
    body: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "gem-served",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": content},
            }
        ],
        **extra,
    }
    if usage:
        body["usage"] = {"prompt_tokens": 812, "completion_tokens": 64, "total_tokens": 876}
    return body


@dataclass
class Script:
    """A mock server: answers the scripted responses in turn and records the requests."""

    responses: list[Callable[[httpx2.Request], httpx2.Response] | httpx2.Response | dict]
    requests: list[httpx2.Request] = field(default_factory=list)

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        step = self.responses[min(len(self.requests), len(self.responses)) - 1]
        if isinstance(step, dict):
            return httpx2.Response(200, json=step)
        if isinstance(step, httpx2.Response):
            return step
        return step(request)

    @property
    def bodies(self) -> list[dict]:
        return [json.loads(r.content) for r in self.requests]


@pytest.fixture(scope="module")
def request_() -> InterpretRequest:
    record = synthesize(SynthSpec(hr_bpm=72)).record
    buffer = io.BytesIO()
    Image.new("RGB", (110, 85), (255, 240, 240)).save(buffer, format="PNG")
    return InterpretRequest(
        record=record,
        measurements=measure_record(record).measurements,
        image_png=buffer.getvalue(),
    )


def backend_for(
    script: Script, sleeps: list[float] | None = None, **settings: Any
) -> EndpointBackend:
    options = {
        "base_url": BASE_URL,
        "model": "gem-test",
        "api_key": "sk-test-secret",
        "backoff_s": 0.0,
        "max_retries": 2,
        **settings,
    }
    transport = httpx2.MockTransport(script)
    recorded = sleeps if sleeps is not None else []
    return EndpointBackend(
        EndpointSettings(**options),
        http_client=openai.DefaultHttpxClient(transport=transport),
        sleep=recorded.append,
    )


def user_parts(body: dict, turn: int = 1) -> list[dict]:
    return body["messages"][turn]["content"]


def part(parts: list[dict], kind: str) -> dict:
    return next(p for p in parts if p["type"] == kind)


class TestRequest:
    def test_messages(self, request_) -> None:
        script = Script([completion()])
        draft = backend_for(script).interpret(request_)
        (body,) = script.bodies
        assert script.requests[0].url.path == "/v1/chat/completions"
        assert [m["role"] for m in body["messages"]] == ["system", "user"]
        assert body["messages"][0]["content"] == system_prompt()
        assert [p["type"] for p in user_parts(body)] == ["image_url", "input_ecg", "text"]
        assert part(user_parts(body), "text")["text"] == interpret_prompt(include_context=False)
        assert (body["model"], body["max_tokens"], body["temperature"]) == ("gem-test", 1024, 0)
        assert (
            draft.text == GEM_ANSWER and draft.backend == "endpoint" and draft.kind == "interpret"
        )

    def test_api_key_sent_not_recorded(self, request_) -> None:
        script = Script([completion()])
        draft = backend_for(script).interpret(request_)
        assert script.requests[0].headers["authorization"] == "Bearer sk-test-secret"
        assert "sk-test-secret" not in json.dumps(draft.model_dump(mode="json"))

    def test_image_data_url_is_the_png(self, request_) -> None:
        script = Script([completion()])
        backend_for(script).interpret(request_)
        url = part(user_parts(script.bodies[0]), "image_url")["image_url"]["url"]
        prefix = "data:image/png;base64,"
        assert url.startswith(prefix)
        png = base64.b64decode(url[len(prefix) :])
        assert png == request_.image_png
        assert Image.open(io.BytesIO(png)).format == "PNG"

    def test_page_rendered_when_missing(self, request_) -> None:
        script = Script([completion()])
        bare = InterpretRequest(request_.record, request_.measurements)
        draft = backend_for(script).interpret(bare)
        url = part(user_parts(script.bodies[0]), "image_url")["image_url"]["url"]
        page = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
        assert (page.format, page.size) == ("PNG", (2200, 1700))
        assert draft.request_summary["image_rendered_here"] is True

    def test_not_a_png(self, request_) -> None:
        bad = InterpretRequest(request_.record, request_.measurements, image_png=b"GIF89a...")
        with pytest.raises(CorruptFileError, match=r"synth-.*: image_png is not a PNG image"):
            backend_for(Script([completion()])).interpret(bad)

    def test_ecg_part_decodes(self, request_) -> None:
        script = Script([completion()])
        draft = backend_for(script).interpret(request_)
        array, meta = decode_ecg_part(part(user_parts(script.bodies[0]), "input_ecg"))
        assert array.shape == (12, 5000) and array.dtype == np.float16
        assert meta.lead_names == MIMIC_LEADS
        np.testing.assert_array_equal(array, gem_signal(request_.record).array)
        assert draft.request_summary["ecg"]["shape"] == [12, 5000]

    def test_ecg_float32(self, request_) -> None:
        script = Script([completion()])
        backend_for(script, ecg_dtype="float32").interpret(request_)
        array, _ = decode_ecg_part(part(user_parts(script.bodies[0]), "input_ecg"))
        assert array.dtype == np.float32

    def test_send_ecg_false_omits_part(self, request_) -> None:
        script = Script([completion()])
        draft = backend_for(script, send_ecg=False).interpret(request_)
        assert [p["type"] for p in user_parts(script.bodies[0])] == ["image_url", "text"]
        assert draft.request_summary["ecg_sent"] is False and "ecg" not in draft.request_summary

    def test_send_context(self, request_) -> None:
        script = Script([completion()])
        backend_for(script, send_context=True).interpret(request_)
        text = part(user_parts(script.bodies[0]), "text")["text"]
        assert "Measurements: heart rate 72 bpm" in text
        assert text.endswith(interpret_prompt(include_context=False))

    def test_usage_latency_raw(self, request_) -> None:
        draft = backend_for(Script([completion()])).interpret(request_)
        assert draft.usage is not None
        assert (draft.usage.prompt_tokens, draft.usage.completion_tokens) == (812, 64)
        assert draft.usage.total_tokens == 876
        assert draft.model == "gem-served" and draft.latency_ms > 0
        assert draft.raw_response is not None
        assert draft.raw_response["choices"][0]["message"]["content"] == GEM_ANSWER
        assert draft.structured == {"finish_reason": "stop", "truncated": False}
        assert Draft.model_validate(draft.model_dump(mode="json")) == draft

    def test_usage_absent(self, request_) -> None:
        draft = backend_for(Script([completion(usage=False)])).interpret(request_)
        assert draft.usage is None

    def test_truncated_answer_flagged(self, request_) -> None:
        body = completion()
        body["choices"][0]["finish_reason"] = "length"
        draft = backend_for(Script([body])).interpret(request_)
        assert draft.structured == {"finish_reason": "length", "truncated": True}


class TestRevise:
    def test_conversation(self, request_) -> None:
        script = Script([completion(), completion("Sinus rhythm at 72 bpm; QRS 104 ms.")])
        backend = backend_for(script)
        first = backend.interpret(request_)
        revised = backend.revise(request_, first, "- QRS 140 ms claimed; measured 104 ms")
        body = script.bodies[1]
        assert [m["role"] for m in body["messages"]] == ["system", "user", "assistant", "user"]
        assert body["messages"][2]["content"] == first.text
        assert [p["type"] for p in user_parts(body)] == ["image_url", "input_ecg", "text"]
        last = body["messages"][3]["content"]
        assert [p["type"] for p in last] == ["text"]
        assert "- QRS 140 ms claimed; measured 104 ms" in last[0]["text"]
        assert revised.kind == "revise" and revised.text == "Sinus rhythm at 72 bpm; QRS 104 ms."
        assert revised.request_summary["revise_prompt"] == last[0]["text"]


def status(code: int, message: str = "boom", **headers: str) -> httpx2.Response:
    return httpx2.Response(code, json={"error": {"message": message}}, headers=headers)


class TestRetriesAndErrors:
    def test_500_then_200_retried(self, request_) -> None:
        script = Script([status(500), completion()])
        sleeps: list[float] = []
        draft = backend_for(script, sleeps, backoff_s=0.25).interpret(request_)
        assert len(script.requests) == 2 and sleeps == [0.25]
        assert draft.request_summary["attempts"] == 2 and draft.text == GEM_ANSWER

    def test_5xx_exhausted(self, request_) -> None:
        script = Script([status(503, "model loading")])
        sleeps: list[float] = []
        with pytest.raises(BackendUnavailable, match="HTTP 503 after 3 attempts") as info:
            backend_for(script, sleeps, backoff_s=0.5).interpret(request_)
        assert len(script.requests) == 3 and sleeps == [0.5, 1.0]
        message = str(info.value)
        assert message.startswith(f"endpoint backend ({BASE_URL}, model gem-test): ")
        assert "model loading" in message

    def test_retry_after_honoured_and_capped(self, request_) -> None:
        script = Script(
            [
                status(429, **{"retry-after": "3"}),
                status(429, **{"retry-after": "900"}),
                completion(),
            ]
        )
        sleeps: list[float] = []
        backend_for(script, sleeps).interpret(request_)
        assert sleeps == [3.0, MAX_BACKOFF_S]

    @pytest.mark.parametrize("code", [400, 401, 404, 422])
    def test_4xx_not_retried(self, request_, code: int) -> None:
        script = Script([status(code, "unknown content part type input_ecg")])
        with pytest.raises(BackendRejected, match=f"HTTP {code}, request rejected") as info:
            backend_for(script).interpret(request_)
        assert len(script.requests) == 1
        assert isinstance(info.value, BackendResponseError) and info.value.status_code == code
        assert "unknown content part type input_ecg" in str(info.value)

    def test_timeout(self, request_) -> None:
        def slow(request: httpx2.Request) -> httpx2.Response:
            raise httpx2.ReadTimeout("timed out", request=request)

        script = Script([slow])
        with pytest.raises(BackendTimeout, match=r"no answer within 300 s after 3 attempts"):
            backend_for(script).interpret(request_)
        assert len(script.requests) == 3

    def test_connection_refused(self, request_) -> None:
        def refuse(request: httpx2.Request) -> httpx2.Response:
            raise httpx2.ConnectError("connection refused", request=request)

        script = Script([refuse])
        with pytest.raises(BackendUnavailable, match="cannot connect after 1 attempt: connection"):
            backend_for(script, max_retries=0).interpret(request_)

    @pytest.mark.parametrize(
        ("body", "match"),
        [
            (completion(""), "content is empty"),
            (completion("   \n "), "content is empty"),
            (completion(None), "content is empty"),
            (completion("\x00\x01\x02\x03 ??"), "not text"),
            (completion("12 34 !!"), "not text"),
            ({**completion(), "choices": []}, "no choices"),
        ],
    )
    def test_garbage_answers(self, request_, body: dict, match: str) -> None:
        with pytest.raises(BackendResponseError, match=match):
            backend_for(Script([body])).interpret(request_)

    def test_not_json(self, request_) -> None:
        answer = httpx2.Response(200, text="<html>proxy error</html>")
        with pytest.raises(BackendResponseError, match="not a chat completion"):
            backend_for(Script([answer])).interpret(request_)

    def test_unavailable_is_not_a_response_error(self) -> None:
        # The graph retries BackendUnavailable only; a rejected request must not qualify.
        assert not issubclass(BackendRejected, BackendUnavailable)
        assert not issubclass(BackendTimeout, BackendResponseError)


class TestSettings:
    def test_from_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("GEM_AGENT_BASE_URL", "http://10.0.0.5:9000/v1")
        monkeypatch.setenv("GEM_AGENT_MODEL", "gem-7b")
        monkeypatch.setenv("GEM_AGENT_API_KEY", "sk-from-env")
        monkeypatch.setenv("GEM_AGENT_SEND_ECG", "false")
        monkeypatch.setenv("GEM_AGENT_TIMEOUT_S", "12.5")
        settings = EndpointSettings()
        assert (settings.base_url, settings.model, settings.send_ecg) == (
            "http://10.0.0.5:9000/v1",
            "gem-7b",
            False,
        )
        assert settings.timeout_s == 12.5
        assert settings.api_key is not None
        assert settings.api_key.get_secret_value() == "sk-from-env"
        assert "sk-from-env" not in repr(settings)

    def test_defaults_follow_gem_evaluation(self) -> None:
        settings = EndpointSettings()
        assert (settings.temperature, settings.max_tokens) == (0.0, 1024)
        assert settings.send_ecg is True and settings.send_context is False

    def test_get_backend(self) -> None:
        backend = get_backend("endpoint", EndpointSettings(base_url=BASE_URL))
        assert isinstance(backend, EndpointBackend) and isinstance(backend, Backend)
        assert backend.needs_image is True and backend.name == "endpoint"


# ---- a real HTTP server on loopback -------------------------------------------------------------


class _ChatHandler(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, dict]]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        self.received.append((self.path, json.loads(self.rfile.read(length))))
        payload = json.dumps(completion()).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        return


@pytest.fixture
def loopback_server() -> Iterator[tuple[str, list[tuple[str, dict]]]]:
    _ChatHandler.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ChatHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", _ChatHandler.received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class TestLoopbackServer:
    def test_interpret_over_http(self, loopback_server, request_) -> None:
        base_url, received = loopback_server
        settings = EndpointSettings(
            base_url=base_url, model="gem-test", timeout_s=30, max_retries=0
        )
        draft = EndpointBackend(settings).interpret(request_)
        assert draft.text == GEM_ANSWER
        assert draft.usage is not None and draft.usage.total_tokens == 876
        ((path, body),) = received
        assert path == "/v1/chat/completions"
        parts = user_parts(body)
        url = part(parts, "image_url")["image_url"]["url"]
        png = base64.b64decode(url.split(",", 1)[1])
        assert Image.open(io.BytesIO(png)).format == "PNG"
        array, meta = decode_ecg_part(part(parts, "input_ecg"))
        assert array.shape == (12, 5000) and meta.fs_hz == 500
        assert body["messages"][0] == {"role": "system", "content": system_prompt()}
