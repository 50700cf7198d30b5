"""The agent against a real OpenAI-compatible server on loopback: the request carries GEM's
inputs, contradicted claims trigger revisions, failures are typed, traced and resumable."""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pytest

from agent.api import AgentRunError, interpret, resume
from agent.settings import AgentSettings
from agent.traces import run_steps
from gem_core.backends.base import BackendResponseError, BackendTimeout
from gem_core.backends.endpoint import EndpointBackend, EndpointSettings
from gem_core.ecg_part import decode_ecg_part
from tests.loopback_openai import ScriptedChatServer
from tools.measure.pipeline import measure_record
from tools.synth import SynthSpec, synthesize, write_synthetic


@pytest.fixture(scope="module")
def record_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ecg = synthesize(SynthSpec(hr_bpm=72), seed=11)
    return write_synthetic(ecg, tmp_path_factory.mktemp("ep")).with_suffix(".hea")


@pytest.fixture(scope="module")
def texts(record_path: Path) -> dict[str, str]:
    """A GEM-style answer true to the measurements, and one with contradicted numbers."""
    from tools.readers import open_record

    g = measure_record(open_record(record_path)).measurements.global_
    assert g.heart_rate_bpm and g.qrs_ms and g.pr_ms
    true = (
        f"The ECG shows sinus rhythm with a heart rate of about {g.heart_rate_bpm:.0f} bpm. "
        f"The PR interval is {g.pr_ms:.0f} ms and the QRS duration is {g.qrs_ms:.0f} ms. "
        "There is no evidence of left bundle branch block."
    )
    false = (
        f"The ECG shows sinus rhythm with a heart rate of about {g.heart_rate_bpm + 40:.0f} bpm. "
        f"The PR interval is {g.pr_ms:.0f} ms and the QRS duration is {g.qrs_ms + 80:.0f} ms. "
        "There is no evidence of left bundle branch block."
    )
    return {"true": true, "false": false}


def _settings(tmp_path: Path, **kw: object) -> AgentSettings:
    return AgentSettings(trace_db=tmp_path / "traces.sqlite", case_base="none", **kw)


def _backend(url: str, **kw: object) -> EndpointBackend:
    options = {"base_url": url, "model": "gem-7b-test", "api_key": "test-key", "max_retries": 0,
               "timeout_s": 10.0, **kw}  # fmt: skip
    return EndpointBackend(EndpointSettings(**options))


class TestRevisionLoop:
    def test_contradiction_revised(
        self, record_path: Path, texts: dict[str, str], tmp_path: Path
    ) -> None:
        server = ScriptedChatServer([texts["false"], texts["true"]])
        with server.running():
            report = interpret(record_path, settings=_settings(tmp_path),
                               backend=_backend(server.url))  # fmt: skip
        assert len(server.requests) == 2
        assert report.revisions == 1
        first, final = report.drafts[0].verification, report.drafts[-1].verification
        assert first is not None and first.n_contradicted == 2
        assert final is not None and final.n_contradicted == 0
        assert report.n_contradicted == 0 and report.grounding_score == 1.0
        assert report.interpretation == texts["true"]
        assert report.model == "gem-7b-test"

    def test_request_carries_image_and_ecg(
        self, record_path: Path, texts: dict[str, str], tmp_path: Path
    ) -> None:
        server = ScriptedChatServer([texts["true"]])
        with server.running():
            interpret(record_path, settings=_settings(tmp_path), backend=_backend(server.url))
        body = server.requests[0]
        assert body["model"] == "gem-7b-test"
        assert body["messages"][0]["role"] == "system"
        parts = body["messages"][-1]["content"]
        kinds = [p["type"] for p in parts]
        assert "image_url" in kinds and "input_ecg" in kinds and "text" in kinds
        url = next(p["image_url"]["url"] for p in parts if p["type"] == "image_url")
        assert url.startswith("data:image/png;base64,")
        assert base64.b64decode(url.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
        array, _meta = decode_ecg_part(next(p for p in parts if p["type"] == "input_ecg"))
        assert array.shape == (12, 5000) and np.isfinite(array).all()
        text = next(p["text"] for p in parts if p["type"] == "text")
        assert "Interpret the provided ECG image" in text

    def test_revision_prompt_has_measured_values(
        self, record_path: Path, texts: dict[str, str], tmp_path: Path
    ) -> None:
        server = ScriptedChatServer([texts["false"], texts["true"]])
        with server.running():
            interpret(record_path, settings=_settings(tmp_path), backend=_backend(server.url))
        second = server.requests[1]["messages"]
        assert any(m["role"] == "assistant" for m in second)  # the previous draft
        feedback = str(second[-1]["content"])
        assert "contradict" in feedback.lower()

    def test_revisions_bounded(
        self, record_path: Path, texts: dict[str, str], tmp_path: Path
    ) -> None:
        server = ScriptedChatServer([texts["false"]] * 5)
        with server.running():
            report = interpret(record_path, settings=_settings(tmp_path, max_revisions=2),
                               backend=_backend(server.url))  # fmt: skip
        assert len(server.requests) == 3
        assert report.revisions == 2 and report.n_contradicted > 0
        assert len(report.drafts) == 3


class TestFailures:
    def test_server_error_fails_run_with_trace(self, record_path: Path, tmp_path: Path) -> None:
        server = ScriptedChatServer([(400, "bad request")])
        settings = _settings(tmp_path)
        with server.running(), pytest.raises(AgentRunError) as info:
            interpret(record_path, settings=settings, backend=_backend(server.url), run_id="r1")
        assert info.value.node == "interpret"
        assert isinstance(info.value.cause, BackendResponseError)
        steps = run_steps(settings.trace_path(), "r1")
        assert [s.node for s in steps][:4] == ["load", "assess_quality", "measure", "retrieve"]
        assert steps[-1].node == "interpret" and steps[-1].error

    def test_timeout(self, record_path: Path, texts: dict[str, str], tmp_path: Path) -> None:
        server = ScriptedChatServer([("sleep", 3.0, texts["true"])] * 3)
        with server.running(), pytest.raises(AgentRunError) as info:
            interpret(record_path, settings=_settings(tmp_path),
                      backend=_backend(server.url, timeout_s=0.5))  # fmt: skip
        assert isinstance(info.value.cause, BackendTimeout)

    def test_garbage_output(self, record_path: Path, tmp_path: Path) -> None:
        server = ScriptedChatServer(["   "])
        with server.running(), pytest.raises(AgentRunError) as info:
            interpret(record_path, settings=_settings(tmp_path), backend=_backend(server.url))
        assert isinstance(info.value.cause, BackendResponseError)

    def test_resume_after_failure(
        self, record_path: Path, texts: dict[str, str], tmp_path: Path
    ) -> None:
        server = ScriptedChatServer([(400, "try later")])
        settings = _settings(tmp_path)
        with server.running():
            backend = _backend(server.url)
            with pytest.raises(AgentRunError):
                interpret(record_path, settings=settings, backend=backend, run_id="again")
            server.script.append(texts["true"])
            report = resume("again", settings=settings, backend=backend)
        assert report.status == "complete" and report.run_id == "again"
        assert report.n_contradicted == 0
        nodes = [s.node for s in run_steps(settings.trace_path(), "again")]
        assert nodes.count("measure") == 1  # resumed at interpret, not from the start
        assert nodes[-1] == "report"
