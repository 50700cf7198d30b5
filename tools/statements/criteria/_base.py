"""Shared machinery of the criteria: the rule input, findings, results and evidence helpers.

Every rule is a pure function ``RuleInput -> Finding``. A finding is three-valued: ``True``
(criterion met), ``False`` (measured and not met) or ``None`` (a measurement it needs is
missing, or its leads are unusable: not assessable). Parts combine with Kleene logic
(:func:`all_of`, :func:`any_of`): one measured failing part settles an AND, one measured
passing part settles an OR; a missing value is never read as zero.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Literal, NamedTuple, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from tools.errors import DuplicateLeadError, UnknownLeadError
from tools.leads import canonical_lead
from tools.measure.model import (
    Evidence,
    GlobalMeasurements,
    LeadMeasurements,
    Measurements,
    Statement,
)
from tools.statements.errors import StatementError

Sex = Literal["M", "F"]
Op = Literal[">", ">=", "<", "<="]
State = bool | None
T = TypeVar("T")

_OPS: Mapping[Op, Callable[[float, float], bool]] = MappingProxyType(
    {
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
    }
)


class Check(NamedTuple):
    """One measurement held to one threshold: a light :class:`Evidence` for rule internals.

    Rules build many of these (every lead, every part); only the results handed out are
    converted to pydantic :class:`Evidence` (:meth:`to_evidence`).
    """

    measure: str
    value: float | str | None
    threshold: str
    met: bool
    unit: str | None = None
    lead: str | None = None

    def to_evidence(self) -> Evidence:
        """The same item as the measurement set's :class:`Evidence` model."""
        return Evidence(
            measure=self.measure,
            value=self.value,
            unit=self.unit,
            lead=self.lead,
            threshold=self.threshold,
            met=self.met,
        )


def number(value: float | int | None) -> float | None:
    """A measurement as float, with ``None`` and NaN both meaning "not measured"."""
    if value is None:
        return None
    as_float = float(value)
    return None if math.isnan(as_float) else as_float


def state_of(evidence: Check) -> State:
    """Three-valued state of one evidence item: ``None`` when its value was not measured."""
    return None if evidence.value is None else evidence.met


def all_of(states: Iterable[State]) -> State:
    """Kleene AND: ``False`` if any part failed, ``None`` if any is unknown, else ``True``."""
    result: State = True
    for s in states:
        if s is False:
            return False
        if s is None:
            result = None
    return result


def any_of(states: Iterable[State]) -> State:
    """Kleene OR: ``True`` if any part passed, ``None`` if any is unknown, else ``False``."""
    result: State = False
    for s in states:
        if s is True:
            return True
        if s is None:
            result = None
    return result


@dataclass(frozen=True)
class Finding:
    """What one rule concluded, with the evidence it looked at.

    Attributes
    ----------
    state
        ``True`` met, ``False`` not met, ``None`` not assessable.
    evidence
        Every measurement the rule looked at (usable leads only).
    leads
        Leads the finding is localised to (only meaningful when met).
    note
        Why a rule could not be assessed, or a caveat (unusable leads, unknown sex).
    """

    state: State
    evidence: tuple[Check, ...] = ()
    leads: tuple[str, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class RuleInput:
    """The measurements as the rules see them: usable leads only, canonical lead names.

    Build with :meth:`build`, which validates the demographics and the lead names.
    """

    measurements: Measurements
    sex: Sex | None = None
    age_years: float | None = None
    usable: Mapping[str, LeadMeasurements] = field(default_factory=dict)
    unusable: tuple[str, ...] = ()
    _memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(
        cls, measurements: Measurements, sex: str | None = None, age_years: float | None = None
    ) -> RuleInput:
        """Validate demographics and index the usable leads by canonical name.

        Lead entries whose name is not one of the 12 standard leads (as-recorded Holter
        leads such as ``CM5``) are left out: no 12-lead criterion applies to them.

        Raises
        ------
        StatementError
            ``sex`` is not ``"M"``, ``"F"`` or ``None``, or ``age_years`` is negative or NaN.
        DuplicateLeadError
            Two lead entries name the same lead.
        """
        record = measurements.record_id
        if sex not in ("M", "F", None):
            raise StatementError(record, f"sex must be 'M', 'F' or None, got {sex!r}")
        if age_years is not None and not (math.isfinite(age_years) and age_years >= 0):
            raise StatementError(record, f"age_years must be a number >= 0, got {age_years!r}")
        usable_names = {_canonical_or_none(n, record) for n in measurements.usable_leads}
        usable: dict[str, LeadMeasurements] = {}
        unusable: list[str] = []
        for lm in measurements.leads:
            name = _canonical_or_none(lm.lead, record)
            if name is None:
                continue
            if name in usable or name in unusable:
                raise DuplicateLeadError(record, f"lead {name} has two measurement entries")
            if name in usable_names:
                usable[name] = lm
            else:
                unusable.append(name)
        checked_sex: Sex | None = "M" if sex == "M" else "F" if sex == "F" else None
        return cls(measurements, checked_sex, age_years, MappingProxyType(usable), tuple(unusable))

    @property
    def g(self) -> GlobalMeasurements:
        """Record-level measurements."""
        return self.measurements.global_

    def lead(self, name: str) -> LeadMeasurements | None:
        """Measurements of a usable lead, ``None`` when absent or unusable."""
        return self.usable.get(name)

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """``compute()`` once per input: parts shared by several rules (per-lead ST states)."""
        if key not in self._memo:
            self._memo[key] = compute()
        result: T = self._memo[key]
        return result

    def missing_note(self, leads: Iterable[str]) -> str | None:
        """A note naming which of ``leads`` are absent or unusable, or ``None``."""
        gone = [name for name in leads if name not in self.usable]
        return f"not usable or absent: {', '.join(gone)}" if gone else None


def _canonical_or_none(name: str, record: str) -> str | None:
    try:
        return canonical_lead(name, record)
    except UnknownLeadError:
        return None


def evidence(
    measure: str,
    value: float | str | None,
    threshold: str,
    met: bool,
    *,
    unit: str | None = None,
    lead: str | None = None,
) -> Check:
    """Build one :class:`Check` (``value`` ``None`` means "not measured")."""
    return Check(measure, value, threshold, bool(met), unit, lead)


def _fmt(x: float) -> str:
    return f"{x:g}"


@lru_cache(maxsize=512)
def _threshold_text(op: Op, limit: float, unit: str | None, note: str | None) -> str:
    return f"{op} {_fmt(limit)}{' ' + unit if unit else ''}" + (f" ({note})" if note else "")


def compare(
    measure: str,
    value: float | int | None,
    op: Op,
    limit: float,
    unit: str | None,
    *,
    lead: str | None = None,
    note: str | None = None,
) -> Check:
    """Check ``value op limit`` (``"qrs_ms", 124, ">=", 120, "ms"``); unmeasured: unmet."""
    v = number(value)
    met = v is not None and _OPS[op](v, limit)
    return Check(measure, v, _threshold_text(op, limit, unit, note), met, unit, lead)


def within(
    measure: str,
    value: float | int | None,
    low: float,
    high: float,
    unit: str | None,
    *,
    lead: str | None = None,
) -> Check:
    """Check ``low <= value <= high``; unmeasured: not met."""
    v = number(value)
    text = f"{_fmt(low)} to {_fmt(high)}{' ' + unit if unit else ''} (inclusive)"
    met = v is not None and low <= v <= high
    return evidence(measure, v, text, met, unit=unit, lead=lead)


class RuleResult(BaseModel):
    """Outcome of checking one statement against the measurements, met or not.

    ``assessable`` is False when a measurement the criterion needs is missing or its leads
    are unusable, or when no criterion exists for the statement: the verifier reads that as
    "unverifiable", not as "contradicted".
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    name: str
    met: bool
    assessable: bool
    leads: list[str] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    rule: str | None = None
    citation: str | None = None
    note: str | None = None

    def to_statement(self) -> Statement | None:
        """The :class:`Statement` when the criterion is met, else ``None``."""
        if not self.met or self.rule is None or self.citation is None:
            return None
        return Statement(
            code=self.code,
            name=self.name,
            leads=list(self.leads),
            evidence=list(self.evidence),
            rule=self.rule,
            citation=self.citation,
        )


@dataclass(frozen=True)
class Rule:
    """One criterion: the statement it supports, its short name, source and function."""

    code: str
    criterion: str
    citation: str
    evaluate: Callable[[RuleInput], Finding]
