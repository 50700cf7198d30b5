"""Lead territories and contiguity: the one definition the criteria share.

Territories follow the standard lead groups: inferior (II, III, aVF), lateral (I, aVL, V5, V6),
septal (V1, V2), anterior (V3, V4). Two leads are *contiguous* when they are in the same
territory or are neighbouring precordial leads (V2-V3, V4-V5 join septal to anterior and
anterior to lateral), after the Fourth Universal Definition of MI's "two contiguous leads"
(Thygesen et al. 2018). aVR belongs to no territory, so it is never contiguous with anything
and never fires a territorial criterion.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import combinations, pairwise
from types import MappingProxyType
from typing import Literal

from tools.leads import PRECORDIAL_LEADS

Territory = Literal["inferior", "lateral", "septal", "anterior"]

#: Territory -> its leads in display order.
TERRITORY_LEADS: Mapping[Territory, tuple[str, ...]] = MappingProxyType(
    {
        "inferior": ("II", "III", "aVF"),
        "lateral": ("I", "aVL", "V5", "V6"),
        "septal": ("V1", "V2"),
        "anterior": ("V3", "V4"),
    }
)
TERRITORIES: tuple[Territory, ...] = tuple(TERRITORY_LEADS)


def _contiguous_pairs() -> frozenset[frozenset[str]]:
    pairs = {frozenset(p) for leads in TERRITORY_LEADS.values() for p in combinations(leads, 2)}
    pairs |= {frozenset(p) for p in pairwise(PRECORDIAL_LEADS)}
    return frozenset(pairs)


#: Every unordered pair of contiguous leads.
CONTIGUOUS_PAIRS: frozenset[frozenset[str]] = _contiguous_pairs()


def are_contiguous(lead_a: str, lead_b: str) -> bool:
    """True when two (canonical) leads are contiguous."""
    return frozenset((lead_a, lead_b)) in CONTIGUOUS_PAIRS


def contiguous_positive(positive: Iterable[str]) -> tuple[str, ...]:
    """Leads of ``positive`` that have at least one contiguous partner also in ``positive``.

    Returned in the order given. A finding "in two contiguous leads" is present exactly when
    this is non-empty.
    """
    leads = list(dict.fromkeys(positive))
    return tuple(a for a in leads if any(are_contiguous(a, b) for b in leads if b != a))
