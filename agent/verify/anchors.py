"""What the claim extractor works on: everything found in the text, and claim anchors."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field, fields
from typing import Protocol, TypeVar

from agent.verify.features import Keyword, find_keywords
from agent.verify.leads import LeadMention, find_leads
from agent.verify.mentions import (
    BeatMention,
    Mention,
    find_beats,
    find_diagnoses,
    find_findings,
    find_qualitative,
)
from agent.verify.numbers import Quantity, find_quantities
from agent.verify.text import Span


@dataclass
class Anchor:
    """Something a claim is about, before leads and beats are attached."""

    start: int
    end: int
    kind: str  # "numeric" | "finding" | "diagnosis"
    feature: str | None = None
    code: str | None = None
    low: float | None = None
    high: float | None = None
    spread: bool = False
    signed: bool = False
    inline_negated: bool = False
    leads: list[str] = field(default_factory=list)
    extent: int = 0  # end of the last attached lead/beat mention
    origin: int | None = None  # start of a lead/beat mention written before the anchor
    beat: int | None = None
    negated: bool = False
    hedged: bool = False
    cue_start: int | None = None  # the negation or hedge cue before the anchor


def extend(anchor: Anchor, start: int, end: int) -> None:
    """Widen the claim's text to a lead or beat mention attached to it."""
    anchor.extent = max(anchor.extent, end)
    if start < anchor.start:
        anchor.origin = start if anchor.origin is None else min(anchor.origin, start)


@dataclass
class Found:
    """Everything found in the whole text, once (each list sorted by start)."""

    quantities: list[Quantity]
    keywords: list[Keyword]
    leads: list[LeadMention]
    diagnoses: list[Mention]
    findings: list[Mention]
    qualitative: list[Mention]
    beats: list[BeatMention]

    @classmethod
    def scan(cls, text: str) -> Found:
        return cls(
            find_quantities(text),
            find_keywords(text),
            find_leads(text),
            find_diagnoses(text),
            find_findings(text),
            find_qualitative(text),
            find_beats(text),
        )

    def within(self, span: Span) -> Found:
        """The items that start inside ``span``."""
        return Found(*(within_span(getattr(self, f.name), span) for f in fields(self)))


class _Located(Protocol):
    @property
    def start(self) -> int: ...


T = TypeVar("T", bound=_Located)


def within_span(items: list[T], span: Span) -> list[T]:
    """Items (sorted by start) that start in ``span``: two binary searches."""
    lo = bisect_left(items, span.start, key=lambda item: item.start)
    hi = bisect_left(items, span.end, key=lambda item: item.start)
    return items[lo:hi]


class _Span(Protocol):
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


S = TypeVar("S", bound=_Span)


def overlapping(items: list[S], start: int, end: int) -> list[S]:
    """Items (sorted, non-overlapping) that overlap ``[start, end)``."""
    lo = bisect_right(items, start, key=lambda item: item.end)
    hi = bisect_left(items, end, key=lambda item: item.start)
    return items[lo:hi]
