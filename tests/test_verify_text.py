"""Sentence splitting, clauses, and the scope of negation and hedging."""

from __future__ import annotations

import pytest

from agent.verify.text import Clauses, Cues, Span, split_sentences


def _sentences(text: str) -> list[str]:
    return [text[s.start : s.end] for s in split_sentences(text)]


def _scope(text: str, mention: str) -> tuple[bool, bool]:
    sentence = Span(0, len(text))
    clauses = Clauses(text, sentence)
    start = text.index(mention)
    clause = clauses.span(clauses.index(start))
    scope = Cues(text, sentence).scope(clause, Span(start, start + len(mention)))
    return scope.negated, scope.hedged


class TestSplitSentences:
    def test_basic(self) -> None:
        text = "Sinus rhythm. PR 0.18 s, QRS 90 ms! No LBBB?\nPossible LVH"
        assert _sentences(text) == [
            "Sinus rhythm.", "PR 0.18 s, QRS 90 ms!", "No LBBB?", "Possible LVH",
        ]  # fmt: skip

    def test_decimal_point_and_abbreviation_do_not_split(self) -> None:
        assert _sentences("Rate approx. 75 bpm, e.g. in V1 0.18 s. Next.") == [
            "Rate approx. 75 bpm, e.g. in V1 0.18 s.",
            "Next.",
        ]

    @pytest.mark.parametrize(("text", "expected"), [("", []), ("   ", []), ("\n\n", []),
                                                     ("...", ["..."])])  # fmt: skip
    def test_empty_and_punctuation_only(self, text: str, expected: list[str]) -> None:
        assert _sentences(text) == expected


class TestClauses:
    def test_commas_in_protected_spans_do_not_split(self) -> None:
        text = "T inversion in II, III and aVF, but not in V1"
        protected = [Span(text.index("II"), text.index("aVF") + 3)]
        clauses = Clauses(text, Span(0, len(text)), protected)
        assert len(clauses) == 3  # start, after "aVF,", before "but"
        assert clauses.index(text.index("III")) == clauses.index(0)


class TestScope:
    @pytest.mark.parametrize(
        ("text", "mention", "negated", "hedged"),
        [
            ("LBBB.", "LBBB", False, False),
            ("No LBBB.", "LBBB", True, False),
            ("No evidence of LBBB.", "LBBB", True, False),
            ("No signs of LBBB.", "LBBB", True, False),
            ("Sinus rhythm without ST elevation.", "ST elevation", True, False),
            ("Sinus rhythm without ST elevation.", "Sinus rhythm", False, False),
            ("LBBB is absent.", "LBBB", True, False),
            ("LBBB is not present.", "LBBB", True, False),
            ("Negative for LBBB.", "LBBB", True, False),
            ("This rules out LBBB.", "LBBB", True, False),
            ("LBBB was ruled out.", "LBBB", True, False),
            ("Possible LVH.", "LVH", False, True),
            ("Probable LVH.", "LVH", False, True),
            ("Consider LVH.", "LVH", False, True),
            ("Cannot exclude LVH.", "LVH", False, True),
            ("LVH cannot be excluded.", "LVH", False, True),
            ("LVH not excluded.", "LVH", False, True),
            ("Findings suggestive of LVH.", "LVH", False, True),
            ("LVH is likely.", "LVH", False, True),
            ("LVH is unlikely.", "LVH", True, True),
            ("No ST elevation, but T inversion in V5.", "T inversion", False, False),
            ("No ST elevation; T inversion in V5.", "T inversion", False, False),
            ("No ST elevation however T inversion in V5.", "T inversion", False, False),
            ("Nonspecific ST changes.", "ST changes", False, False),
            ("Normal sinus rhythm, LBBB is not seen.", "Normal sinus rhythm", False, False),
        ],
    )
    def test_scope(self, text: str, mention: str, negated: bool, hedged: bool) -> None:
        assert _scope(text, mention) == (negated, hedged)
