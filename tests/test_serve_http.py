"""``gem-agent serve`` over real HTTP on loopback, driven by the ``openai`` client (fake engine).

Covers: chat completions (JSON and SSE), usage, stop strings, sampling settings, models,
health, metrics, continuous batching across concurrent requests, auth, every limit (413, 400,
404, 429, 500) and client disconnects aborting the engine request.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx2
import numpy as np
import openai
import pytest
from prometheus_client import parser

from gem_core.prompting import llava_v1_conversation, system_prompt
from gem_core.serve import ServeSettings, create_app, serve_in_thread
from gem_core.serve.app import ServerState
from tests.fake_engine import FakeEngine, ecg_array, ecg_part, image_part, user_message
from tools.leads import MIMIC_LEADS, STANDARD_LEADS

KEY = "test-key"
WAIT_S = 10.0


@dataclass
class Live:
    url: str
    engine: FakeEngine
    state: ServerState

    def client(self, key: str = KEY) -> openai.OpenAI:
        return openai.OpenAI(base_url=f"{self.url}/v1", api_key=key, max_retries=0, timeout=20)

    def post(self, body: Any, **kw: Any) -> httpx2.Response:
        headers = {"Authorization": f"Bearer {KEY}", **kw.pop("headers", {})}
        streamed = isinstance(body, bytes | Iterator)  # raw bytes, or chunks sent without length
        content = body if streamed else json.dumps(body).encode()
        kw.setdefault("timeout", 20)
        return httpx2.post(f"{self.url}/v1/chat/completions", content=content, headers=headers,
                           **kw)  # fmt: skip

    def metrics(self) -> dict[tuple[str, tuple], float]:
        text = httpx2.get(f"{self.url}/metrics", timeout=5).text
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in parser.text_string_to_metric_families(text)
            for s in family.samples
        }


@contextmanager
def serving(engine: FakeEngine | None = None, **settings: Any) -> Iterator[Live]:
    engine = engine or FakeEngine()
    settings.setdefault("api_key", KEY)
    app = create_app(engine, ServeSettings(**settings))
    with serve_in_thread(app) as url:
        yield Live(url, engine, app.state.gem)
    engine.release()


@pytest.fixture(scope="module")
def live() -> Iterator[Live]:
    with serving(FakeEngine(max_batch=8)) as server:
        yield server


def _until(condition: Callable[[], bool]) -> None:
    """Poll ``condition`` (bounded; fails the test if it never holds)."""
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.005)


def _only_request(engine: FakeEngine, before: set[str]) -> Any:
    (new,) = set(engine.added) - before
    return engine.added[new]


class TestChatCompletion:
    def test_answer_usage_and_inputs(self, live: Live) -> None:
        before = set(live.engine.added)
        message = user_message("Interpret.", image_part(), ecg_part(5, lead_names=STANDARD_LEADS))
        reply = live.client().chat.completions.create(model="gem-fake", messages=[message])
        request = _only_request(live.engine, before)
        n_tokens = live.engine.answer_tokens
        assert reply.choices[0].message.content == FakeEngine.expected_text(request, n_tokens)
        assert reply.choices[0].finish_reason == "stop"
        assert reply.model == "gem-fake" and reply.id == request.request_id
        assert reply.usage is not None
        assert reply.usage.prompt_tokens == live.engine.count_tokens(request.prompt)
        assert reply.usage.completion_tokens == n_tokens + 1  # + EOS
        assert reply.usage.total_tokens == reply.usage.prompt_tokens + n_tokens + 1
        # What reached the engine: GEM's prompt, the ECG in the checkpoint's (MIMIC) order.
        assert request.prompt == llava_v1_conversation(system_prompt(), ["Interpret."])
        sent = ecg_array(5).astype(np.float32)
        expected = sent[[STANDARD_LEADS.index(lead) for lead in MIMIC_LEADS]]
        np.testing.assert_array_equal(request.ecg, expected)
        assert request.image.shape == (3, 336, 336)
        assert reply.model_extra is not None
        assert reply.model_extra["gem_inputs"]["zero_filled"] == []

    def test_missing_modalities_reported(self, live: Live) -> None:
        reply = live.client().chat.completions.create(model="gem-fake",
                                                      messages=[user_message("Q")])  # fmt: skip
        assert reply.model_extra is not None
        assert reply.model_extra["gem_inputs"]["zero_filled"] == ["ecg", "image"]

    def test_streaming_matches_non_streaming(self, live: Live) -> None:
        messages = [user_message("stream me", ecg_part(2))]
        whole = live.client().chat.completions.create(model="gem-fake", messages=messages)
        chunks = list(live.client().chat.completions.create(
            model="gem-fake", messages=messages, stream=True,
            stream_options={"include_usage": True}))  # fmt: skip
        assert chunks[0].choices[0].delta.role == "assistant"
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert text == whole.choices[0].message.content
        finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
        assert finishes[-1] == "stop" and set(finishes[:-1]) == {None}
        assert chunks[-1].choices == [] and chunks[-1].usage is not None
        assert chunks[-1].usage.completion_tokens == whole.usage.completion_tokens  # type: ignore[union-attr]
        assert all(c.usage is None for c in chunks[:-1])

    def test_sse_wire_format(self, live: Live) -> None:
        body = {"model": "gem-fake", "messages": [user_message("Q")], "stream": True}
        response = live.post(body)
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [e for e in response.text.split("\n\n") if e]
        assert all(e.startswith("data: ") for e in events)
        assert events[-1] == "data: [DONE]"
        assert json.loads(events[0][6:])["object"] == "chat.completion.chunk"

    def test_max_tokens_gives_length(self, live: Live) -> None:
        before = set(live.engine.added)
        reply = live.client().chat.completions.create(
            model="gem-fake", messages=[user_message("Q")], max_tokens=3
        )
        request = _only_request(live.engine, before)
        assert reply.choices[0].finish_reason == "length"
        assert reply.usage is not None and reply.usage.completion_tokens == 3
        assert reply.choices[0].message.content == FakeEngine.expected_text(request, 3)

    def test_max_completion_tokens_wins(self, live: Live) -> None:
        reply = live.client().chat.completions.create(
            model="gem-fake", messages=[user_message("Q")], max_tokens=9,
            max_completion_tokens=2)  # fmt: skip
        assert reply.usage is not None and reply.usage.completion_tokens == 2

    @pytest.mark.parametrize("stream", [False, True])
    def test_stop_string_trims_and_aborts(self, stream: bool) -> None:
        engine = FakeEngine(answer_tokens=500, step_delay_s=0.002)
        messages = [user_message("stop test")]
        with serving(engine) as server:
            create = server.client().chat.completions.create
            head = create(model="gem-fake", messages=messages, max_tokens=20)
            text = head.choices[0].message.content or ""
            stop = text[len(text) // 2 : len(text) // 2 + 4]
            expected = text[: text.find(stop)]
            if stream:
                chunks = create(model="gem-fake", messages=messages, stop=[stop], stream=True)
                parts = [(c.choices[0].delta.content or "", c.choices[0].finish_reason)
                         for c in chunks]  # fmt: skip
                got, finish = "".join(p for p, _ in parts), parts[-1][1]
            else:
                reply = create(model="gem-fake", messages=messages, stop=stop)
                got, finish = reply.choices[0].message.content, reply.choices[0].finish_reason
            (rid,) = set(engine.added) - {head.id}
            _until(lambda: rid in engine.aborted)  # the engine stops decoding it
        assert got == expected and finish == "stop"
        assert engine.finished_at[rid] - engine.admitted_at[rid] < 500

    def test_seeded_sampling_reproducible(self, live: Live) -> None:
        def ask(seed: int) -> str | None:
            reply = live.client().chat.completions.create(
                model="gem-fake", messages=[user_message("Q")], temperature=0.7, seed=seed
            )
            return reply.choices[0].message.content

        assert ask(1) == ask(1)
        assert ask(1) != ask(2)
        last = list(live.engine.added.values())[-1]
        assert last.params.temperature == 0.7 and last.params.seed == 2

    def test_greedy_by_default(self, live: Live) -> None:
        before = set(live.engine.added)
        live.client().chat.completions.create(model="gem-fake", messages=[user_message("Q")])
        params = _only_request(live.engine, before).params
        assert params.temperature == 0.0 and params.max_new_tokens == 1024


class TestOtherRoutes:
    def test_models(self, live: Live) -> None:
        models = live.client().models.list()
        assert [m.id for m in models.data] == ["gem-fake"]

    def test_health(self, live: Live) -> None:
        response = httpx2.get(f"{live.url}/health", timeout=5)
        assert response.status_code == 200
        assert response.json()["status"] == "ok" and response.json()["max_batch"] == 8

    def test_unknown_route_openai_shape(self, live: Live) -> None:
        response = httpx2.get(f"{live.url}/v1/nothing", timeout=5)
        assert response.status_code == 404 and "message" in response.json()["error"]

    def test_metrics_parse_and_count(self) -> None:
        with serving(FakeEngine()) as server:
            client = server.client()
            replies = [client.chat.completions.create(model="gem-fake",
                                                      messages=[user_message(f"m{i}")])
                       for i in range(3)]  # fmt: skip
            with pytest.raises(openai.NotFoundError):
                client.chat.completions.create(model="other", messages=[user_message("Q")])
            samples = server.metrics()
        generated = sum(r.usage.completion_tokens for r in replies if r.usage)
        assert samples[("gem_tokens_generated_total", ())] == generated
        assert samples[("gem_requests_total", (("status", "200"),))] == 3
        assert samples[("gem_requests_total", (("status", "404"),))] == 1
        assert samples[("gem_request_latency_seconds_count", ())] == 3
        assert samples[("gem_prefills_total", ())] == 3
        assert samples[("gem_queue_depth", ())] == 0
        assert samples[("gem_running_requests", ())] == 0
        assert samples[("gem_tokens_per_second", ())] > 0
        assert samples[("gem_engine_up", ())] == 1


class TestContinuousBatching:
    def test_concurrent_requests_share_decode_steps(self) -> None:
        engine = FakeEngine(max_batch=8, step_delay_s=0.01, answer_tokens=20)
        with serving(engine) as server:
            client = server.client()

            def ask(i: int) -> tuple[str, str | None]:
                reply = client.chat.completions.create(
                    model="gem-fake", messages=[user_message(f"c{i}")]
                )
                return reply.id, reply.choices[0].message.content  # fmt: skip

            with ThreadPoolExecutor(8) as pool:
                answers = list(pool.map(ask, range(8)))
            samples = server.metrics()
        for rid, text in answers:
            assert text == FakeEngine.expected_text(engine.added[rid], 20)
        assert samples[("gem_decode_batch_size_max", ())] > 1
        assert max(len(batch) for batch in engine.step_batches) > 1
        # Fewer decode steps than 8 requests x 21 tokens decoded one by one.
        assert samples[("gem_decode_steps_total", ())] < 8 * 21


class TestAuth:
    def test_missing_or_wrong_key_is_401(self, live: Live) -> None:
        with pytest.raises(openai.AuthenticationError) as info:
            live.client("wrong").chat.completions.create(model="gem-fake",
                                                         messages=[user_message("Q")])  # fmt: skip
        assert info.value.status_code == 401
        response = httpx2.post(f"{live.url}/v1/chat/completions", json={}, timeout=5)
        assert response.status_code == 401
        assert response.json()["error"]["type"] == "authentication_error"
        assert httpx2.get(f"{live.url}/v1/models", timeout=5).status_code == 401

    def test_no_key_configured_means_open(self) -> None:
        with serving(api_key=None) as server:
            reply = server.client("anything").chat.completions.create(
                model="gem-fake", messages=[user_message("Q")]
            )
        assert reply.choices[0].message.content


def _error(response: httpx2.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert "Traceback" not in error["message"]
    return error


class TestLimits:
    def test_413_from_content_length(self) -> None:
        with serving(max_body_bytes=4096) as server:
            body = {"model": "gem-fake", "messages": [user_message("x" * 5000)]}
            error = _error(server.post(body), 413)
        assert error["code"] == "request_too_large" and "4,096" in error["message"]

    def test_413_while_reading_chunked_body(self) -> None:
        with serving(max_body_bytes=4096) as server:
            chunks = iter([b'{"model": "gem-fake", "messages": "', b"x" * 3000, b"y" * 3000])
            error = _error(server.post(chunks), 413)
        assert "more than" in error["message"]

    @pytest.mark.parametrize(
        ("body", "match"),
        [
            (b"{not json", "not valid JSON"),
            (b"[1, 2]", "must be a JSON object"),
            ({"model": "gem-fake", "messages": [], "max_tokens": 5}, "messages"),
            ({"model": "gem-fake", "messages": [{"role": "user", "content": "Q"}],
              "max_tokens": "many"}, "max_tokens"),
            ({"model": "gem-fake", "messages": [{"role": "user", "content": "Q"}], "n": 2},
             "n must be 1"),
        ],
    )  # fmt: skip
    def test_400_bad_body(self, live: Live, body: Any, match: str) -> None:
        assert match in _error(live.post(body), 400)["message"]

    @pytest.mark.parametrize(
        ("part", "match"),
        [
            ({"type": "input_ecg", "input_ecg": {"format": "gem-ecg/1"}}, "input_ecg"),
            ({"type": "video_url", "video_url": {}}, "unknown content part type"),
            ({"type": "image_url", "image_url": {"url": "http://x/y.png"}}, "never fetches"),
        ],
    )
    def test_400_bad_parts(self, live: Live, part: dict[str, Any], match: str) -> None:
        with pytest.raises(openai.BadRequestError, match=match) as info:
            live.client().chat.completions.create(model="gem-fake",
                                                  messages=[user_message("Q", part)])  # fmt: skip
        assert info.value.status_code == 400

    def test_400_wrong_ecg_shape(self, live: Live) -> None:
        part = ecg_part()
        part["input_ecg"]["shape"] = [5000, 12]
        body = {"model": "gem-fake", "messages": [user_message("Q", part)]}
        error = _error(live.post(body), 400)
        assert error["code"] == "invalid_ecg" and error["param"] == "messages[0].content[0]"

    def test_400_two_images(self, live: Live) -> None:
        body = {"model": "gem-fake", "messages": [user_message("Q", image_part(), image_part())]}
        assert _error(live.post(body), 400)["code"] == "too_many_images"

    def test_400_context_too_long(self, live: Live) -> None:
        body = {"model": "gem-fake", "messages": [user_message("Q")], "max_tokens": 4000}
        assert _error(live.post(body), 400)["code"] == "context_length_exceeded"

    def test_404_unknown_model(self, live: Live) -> None:
        with pytest.raises(openai.NotFoundError, match="not served here"):
            live.client().chat.completions.create(model="gpt-4o", messages=[user_message("Q")])

    def test_429_when_queue_full(self) -> None:
        engine = FakeEngine(max_batch=1)
        engine.hold()
        with serving(engine, max_queue=1) as server, ThreadPoolExecutor(2) as pool:
            body = {"model": "gem-fake", "messages": [user_message("Q")]}
            first = [pool.submit(server.post, body) for _ in range(2)]
            _until(lambda: server.state.loop.pending == 2)
            response = server.post(body)
            error = _error(response, 429)
            engine.release()
            statuses = [f.result().status_code for f in first]
        assert error["code"] == "queue_full" and response.headers["retry-after"] == "1"
        assert statuses == [200, 200]

    def test_500_engine_error(self) -> None:
        with serving(FakeEngine(fail_on_step=2)) as server:
            error = _error(server.post({"model": "gem-fake", "messages": [user_message("Q")]}),
                           500)  # fmt: skip
            server.engine.fail_on_step = server.engine.steps + 2  # fail the stream mid-way
            with pytest.raises(openai.APIError, match="engine error"):
                list(server.client().chat.completions.create(
                    model="gem-fake", messages=[user_message("Q")], stream=True))  # fmt: skip
            assert server.state.loop.alive
        assert error["code"] == "engine_error"
        assert "simulated device failure" in error["message"]


class TestDisconnect:
    def test_stream_closed_aborts_engine_request(self) -> None:
        engine = FakeEngine(answer_tokens=3000, step_delay_s=0.002)
        with serving(engine) as server:
            body = {"model": "gem-fake", "messages": [user_message("Q")], "stream": True,
                    "max_tokens": 3000}  # fmt: skip
            headers = {"Authorization": f"Bearer {KEY}"}
            with httpx2.stream("POST", f"{server.url}/v1/chat/completions", json=body,
                               headers=headers, timeout=20) as response:  # fmt: skip
                lines = response.iter_lines()
                first = next(line for line in lines if line.startswith("data: "))
            rid = json.loads(first[6:])["id"]
            _until(lambda: rid in engine.aborted)
            _until(lambda: server.metrics().get(("gem_requests_total", (("status", "499"),))) == 1)
        assert engine.finished_at[rid] < 3000

    def test_non_streaming_client_timeout_aborts(self) -> None:
        engine = FakeEngine(answer_tokens=3000, step_delay_s=0.002)
        with serving(engine) as server:
            body = {"model": "gem-fake", "messages": [user_message("Q")], "max_tokens": 3000}
            with pytest.raises(httpx2.TimeoutException):
                server.post(body, timeout=0.3)
            _until(lambda: len(engine.aborted) == 1)
            _until(lambda: server.state.loop.pending == 0)  # the loop forgets it after the step
