"""Claim extraction: free text -> :class:`~agent.verify.model.Claim` list.

Per sentence, every *anchor* is found first: a quantity with the feature keyword that names
it ("QRS durations ... 92 to 132 ms"), a qualitative interval word ("narrow QRS"), a lead
finding ("T wave inversion"), or a vocabulary diagnosis ("LBBB"). Lead and beat mentions,
negation and hedging are then attached to the anchors (:mod:`agent.verify.attach`). A lead
finding without leads becomes the diagnosis it names ("T wave inversion" -> ``INVT``).

A number becomes a claim only with a unit (or, for heart rate and axis, right after a keyword
that can mean nothing else: "heart rate of 75", "axis -30", but not "QRS 90"), and only when
a feature keyword of the unit's dimension names it in the same sentence (or "bpm" alone:
heart rate).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable

from agent.verify.anchors import Anchor, Found, overlapping
from agent.verify.attach import Attacher
from agent.verify.features import FEATURES, Dimension, Keyword
from agent.verify.mentions import SMALL_Q, Mention
from agent.verify.model import Claim
from agent.verify.numbers import Quantity
from agent.verify.text import Clauses, Span, split_sentences

#: A keyword names a number at most this many characters before it.
KEYWORD_REACH_CHARS = 100
#: A keyword written right after its number ("a 160 ms PR interval"): at most this gap.
KEYWORD_AFTER_CHARS = 3
#: A unitless rate or axis value must follow its keyword this closely ("heart rate of 75").
BARE_NUMBER_REACH_CHARS = 25
_BARE_GAP_RE = re.compile(
    r"\s*(?:(?:of|is|was|at|about|approximately|around|roughly|~|:|=)\s*)*", re.IGNORECASE
)
#: "QRS duration is not 90 ms": a negation between a keyword and its value.
_INLINE_NOT_RE = re.compile(r"\b(?:not|never)\b", re.IGNORECASE)
#: The statement "normal ECG", whose synonym "within normal limits" also describes features.
NORMAL_ECG = "NORM"
#: Dimensions whose keyword may be followed by a unitless value ("heart rate 75", "axis -30").
_BARE_DIMENSIONS: tuple[Dimension, ...] = ("rate", "angle")


def extract_claims(text: str) -> list[Claim]:
    """Every claim in a free-text ECG interpretation, in text order.

    Parameters
    ----------
    text
        GEM's paragraph (any length; garbage gives few or no claims).

    Returns
    -------
    list of Claim
        Numeric claims (values in the feature's unit), lead findings with their leads, and
        vocabulary diagnoses, each with its negation and hedging.
    """
    if not text or not text.strip():
        return []
    found = Found.scan(text)
    claims: list[Claim] = []
    for sentence in split_sentences(text):
        claims += _SentenceReader(text, sentence, found.within(sentence)).claims()
    return claims


class _SentenceReader:
    """Builds the claims of one sentence."""

    def __init__(self, text: str, sentence: Span, found: Found) -> None:
        self.text = text
        self.found = found
        protected = [Span(m.start, m.end) for m in found.leads]
        protected += [Span(q.start, q.end) for q in found.quantities]
        self.clauses = Clauses(text, sentence, protected)
        self.attacher = Attacher(text, sentence, found, self.clauses)
        self.keyword_ends = [k.end for k in found.keywords]

    def clause(self, position: int) -> int:
        return self.clauses.index(position)

    # -- anchors -------------------------------------------------------------------------
    def claims(self) -> list[Claim]:
        used_keywords: set[int] = set()
        anchors = self._numeric(used_keywords)
        anchors += [
            Anchor(m.start, m.end, "numeric", feature=m.feature, low=m.low, high=m.high)
            for m in self.found.qualitative
        ]
        anchors += self._findings_and_diagnoses(used_keywords)
        anchors.sort(key=lambda a: (a.start, a.end))
        self.attacher.run(anchors)
        return [c for a in anchors if (c := self._claim(a)) is not None]

    def _numeric(self, used_keywords: set[int]) -> list[Anchor]:
        anchors = []
        for q in self.found.quantities:
            resolved = self._resolve(q)
            if resolved is None:
                continue
            dimension, low, high, keyword = resolved
            inline_negated = False
            if keyword is None:
                feature, start, end = "heart_rate_bpm", q.start, q.end
            else:
                gap = self.text[keyword.end : q.start] if keyword.end <= q.start else ""
                inline_negated = _INLINE_NOT_RE.search(gap) is not None
                feature = keyword.features[dimension]
                reused = keyword.start in used_keywords
                used_keywords.add(keyword.start)
                start = q.start if reused else min(keyword.start, q.start)
                end = max(keyword.end, q.end)
            anchors.append(
                Anchor(
                    start,
                    end,
                    "numeric",
                    feature=feature,
                    low=low,
                    high=high,
                    spread=q.spread,
                    signed=q.signed,
                    inline_negated=inline_negated,
                )
            )
        return anchors

    def _resolve(
        self, q: Quantity
    ) -> tuple[Dimension, float | None, float | None, Keyword | None] | None:
        """The dimension, values and keyword of a quantity, or ``None`` (not a claim)."""
        if q.dimension is None:
            keyword = self._bare_keyword(q)
            if keyword is None:
                return None
            dimension = next(d for d in _BARE_DIMENSIONS if d in keyword.features)
            return dimension, q.low, q.high, keyword
        keyword = self._keyword(q, q.dimension)
        if keyword is None and q.dimension != "rate":
            return None
        return q.dimension, q.low, q.high, keyword

    def _keyword(self, q: Quantity, dimension: Dimension) -> Keyword | None:
        """The keyword naming ``q``: the nearest one before it in its clause, else one written
        right after it, else the nearest one before it in the sentence (within reach)."""
        keywords = self.found.keywords
        i = bisect_right(self.keyword_ends, q.start)
        nearest: Keyword | None = None
        for k in reversed(keywords[:i]):
            if q.start - k.end > KEYWORD_REACH_CHARS:
                break
            if dimension not in k.features:
                continue
            if self.clause(k.start) == self.clause(q.start):
                return k
            nearest = nearest or k
        for k in keywords[i:]:
            if k.start - q.end > KEYWORD_AFTER_CHARS:
                break
            if k.start >= q.end and dimension in k.features:
                return k
        return nearest

    def _bare_keyword(self, q: Quantity) -> Keyword | None:
        """A rate or axis keyword right before a unitless number ("heart rate of 75")."""
        i = bisect_right(self.keyword_ends, q.start)
        if i == 0:
            return None
        k = self.found.keywords[i - 1]
        close = q.start - k.end <= BARE_NUMBER_REACH_CHARS
        named = len(k.features) == 1 and any(d in k.features for d in _BARE_DIMENSIONS)
        if close and named and _BARE_GAP_RE.fullmatch(self.text, k.end, q.start) is not None:
            return k
        return None

    def _findings_and_diagnoses(self, used_keywords: set[int]) -> list[Anchor]:
        used = [k for k in self.found.keywords if k.start in used_keywords]
        diagnoses = self.found.diagnoses
        anchors: list[Anchor] = []
        consumed: set[int] = set()
        for f in self.found.findings:
            named = overlapping(diagnoses, f.start, f.end)
            consumed.update(id(d) for d in named)
            if f.feature == SMALL_Q or overlapping(used, f.start, f.end):
                continue  # normal q waves; or the finding is a numeric claim's keyword
            code = named[0].code if named else f.code
            start = min([f.start, *(d.start for d in named)])
            end = max([f.end, *(d.end for d in named)])
            anchors.append(
                Anchor(
                    start, end, "finding", feature=f.feature, code=code, inline_negated=f.negated
                )
            )
        for m in self.found.qualitative:
            consumed.update(id(d) for d in overlapping(diagnoses, m.start, m.end))
        seen: set[tuple[str | None, int]] = set()
        for d in diagnoses:
            key = (d.code, self.clause(d.start))
            if id(d) in consumed or self._normal_of_a_feature(d) or key in seen:
                continue  # one claim per statement per clause ("Mobitz II second-degree block")
            seen.add(key)
            anchors.append(Anchor(d.start, d.end, "diagnosis", code=d.code))
        return anchors

    def _normal_of_a_feature(self, d: Mention) -> bool:
        """ "QT interval is 380 ms, within normal limits": a normal feature, not a normal ECG."""
        if d.code != NORMAL_ECG or "limits" not in self.text[d.start : d.end].lower():
            return False
        i = bisect_right(self.keyword_ends, d.start)
        return i > 0 and d.start - self.found.keywords[i - 1].end <= KEYWORD_REACH_CHARS // 2

    # -- claims --------------------------------------------------------------------------
    def _claim(self, a: Anchor) -> Claim | None:
        start = min(x for x in (a.start, a.cue_start, a.origin) if x is not None)
        end = max(a.end, a.extent)
        common = {
            "text": self.text[start:end],
            "span": (start, end),
            "leads": a.leads,
            "beat": a.beat,
            "negated": a.negated,
            "hedged": a.hedged,
        }
        if a.kind == "numeric":
            assert a.feature is not None
            return Claim(
                kind="numeric", feature=a.feature, value_low=a.low, value_high=a.high,
                unit=FEATURES[a.feature].unit, spread=a.spread, signed=a.signed, **common,
            )  # fmt: skip
        if a.kind == "finding" and a.leads:
            return Claim(kind="lead_finding", feature=a.feature, statement_code=a.code, **common)
        if a.code is None:
            return None  # "upright T waves" with no lead: nothing to check
        return Claim(kind="diagnosis", statement_code=a.code, **common)


def claims_from_codes(codes: Iterable[str]) -> list[Claim]:
    """Diagnosis claims from a structured backend's statement codes (``["SR", "CLBBB"]``).

    ``verify_claims`` checks them exactly as it checks diagnoses found in free text.
    """
    return [Claim(text=code, span=(0, 0), kind="diagnosis", statement_code=code) for code in codes]
