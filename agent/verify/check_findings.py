"""Lead findings (ST elevation/depression, T inversion, flat/upright T, Q waves, ST form)
checked lead by lead against the median-beat measurements.

Each lead is *present* (the finding is there), *absent* (clearly not), or unknown (unusable,
not measured, or borderline: within one tolerance below the limit). Limits are in
:mod:`agent.verify.tolerances`: ST elevation J or J+60 >= 0.1 mV, ST depression <= -0.05 mV
(Thygesen 2018), T inversion from the measured T polarity, pathological Q >= 30 ms and
>= 0.1 mV deep (> 20 ms in V2-V3) or QS (Thygesen 2018), ST form from the per-beat forms.
The leads are combined by :func:`agent.verify.verdicts.combine`.
"""

from __future__ import annotations

from collections.abc import Callable

from agent.verify import tolerances as tol
from agent.verify.model import Claim, ClaimCheck
from agent.verify.verdicts import (
    LeadOutcome,
    apply_scope,
    capitalised,
    combine,
    lead_text,
    scope_words,
)
from tools.measure.model import LeadMeasurements, Measurements

#: ST form finding -> GEM's per-beat ST-form label.
_ST_FORMS = {
    "st_form_upslope": "upslope",
    "st_form_horizontal": "horizontal",
    "st_form_declination": "declination",
}
_LABELS = {
    "st_elevation": "ST elevation",
    "st_depression": "ST depression",
    "t_inversion": "T-wave inversion",
    "t_flat": "flat T waves",
    "t_upright": "upright T waves",
    "q_wave": "pathological Q waves",
    "st_form_upslope": "upsloping ST segments",
    "st_form_horizontal": "horizontal ST segments",
    "st_form_declination": "downsloping ST segments",
}
_RULES = {
    "st_elevation": f"J or J+60 >= {tol.ST_ELEVATION_MV:g} mV "
    f"(clearly absent < {tol.ST_ELEVATION_MV - tol.ST_ELEVATION_MARGIN_MV:g} mV)",
    "st_depression": f"J or J+60 <= -{tol.ST_DEPRESSION_MV:g} mV "
    f"(clearly absent > -{tol.ST_DEPRESSION_MV - tol.ST_DEPRESSION_MARGIN_MV:g} mV)",
    "t_inversion": "negative T polarity (flat or biphasic: borderline)",
    "t_flat": f"flat T polarity (clearly not flat: |T| >= {tol.T_NOT_FLAT_MV:g} mV)",
    "t_upright": "positive T polarity (flat or biphasic: borderline)",
    "q_wave": f"Q >= {tol.Q_PATHOLOGICAL_MS:g} ms and >= {tol.Q_PATHOLOGICAL_DEPTH_MV:g} mV "
    f"(V2-V3: > {tol.Q_PATHOLOGICAL_V2V3_MS:g} ms) or QS",
}

Reading = tuple[bool | None, str]


def _st_levels(lm: LeadMeasurements) -> list[float]:
    return [v for v in (lm.j_level_mv, lm.st_j60_mv) if v is not None]


def _st_elevation(lead: str, lm: LeadMeasurements, _: Measurements) -> Reading:
    levels = _st_levels(lm)
    if not levels:
        return None, f"{lead} ST not measured"
    top = max(levels)
    text = f"{lead} ST {top:+.2f} mV"
    if top >= tol.ST_ELEVATION_MV:
        return True, text
    return (False if top < tol.ST_ELEVATION_MV - tol.ST_ELEVATION_MARGIN_MV else None), text


def _st_depression(lead: str, lm: LeadMeasurements, _: Measurements) -> Reading:
    levels = _st_levels(lm)
    if not levels:
        return None, f"{lead} ST not measured"
    depth = -min(levels)
    text = f"{lead} ST {-depth:+.2f} mV"
    if depth >= tol.ST_DEPRESSION_MV:
        return True, text
    return (False if depth < tol.ST_DEPRESSION_MV - tol.ST_DEPRESSION_MARGIN_MV else None), text


def _polarity(wanted: str) -> Callable[[str, LeadMeasurements, Measurements], Reading]:
    opposite = {"negative": "positive", "positive": "negative"}[wanted]

    def reading(lead: str, lm: LeadMeasurements, _: Measurements) -> Reading:
        polarity = lm.t_polarity
        text = f"{lead} T {polarity or 'not measured'}"
        if lm.t_amplitude_mv is not None:
            text += f" ({lm.t_amplitude_mv:+.2f} mV)"
        if polarity == wanted:
            return True, text
        return (False if polarity == opposite else None), text

    return reading


def _t_flat(lead: str, lm: LeadMeasurements, _: Measurements) -> Reading:
    amplitude = lm.t_amplitude_mv
    text = f"{lead} T {lm.t_polarity or 'not measured'}"
    if amplitude is not None:
        text += f" ({amplitude:+.2f} mV)"
    if lm.t_polarity == "flat":
        return True, text
    if amplitude is not None and abs(amplitude) >= tol.T_NOT_FLAT_MV:
        return False, text
    return None, text


def _q_wave(lead: str, lm: LeadMeasurements, _: Measurements) -> Reading:
    morphology = lm.qrs_morphology
    duration, amplitude = lm.q_duration_ms, lm.q_amplitude_mv
    text = f"{lead} QRS {morphology or '?'}"
    if duration is not None:
        text += f", Q {duration:.0f} ms"
    if amplitude is not None:
        text += f" {abs(amplitude):.2f} mV deep"
    if morphology == "QS":
        return True, text
    if morphology is not None and not morphology.lower().startswith("q"):
        return False, text
    if duration is None:
        return None, text
    v2v3 = lead in ("V2", "V3")
    limit = tol.Q_PATHOLOGICAL_V2V3_MS if v2v3 else tol.Q_PATHOLOGICAL_MS
    long_enough = duration > limit if v2v3 else duration >= limit
    deep = v2v3 or (amplitude is not None and abs(amplitude) >= tol.Q_PATHOLOGICAL_DEPTH_MV)
    if long_enough and deep:
        return True, text
    if duration < limit - tol.Q_MARGIN_MS:
        return False, text
    return None, text


def _st_form(form: str) -> Callable[[str, LeadMeasurements, Measurements], Reading]:
    def reading(lead: str, lm: LeadMeasurements, m: Measurements) -> Reading:
        entries = m.beats.features if m.beats is not None else []
        entry = next((e for e in entries if e.lead == lead), None)
        forms = [f for f in entry.st_form if f is not None] if entry is not None else []
        if forms:
            share = forms.count(form) / len(forms)  # type: ignore[arg-type]
            return share >= tol.ST_FORM_MAJORITY, f"{lead} {form} in {share:.0%} of beats"
        if lm.st_form is None:
            return None, f"{lead} ST form not measured"
        return lm.st_form == form, f"{lead} ST {lm.st_form}"

    return reading


_READERS: dict[str, Callable[[str, LeadMeasurements, Measurements], Reading]] = {
    "st_elevation": _st_elevation,
    "st_depression": _st_depression,
    "t_inversion": _polarity("negative"),
    "t_flat": _t_flat,
    "t_upright": _polarity("positive"),
    "q_wave": _q_wave,
    **{name: _st_form(form) for name, form in _ST_FORMS.items()},
}


def check_finding(claim: Claim, measurements: Measurements, usable: frozenset[str]) -> ClaimCheck:
    """Check a lead finding in its named leads.

    Parameters
    ----------
    claim
        A ``lead_finding`` claim (``feature`` one of the findings above, ``leads`` non-empty).
    measurements
        The record's measurement set.
    usable
        Canonical names of the usable leads.
    """
    feature = claim.feature or ""
    reader = _READERS.get(feature)
    label = _LABELS.get(feature, feature)
    rule_text = _RULES.get(feature, f"{_ST_FORMS.get(feature, feature)} ST form in most beats")
    where = lead_text(claim.leads)
    if reader is None:
        return ClaimCheck(
            claim=claim, verdict="unverifiable", rule="unknown finding",
            detail=f"The finding {feature!r} has no lead check.",
        )  # fmt: skip
    outcomes = []
    for lead in claim.leads:
        lm = measurements.lead(lead)
        if lead not in usable or lm is None:
            outcomes.append(LeadOutcome(lead, None, f"{lead} unusable or absent"))
            continue
        state, text = reader(lead, lm, measurements)
        outcomes.append(LeadOutcome(lead, state, text))
    positive = combine(outcomes)
    verdict = apply_scope(positive, negated=claim.negated, hedged=claim.hedged)
    measured = "; ".join(o.measured for o in outcomes)
    present = [o.lead for o in outcomes if o.state is True]
    absent = [o.lead for o in outcomes if o.state is False]
    if positive == "unverifiable":
        detail = f"Too few of {where} could be assessed for {label} ({measured})."
    else:
        detail = (
            f"{capitalised(label)} {'not ' if claim.negated else ''}claimed in {where}: present "
            f"in {', '.join(map(str, present)) or 'none'}, absent in "
            f"{', '.join(map(str, absent)) or 'none'} ({measured})."
        )
    return ClaimCheck(
        claim=claim,
        verdict=verdict,
        measured=measured,
        tolerance=None,
        rule=f"{label} by lead, majority of {where}: {rule_text}"
        + scope_words(claim.negated, claim.hedged),
        detail=detail,
    )
