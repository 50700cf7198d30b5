"""Giving lead and beat mentions to claim anchors, and negation/hedging scope to each anchor.

A mention belongs to the anchor that contains it, else the anchor just before it in the same
clause ("ST elevation in V2-V4"), else the next anchor ("In lead II, the PR interval is
160 ms"), else the one before; never across a ";". Findings joined by "and" share leads
("ST elevation and T inversion in V5"); a clause opened by "where" is about the leads of the
clause before. Negation and hedging are per clause (:class:`agent.verify.text.Cues`) and carry
along a list of diagnoses ("no LBBB, RBBB or AF": all three negated).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from itertools import pairwise

from agent.verify.anchors import Anchor, Found, extend
from agent.verify.text import Clauses, Cues, Span
from tools.leads import STANDARD_LEADS

#: Longest gap between two findings that share leads, or two diagnoses of one list.
JOIN_GAP_CHARS = 20
#: Anchors looked at on each side of a lead mention when finding its owner.
NEIGHBOURS = 4
#: Joiners of two findings that share the second one's leads.
_SHARE_GAP_RE = re.compile(r"\s*(?:,|and|or|with|/|&|as\s+well\s+as)?\s*(?:and\s+)?", re.IGNORECASE)
#: Joiners of a list of diagnoses that a negation or hedge carries along.
_LIST_JOIN_RE = re.compile(r"\s*(?:,\s*)?(?:(?:or|and|nor|/)\s+)?", re.IGNORECASE)
#: A clause about the leads of the clause before ("..., where T inversion is normal").
_RELATIVE_RE = re.compile(r"\s*(?:where|in\s+which|in\s+these(?:\s+leads)?)\b", re.IGNORECASE)
_SEMICOLON_RE = re.compile(";")


class Attacher:
    """Attaches mentions and scope to the (sorted) anchors of one sentence."""

    def __init__(self, text: str, sentence: Span, found: Found, clauses: Clauses) -> None:
        self.text = text
        self.found = found
        self.clauses = clauses
        self.cues = Cues(text, sentence)
        self.semicolons = [
            m.start() for m in _SEMICOLON_RE.finditer(text, sentence.start, sentence.end)
        ]

    def clause(self, position: int) -> int:
        return self.clauses.index(position)

    def run(self, anchors: list[Anchor]) -> None:
        """Leads, beats, negation and hedging of every anchor (in place)."""
        self._attach(anchors)
        self._share_leads(anchors)
        self._relative_clause_leads(anchors)
        for a in anchors:
            self._scope(a)
        self._carry_scope_along_lists(anchors)

    def _owner(self, anchors: list[Anchor], start: int, end: int) -> Anchor | None:
        """The anchor a lead or beat mention at ``[start, end)`` belongs to."""
        i = bisect_right(anchors, start, key=lambda a: a.start)
        earlier = anchors[max(0, i - NEIGHBOURS) : i]  # anchors rarely nest: a few suffice
        inside = [a for a in earlier if end <= a.end]
        if inside:
            return inside[-1]
        prev = max((a for a in earlier if a.end <= start), key=lambda a: a.end, default=None)
        nxt = next((a for a in anchors[i : i + NEIGHBOURS] if a.start >= end), None)
        if prev is not None and self._semicolon_between(prev.end, start):
            prev = None  # "Q depth 0.15 mV in I; QRS morphology QS in aVL": aVL is not the Q's
        if nxt is not None and self._semicolon_between(end, nxt.start):
            nxt = None  # "ST elevation, inferior leads (II, III); T inversion": not fronted
        if prev is not None and (nxt is None or self.clause(prev.end - 1) == self.clause(start)):
            return prev
        return nxt

    def _semicolon_between(self, start: int, end: int) -> bool:
        i = bisect_left(self.semicolons, start)
        return i < len(self.semicolons) and self.semicolons[i] < end

    def _attach(self, anchors: list[Anchor]) -> None:
        if not anchors:
            return
        for mention in self.found.leads:
            owner = self._owner(anchors, mention.start, mention.end)
            if owner is not None:
                owner.leads = [n for n in STANDARD_LEADS if n in {*owner.leads, *mention.leads}]
                extend(owner, mention.start, mention.end)
        for b in self.found.beats:
            owner = self._owner(anchors, b.start, b.end)
            if owner is not None and owner.beat is None:
                owner.beat = b.beat
                extend(owner, b.start, b.end)

    def _share_leads(self, anchors: list[Anchor]) -> None:
        """ "ST elevation and T inversion in V5": a finding without leads joined to the next
        finding only by "and"/","/"with" shares its leads."""
        for a, b in reversed(list(pairwise(anchors))):
            short = b.start - a.end <= JOIN_GAP_CHARS
            joined = short and _SHARE_GAP_RE.fullmatch(self.text, a.end, b.start) is not None
            if a.kind == b.kind == "finding" and not a.leads and b.leads and joined:
                a.leads = list(b.leads)
                a.extent = max(a.extent, b.extent)

    def _relative_clause_leads(self, anchors: list[Anchor]) -> None:
        """ "upright in all leads except aVR and V1, where T inversion is normal": a finding in
        a clause opened by "where" is about the leads named in the clause before."""
        for a in anchors:
            index = self.clause(a.start)
            if a.kind != "finding" or a.leads or index == 0:
                continue
            clause = self.clauses.span(index)
            if not _RELATIVE_RE.match(self.text, clause.start + 1, a.start):
                continue
            before = self.clauses.span(index - 1)
            named = [m for m in self.found.leads if before.start <= m.start < before.end]
            if named:
                a.leads = list(named[-1].excepted or named[-1].leads)

    def _scope(self, a: Anchor) -> None:
        clause = self.clauses.span(self.clause(a.start))
        scope = self.cues.scope(clause, Span(a.start, a.end))
        a.negated, a.hedged = scope.negated or a.inline_negated, scope.hedged
        a.cue_start = scope.cue_start

    def _carry_scope_along_lists(self, anchors: list[Anchor]) -> None:
        """ "No evidence of LBBB, RBBB or atrial fibrillation": a negation (or hedge) carries
        along a list of diagnoses joined only by commas, "or", "and", "nor"."""
        for a, b in pairwise(anchors):
            listed = a.kind != "numeric" and b.kind != "numeric" and not (b.negated or b.hedged)
            short = b.start - a.end <= JOIN_GAP_CHARS
            scoped = a.negated or a.hedged
            if listed and short and scoped and _LIST_JOIN_RE.fullmatch(self.text, a.end, b.start):
                b.negated, b.hedged = a.negated, a.hedged
