"""Pathological Q waves of prior infarction, overall and by territory.

Fourth Universal Definition of MI (Thygesen et al. 2018): any Q wave > 20 ms or a QS complex
in V2-V3; a Q wave >= 30 ms and >= 0.1 mV deep or a QS complex in I, II, aVL, aVF or V4-V6;
in two contiguous leads. III, aVR and V1 (where Q waves may be normal) never qualify. As for
the ST criteria, a wide QRS other than RBBB (a QRS confounder) stops the rules from firing.
Territories map onto PTB-XL's infarction statements: inferior IMI, lateral LMI, septal ASMI,
anterior AMI; the whole-heart statements are QWAVE (the finding) and GEM:MI (its meaning).
"""

from __future__ import annotations

from functools import partial

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
    state_of,
)
from tools.statements.criteria._morphology import has_q, is_qs, morphology_evidence, parse_qrs
from tools.statements.criteria._territorial import territorial_finding
from tools.statements.criteria.hypertrophy import depth_mv
from tools.statements.criteria.ischemia import TERRITORIAL_LEADS, no_qrs_confounder
from tools.statements.territories import TERRITORY_LEADS, Territory


def _q_size(lead: str, lm: LeadMeasurements) -> tuple[State, list[Check]]:
    """Q duration (and depth outside V2-V3) at the UDMI limits."""
    if lead in th.STE_V2V3_LEADS:
        duration = compare("q_duration_ms", lm.q_duration_ms, ">", th.Q_V2V3_ABOVE_MS, "ms",
                           lead=lead)  # fmt: skip
        return state_of(duration), [duration]
    duration = compare("q_duration_ms", lm.q_duration_ms, ">=", th.Q_MIN_MS, "ms", lead=lead)
    depth = compare("q_depth_mv", depth_mv(lm.q_amplitude_mv), ">=", th.Q_MIN_DEPTH_MV, "mV",
                    lead=lead)  # fmt: skip
    return all_of((state_of(duration), state_of(depth))), [duration, depth]


def q_wave_lead(lead: str, lm: LeadMeasurements) -> tuple[State, list[Check]]:
    """Whether one lead shows a pathological Q wave, with the evidence."""
    if lead not in th.Q_ELIGIBLE_LEADS and lead not in th.STE_V2V3_LEADS:
        return False, []
    qs = morphology_evidence(lead, lm, is_qs, "QS complex")
    size_state, size_evidence = _q_size(lead, lm)
    waves = parse_qrs(lm.qrs_morphology)
    if waves is not None and not has_q(waves):
        size_state = False  # the label shows no initial negative wave: no Q to measure
    return any_of((state_of(qs), size_state)), [qs, *size_evidence]


def _q_states(inp: RuleInput) -> tuple[dict[str, State], list[Check]]:
    states: dict[str, State] = {}
    items: list[Check] = []
    for name in TERRITORIAL_LEADS:
        lm = inp.lead(name)
        if lm is not None:
            states[name], lead_items = q_wave_lead(name, lm)
            items += lead_items
        elif name not in th.Q_ELIGIBLE_LEADS and name not in th.STE_V2V3_LEADS:
            states[name] = False  # never qualifies, usable or not
    return states, items


def pathological_q_waves(inp: RuleInput, territory: Territory | None = None) -> Finding:
    """Pathological Q waves in two contiguous leads (of ``territory``)."""
    states, items = inp.memo("q_waves", lambda: _q_states(inp))
    gate = inp.memo("no_qrs_confounder", lambda: no_qrs_confounder(inp))
    note = inp.missing_note(TERRITORY_LEADS[territory] if territory else TERRITORIAL_LEADS)
    return territorial_finding(states, items, territory, gate, note)


_Q = "Q >= 30 ms and >= 0.1 mV (V2-V3: > 20 ms) or QS in 2 contiguous leads"
_MI_BY_TERRITORY: dict[str, Territory] = {
    "IMI": "inferior", "LMI": "lateral", "ASMI": "septal", "AMI": "anterior",
}  # fmt: skip

RULES: tuple[Rule, ...] = (
    Rule("QWAVE", _Q, th.THYGESEN_2018, pathological_q_waves),
    Rule("GEM:MI", _Q, th.THYGESEN_2018, pathological_q_waves),
    *(
        Rule(code, f"{_Q}, {t}", th.THYGESEN_2018, partial(pathological_q_waves, territory=t))
        for code, t in _MI_BY_TERRITORY.items()
    ),
)
