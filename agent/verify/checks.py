"""Verdicts: every claim checked against the measurement set.

Numeric claims: :mod:`agent.verify.check_numeric`; lead findings:
:mod:`agent.verify.check_findings`; diagnoses and rhythms: the published criteria
(:func:`tools.statements.explain`), read as

=====================  ===============  ==============  ==============
criterion              asserted         negated         hedged
=====================  ===============  ==============  ==============
met                    supported        contradicted    supported
not met, assessable    contradicted     supported       unverifiable
not assessable         unverifiable     unverifiable    unverifiable
no rule (``NORM``)     unverifiable     unverifiable    unverifiable
=====================  ===============  ==============  ==============

A hedged negation ("LVH is unlikely") is supported when the criterion is not met and
unverifiable when it is. A premature beat at a named beat ("the fourth beat is a PVC") is
checked against that beat's classified type.
"""

from __future__ import annotations

from collections.abc import Sequence

from agent.verify.check_findings import check_finding
from agent.verify.check_numeric import check_numeric
from agent.verify.claims import extract_claims
from agent.verify.model import Claim, ClaimCheck, Verdict, Verification
from agent.verify.verdicts import apply_scope, capitalised, scope_words
from tools.measure.model import BeatType, Evidence, Measurements
from tools.record import Sex
from tools.statements import STATEMENTS, RuleResult, explain
from tools.statements.criteria import RuleInput

#: Statement -> the beat type a claim about one beat is checked against.
BEAT_TYPE_CODES: dict[str, BeatType] = {
    "PVC": "ventricular_premature",
    "PAC": "supraventricular_premature",
}
#: Evidence items quoted per diagnosis check (the rest are in the criteria's own report).
MAX_EVIDENCE_ITEMS = 6


def verify_text(
    text: str,
    measurements: Measurements,
    *,
    sex: Sex | None = None,
    age_years: float | None = None,
) -> Verification:
    """Extract every claim of a free-text interpretation and check it.

    Parameters
    ----------
    text
        GEM's paragraph (or any backend's free text).
    measurements
        The record's measurement set.
    sex, age_years
        ``"M"``/``"F"`` and age, for the sex- and age-specific criteria limits.

    Returns
    -------
    Verification
        One :class:`ClaimCheck` per claim, the counts and the grounding score.

    Raises
    ------
    StatementError
        ``sex`` or ``age_years`` is invalid.
    DuplicateLeadError
        The measurement set has two entries for one lead.
    """
    return verify_claims(extract_claims(text), measurements, sex=sex, age_years=age_years)


def verify_claims(
    claims: Sequence[Claim],
    measurements: Measurements,
    *,
    sex: Sex | None = None,
    age_years: float | None = None,
) -> Verification:
    """Check claims already extracted (or built from a structured backend's statement codes
    with :func:`~agent.verify.claims.claims_from_codes`). Same parameters as
    :func:`verify_text`."""
    inp = RuleInput.build(measurements, sex, age_years)
    usable = frozenset(inp.usable)
    checks = [_check(c, measurements, usable, inp.sex, inp.age_years) for c in claims]
    return Verification.from_checks(checks)


def _check(
    claim: Claim,
    measurements: Measurements,
    usable: frozenset[str],
    sex: Sex | None,
    age_years: float | None,
) -> ClaimCheck:
    if claim.kind == "numeric":
        return check_numeric(claim, measurements, usable)
    if claim.kind == "lead_finding":
        return check_finding(claim, measurements, usable)
    return check_diagnosis(claim, measurements, sex=sex, age_years=age_years)


def check_diagnosis(
    claim: Claim,
    measurements: Measurements,
    *,
    sex: Sex | None = None,
    age_years: float | None = None,
) -> ClaimCheck:
    """Check a diagnosis or rhythm mention with its published criterion (see the table)."""
    code = claim.statement_code or ""
    if code not in STATEMENTS:
        return ClaimCheck(
            claim=claim, verdict="unverifiable", rule="unknown statement",
            detail=f"{code!r} is not a statement of the vocabulary.",
        )  # fmt: skip
    if claim.beat is not None and code in BEAT_TYPE_CODES:
        return _check_beat_type(claim, measurements, code)
    result = explain(code, measurements, sex=sex, age_years=age_years)
    positive: Verdict = (
        "supported" if result.met else "contradicted" if result.assessable else "unverifiable"
    )
    verdict = apply_scope(positive, negated=claim.negated, hedged=claim.hedged)
    scope = scope_words(claim.negated, claim.hedged)
    if result.rule is None:
        return ClaimCheck(
            claim=claim, verdict=verdict, rule=f"no criterion for {code}{scope}",
            detail=f"{capitalised(result.name)}: {result.note or 'no criterion'}.",
        )  # fmt: skip
    state = "met" if result.met else "not met" if result.assessable else "not assessable"
    detail = f"{capitalised(result.name)}: criterion {state} ({result.rule})"
    if result.note:
        detail += f"; {result.note}"
    return ClaimCheck(
        claim=claim,
        verdict=verdict,
        measured=_evidence_text(result) or None,
        tolerance=None,
        rule=f"criteria {code}: {result.rule}{scope}",
        detail=detail + ".",
    )


def _evidence_text(result: RuleResult) -> str:
    """The evidence that decided the criterion: the items that agree with its outcome first."""
    items = sorted(result.evidence, key=lambda e: e.met != result.met)
    return "; ".join(_item(e) for e in items[:MAX_EVIDENCE_ITEMS] if e.value is not None)


def _item(e: Evidence) -> str:
    value = f"{e.value:g}" if isinstance(e.value, float) else str(e.value)
    where = f" [{e.lead}]" if e.lead else ""
    unit = f" {e.unit}" if e.unit else ""
    return f"{e.measure}{where} {value}{unit} ({e.threshold}: {'yes' if e.met else 'no'})"


def _check_beat_type(claim: Claim, measurements: Measurements, code: str) -> ClaimCheck:
    beat = claim.beat
    assert beat is not None
    types = measurements.beats.beat_types if measurements.beats is not None else []
    wanted = BEAT_TYPE_CODES[code]
    rule = f"beat {beat} classified as {wanted.replace('_', ' ')}"
    scope = scope_words(claim.negated, claim.hedged)
    if beat > len(types):
        return ClaimCheck(
            claim=claim, verdict="unverifiable", rule=rule + scope,
            detail=f"Beat {beat} was not detected ({len(types)} beats).",
        )  # fmt: skip
    actual = types[beat - 1]
    positive: Verdict = "supported" if actual == wanted else "contradicted"
    return ClaimCheck(
        claim=claim,
        verdict=apply_scope(positive, negated=claim.negated, hedged=claim.hedged),
        measured=actual,
        rule=rule + scope,
        detail=f"Beat {beat} is classified as {actual.replace('_', ' ')}.",
    )
