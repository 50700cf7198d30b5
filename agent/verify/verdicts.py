"""From per-lead outcomes to one verdict, and what negation and hedging do to it.

Rules (the same for numeric claims and lead findings):

* Each named lead is *holds* (the claim is true there), *fails* (clearly false there) or
  *unknown* (lead unusable or absent, value not measured, or a borderline reading).
* The claim is **unverifiable** when fewer than half of the named leads are known
  (:data:`~agent.verify.tolerances.MIN_ASSESSED_FRACTION`); else **supported** when a strict
  majority of the known leads hold, and **contradicted** otherwise. A majority, not all:
  "T wave inversion in the inferior leads" with II and aVF inverted and III flat is how
  readers describe a territory; a lead-by-lead claim ("in lead I") has one lead and needs it.
* **Negation** flips supported and contradicted ("no ST elevation in V1-V3" is contradicted
  exactly when "ST elevation in V1-V3" is supported); unverifiable stays unverifiable.
* **Hedging** ("possible", "cannot exclude") never contradicts: a hedged claim that does not
  hold is unverifiable, one that holds is supported.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from agent.verify.model import Verdict
from agent.verify.tolerances import MIN_ASSESSED_FRACTION

State = bool | None


@dataclass(frozen=True)
class LeadOutcome:
    """One lead's (or the global value's) part of a claim."""

    lead: str | None
    state: State
    measured: str
    value: float | None = None


def combine(outcomes: Sequence[LeadOutcome]) -> Verdict:
    """The un-negated verdict over the named leads (see the module rules)."""
    known = [o.state for o in outcomes if o.state is not None]
    if not outcomes or len(known) < math.ceil(MIN_ASSESSED_FRACTION * len(outcomes)) or not known:
        return "unverifiable"
    holds = sum(known)
    return "supported" if holds > len(known) - holds else "contradicted"


def apply_scope(verdict: Verdict, *, negated: bool, hedged: bool) -> Verdict:
    """Flip for negation, then soften for hedging."""
    if negated and verdict != "unverifiable":
        verdict = "contradicted" if verdict == "supported" else "supported"
    if hedged and verdict == "contradicted":
        return "unverifiable"
    return verdict


def scope_words(negated: bool, hedged: bool) -> str:
    """``" (negated, hedged)"`` for rule texts; empty when neither."""
    parts = [w for w, on in (("negated", negated), ("hedged", hedged)) if on]
    return f" ({', '.join(parts)})" if parts else ""


def fmt(value: float, unit: str) -> str:
    """A value with its unit at clinical precision: ``"132 ms"``, ``"0.20 mV"``, ``"-30°"``."""
    if unit == "mV":
        return f"{value:.2f} mV"
    if unit == "deg":
        return f"{value:.0f}°"
    return f"{value:.0f} {unit}"


def capitalised(text: str) -> str:
    """First letter upper case, the rest as written ("QRS duration" stays "QRS")."""
    return text[:1].upper() + text[1:]


def lead_text(leads: Sequence[str]) -> str:
    """``"lead I"``, ``"leads II, III, aVF"``, or ``"the record"`` (global)."""
    if not leads:
        return "the record"
    return f"lead {leads[0]}" if len(leads) == 1 else f"leads {', '.join(leads)}"
