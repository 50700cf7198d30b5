"""The verifier's contract: a claim found in the text, its check, and the verification.

All three are pydantic models that survive a JSON round trip (the graph stores them in its
state as ``model_dump(mode="json")`` and reads them back with ``model_validate``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Verdict = Literal["supported", "contradicted", "unverifiable"]
ClaimKind = Literal["numeric", "lead_finding", "diagnosis"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Claim(_Model):
    """One claim found in the text (or given as a statement code by a structured backend).

    Attributes
    ----------
    text
        The sentence fragment it came from.
    span
        Character offsets ``[start, end)`` of ``text`` in the input.
    kind
        ``numeric`` (a value or bound of a feature), ``lead_finding`` (ST elevation, T
        inversion, Q waves... in named leads) or ``diagnosis`` (a vocabulary statement).
    feature
        Feature name (``"qrs_ms"``, ``"st_elevation_mv"``, ``"t_inversion"``); ``None`` for
        diagnoses.
    value_low, value_high
        The claimed value in the feature's unit: equal for a point, both set for a range,
        one ``None`` for a bound (``"QRS > 120 ms"``: low 120, high ``None``).
    unit
        The feature's unit the values were converted to (``"ms"``, ``"mV"``, ``"bpm"``, ``"deg"``).
    leads
        Canonical names of the leads the claim is about; empty for a global claim.
    beat
        1-based beat index when the text names one ("the third beat").
    statement_code
        Vocabulary code of a diagnosis or rhythm mention (also set on lead findings that map
        onto one, e.g. ``INVT``).
    negated, hedged
        Within the scope of a negation ("no", "without", "absent") or a hedge ("possible",
        "cannot exclude").
    spread
        A range that describes the spread of per-beat values ("range from 92 to 132 ms",
        "92, 104, 132 ms"): compared end to end with the measured minimum and maximum. A
        range without it ("PR 120-200 ms") only has to contain the measured value.
    signed
        The value was written with an explicit sign (``"-0.3 mV"``, ``"+60°"``): compared
        with its sign; otherwise amplitudes are compared by magnitude (an S wave "of 1.2 mV").
    """

    text: str
    span: tuple[int, int]
    kind: ClaimKind
    feature: str | None = None
    value_low: float | None = None
    value_high: float | None = None
    unit: str | None = None
    leads: list[str] = Field(default_factory=list)
    beat: int | None = None
    statement_code: str | None = None
    negated: bool = False
    hedged: bool = False
    spread: bool = False
    signed: bool = False


class ClaimCheck(_Model):
    """The verdict on one claim and the evidence it rests on."""

    claim: Claim
    verdict: Verdict
    #: The value(s) the claim was checked against (a number, per-lead numbers, a summary).
    measured: float | str | list[float] | None = None
    #: The tolerance applied, e.g. ``"±10 ms"``; ``None`` for criteria checks.
    tolerance: str | None = None
    #: Which check: ``"range match with per-beat QRS durations, lead I"``, ``"criteria CLBBB"``.
    rule: str
    #: One sentence a clinician can read.
    detail: str


class Verification(_Model):
    """Every check of one draft, the counts, and the grounding score."""

    checks: list[ClaimCheck] = Field(default_factory=list)
    n_supported: int = 0
    n_contradicted: int = 0
    n_unverifiable: int = 0
    #: supported / (supported + contradicted); ``None`` when both are 0.
    grounding_score: float | None = None

    @classmethod
    def from_checks(cls, checks: Iterable[ClaimCheck]) -> Verification:
        """Count the verdicts and compute the grounding score."""
        items = list(checks)
        counts = {v: sum(c.verdict == v for c in items) for v in _VERDICTS}
        decided = counts["supported"] + counts["contradicted"]
        return cls(
            checks=items,
            n_supported=counts["supported"],
            n_contradicted=counts["contradicted"],
            n_unverifiable=counts["unverifiable"],
            grounding_score=counts["supported"] / decided if decided else None,
        )

    @property
    def contradicted(self) -> list[ClaimCheck]:
        """The contradicted checks, in text order."""
        return [c for c in self.checks if c.verdict == "contradicted"]


_VERDICTS: tuple[Verdict, ...] = ("supported", "contradicted", "unverifiable")
