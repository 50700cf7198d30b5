"""Repolarisation: prolonged QTc and T-wave inversion (Rautaharju et al. 2009, part IV).

QTc is Bazett's (``qtc_bazett_ms``), the correction the PTB-XL and CinC labels were read
with; part IV prefers a linear correction, and Bazett over-corrects at fast rates, so a long
QTc at > 100 bpm deserves a second look.
"""

from __future__ import annotations

from tools.statements import thresholds as th
from tools.statements.criteria._base import (
    Check,
    Finding,
    Rule,
    RuleInput,
    State,
    compare,
    evidence,
    state_of,
)
from tools.statements.criteria._territorial import territorial_finding
from tools.statements.criteria.ischemia import TERRITORIAL_LEADS


def qtc_limit(inp: RuleInput) -> tuple[float, str]:
    """Prolonged-QTc limit (ms) for the patient's sex, and the population it applies to."""
    if inp.sex == "M":
        return th.QTC_LONG_MEN_MIN_MS, "men"
    if inp.sex == "F":
        return th.QTC_LONG_WOMEN_MIN_MS, "women"
    return th.QTC_LONG_WOMEN_MIN_MS, "sex unknown: women's limit, the conservative one"


def prolonged_qt(inp: RuleInput) -> Finding:
    """QTc (Bazett) >= 450 ms in men, >= 460 ms in women (and when sex is unknown)."""
    limit, population = qtc_limit(inp)
    qtc = compare("qtc_bazett_ms", inp.g.qtc_bazett_ms, ">=", limit, "ms", note=population)
    return Finding(state_of(qtc), (qtc,))


def t_wave_inversion(inp: RuleInput) -> Finding:
    """Negative T in two contiguous leads, not counting aVR, III and V1."""
    states: dict[str, State] = {}
    items: list[Check] = []
    for name in TERRITORIAL_LEADS:
        lm = inp.lead(name)
        if name in th.T_INVERSION_EXCLUDED_LEADS:
            states[name] = False
            continue
        if lm is None:
            continue
        item = evidence("t_polarity", lm.t_polarity, "negative", lm.t_polarity == "negative",
                        lead=name)  # fmt: skip
        states[name] = state_of(item)
        items.append(item)
    return territorial_finding(states, items, note=inp.missing_note(TERRITORIAL_LEADS))


RULES: tuple[Rule, ...] = (
    Rule("LNGQT", "QTc (Bazett) >= 450 ms men / >= 460 ms women", th.RAUTAHARJU_2009,
         prolonged_qt),
    Rule("INVT", "negative T in 2 contiguous leads (not aVR, III, V1)", th.RAUTAHARJU_2009,
         t_wave_inversion),
)  # fmt: skip
