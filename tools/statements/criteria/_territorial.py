"""Findings "in two contiguous leads", overall or within one territory.

Each lead has a three-valued state (``True`` the lead shows the finding, ``False`` it does
not or cannot by definition, ``None`` not measured, unusable or absent). The finding is the
Kleene OR over contiguous lead pairs of (state_a AND state_b); for a territory only pairs with
a lead in it count, and the statement is localised to that territory's positive leads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tools.leads import STANDARD_LEADS
from tools.statements.criteria._base import Check, Finding, State, all_of, any_of
from tools.statements.territories import (
    CONTIGUOUS_PAIRS,
    TERRITORY_LEADS,
    Territory,
    contiguous_positive,
)


def _ordered(pair: frozenset[str]) -> tuple[str, str]:
    first, second = sorted(pair, key=STANDARD_LEADS.index)
    return first, second


#: Contiguous pairs in canonical lead order (deterministic evidence order).
_PAIRS: tuple[tuple[str, str], ...] = tuple(
    sorted(
        (_ordered(p) for p in CONTIGUOUS_PAIRS),
        key=lambda p: (STANDARD_LEADS.index(p[0]), STANDARD_LEADS.index(p[1])),
    )
)


def territorial_finding(
    states: Mapping[str, State],
    evidence: Sequence[Check],
    territory: Territory | None = None,
    gate: tuple[State, Sequence[Check]] | None = None,
    note: str | None = None,
) -> Finding:
    """Combine per-lead states into a "two contiguous leads" finding.

    Parameters
    ----------
    states
        Lead -> state; a lead not in the mapping is unknown (``None``).
    evidence
        Per-lead evidence; kept for the leads of the pairs that count.
    territory
        Restrict to pairs with a lead in this territory (``None``: any pair).
    gate
        A precondition (state, evidence) ANDed with the result, e.g. "no QRS confounder".
    note
        Caveat passed through to the finding.
    """
    anchor = set(TERRITORY_LEADS[territory]) if territory else None
    pairs = [p for p in _PAIRS if anchor is None or p[0] in anchor or p[1] in anchor]
    state = any_of(all_of((states.get(a), states.get(b))) for a, b in pairs)
    hits = contiguous_positive(n for n in STANDARD_LEADS if states.get(n) is True)
    if anchor is not None:
        hits = tuple(n for n in hits if n in anchor)
    relevant = {n for p in pairs for n in p}
    kept = [e for e in evidence if e.lead is None or e.lead in relevant]
    if gate is not None:
        state = all_of((gate[0], state))
        kept = [*gate[1], *kept]
    return Finding(state, tuple(kept), hits if state else (), note)
