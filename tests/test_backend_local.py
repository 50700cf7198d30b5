"""The ``local`` backend (gem_core.backends.local.LocalBackend) on the fake engine: it gives
the engine exactly what the endpoint backend gives ``gem-agent serve``."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from gem_core.backends.base import (
    Backend,
    BackendError,
    BackendRejected,
    BackendResponseError,
    Draft,
    InterpretRequest,
)
from gem_core.backends.endpoint import EndpointBackend, EndpointSettings
from gem_core.backends.local import LocalBackend, LocalSettings
from gem_core.engine import GenerationRequest
from gem_core.inputs import gem_image, gem_signal
from gem_core.prompting import interpret_prompt, llava_v1_conversation, revise_prompt, system_prompt
from gem_core.serve import ServeSettings, create_app, serve_in_thread
from tests.fake_engine import FakeEngine, png_bytes
from tools.leads import STANDARD_LEADS
from tools.measure.pipeline import measure_record
from tools.synth import SynthSpec, synthesize

FEEDBACK = "The QRS duration is 96 ms, not 140 ms."


@pytest.fixture(scope="module")
def request_() -> InterpretRequest:
    record = synthesize(SynthSpec(hr_bpm=72), seed=3).record
    measurements = measure_record(record).measurements
    return InterpretRequest(record=record, measurements=measurements, image_png=png_bytes(220, 170))


def _last(engine: FakeEngine) -> GenerationRequest:
    return list(engine.added.values())[-1]


def _local(engine: FakeEngine, **settings: object) -> LocalBackend:
    return LocalBackend(LocalSettings(**settings), engine=engine)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[EndpointBackend, FakeEngine]]:
    """The endpoint backend talking to gem-agent serve (fake engine) on loopback."""
    engine = FakeEngine()
    with serve_in_thread(create_app(engine, ServeSettings())) as url:
        settings = EndpointSettings(base_url=f"{url}/v1", model="gem-fake", max_retries=0)
        yield EndpointBackend(settings), engine


class TestInterpret:
    def test_draft_from_engine(self, request_: InterpretRequest) -> None:
        engine = FakeEngine()
        draft = _local(engine).interpret(request_)
        sent = _last(engine)
        assert isinstance(draft, Draft) and draft.backend == "local" and draft.kind == "interpret"
        assert draft.text == FakeEngine.expected_text(sent, engine.answer_tokens).strip()
        assert draft.model == "gem-fake"
        assert draft.usage is not None
        assert draft.usage.prompt_tokens == engine.count_tokens(sent.prompt)
        assert draft.usage.completion_tokens == engine.answer_tokens + 1
        assert draft.structured == {"finish_reason": "stop", "truncated": False}
        assert draft.request_summary["ecg_sent"] and draft.request_summary["ecg"]["present"]

    def test_gem_inputs(self, request_: InterpretRequest) -> None:
        engine = FakeEngine()
        _local(engine).interpret(request_)
        sent = _last(engine)
        prompt = interpret_prompt(measurements=request_.measurements, include_context=False)
        assert sent.prompt == llava_v1_conversation(system_prompt(), [prompt])
        signal = gem_signal(request_.record, dtype=np.float16)  # MIMIC order, fp16 like the wire
        np.testing.assert_array_equal(sent.ecg, signal.array.astype(np.float32))
        assert request_.image_png is not None
        np.testing.assert_array_equal(sent.image, gem_image(request_.image_png))
        assert sent.params.temperature == 0.0 and sent.params.max_new_tokens == 1024

    def test_same_engine_input_as_endpoint_through_server(
        self, request_: InterpretRequest, served: tuple[EndpointBackend, FakeEngine]
    ) -> None:
        endpoint, served_engine = served
        endpoint.interpret(request_)
        local_engine = FakeEngine()
        _local(local_engine).interpret(request_)
        remote, local = _last(served_engine), _last(local_engine)
        assert remote.prompt == local.prompt
        np.testing.assert_array_equal(remote.ecg, local.ecg)
        np.testing.assert_array_equal(remote.image, local.image)
        assert remote.params == local.params

    def test_checkpoint_lead_order_used(self, request_: InterpretRequest) -> None:
        engine = FakeEngine()
        engine.lead_order = STANDARD_LEADS  # type: ignore[attr-defined]
        _local(engine).interpret(request_)
        expected = gem_signal(request_.record, lead_order=STANDARD_LEADS, dtype=np.float16)
        np.testing.assert_array_equal(_last(engine).ecg, expected.array.astype(np.float32))

    def test_without_ecg(self, request_: InterpretRequest) -> None:
        engine = FakeEngine()
        draft = _local(engine, send_ecg=False).interpret(request_)
        assert _last(engine).ecg is None and draft.request_summary["ecg_sent"] is False

    def test_renders_page_when_absent(self, request_: InterpretRequest) -> None:
        engine = FakeEngine()
        bare = InterpretRequest(record=request_.record, measurements=request_.measurements)
        draft = _local(engine).interpret(bare)
        assert _last(engine).image.shape == (3, 336, 336)
        assert draft.request_summary["image_rendered_here"] is True

    def test_max_tokens_truncates(self, request_: InterpretRequest) -> None:
        draft = _local(FakeEngine(), max_tokens=4).interpret(request_)
        assert draft.structured == {"finish_reason": "length", "truncated": True}

    def test_is_a_backend(self) -> None:
        assert isinstance(_local(FakeEngine()), Backend)


class TestRevise:
    def test_conversation_matches_endpoint(
        self, request_: InterpretRequest, served: tuple[EndpointBackend, FakeEngine]
    ) -> None:
        endpoint, served_engine = served
        engine = FakeEngine()
        backend = _local(engine)
        first = backend.interpret(request_)
        draft = backend.revise(request_, first, FEEDBACK)
        prompt = interpret_prompt(measurements=request_.measurements, include_context=False)
        turns = [prompt, first.text, revise_prompt(None, FEEDBACK)]
        assert _last(engine).prompt == llava_v1_conversation(system_prompt(), turns)
        assert draft.kind == "revise" and draft.request_summary["previous_chars"] == len(first.text)
        endpoint.revise(request_, first, FEEDBACK)
        assert _last(served_engine).prompt == _last(engine).prompt


class TestErrors:
    def test_refused_request(self, request_: InterpretRequest) -> None:
        with pytest.raises(BackendRejected, match=r"refused the request.*context"):
            _local(FakeEngine(context_tokens=1000)).interpret(request_)

    def test_engine_failure(self, request_: InterpretRequest) -> None:
        engine = FakeEngine(fail_on_step=3)
        with pytest.raises(BackendError, match=r"engine failed.*simulated device failure"):
            _local(engine).interpret(request_)
        assert engine.abort_calls == [_last(engine).request_id]

    def test_empty_answer(self, request_: InterpretRequest) -> None:
        with pytest.raises(BackendResponseError, match="empty"):
            _local(FakeEngine(answer_tokens=0)).interpret(request_)

    def test_no_model_files(
        self, request_: InterpretRequest, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        for name in ("CHECKPOINT", "ECG_TOWER", "VISION_TOWER"):
            monkeypatch.delenv(f"GEM_AGENT_LOCAL_{name}", raising=False)
        with pytest.raises(BackendError, match="GEM_AGENT_LOCAL_CHECKPOINT"):
            LocalBackend().interpret(request_)

    def test_settings_from_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("GEM_AGENT_LOCAL_MAX_TOKENS", "77")
        monkeypatch.setenv("GEM_AGENT_LOCAL_DEVICE", "cuda")
        settings = LocalSettings()
        assert settings.max_tokens == 77 and settings.device == "cuda"
