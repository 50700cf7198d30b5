"""Quantities in free text: values, ranges, lists, bounds and units.

Understands ``"75 bpm"``, ``"0.18 s"``, ``"about 2 mm"``, ``"~400 ms"``, ``"92 to 132 ms"``,
``"between 70 and 80 bpm"``, ``"92-132 ms"``, ``"92, 104 and 132 ms"`` (a list: the spread of
per-beat values), ``"> 120 ms"``, ``"less than 0.1 mV"``, ``"-30°"``. Units: ms, s, bpm (and
"beats per minute", "/min"), mV, mm (10 mm = 1 mV at the standard gain), µV, degrees. Paper
speed and gain (``"25 mm/s"``, ``"10 mm/mV"``) are recognised and ignored.

Every pattern is compiled once and scanned left to right: linear in the text length.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from agent.verify.features import DIMENSION_UNITS, Dimension

#: Written unit -> (canonical unit, dimension, factor to the dimension's unit).
_UNIT_TABLE: Mapping[str, tuple[str, Dimension, float]] = MappingProxyType(
    {
        "ms": ("ms", "time", 1.0),
        "s": ("s", "time", 1000.0),
        "bpm": ("bpm", "rate", 1.0),
        "mV": ("mV", "voltage", 1.0),
        "mm": ("mm", "voltage", 0.1),  # 10 mm = 1 mV at standard gain
        "uV": ("uV", "voltage", 0.001),
        "deg": ("deg", "angle", 1.0),
    }
)

_UNIT_RE = re.compile(
    r"""\s*(?:
      (?P<compound>mm\s*/\s*(?:s|sec|mV))                          # paper speed / gain
    | (?P<ms>ms|msec|millisec(?:ond)?s?)
    | (?P<s>(?-i:s)|secs?|seconds?)
    | (?P<bpm>bpm|beats?\s*(?:per|/)\s*min(?:ute)?|/\s*min|per\s+min(?:ute)?)
    | (?P<mV>mV|millivolts?)
    | (?P<mm>mm|millimet(?:er|re)s?)
    | (?P<uV>[µμu]V|microvolts?)
    | (?P<deg>°|º|degrees?|deg)
    )(?![A-Za-z0-9])""",
    re.VERBOSE | re.IGNORECASE,
)
#: A number: thousands groups ("1,200"), decimals ("0.18", ".18"), an optional sign.
_NUMBER_RE = re.compile(
    r"(?<![A-Za-z0-9.,])(?P<sign>[-+−])?(?P<num>\d{1,3}(?:,\d{3})+(?![\d.])|\d+(?:\.\d+)?|\.\d+)"
)
_RANGE_SEP_RE = re.compile(r"\s*(?:-|–|—|to|through|and)\s*", re.IGNORECASE)
_LIST_SEP_RE = re.compile(r"\s*(?:,\s*(?:and\s+)?|and\s+|&\s*)", re.IGNORECASE)
#: Longest gap between two numbers of one range or list (longer: not a separator anyway).
_MAX_GAP_CHARS = 12
_APPROX = r"about|approximately|approx\.?|around|roughly|nearly|almost|circa|ca\.|~|≈"
_LOWER_BOUND = (
    r"(?:greater|more|longer|higher|wider|larger)\s+than|over|above|exceeding|at\s+least"
    r"|in\s+excess\s+of|>=|≥|>"
)
_UPPER_BOUND = (
    r"no\s+more\s+than|(?:less|shorter|lower|smaller|narrower)\s+than|under|below|at\s+most"
    r"|up\s+to|not\s+exceeding|<=|≤|<"
)
#: Words written just before a number that change what it means.
_MODIFIER_RE = re.compile(
    rf"(?<![A-Za-z])(?:(?P<approx>{_APPROX})|(?P<low>{_LOWER_BOUND})|(?P<high>{_UPPER_BOUND})"
    r"|(?P<between>between)|(?P<from>from)|(?P<pm>±|\+/-|\+-))(?:\s+of)?",
    re.IGNORECASE,
)
#: Words that make a range the spread of per-beat values ("QRS durations range from ...").
_SPREAD_RE = re.compile(
    r"\b(?:rang(?:e|es|ing)|var(?:y|ies|ying|ied)|fluctuat\w*)\b", re.IGNORECASE
)
#: How far before a range a spread word is looked for.
_SPREAD_CHARS = 80


@dataclass(frozen=True)
class Quantity:
    """A value, range, list or bound with its unit, as written.

    ``low``/``high`` are in the written unit converted to the dimension's unit (ms, bpm, mV,
    deg); equal for a point, ``None`` on the open side of a bound. ``unit`` is the written
    unit (``"s"``, ``"mm"``), ``None`` when the number had none.
    """

    start: int
    end: int
    low: float | None
    high: float | None
    unit: str | None
    dimension: Dimension | None
    approximate: bool = False
    spread: bool = False
    signed: bool = False

    @property
    def target_unit(self) -> str | None:
        """The unit ``low``/``high`` are in."""
        return DIMENSION_UNITS[self.dimension] if self.dimension else None


@dataclass(frozen=True)
class _Num:
    start: int
    end: int  # after the unit, when there is one
    value: float
    unit: str | None
    signed: bool
    compound: bool


def _parse_number(text: str, match: re.Match[str]) -> _Num:
    sign = match.group("sign")
    start = match.start()
    if sign and start > 0 and text[start - 1].isalnum():
        sign, start = None, match.start("num")  # "V1-3": a dash, not a minus
    value = float(match.group("num").replace(",", ""))
    if sign in ("-", "−"):
        value = -value
    unit_match = _UNIT_RE.match(text, match.end())
    unit: str | None = None
    compound = False
    end = match.end()
    if unit_match is not None:
        end = unit_match.end()
        compound = unit_match.group("compound") is not None
        unit = None if compound else unit_match.lastgroup
    return _Num(start, end, value, unit, sign is not None, compound)


def _numbers(text: str) -> list[_Num]:
    return [_parse_number(text, m) for m in _NUMBER_RE.finditer(text)]


def _continues(text: str, group: list[_Num], kind: str, nxt: _Num, after_between: bool) -> str:
    """How ``nxt`` joins ``group``: ``"range"``, ``"list"``, or ``""`` (it starts a new one)."""
    last = group[-1]
    gap = text[last.end : nxt.start]
    if last.compound or len(gap) > _MAX_GAP_CHARS:
        return ""
    is_range_sep = _RANGE_SEP_RE.fullmatch(gap) is not None and len(group) == 1
    if last.unit is not None:  # only "92 ms to 132 ms" continues past a unit
        return "range" if is_range_sep and nxt.unit == last.unit else ""
    if kind in ("single", "range") and is_range_sep:
        if gap.strip().lower() != "and" or after_between:
            return "range"
        return "list"  # "92 and 104 ms"
    if kind in ("single", "list") and _LIST_SEP_RE.fullmatch(gap):
        return "list"
    return ""


def _groups(text: str, nums: list[_Num], mods: _Modifiers) -> list[tuple[list[_Num], str]]:
    """Join numbers into ranges ("92 to 132") and lists ("92, 104, 132 ms")."""
    groups: list[tuple[list[_Num], str]] = []
    i = 0
    while i < len(nums):
        group, kind = [nums[i]], "single"
        after_between = mods.range_word_before(nums[i].start) == "between"
        j = i + 1
        while j < len(nums):
            joined = _continues(text, group, kind, nums[j], after_between)
            if not joined:
                break
            kind = joined
            group.append(nums[j])
            j += 1
        groups.append((group, kind))
        i = j
    return groups


class _Modifiers:
    """Modifier words and spread words of a text, found in one pass, looked up by position."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.by_end = {m.end(): m for m in _MODIFIER_RE.finditer(text)}
        self.spread_starts = [m.start() for m in _SPREAD_RE.finditer(text)]

    def before(self, position: int) -> re.Match[str] | None:
        """The modifier that ends right before ``position`` (white space between allowed)."""
        j = position
        while j > 0 and self.text[j - 1].isspace():
            j -= 1
        return self.by_end.get(j)

    def range_word_before(self, position: int) -> str | None:
        """``"between"`` or ``"from"`` just before a number (an "about" may sit between)."""
        modifier = self.before(position)
        if modifier is not None and modifier.group("approx"):
            modifier = self.before(modifier.start())
        if modifier is None:
            return None
        if modifier.group("between"):
            return "between"
        return "from" if modifier.group("from") else None

    def spread_word_before(self, position: int) -> bool:
        i = bisect_left(self.spread_starts, position - _SPREAD_CHARS)
        return i < len(self.spread_starts) and self.spread_starts[i] < position


def _quantity(mods: _Modifiers, group: list[_Num], kind: str) -> Quantity | None:
    first, last = group[0], group[-1]
    if any(n.compound for n in group):
        return None
    unit = last.unit or next((n.unit for n in group if n.unit), None)
    factor, dimension = 1.0, None
    if unit is not None:
        _, dimension, factor = _UNIT_TABLE[unit]
    values = [n.value * factor for n in group]
    low: float | None = min(values)
    high: float | None = max(values)
    start, approximate = first.start, False
    modifier = mods.before(first.start)
    if modifier is not None and modifier.group("approx"):
        start, approximate = modifier.start(), True
        modifier = mods.before(modifier.start())
    spread = kind == "list"
    if modifier is not None:
        if modifier.group("pm"):
            return None  # "120 ± 10 ms": the 10 is a spread, not a value
        if kind == "range" and (modifier.group("between") or modifier.group("from")):
            start, spread = modifier.start(), modifier.group("from") is not None
        elif kind == "single" and (modifier.group("low") or modifier.group("high")):
            start = modifier.start()
            low, high = (low, None) if modifier.group("low") else (None, high)
    if kind == "range" and mods.spread_word_before(first.start):
        spread = True
    return Quantity(
        start=start,
        end=last.end,
        low=low,
        high=high,
        unit=unit,
        dimension=dimension,
        approximate=approximate,
        spread=spread,
        signed=first.signed,
    )


def find_quantities(text: str) -> list[Quantity]:
    """Every quantity in ``text``, in order (unitless numbers included, ``unit`` ``None``).

    Parameters
    ----------
    text
        Free text.

    Returns
    -------
    list of Quantity
        Values converted to the unit of their dimension (``"0.18 s"`` -> 180 ms,
        ``"2 mm"`` -> 0.2 mV, ``"50 µV"`` -> 0.05 mV). Paper speed and gain, and the
        ``"± 10"`` of a spread, are left out.
    """
    mods = _Modifiers(text)
    found = []
    for group, kind in _groups(text, _numbers(text), mods):
        quantity = _quantity(mods, group, kind)
        if quantity is not None:
            found.append(quantity)
    return found
