"""The graph's nodes: thin functions that call tools and models and return state updates."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, Literal

from langgraph.runtime import Runtime

from agent.context import Context
from agent.report import build_report
from agent.state import State
from tools.errors import RecordError
from tools.measure import Measurements
from tools.quality import QualityReport

Node = Callable[[State, Runtime[Context]], dict[str, Any]]


def timed(func: Node) -> Callable[..., dict[str, Any]]:
    """Record the node's wall time in ``steps`` (LangGraph injects ``runtime`` by name)."""

    @functools.wraps(func)
    def wrapper(state: State, *, runtime: Runtime[Context]) -> dict[str, Any]:
        start = time.perf_counter()
        update = func(state, runtime)
        step = {"node": func.__name__, "ms": round((time.perf_counter() - start) * 1000, 3)}
        return {**update, "steps": [step]}

    return wrapper


@timed
def load(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Read the record (into the run's cache) and put its summary in the state."""
    record = runtime.context.cache.record(state["record_ref"])
    return {"record": record.summary().model_dump(mode="json"), "revision": 0}


@timed
def assess_quality(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Per-lead signal quality, usable leads, overall verdict."""
    quality = runtime.context.cache.quality(state["record_ref"])
    update: dict[str, Any] = {"quality": quality.model_dump(mode="json")}
    if quality.verdict == "unusable":
        reasons = [f.detail for f in quality.findings] or ["no usable lead"]
        update["exit_reason"] = "unusable signal: " + "; ".join(reasons)
    return update


def route_quality(state: State) -> Literal["measure", "report"]:
    """Unusable records end early: no measurement, no model call."""
    return "report" if state.get("exit_reason") else "measure"


@timed
def measure(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Beats, delineation, measurements and criteria statements."""
    quality = QualityReport.model_validate(state["quality"])
    run = runtime.context.cache.measurement(state["record_ref"], quality)
    return {"measurements": run.measurements.model_dump(mode="json", by_alias=True)}


@timed
def retrieve(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """The k most similar cases from the case base (none when retrieval is off)."""
    ctx = runtime.context
    if ctx.case_base is None or ctx.settings.k_cases == 0:
        return {"cases": []}
    from tools.cases import embed_measurements

    ref = state["record_ref"]
    run = ctx.cache.measurement(ref)
    summary = state["record"]
    try:
        vector = embed_measurements(run)
    except RecordError:  # no median beat (too few beats): nothing to compare with
        return {"cases": []}
    cases = ctx.case_base.search(
        vector,
        ctx.settings.k_cases,
        exclude_ids=(summary["record_id"],),
        exclude_patient=summary.get("patient_id"),
    )
    return {"cases": [case.model_dump(mode="json") for case in cases]}


def _request(state: State, ctx: Context) -> Any:
    from gem_core.backends.base import InterpretRequest
    from tools.cases import SimilarCase

    record = ctx.cache.record(state["record_ref"])
    image_png = None
    if getattr(ctx.backend, "needs_image", False):
        from agent.report_render import record_png

        image_png = record_png(record)
    return InterpretRequest(
        record=record,
        measurements=Measurements.model_validate(state["measurements"]),
        cases=[SimilarCase.model_validate(c) for c in state.get("cases", [])],
        image_png=image_png,
        sex=record.sex,
        age_years=record.age_years,
    )


@timed
def interpret(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Ask the backend for a grounded interpretation (the first draft)."""
    ctx = runtime.context
    draft = ctx.backend.interpret(_request(state, ctx))
    return {"drafts": [draft.model_dump(mode="json")]}


@timed
def verify(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Check every claim of the latest draft against the measurements."""
    from agent.verify import verify_text

    measurements = Measurements.model_validate(state["measurements"])
    summary = state["record"]
    verification = verify_text(
        state["drafts"][-1]["text"],
        measurements,
        sex=summary.get("sex"),
        age_years=summary.get("age_years"),
    )
    return {"verifications": [verification.model_dump(mode="json")]}


def route_verification(state: State, runtime: Runtime[Context]) -> Literal["revise", "report"]:
    """Revise while claims are contradicted and revisions remain."""
    contradicted = state["verifications"][-1]["n_contradicted"] > 0
    rounds_left = state.get("revision", 0) < runtime.context.settings.max_revisions
    return "revise" if contradicted and rounds_left else "report"


@timed
def revise(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Re-prompt the backend with the contradicted claims and the measured values."""
    from agent.verify import Verification, feedback_text
    from gem_core.backends.base import Draft

    ctx = runtime.context
    previous = Draft.model_validate(state["drafts"][-1])
    feedback = feedback_text(Verification.model_validate(state["verifications"][-1]))
    draft = ctx.backend.revise(_request(state, ctx), previous, feedback)
    return {"drafts": [draft.model_dump(mode="json")], "revision": state.get("revision", 0) + 1}


@timed
def report(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Assemble the final report from everything the run produced."""
    return {"report": build_report(state, runtime.context).model_dump(mode="json")}
