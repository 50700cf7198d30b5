"""QRS morphology labels (``qR``, ``rS``, ``rsR'``, ``QS``) read as wave sequences.

The measurement set names each lead's median-beat QRS by the usual letter convention: q, r,
s for small and Q, R, S for large deflections, a prime for a second R or S, ``QS`` for an
entirely negative complex. A label that is not such a sequence (``None``, ``"notched"``) is
"not measured": predicates return ``None`` for it, never a guess.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache

from tools.measure.model import LeadMeasurements
from tools.statements.criteria._base import Check, RuleInput, State, any_of, evidence, state_of

Waves = tuple[str, ...]
Predicate = Callable[[Waves], bool]

_WAVE = re.compile(r"QS|[qQrRsS]'*")
_PRIMES = str.maketrans({"\u2019": "'", "\u2032": "'", "`": "'"})


@lru_cache(maxsize=256)
def parse_qrs(label: str | None) -> Waves | None:
    """Split a morphology label into waves: ``"rsR'"`` -> ``("r", "s", "R'")``; else ``None``."""
    if label is None:
        return None
    text = label.strip().translate(_PRIMES)
    waves = tuple(_WAVE.findall(text))
    return waves if waves and "".join(waves) == text else None


def is_qs(w: Waves) -> bool:
    """Entirely negative complex."""
    return w == ("QS",)


def has_q(w: Waves) -> bool:
    """Initial negative deflection (q, Q or QS)."""
    return w[0][0] in "qQ"


def has_r_prime(w: Waves) -> bool:
    """A second positive deflection (r' or R')."""
    return any(x[0] in "rR" and x.endswith("'") for x in w)


def has_s(w: Waves) -> bool:
    """A negative deflection after a positive one (s or S)."""
    return any(x[0] in "sS" for x in w)


def r_dominant(w: Waves) -> bool:
    """A large R and no large S."""
    return any(x[0] == "R" for x in w) and not any(x[0] == "S" for x in w)


def s_dominant(w: Waves) -> bool:
    """QS, or a large S and no large R."""
    return is_qs(w) or (any(x[0] == "S" for x in w) and not any(x[0] == "R" for x in w))


def is_qr(w: Waves) -> bool:
    """qR pattern: initial q then a dominant R."""
    return has_q(w) and not is_qs(w) and r_dominant(w)


def is_rs(w: Waves) -> bool:
    """rS pattern: initial r (no q) then a dominant S."""
    return w[0][0] in "rR" and s_dominant(w)


def is_qs_or_rs(w: Waves) -> bool:
    """QS or rS: the V1-V2 pattern of LBBB (Strauss et al. 2011)."""
    return is_qs(w) or is_rs(w)


def lateral_lbbb(w: Waves) -> bool:
    """Dominant R without an initial q (the I, V5, V6 pattern of LBBB)."""
    return r_dominant(w) and not has_q(w)


def morphology_evidence(
    lead: str, lm: LeadMeasurements, predicate: Predicate, expected: str
) -> Check:
    """Check that the lead's QRS label matches ``predicate``; unreadable label: not measured."""
    waves = parse_qrs(lm.qrs_morphology)
    value = lm.qrs_morphology if waves is not None else None
    met = waves is not None and predicate(waves)
    return evidence("qrs_morphology", value, expected, met, lead=lead)


def leads_all(
    inp: RuleInput, leads: Sequence[str], predicate: Predicate, expected: str, min_known: int = 1
) -> tuple[State, list[Check]]:
    """Every usable lead of ``leads`` whose label is readable matches, and ``min_known`` do.

    ``False`` when one readable label fails; ``None`` when fewer than ``min_known`` are readable.
    """
    items = [
        morphology_evidence(name, lm, predicate, expected)
        for name in leads
        if (lm := inp.lead(name)) is not None
    ]
    states = [state_of(e) for e in items]
    known = [s for s in states if s is not None]
    if False in known:
        return False, items
    return (True if len(known) >= min_known else None), items


def leads_any(
    inp: RuleInput, leads: Sequence[str], predicate: Predicate, expected: str
) -> tuple[State, list[Check]]:
    """At least one usable lead of ``leads`` matches (``None`` when none is readable)."""
    items = [
        morphology_evidence(name, lm, predicate, expected)
        for name in leads
        if (lm := inp.lead(name)) is not None
    ]
    states = [state_of(e) for e in items]
    return (any_of(states) if states else None), items
