"""Ventricular hypertrophy and QRS voltage: LVH (Sokolow-Lyon, Cornell), RVH, low voltage.

Amplitudes are read as magnitudes: Q and S depths are ``abs()`` of the signed values, so the
rules hold whichever sign convention the measurement set uses for negative waves.
"""

from __future__ import annotations

from tools.leads import LIMB_LEADS, PRECORDIAL_LEADS
from tools.measure.model import LeadMeasurements
from tools.statements import thresholds as th
from tools.statements.criteria._base import (
    Check,
    Finding,
    Rule,
    RuleInput,
    State,
    all_of,
    any_of,
    compare,
    number,
    state_of,
)
from tools.statements.criteria._morphology import has_q, has_s, is_qs, parse_qrs
from tools.statements.criteria.axis import axis_between


def depth_mv(value: float | None) -> float | None:
    """Depth of a negative wave (Q or S) in mV, whatever its stored sign."""
    v = number(value)
    return None if v is None else abs(v)


def _r(inp: RuleInput, lead: str) -> float | None:
    lm = inp.lead(lead)
    return None if lm is None else number(lm.r_amplitude_mv)


def _s(inp: RuleInput, lead: str) -> float | None:
    lm = inp.lead(lead)
    return None if lm is None else depth_mv(lm.s_amplitude_mv)


def _sum(*parts: float | None) -> float | None:
    return None if any(p is None for p in parts) else sum(p for p in parts if p is not None)


def _max(*parts: float | None) -> float | None:
    known = [p for p in parts if p is not None]
    return max(known) if known else None


def sokolow_lyon(inp: RuleInput) -> Check:
    """S V1 + max(R V5, R V6) >= 3.5 mV (Sokolow & Lyon 1949)."""
    r_lateral = _max(_r(inp, "V5"), _r(inp, "V6"))
    value = _sum(_s(inp, "V1"), r_lateral)
    note = "S V1 + max(R V5, R V6)"
    return compare("sokolow_lyon_mv", value, ">=", th.SOKOLOW_LYON_MIN_MV, "mV", note=note)


def cornell_voltage(inp: RuleInput) -> Check:
    """R aVL + S V3 > 2.8 mV (men) / > 2.0 mV (women); sex unknown: 2.8 mV (Casale 1987)."""
    value = _sum(_r(inp, "aVL"), _s(inp, "V3"))
    if inp.sex == "F":
        limit, note = th.CORNELL_WOMEN_ABOVE_MV, "women"
    elif inp.sex == "M":
        limit, note = th.CORNELL_MEN_ABOVE_MV, "men"
    else:
        limit, note = th.CORNELL_MEN_ABOVE_MV, "sex unknown: men's limit, the conservative one"
    return compare("cornell_mv", value, ">", limit, "mV", note=f"R aVL + S V3, {note}")


def left_ventricular_hypertrophy(inp: RuleInput) -> Finding:
    """Sokolow-Lyon or Cornell voltage met."""
    sokolow, cornell = sokolow_lyon(inp), cornell_voltage(inp)
    leads: list[str] = []
    if sokolow.met:
        leads += ["V1", *(n for n in ("V5", "V6") if _r(inp, n) is not None)]
    if cornell.met:
        leads += ["aVL", "V3"]
    state = any_of((state_of(sokolow), state_of(cornell)))
    return Finding(state, (sokolow, cornell), tuple(dict.fromkeys(leads)))


def right_ventricular_hypertrophy(inp: RuleInput) -> Finding:
    """(R V1 >= 0.7 mV or R/S V1 > 1) with right axis deviation and QRS < 120 ms (Hancock 2009)."""
    r_v1, s_v1 = _r(inp, "V1"), _s(inp, "V1")
    ratio = None if r_v1 is None or s_v1 is None else (r_v1 / s_v1 if s_v1 > 0 else float("inf"))
    tall_r = compare("r_amplitude_mv", r_v1, ">=", th.RVH_R_V1_MIN_MV, "mV", lead="V1")
    dominant = compare("r_s_ratio", ratio, ">", th.RVH_RS_RATIO_V1_ABOVE, None, lead="V1")
    axis = axis_between(inp, th.NORMAL_AXIS_MAX_DEG, th.RIGHT_AXIS_MAX_DEG, low_open=True)
    qrs = compare("qrs_ms", inp.g.qrs_ms, "<", th.BBB_QRS_MIN_MS, "ms", note="no RBBB")
    voltage = any_of((state_of(tall_r), state_of(dominant)))
    state = all_of((voltage, state_of(axis), state_of(qrs)))
    return Finding(state, (tall_r, dominant, axis, qrs), ("V1",) if state else ())


def qrs_peak_to_peak_mv(lm: LeadMeasurements) -> float | None:
    """Largest positive (R, R') plus deepest negative (Q, S) deflection, in mV.

    A side with no amplitude counts as zero only when the morphology label says the wave is
    absent (``QS`` has no R; ``R`` has no Q or S); otherwise the value is ``None``.
    """
    positive = _max(number(lm.r_amplitude_mv), number(lm.r_prime_amplitude_mv))
    negative = _max(depth_mv(lm.q_amplitude_mv), depth_mv(lm.s_amplitude_mv))
    waves = parse_qrs(lm.qrs_morphology)
    if positive is None and waves is not None and is_qs(waves):
        positive = 0.0
    if negative is None and waves is not None and not has_q(waves) and not has_s(waves):
        negative = 0.0
    return _sum(positive, negative)


def _all_low(inp: RuleInput, leads: tuple[str, ...], limit: float) -> tuple[State, list[Check]]:
    """Every one of ``leads`` usable and below ``limit`` peak-to-peak."""
    evidence = [
        compare("qrs_peak_to_peak_mv", qrs_peak_to_peak_mv(lm), "<", limit, "mV", lead=name)
        for name in leads
        if (lm := inp.lead(name)) is not None
    ]
    state = all_of(state_of(e) for e in evidence)
    if state is True and len(evidence) < len(leads):
        state = None  # "every lead" cannot be shown with a lead missing
    return state, evidence


def low_qrs_voltage(inp: RuleInput) -> Finding:
    """QRS < 0.5 mV peak-to-peak in all limb leads or < 1.0 mV in all precordial leads."""
    limb, ev_limb = _all_low(inp, LIMB_LEADS, th.LOW_VOLTAGE_LIMB_BELOW_MV)
    chest, ev_chest = _all_low(inp, PRECORDIAL_LEADS, th.LOW_VOLTAGE_PRECORDIAL_BELOW_MV)
    leads = (LIMB_LEADS if limb else ()) + (PRECORDIAL_LEADS if chest else ())
    note = inp.missing_note((*LIMB_LEADS, *PRECORDIAL_LEADS))
    return Finding(any_of((limb, chest)), (*ev_limb, *ev_chest), leads, note)


RULES: tuple[Rule, ...] = (
    Rule(
        "LVH",
        "Sokolow-Lyon or Cornell voltage",
        f"{th.SOKOLOW_LYON_1949}; {th.CASALE_1987}; reviewed in {th.HANCOCK_2009}",
        left_ventricular_hypertrophy,
    ),
    Rule(
        "RVH",
        "R V1 >= 0.7 mV or R/S V1 > 1 with RAD",
        th.HANCOCK_2009,
        right_ventricular_hypertrophy,
    ),
    Rule("LVOLT", "QRS < 0.5 mV limb or < 1.0 mV precordial", th.CHOU_2008, low_qrs_voltage),
)
