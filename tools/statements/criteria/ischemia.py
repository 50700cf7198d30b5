"""ST elevation and ST depression in two contiguous leads, overall and by territory.

Fourth Universal Definition of MI (Thygesen et al. 2018), read at the J point
(``j_level_mv``). The criteria do not apply with a QRS confounder: a wide QRS (>= 120 ms)
that is not RBBB (LBBB, ventricular pacing, pre-excitation) stops these rules from firing,
as does an unmeasured QRS duration. Flutter waves leave no isoelectric PR baseline to read
the J point against: with flutter waves found, an ST shift is "not assessable" (no shift is
still "not met").
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from tools.leads import STANDARD_LEADS
from tools.measure.model import LeadMeasurements
from tools.statements import thresholds as th
from tools.statements.criteria._base import (
    Check,
    Finding,
    Rule,
    RuleInput,
    State,
    all_of,
    compare,
    evidence,
    number,
    state_of,
)
from tools.statements.criteria._territorial import territorial_finding
from tools.statements.criteria.conduction import rbbb_morphology
from tools.statements.criteria.rhythm import flutter_waves
from tools.statements.territories import TERRITORIES, TERRITORY_LEADS, Territory

#: Leads that belong to a territory (every lead but aVR).
TERRITORIAL_LEADS: tuple[str, ...] = tuple(
    n for n in STANDARD_LEADS if any(n in leads for leads in TERRITORY_LEADS.values())
)
_DOWN_OR_FLAT = ("horizontal", "declination")


def no_qrs_confounder(inp: RuleInput) -> tuple[State, list[Check]]:
    """QRS < 120 ms, or a wide QRS explained by RBBB (which leaves ST and Q criteria valid)."""
    narrow = compare(
        "qrs_ms", inp.g.qrs_ms, "<", th.BBB_QRS_MIN_MS, "ms",
        note="else only RBBB keeps ST/Q criteria valid",
    )  # fmt: skip
    if narrow.met or number(inp.g.qrs_ms) is None:
        return state_of(narrow), [narrow]
    rbbb, rbbb_items = rbbb_morphology(inp)
    return rbbb, [narrow, *rbbb_items]


def _st_gate(inp: RuleInput) -> tuple[tuple[State, list[Check]], str | None]:
    """No QRS confounder, and a baseline to read the J point against (no flutter waves)."""
    state, items = no_qrs_confounder(inp)
    flutter, flutter_items = inp.memo("flutter_waves", lambda: flutter_waves(inp))
    if flutter is not True:
        return (state, items), None
    note = "flutter waves: no isoelectric baseline for the J point"
    return (all_of((state, None)), [*items, *flutter_items]), note


def st_elevation_limit(inp: RuleInput, lead: str) -> tuple[float, str]:
    """J-point elevation limit of one lead (mV) and the population it applies to."""
    if lead not in th.STE_V2V3_LEADS:
        return th.STE_MIN_MV, "leads other than V2-V3"
    if inp.sex == "F":
        return th.STE_V2V3_WOMEN_MIN_MV, "V2-V3, women"
    if inp.sex == "M" and inp.age_years is not None:
        if inp.age_years >= th.STE_MEN_AGE_SPLIT_YEARS:
            return th.STE_V2V3_MEN_40_MIN_MV, "V2-V3, men >= 40 y"
        return th.STE_V2V3_MEN_UNDER_40_MIN_MV, "V2-V3, men < 40 y"
    if inp.sex == "M":
        return th.STE_V2V3_MEN_UNDER_40_MIN_MV, "V2-V3, men, age unknown: conservative limit"
    return th.STE_V2V3_MEN_UNDER_40_MIN_MV, "V2-V3, sex unknown: highest (conservative) limit"


def _elevation(inp: RuleInput, lead: str, lm: LeadMeasurements) -> list[Check]:
    limit, population = st_elevation_limit(inp, lead)
    return [compare("j_level_mv", lm.j_level_mv, ">=", limit, "mV", lead=lead, note=population)]


def _depression(inp: RuleInput, lead: str, lm: LeadMeasurements) -> list[Check]:
    j = number(lm.j_level_mv)
    depth = compare(
        "st_depression_mv", None if j is None else -j, ">=", th.STD_MIN_MV, "mV", lead=lead,
        note="below the PR baseline at the J point",
    )  # fmt: skip
    form = evidence(
        "st_form",
        lm.st_form,
        "horizontal or downsloping (declination)",
        lm.st_form in _DOWN_OR_FLAT,
        lead=lead,
    )
    return [depth, form]


PerLead = Callable[[RuleInput, str, LeadMeasurements], list[Check]]


def _lead_states(inp: RuleInput, per_lead: PerLead) -> tuple[dict[str, State], list[Check]]:
    states: dict[str, State] = {}
    items: list[Check] = []
    for name in TERRITORIAL_LEADS:
        lm = inp.lead(name)
        if lm is None:
            continue
        lead_items = per_lead(inp, name, lm)
        states[name] = all_of(state_of(e) for e in lead_items)
        items += lead_items
    return states, items


def _st_finding(inp: RuleInput, per_lead: PerLead, territory: Territory | None) -> Finding:
    states, items = inp.memo(per_lead.__name__, lambda: _lead_states(inp, per_lead))
    gate, baseline_note = inp.memo("st_gate", lambda: _st_gate(inp))
    note = inp.missing_note(TERRITORY_LEADS[territory] if territory else TERRITORIAL_LEADS)
    notes = "; ".join(n for n in (baseline_note, note) if n) or None
    return territorial_finding(states, items, territory, gate, notes)


def st_elevation(inp: RuleInput, territory: Territory | None = None) -> Finding:
    """J-point elevation at the UDMI limits in two contiguous leads (of ``territory``)."""
    return _st_finding(inp, _elevation, territory)


def st_depression(inp: RuleInput, territory: Territory | None = None) -> Finding:
    """Horizontal/downsloping J-point depression >= 0.05 mV in two contiguous leads."""
    return _st_finding(inp, _depression, territory)


_SUFFIX: dict[Territory, str] = {
    "inferior": "INF", "lateral": "LAT", "septal": "SEP", "anterior": "ANT",
}  # fmt: skip
_STE = "J-point elevation in 2 contiguous leads"
_STD = "horizontal/downsloping ST depression >= 0.05 mV in 2 contiguous leads"

RULES: tuple[Rule, ...] = (
    Rule("STE_", _STE, th.THYGESEN_2018, st_elevation),
    *(
        Rule(f"GEM:STE_{_SUFFIX[t]}", f"{_STE}, {t}", th.THYGESEN_2018,
             partial(st_elevation, territory=t))
        for t in TERRITORIES
    ),
    Rule("STD_", _STD, th.THYGESEN_2018, st_depression),
    *(
        Rule(f"GEM:STD_{_SUFFIX[t]}", f"{_STD}, {t}", th.THYGESEN_2018,
             partial(st_depression, territory=t))
        for t in TERRITORIES
    ),
)  # fmt: skip
