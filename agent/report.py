"""The final report: one pydantic model, rendered to JSON, Markdown and HTML elsewhere."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from agent import __version__
from agent.state import State
from agent.verify import ClaimCheck, Verification
from gem_core.backends.base import Draft
from tools.cases import SimilarCase
from tools.measure import Measurements, Statement
from tools.quality import QualityReport
from tools.record import RecordSummary

if TYPE_CHECKING:
    from agent.context import Context


class DraftRound(BaseModel):
    """One draft and the verifier's verdicts on it."""

    round: int
    draft: Draft
    verification: Verification | None


class Report(BaseModel):
    """Everything a run concluded, with the evidence for each claim.

    ``status`` is ``"complete"`` when the model interpreted the record, ``"unusable"`` when
    the quality gate ended the run early (``exit_reason`` says why; no model call was made).
    """

    run_id: str | None
    created_at: str
    gem_agent_version: str = __version__
    status: Literal["complete", "unusable"]
    exit_reason: str | None = None
    record: RecordSummary
    quality: QualityReport
    measurements: Measurements | None = None
    statements: list[Statement] = Field(default_factory=list)
    interpretation: str | None = None
    claims: list[ClaimCheck] = Field(default_factory=list)
    grounding_score: float | None = None
    n_supported: int = 0
    n_contradicted: int = 0
    n_unverifiable: int = 0
    similar_cases: list[SimilarCase] = Field(default_factory=list)
    backend: str | None = None
    model: str | None = None
    revisions: int = 0
    drafts: list[DraftRound] = Field(default_factory=list)
    timings_ms: dict[str, float] = Field(default_factory=dict)


def build_report(state: State, ctx: Context, run_id: str | None = None) -> Report:
    """Assemble the report from the final state (the report node's job)."""
    measurements = (
        Measurements.model_validate(state["measurements"]) if state.get("measurements") else None
    )
    drafts = [Draft.model_validate(d) for d in state.get("drafts", [])]
    checks = [Verification.model_validate(v) for v in state.get("verifications", [])]
    rounds = [
        DraftRound(round=i, draft=d, verification=checks[i] if i < len(checks) else None)
        for i, d in enumerate(drafts)
    ]
    final = rounds[-1] if rounds else None
    timings: dict[str, float] = {}
    for step in state.get("steps", []):
        timings[step["node"]] = round(timings.get(step["node"], 0.0) + step["ms"], 3)
    verification = final.verification if final else None
    extra: dict[str, Any] = {}
    if verification is not None:
        extra = {
            "claims": verification.checks,
            "grounding_score": verification.grounding_score,
            "n_supported": verification.n_supported,
            "n_contradicted": verification.n_contradicted,
            "n_unverifiable": verification.n_unverifiable,
        }
    return Report(
        run_id=run_id or _run_id(),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        status="unusable" if state.get("exit_reason") else "complete",
        exit_reason=state.get("exit_reason"),
        record=RecordSummary.model_validate(state["record"]),
        quality=QualityReport.model_validate(state["quality"]),
        measurements=measurements,
        statements=measurements.statements if measurements else [],
        interpretation=final.draft.text if final else None,
        similar_cases=[SimilarCase.model_validate(c) for c in state.get("cases", [])],
        backend=final.draft.backend if final else ctx.backend.name,
        model=final.draft.model if final else None,
        revisions=state.get("revision", 0),
        drafts=rounds,
        timings_ms=timings,
        **extra,
    )


def _run_id() -> str | None:
    """The thread id of the running graph, when there is one."""
    try:
        from langgraph.config import get_config

        return str(get_config()["configurable"]["thread_id"])
    except (RuntimeError, KeyError):
        return None
