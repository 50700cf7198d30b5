"""The default backend: a deterministic, offline interpretation from the measurements.

No model and no network: the text is written from the measurement set and the statements its
published criteria computed (:mod:`tools.statements`), in GEM's style (rhythm and rate,
intervals, axis, per-beat ranges in one lead, lead-localised findings, the interpretation),
followed by the similar cases' labels. Every number in it is a measured value, so the verifier
finds nothing contradicted; ``revise`` therefore has nothing to change and says so.
"""

from __future__ import annotations

import time
from typing import Any

from gem_core.backends._narrative import narrative, similar_case_labels
from gem_core.backends.base import Draft, InterpretRequest
from tools.measure.model import MEASUREMENT_VERSION, Statement
from tools.statements import evaluate_criteria

#: Note put on a revision: the text is a function of the measurements.
UNCHANGED_NOTE = (
    "criteria backend: the text is computed from the measurements and cites only measured "
    "values; nothing to revise"
)


class CriteriaBackend:
    """Deterministic interpretation from measurements and criteria statements (offline, CPU)."""

    name = "criteria"
    needs_image = False

    @property
    def model(self) -> str:
        """``criteria-v<measurement version>``: the text changes only with the measurements."""
        return f"criteria-v{MEASUREMENT_VERSION}"

    def interpret(self, request: InterpretRequest) -> Draft:
        """Write the interpretation of ``request`` (deterministic: same request, same text).

        Uses ``request.measurements.statements``; when the set carries none, the criteria are
        evaluated here (with ``request.sex``/``age_years``).
        """
        start = time.perf_counter()
        statements = _statements(request)
        text = narrative(request.measurements, statements, request.cases)
        return Draft(
            text=text,
            backend=self.name,
            model=self.model,
            usage=None,
            latency_ms=_elapsed_ms(start),
            raw_response=None,
            structured=_structured(request, statements),
            request_summary=_request_summary(request, "interpret"),
            kind="interpret",
        )

    def revise(self, request: InterpretRequest, previous: Draft, feedback: str) -> Draft:
        """The same interpretation again, marked as unchanged (it cites only measured values).

        ``previous`` from another backend is replaced by the criteria text; the feedback is
        recorded in ``request_summary``.
        """
        start = time.perf_counter()
        statements = _statements(request)
        text = narrative(request.measurements, statements, request.cases)
        structured = _structured(request, statements)
        structured["unchanged"] = text == previous.text
        summary = _request_summary(request, "revise")
        summary["feedback"] = feedback
        summary["previous_backend"] = previous.backend
        return Draft(
            text=text,
            backend=self.name,
            model=self.model,
            usage=None,
            latency_ms=_elapsed_ms(start),
            raw_response=None,
            structured=structured,
            request_summary=summary,
            kind="revise",
            note=UNCHANGED_NOTE,
        )


def _statements(request: InterpretRequest) -> list[Statement]:
    m = request.measurements
    if m.statements:
        return list(m.statements)
    return evaluate_criteria(m, sex=request.sex, age_years=request.age_years)


def _structured(request: InterpretRequest, statements: list[Statement]) -> dict[str, Any]:
    return {
        "statement_codes": [s.code for s in statements],
        "statements": [
            {"code": s.code, "name": s.name, "leads": list(s.leads)} for s in statements
        ],
        "similar_case_labels": [
            {"name": name, "count": count} for name, count in similar_case_labels(request.cases)
        ],
        "n_cases": len(request.cases),
        "excluded_leads": [
            n for n in request.measurements.lead_names if n not in request.measurements.usable_leads
        ],
    }


def _request_summary(request: InterpretRequest, kind: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "record_id": request.measurements.record_id,
        "measurement_version": request.measurements.version,
        "n_statements": len(request.measurements.statements),
        "n_cases": len(request.cases),
        "sex": request.sex,
        "age_years": request.age_years,
    }


def _elapsed_ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 3)
