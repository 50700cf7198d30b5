"""Sentences, clauses, and the scope of negation and hedging.

Sentences end at ``.``, ``!``, ``?`` followed by white space (not inside ``0.18`` or after an
abbreviation such as "approx.") and at line breaks. Clauses end at ``,``, ``;``, ``:`` and
before "but", "however", "whereas", "although", "though", "while", "yet", except inside
spans the caller protects (a lead list "II, III and aVF", a value list "92, 104, 132 ms").

Scope (after NegEx, Chapman et al. 2001, reduced to clauses): a *pre* cue ("no", "not",
"without", "absent", "negative for", "rules out", "no evidence of", "no signs of") covers
what follows it in its clause; a *post* cue ("is absent", "is not seen", "was excluded")
covers what precedes it. Hedges work the same way ("possible", "probable", "consider",
"cannot exclude", "suggestive of" before; "is likely", "cannot be excluded" after). A hedge
phrase that contains a negation word ("cannot exclude", "not excluded") is a hedge only.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

_ABBREVIATIONS = frozenset(
    {"approx", "e.g", "i.e", "eg", "ie", "vs", "ca", "cf", "dr", "fig", "resp", "etc"}
)
_SENTENCE_END_RE = re.compile(r"(?<![.!?])[.!?]++[\"')\]]*+(?=\s)|[\r\n]+")
_WORD_BEFORE_RE = re.compile(r"([A-Za-z.]+)$")
_CLAUSE_BREAK_RE = re.compile(
    r"[,;:]|\s(?=(?:but|however|whereas|although|though|while|yet)\b)", re.IGNORECASE
)

_B, _A = r"(?<![A-Za-z0-9])", r"(?![A-Za-z0-9])"
_HEDGE_PRE = (
    r"cannot\s+(?:be\s+)?(?:exclude[sd]?|rule[sd]?\s+out)|can\s*not\s+(?:exclude|rule\s+out)"
    r"|can'?t\s+(?:exclude|rule\s+out)|could\s+not\s+(?:exclude|rule\s+out)"
    r"|not\s+(?:be\s+)?(?:excluded|ruled\s+out)|possibl[ey]|probabl[ey]|likely|suggestive\s+of"
    r"|suggests?|suggesting|consider(?:ed)?|may|might|could|suspect(?:ed)?|suspicious\s+(?:for|of)"
    r"|questionable|borderline|equivocal|perhaps|presumabl[ey]|unlikely|query"
)
_HEDGE_POST = (
    r"(?:is|are|was|were|seems?|appears?)\s+(?:possible|probable|likely|suspected|questionable"
    r"|borderline|unlikely)|can\s*not\s+be\s+(?:excluded|ruled\s+out)"
    r"|can'?t\s+be\s+(?:excluded|ruled\s+out)|could\s+not\s+be\s+(?:excluded|ruled\s+out)"
    r"|(?:(?:is|are)\s+)?not\s+(?:be\s+)?(?:excluded|ruled\s+out)|(?:may|might|could)\s+(?:be|represent|indicate)"
    r"|unlikely"
)
_NEG_PRE = (
    r"no\s+(?:evidence|signs?|definite|significant|obvious|clear)\s+of|no|not|without"
    r"|absent|absence\s+of|negative\s+for|rules?\s+out|ruled\s+out|free\s+of|lack\s+of"
    r"|neither|nor|none|never|unlikely"
)
_NEG_POST = (
    r"(?:(?:is|are|was|were)\s+)?(?:not\s+(?:present|seen|observed|identified|evident|noted|detected"
    r"|found|visible|apparent|met)|absent)|(?:is|are|was|were|been)\s+(?:ruled\s+out|excluded)"
    r"|unlikely"
)
_HEDGE_PRE_RE = re.compile(rf"{_B}(?:{_HEDGE_PRE}){_A}", re.IGNORECASE)
_HEDGE_POST_RE = re.compile(rf"{_B}(?:{_HEDGE_POST}){_A}", re.IGNORECASE)
_NEG_PRE_RE = re.compile(rf"{_B}(?:{_NEG_PRE}){_A}", re.IGNORECASE)
_NEG_POST_RE = re.compile(rf"{_B}(?:{_NEG_POST}){_A}", re.IGNORECASE)


@dataclass(frozen=True)
class Span:
    """``[start, end)`` of the text."""

    start: int
    end: int


def split_sentences(text: str) -> list[Span]:
    """Sentence spans of ``text`` (non-empty after stripping), in order."""
    spans: list[Span] = []
    start = 0
    for match in _SENTENCE_END_RE.finditer(text):
        if match.group().startswith("."):
            word = _WORD_BEFORE_RE.search(text, max(0, match.start() - 12), match.start())
            if word is not None and word.group(1).lower().rstrip(".") in _ABBREVIATIONS:
                continue
        _append(text, spans, start, match.end())
        start = match.end()
    _append(text, spans, start, len(text))
    return spans


def _append(text: str, spans: list[Span], start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append(Span(start, end))


class Clauses:
    """Clause boundaries of one sentence, with protected spans left whole.

    Parameters
    ----------
    text
        The whole text.
    sentence
        The sentence's span.
    protected
        Spans (lead lists, value lists) whose commas do not end a clause.
    """

    def __init__(self, text: str, sentence: Span, protected: Sequence[Span] = ()) -> None:
        self.text = text
        self.sentence = sentence
        guarded = sorted((p.start, p.end) for p in protected)
        starts = [s for s, _ in guarded]
        breaks = [sentence.start]
        for match in _CLAUSE_BREAK_RE.finditer(text, sentence.start, sentence.end):
            i = bisect_right(starts, match.start()) - 1
            if i >= 0 and guarded[i][0] <= match.start() < guarded[i][1]:
                continue
            breaks.append(match.start())
        self._breaks = breaks

    def index(self, position: int) -> int:
        """Index of the clause holding ``position``."""
        return bisect_right(self._breaks, position) - 1

    def span(self, index: int) -> Span:
        """Span of clause ``index``."""
        start = self._breaks[index]
        end = self._breaks[index + 1] if index + 1 < len(self._breaks) else self.sentence.end
        return Span(start, end)

    def __len__(self) -> int:
        return len(self._breaks)


@dataclass(frozen=True)
class Scope:
    """Whether a mention is negated or hedged, and where the nearest cue before it starts."""

    negated: bool
    hedged: bool
    cue_start: int | None


class Cues:
    """Negation and hedge cues of one sentence, found once, looked up per mention.

    Parameters
    ----------
    text
        The whole text.
    sentence
        The sentence's span.
    """

    def __init__(self, text: str, sentence: Span) -> None:
        self.text = text
        a, b = sentence.start, sentence.end
        self._hedge_pre = _spans(_HEDGE_PRE_RE, text, a, b)
        self._hedge_post = _spans(_HEDGE_POST_RE, text, a, b)
        hedges = sorted([*self._hedge_pre, *self._hedge_post], key=lambda s: s.start)
        self._neg_pre = [c for c in _spans(_NEG_PRE_RE, text, a, b) if not _inside(c, hedges)]
        self._neg_post = [c for c in _spans(_NEG_POST_RE, text, a, b) if not _inside(c, hedges)]

    def scope(self, clause: Span, anchor: Span) -> Scope:
        """Negation and hedging of the mention ``anchor`` within its ``clause``.

        Pre cues count when they lie in the clause before the anchor, post cues when they lie
        in the clause after it; "unlikely" both negates and hedges.
        """
        hedge_pre = _between(self._hedge_pre, clause.start, anchor.start)
        hedge_post = _between(self._hedge_post, anchor.end, clause.end)
        neg_pre = _between(self._neg_pre, clause.start, anchor.start)
        neg_post = _between(self._neg_post, anchor.end, clause.end)
        hedges = (*hedge_pre, *hedge_post)
        unlikely = any(self.text[h.start : h.end].lower().endswith("unlikely") for h in hedges)
        cues = [c.start for c in (*hedge_pre, *neg_pre)]
        return Scope(
            negated=bool(neg_pre or neg_post or unlikely),
            hedged=bool(hedge_pre or hedge_post),
            cue_start=max(cues) if cues else None,
        )


def _spans(pattern: re.Pattern[str], text: str, start: int, end: int) -> list[Span]:
    return [Span(m.start(), m.end()) for m in pattern.finditer(text, start, end)]


def _between(spans: list[Span], start: int, end: int) -> list[Span]:
    """The spans (sorted, non-overlapping) lying wholly within ``[start, end)``."""
    lo = bisect_left(spans, start, key=lambda s: s.start)
    hi = bisect_right(spans, end, key=lambda s: s.start)
    return [s for s in spans[lo:hi] if s.end <= end]


def _inside(cue: Span, spans: list[Span]) -> bool:
    """Whether ``cue`` starts inside one of ``spans`` (sorted by start)."""
    i = bisect_right(spans, cue.start, key=lambda s: s.start) - 1
    return any(spans[k].start <= cue.start < spans[k].end for k in range(max(0, i - 2), i + 1))
