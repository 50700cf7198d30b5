"""Single nodes and routers, called with hand-made states (no graph, no checkpointer)."""

from __future__ import annotations

from typing import Any

import pytest
from langgraph.runtime import Runtime

from agent import nodes
from agent.context import Context, RecordCache
from agent.settings import AgentSettings
from gem_core.backends.base import Draft, InterpretRequest
from tools.leads import STANDARD_LEADS
from tools.record import ECGRecord
from tools.synth import SynthSpec, synthesize


class ScriptedBackend:
    """Unit-test fake: returns the scripted texts in order and records the requests."""

    name = "scripted"
    needs_image = False

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.calls: list[tuple[str, Any]] = []

    def _draft(self, kind: str) -> Draft:
        return Draft(text=self.texts.pop(0), backend=self.name, model="fake", latency_ms=0.0,
                     kind=kind)  # type: ignore[arg-type]  # fmt: skip

    def interpret(self, request: InterpretRequest) -> Draft:
        self.calls.append(("interpret", request))
        return self._draft("interpret")

    def revise(self, request: InterpretRequest, previous: Draft, feedback: str) -> Draft:
        self.calls.append(("revise", feedback))
        return self._draft("revise")


def _runtime(backend: Any = None, **settings: Any) -> Runtime[Context]:
    ctx = Context(settings=AgentSettings(case_base="none", **settings),
                  backend=backend or ScriptedBackend([]), cache=RecordCache())  # fmt: skip
    return Runtime(context=ctx)


def _measured_state(runtime: Runtime[Context], record: ECGRecord) -> dict[str, Any]:
    state: dict[str, Any] = {"record_ref": runtime.context.cache.put(record)}
    for node in (nodes.load, nodes.assess_quality, nodes.measure):
        state.update(node(state, runtime=runtime))
    return state


class TestNodes:
    def test_load_puts_summary_not_samples(self) -> None:
        runtime = _runtime()
        record = synthesize(SynthSpec(), seed=1).record
        update = nodes.load({"record_ref": runtime.context.cache.put(record)}, runtime=runtime)
        assert update["record"]["record_id"] == record.record_id
        assert "signal_mv" not in update["record"]
        assert update["steps"][0]["node"] == "load"

    def test_quality_exit_reason_for_flat_record(self) -> None:
        runtime = _runtime()
        import numpy as np

        flat = ECGRecord("flat", np.zeros((12, 5000)), 500, STANDARD_LEADS)
        update = nodes.assess_quality({"record_ref": runtime.context.cache.put(flat)},
                                      runtime=runtime)  # fmt: skip
        assert update["quality"]["verdict"] == "unusable"
        assert "unusable signal" in update["exit_reason"]
        assert nodes.route_quality(update) == "report"  # type: ignore[arg-type]
        assert nodes.route_quality({}) == "measure"

    def test_retrieve_without_case_base(self) -> None:
        assert nodes.retrieve({}, runtime=_runtime())["cases"] == []

    def test_interpret_passes_measurements(self) -> None:
        backend = ScriptedBackend(["Sinus rhythm."])
        runtime = _runtime(backend)
        state = _measured_state(runtime, synthesize(SynthSpec(hr_bpm=70), seed=2).record)
        update = nodes.interpret({**state, "cases": []}, runtime=runtime)
        assert update["drafts"][0]["text"] == "Sinus rhythm."
        request = backend.calls[0][1]
        assert request.measurements.global_.heart_rate_bpm == pytest.approx(70, abs=2)


class TestVerifyAndRevise:
    def test_contradiction_routes_to_revise_until_rounds_run_out(self) -> None:
        backend = ScriptedBackend(["Revised."])
        runtime = _runtime(backend, max_revisions=1)
        state = _measured_state(runtime, synthesize(SynthSpec(hr_bpm=60), seed=3).record)
        state["drafts"] = [{"text": "The heart rate is 150 bpm.", "backend": "x", "model": "m",
                            "latency_ms": 0.0}]  # fmt: skip
        state.update(nodes.verify(state, runtime=runtime))
        assert state["verifications"][0]["n_contradicted"] == 1
        assert nodes.route_verification(state, runtime) == "revise"  # type: ignore[arg-type]
        update = nodes.revise(state, runtime=runtime)
        assert update["revision"] == 1
        assert "150" in backend.calls[0][1]  # the feedback quotes the contradicted claim
        state["revision"] = 1
        assert nodes.route_verification(state, runtime) == "report"  # type: ignore[arg-type]

    def test_no_contradiction_routes_to_report(self) -> None:
        runtime = _runtime()
        state = {"verifications": [{"n_contradicted": 0}], "revision": 0}
        assert nodes.route_verification(state, runtime) == "report"  # type: ignore[arg-type]
