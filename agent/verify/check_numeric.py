"""Numeric claims against the measurements, within the feature's tolerance.

Where a claim is checked:

* no lead (or a feature measured only for the record, like the axes): the global value;
* named leads: per lead, the median-beat value and the median of GEM's per-beat sequence
  (and the global value for rate and RR, the same in every lead); the claim holds in a lead
  when any of them is within tolerance (two methods measuring one quantity);
* a named beat ("the third beat"): that beat's value in GEM's per-beat sequence.

How a value is compared (``tol`` = the feature's tolerance, :mod:`agent.verify.tolerances`):

* a point ("QRS 132 ms"): ``|measured - claimed| <= tol``;
* a *spread* range ("QRS durations range from 92 to 132 ms", "92, 104, 132 ms"): both ends
  within tolerance of the measured per-beat minimum and maximum (pooled over the named
  leads). Overlap alone would accept "50 to 500 ms"; matching both ends is what the sentence
  says. Without per-beat values (or RR extremes) the range only has to contain the value;
* any other range ("PR 120-200 ms"): the measured value within ``[low - tol, high + tol]``;
* a bound ("QRS > 120 ms"): ``measured >= low - tol`` (or ``<= high + tol``). A negated bound
  ("no ST elevation > 1 mm") is checked as its complement; a negated point or range is
  unverifiable (it excludes one value, which says little).

Amplitudes and ST shifts are compared by magnitude unless written with a sign; axes by the
angle between them.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from agent.verify.features import FEATURES, FeatureDef
from agent.verify.model import Claim, ClaimCheck
from agent.verify.tolerances import TOLERANCES, Tolerance
from agent.verify.verdicts import (
    LeadOutcome,
    apply_scope,
    capitalised,
    combine,
    fmt,
    lead_text,
    scope_words,
)
from tools.measure.model import LeadBeatFeatures, Measurements


@dataclass(frozen=True)
class _Bounds:
    low: float | None
    high: float | None
    spread: bool

    @property
    def point(self) -> bool:
        return self.low is not None and self.low == self.high


@dataclass(frozen=True)
class _Context:
    claim: Claim
    feature: FeatureDef
    tolerance: Tolerance
    bounds: _Bounds
    measurements: Measurements
    usable: frozenset[str]

    def signed_value(self, value: float) -> float:
        return abs(value) if self.feature.magnitude and not self.claim.signed else value

    def series(self, lead: str) -> list[float]:
        if self.feature.beat_field is None or self.measurements.beats is None:
            return []
        entry = _beat_entry(self.measurements.beats.features, lead)
        if entry is None:
            return []
        values = getattr(entry, self.feature.beat_field)
        return [self.signed_value(v) for v in values if v is not None]


def _beat_entry(entries: Sequence[LeadBeatFeatures], lead: str) -> LeadBeatFeatures | None:
    return next((e for e in entries if e.lead == lead), None)


def _bounds(claim: Claim) -> _Bounds | None:
    low, high = claim.value_low, claim.value_high
    if low is None and high is None:
        return None
    if claim.negated:
        if low is not None and high is not None:
            return None
        low, high = high, low  # "not > x" is "<= x"
    return _Bounds(low, high, claim.spread and low is not None and high is not None and low < high)


def _unverifiable(claim: Claim, rule: str, detail: str, tol: str | None = None) -> ClaimCheck:
    return ClaimCheck(claim=claim, verdict="unverifiable", rule=rule, detail=detail, tolerance=tol)


def check_numeric(claim: Claim, measurements: Measurements, usable: frozenset[str]) -> ClaimCheck:
    """Check one numeric claim (see the module rules).

    Parameters
    ----------
    claim
        A ``numeric`` claim.
    measurements
        The record's measurement set.
    usable
        Canonical names of the usable leads.
    """
    feature = FEATURES.get(claim.feature or "")
    tolerance = TOLERANCES.get(claim.feature or "")
    if feature is None or tolerance is None:
        name = feature.label if feature else str(claim.feature)
        return _unverifiable(claim, "not measured", f"The {name} is not in the measurement set.")
    bounds = _bounds(claim)
    if bounds is None:
        return _unverifiable(
            claim, "negated value", f"A negated {feature.label} value or range is not checked."
        )
    ctx = _Context(claim, feature, tolerance, bounds, measurements, usable)
    if claim.beat is not None:
        return _check_beat(ctx)
    if claim.leads and (feature.lead_fields or feature.beat_field):
        return _check_leads(ctx)
    return _check_global(ctx)


# -- per-value comparison --------------------------------------------------------------------


def _distance(ctx: _Context, measured: float, claimed: float) -> float:
    if ctx.feature.dimension == "angle":
        return abs((measured - claimed + 180.0) % 360.0 - 180.0)
    return abs(measured - claimed)


def _holds(ctx: _Context, refs: Sequence[float]) -> bool | None:
    """Whether any reference value agrees with the claim (``None``: no reference)."""
    if not refs:
        return None
    b = ctx.bounds
    for r in refs:
        slack = ctx.tolerance.allowed(r)
        if b.point and b.low is not None:
            ok = _distance(ctx, r, b.low) <= slack
        else:
            ok = (b.low is None or r >= b.low - slack) and (b.high is None or r <= b.high + slack)
        if ok:
            return True
    return False


def _spread_holds(ctx: _Context, low: float, high: float) -> bool:
    b = ctx.bounds
    assert b.low is not None and b.high is not None
    tol = ctx.tolerance
    return abs(low - b.low) <= tol.allowed(low) and abs(high - b.high) <= tol.allowed(high)


# -- where the value comes from --------------------------------------------------------------


def _global_value(ctx: _Context) -> float | None:
    field = ctx.feature.global_field
    value = getattr(ctx.measurements.global_, field) if field else None
    return None if value is None else ctx.signed_value(float(value))


def _global_range(ctx: _Context) -> tuple[float, float] | None:
    """Record-level per-beat extremes: RR minimum/maximum (and the rates they give)."""
    g = ctx.measurements.global_
    if g.rr_min_ms is None or g.rr_max_ms is None or g.rr_min_ms <= 0:
        return None
    if ctx.feature.name == "rr_ms":
        return g.rr_min_ms, g.rr_max_ms
    if ctx.feature.name == "heart_rate_bpm":
        return 60_000.0 / g.rr_max_ms, 60_000.0 / g.rr_min_ms
    return None


def _lead_refs(ctx: _Context, lead: str) -> list[float]:
    lm = ctx.measurements.lead(lead)
    refs = []
    for field, sign in ctx.feature.lead_fields:
        value = getattr(lm, field) if lm is not None else None
        if value is not None:
            refs.append(ctx.signed_value(sign * float(value)))
    series = ctx.series(lead)
    if series:
        refs.append(statistics.median(series))
    if ctx.feature.lead_independent and (value := _global_value(ctx)) is not None:
        refs.append(value)
    return refs


def _claimed(ctx: _Context) -> str:
    b, unit = ctx.bounds, ctx.feature.unit
    if b.point and b.low is not None:
        return fmt(b.low, unit)
    if b.low is not None and b.high is not None:
        return f"{fmt(b.low, unit).split()[0]}–{fmt(b.high, unit)}"
    if b.low is not None:
        return f"≥ {fmt(b.low, unit)}"
    assert b.high is not None
    return f"≤ {fmt(b.high, unit)}"


def _finish(
    ctx: _Context,
    outcomes: Sequence[LeadOutcome],
    rule: str,
    measured: float | list[float] | None,
    measured_text: str,
    where: str,
) -> ClaimCheck:
    claim = ctx.claim
    verdict = apply_scope(combine(outcomes), negated=False, hedged=claim.hedged)
    tolerance = ctx.tolerance.describe(ctx.feature.unit)
    if combine(outcomes) == "unverifiable":
        reasons = "; ".join(o.measured for o in outcomes if o.state is None) or "not measured"
        detail = f"The {ctx.feature.label} in {where} could not be checked ({reasons})."
    else:
        detail = (
            f"{capitalised(ctx.feature.label)} in {where}: claimed {_claimed(ctx)}, "
            f"measured {measured_text} (tolerance {tolerance})."
        )
    return ClaimCheck(
        claim=claim,
        verdict=verdict,
        measured=measured,
        tolerance=tolerance,
        rule=rule + scope_words(claim.negated, claim.hedged),
        detail=detail,
    )


def _check_global(ctx: _Context) -> ClaimCheck:
    label, unit = ctx.feature.label, ctx.feature.unit
    if ctx.feature.global_field is None:
        return _unverifiable(
            ctx.claim,
            f"{label} per lead",
            f"The {label} is measured per lead, and the claim names no lead.",
        )
    spread_range = _global_range(ctx) if ctx.bounds.spread else None
    if spread_range is not None:
        return _check_global_spread(ctx, *spread_range)
    value = _global_value(ctx)
    holds = _holds(ctx, [value] if value is not None else [])
    text = fmt(value, unit) if value is not None else "not measured"
    rule = f"{_kind(ctx)} vs the record's {label}"
    return _finish(ctx, [LeadOutcome(None, holds, text, value)], rule, value, text, "the record")


def _check_global_spread(ctx: _Context, low: float, high: float) -> ClaimCheck:
    text = f"{fmt(low, ctx.feature.unit).split()[0]}–{fmt(high, ctx.feature.unit)}"
    outcome = LeadOutcome(None, _spread_holds(ctx, low, high), text)
    rule = f"range ends vs per-beat extremes of the {ctx.feature.label}"
    return _finish(ctx, [outcome], rule, [low, high], text, "the record")


def _kind(ctx: _Context) -> str:
    b = ctx.bounds
    if b.point:
        return "value"
    return "range containment" if b.low is not None and b.high is not None else "bound"


def _check_leads(ctx: _Context) -> ClaimCheck:
    leads, label, unit = ctx.claim.leads, ctx.feature.label, ctx.feature.unit
    where = lead_text(leads)
    if ctx.bounds.spread and ctx.feature.beat_field is not None:
        return _check_spread(ctx)
    outcomes = []
    for lead in leads:
        if lead not in ctx.usable:
            outcomes.append(LeadOutcome(lead, None, f"{lead} unusable or absent"))
            continue
        refs = _lead_refs(ctx, lead)
        text = f"{lead} {fmt(refs[0], unit)}" if refs else f"{lead} not measured"
        outcomes.append(LeadOutcome(lead, _holds(ctx, refs), text, refs[0] if refs else None))
    values = [o.value for o in outcomes if o.value is not None]
    measured: float | list[float] | None = (
        (values[0] if len(leads) == 1 else values) if values else None
    )
    text = ", ".join(o.measured for o in outcomes)
    rule = f"{_kind(ctx)} vs median-beat and per-beat {label}, {where}"
    return _finish(ctx, outcomes, rule, measured, text, where)


def _check_spread(ctx: _Context) -> ClaimCheck:
    leads, label, unit = ctx.claim.leads, ctx.feature.label, ctx.feature.unit
    where = lead_text(leads)
    pooled: list[float] = []
    outcomes = []
    for lead in leads:
        series = ctx.series(lead) if lead in ctx.usable else []
        note = f"{lead} unusable or absent" if lead not in ctx.usable else f"{lead} no beats"
        outcomes.append(LeadOutcome(lead, True if series else None, note))
        pooled += series
    rule = f"range ends vs per-beat minimum and maximum of the {label}, {where}"
    if not pooled or combine(outcomes) == "unverifiable":
        return _finish(ctx, outcomes, rule, None, "not measured", where)
    low, high = min(pooled), max(pooled)
    state = _spread_holds(ctx, low, high)
    text = f"{fmt(low, unit).split()[0]}–{fmt(high, unit)} over {len(pooled)} beats"
    return _finish(ctx, [LeadOutcome(None, state, text)], rule, [low, high], text, where)


def _check_beat(ctx: _Context) -> ClaimCheck:
    claim, feature = ctx.claim, ctx.feature
    beat = claim.beat
    assert beat is not None
    entries = ctx.measurements.beats.features if ctx.measurements.beats else []
    if feature.beat_field is None or not entries:
        return _unverifiable(
            claim, f"{feature.label}, beat {beat}",
            f"No per-beat {feature.label} is measured for beat {beat}.",
        )  # fmt: skip
    leads = list(claim.leads)
    if not leads and feature.lead_independent:
        leads = [next((e.lead for e in entries if e.lead in ctx.usable), entries[0].lead)]
    if not leads:
        return _unverifiable(
            claim, f"{feature.label}, beat {beat}",
            f"The {feature.label} of beat {beat} is measured per lead, and no lead is named.",
        )  # fmt: skip
    outcomes = []
    for lead in leads:
        entry = _beat_entry(entries, lead) if lead in ctx.usable else None
        values = getattr(entry, str(feature.beat_field)) if entry is not None else []
        raw = values[beat - 1] if beat <= len(values) else None
        if raw is None:
            why = "unusable or absent" if entry is None else f"no beat {beat} value"
            outcomes.append(LeadOutcome(lead, None, f"{lead} {why}"))
            continue
        value = ctx.signed_value(float(raw))
        outcomes.append(
            LeadOutcome(lead, _holds(ctx, [value]), f"{lead} {fmt(value, feature.unit)}", value)
        )
    values_found = [o.value for o in outcomes if o.value is not None]
    where = f"beat {beat}, {lead_text(claim.leads)}" if claim.leads else f"beat {beat}"
    return _finish(
        ctx, outcomes, f"{_kind(ctx)} vs per-beat {feature.label}, {where}",
        values_found[0] if len(values_found) == 1 else values_found or None,
        ", ".join(o.measured for o in outcomes), where,
    )  # fmt: skip
