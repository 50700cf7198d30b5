"""AV and intraventricular conduction: 1AVB, LBBB, RBBB, IRBBB, IVCD, LAFB, LPFB, WPW.

Criteria of Surawicz et al. 2009 (AHA/ACCF/HRS part III) on the global QRS duration and the
per-lead QRS morphology labels. What the measurement set does not hold is approximated and
said so in the evidence: RBBB's "S wave longer than R or > 40 ms in I and V6" becomes "S wave
present in I and V6"; LBBB's notched/slurred R becomes "dominant R without q"; WPW's delta
wave is not measured (short PR + wide QRS only).
"""

from __future__ import annotations

from tools.statements import thresholds as th
from tools.statements.criteria._base import (
    Check,
    Finding,
    Op,
    Rule,
    RuleInput,
    State,
    all_of,
    compare,
    number,
    state_of,
)
from tools.statements.criteria._morphology import (
    has_r_prime,
    has_s,
    is_qr,
    is_qs_or_rs,
    is_rs,
    lateral_lbbb,
    leads_all,
    leads_any,
    r_dominant,
)
from tools.statements.criteria.axis import axis_between
from tools.statements.criteria.rhythm import no_flutter_waves


def _not(state: State) -> State:
    return None if state is None else not state


def _qrs(inp: RuleInput, op: Op, limit: float) -> Check:
    return compare("qrs_ms", inp.g.qrs_ms, op, limit, "ms")


def first_degree_av_block(inp: RuleInput) -> Finding:
    """PR > 200 ms, with P waves rather than flutter waves (a flutter wave has no PR)."""
    evidence = compare("pr_ms", inp.g.pr_ms, ">", th.PR_LONG_ABOVE_MS, "ms")
    no_flutter, flutter_evidence = no_flutter_waves(inp)
    return Finding(all_of((state_of(evidence), no_flutter)), (evidence, *flutter_evidence))


def lbbb_morphology(inp: RuleInput) -> tuple[State, list[Check]]:
    """QS/rS in V1-V2; dominant R without q in I, V5, V6 (>= 2 readable); dominant R in aVL."""
    return inp.memo("lbbb_morphology", lambda: _lbbb_morphology(inp))


def _lbbb_morphology(inp: RuleInput) -> tuple[State, list[Check]]:
    right, ev_right = leads_all(inp, ("V1", "V2"), is_qs_or_rs, "QS or rS (Strauss 2011)")
    lateral, ev_lat = leads_all(
        inp, ("I", "V5", "V6"), lateral_lbbb, "dominant R, no q (notch/slur not measured)", 2
    )
    avl, ev_avl = leads_all(inp, ("aVL",), r_dominant, "dominant R (narrow q allowed)", 0)
    return all_of((right, lateral, avl)), ev_right + ev_lat + ev_avl


def rbbb_morphology(inp: RuleInput) -> tuple[State, list[Check]]:
    """rsR' (an R') in V1 or V2 and an S wave in I and V6."""
    return inp.memo("rbbb_morphology", lambda: _rbbb_morphology(inp))


def _rbbb_morphology(inp: RuleInput) -> tuple[State, list[Check]]:
    prime, ev_prime = leads_any(inp, ("V1", "V2"), has_r_prime, "rsR' (R' present) in V1 or V2")
    wide_s, ev_s = leads_all(inp, ("I", "V6"), has_s, "S wave present (S duration not measured)")
    return all_of((prime, wide_s)), ev_prime + ev_s


def _with_morphology(qrs: list[Check], morphology: tuple[State, list[Check]]) -> Finding:
    state, evidence = morphology
    all_evidence = (*qrs, *evidence)
    combined = all_of((*(state_of(e) for e in qrs), state))
    leads = tuple(dict.fromkeys(e.lead for e in evidence if e.lead is not None and e.met))
    return Finding(combined, all_evidence, leads)


def left_bundle_branch_block(inp: RuleInput) -> Finding:
    """QRS >= 120 ms with LBBB morphology."""
    return _with_morphology([_qrs(inp, ">=", th.BBB_QRS_MIN_MS)], lbbb_morphology(inp))


def right_bundle_branch_block(inp: RuleInput) -> Finding:
    """QRS >= 120 ms with RBBB morphology."""
    return _with_morphology([_qrs(inp, ">=", th.BBB_QRS_MIN_MS)], rbbb_morphology(inp))


def incomplete_right_bundle_branch_block(inp: RuleInput) -> Finding:
    """110 <= QRS < 120 ms with RBBB morphology."""
    qrs = [_qrs(inp, ">=", th.IRBBB_QRS_MIN_MS), _qrs(inp, "<", th.BBB_QRS_MIN_MS)]
    return _with_morphology(qrs, rbbb_morphology(inp))


def nonspecific_ivcd(inp: RuleInput) -> Finding:
    """QRS > 110 ms without LBBB or RBBB morphology and without a short PR (pre-excitation)."""
    qrs = _qrs(inp, ">", th.IVCD_QRS_ABOVE_MS)
    lbbb, ev_l = lbbb_morphology(inp)
    rbbb, ev_r = rbbb_morphology(inp)
    parts: list[State] = [state_of(qrs), _not(lbbb), _not(rbbb)]
    evidence = [qrs, *ev_l, *ev_r]
    if number(inp.g.pr_ms) is not None:
        pr = compare("pr_ms", inp.g.pr_ms, ">=", th.WPW_PR_BELOW_MS, "ms", note="no pre-excitation")
        parts.append(state_of(pr))
        evidence.append(pr)
    note = (
        "BBB morphology not excluded: V1/V2 or lateral labels unreadable"
        if (lbbb is None or rbbb is None)
        else None
    )
    return Finding(all_of(parts), tuple(evidence), note=note)


def left_anterior_fascicular_block(inp: RuleInput) -> Finding:
    """Axis -45..-90, qR in aVL, rS in II, III, aVF (>= 2 readable), QRS < 120 ms."""
    axis = axis_between(inp, th.LAFB_AXIS_MIN_DEG, th.LAFB_AXIS_MAX_DEG)
    qrs = _qrs(inp, "<", th.FASCICULAR_QRS_BELOW_MS)
    avl, ev_avl = leads_all(inp, ("aVL",), is_qr, "qR")
    inferior, ev_inf = leads_all(inp, ("II", "III", "aVF"), is_rs, "rS", 2)
    state = all_of((state_of(axis), state_of(qrs), avl, inferior))
    leads = ("aVL", "II", "III", "aVF")
    return Finding(state, (axis, qrs, *ev_avl, *ev_inf), (), inp.missing_note(leads))


def left_posterior_fascicular_block(inp: RuleInput) -> Finding:
    """Axis +90..+180, rS in I and aVL, qR in III and aVF, QRS < 120 ms."""
    axis = axis_between(inp, th.LPFB_AXIS_MIN_DEG, th.LPFB_AXIS_MAX_DEG)
    qrs = _qrs(inp, "<", th.FASCICULAR_QRS_BELOW_MS)
    high, ev_high = leads_all(inp, ("I", "aVL"), is_rs, "rS")
    inferior, ev_inf = leads_all(inp, ("III", "aVF"), is_qr, "qR")
    state = all_of((state_of(axis), state_of(qrs), high, inferior))
    leads = ("I", "aVL", "III", "aVF")
    return Finding(state, (axis, qrs, *ev_high, *ev_inf), (), inp.missing_note(leads))


def wolff_parkinson_white(inp: RuleInput) -> Finding:
    """PR < 120 ms with QRS > 120 ms (delta wave not measured), with P waves, not flutter."""
    evidence = (
        compare("pr_ms", inp.g.pr_ms, "<", th.WPW_PR_BELOW_MS, "ms"),
        _qrs(inp, ">", th.WPW_QRS_ABOVE_MS),
    )
    no_flutter, flutter_evidence = no_flutter_waves(inp)
    state = all_of((*(state_of(e) for e in evidence), no_flutter))
    return Finding(state, (*evidence, *flutter_evidence))


RULES: tuple[Rule, ...] = (
    Rule("1AVB", "PR > 200 ms", th.MASON_2007, first_degree_av_block),
    Rule("CLBBB", "QRS >= 120 ms with LBBB morphology", th.SURAWICZ_2009, left_bundle_branch_block),
    Rule("CRBBB", "QRS >= 120 ms with rsR' in V1/V2", th.SURAWICZ_2009, right_bundle_branch_block),
    Rule(
        "IRBBB",
        "QRS 110-119 ms with rsR' in V1/V2",
        th.SURAWICZ_2009,
        incomplete_right_bundle_branch_block,
    ),
    Rule("IVCD", "QRS > 110 ms without BBB morphology", th.SURAWICZ_2009, nonspecific_ivcd),
    Rule(
        "LAFB",
        "axis -45 to -90, qR aVL, rS inferior",
        th.SURAWICZ_2009,
        left_anterior_fascicular_block,
    ),
    Rule(
        "LPFB",
        "axis +90 to +180, rS I/aVL, qR III/aVF",
        th.SURAWICZ_2009,
        left_posterior_fascicular_block,
    ),
    Rule("WPW", "PR < 120 ms with QRS > 120 ms", th.SURAWICZ_2009, wolff_parkinson_white),
)
