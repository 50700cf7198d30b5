"""Mentions of diagnoses, lead findings, qualitative intervals and beats in free text.

Diagnoses are matched against the statement vocabulary (:mod:`tools.statements`: names and
synonyms) on word tokens: case-insensitive after :func:`~tools.statements.normalise_phrase`,
longest match first, whole tokens only (so "RBBB" never matches inside "IRBBB"), and
acronyms of two or more capitals ("AF", "LBBB", "SR") only in their written case (so the
word "sr" or "af" in other text is no diagnosis). Lookup is by token n-grams in a dict:
linear in the text length whatever the vocabulary size.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from agent.verify import tolerances as tol
from tools.statements import STATEMENTS, find_by_phrase, normalise_phrase


@dataclass(frozen=True)
class Mention:
    """Something named at ``[start, end)``: a statement code, a finding, or a feature bound."""

    start: int
    end: int
    code: str | None = None
    feature: str | None = None
    low: float | None = None
    high: float | None = None
    negated: bool = False


# --- Diagnoses from the vocabulary ----------------------------------------------------------

_TOKEN_RE = re.compile(r"[A-Za-z0-9]+")
_JOINER_RE = re.compile(r"[\s\-‐–'’/]+")


def _case_sensitive(phrase: str) -> bool:
    return not any(c.isspace() for c in phrase) and sum(c.isupper() for c in phrase) >= 2


def _phrase_index() -> tuple[dict[str, frozenset[str] | None], frozenset[str]]:
    """Normalised phrase -> the exact spellings it must have (``None``: any case), and every
    word prefix of a phrase (to stop extending an n-gram early)."""
    index: dict[str, frozenset[str] | None] = {}
    prefixes: set[str] = set()
    for statement in STATEMENTS.values():
        for phrase in statement.phrases:
            key = normalise_phrase(phrase)
            if not key:
                continue
            words = key.split()
            prefixes.update(" ".join(words[:n]) for n in range(1, len(words) + 1))
            exact = index.get(key, frozenset())
            if exact is None or not _case_sensitive(phrase):
                index[key] = None
            else:
                index[key] = exact | {_squash(phrase)}
    return index, frozenset(prefixes)


def _squash(phrase: str) -> str:
    return _JOINER_RE.sub("", phrase)


def _fold(token: str) -> str:
    """A token as :func:`~tools.statements.normalise_phrase` would write it."""
    return (
        normalise_phrase(token)
        if not token.isascii()
        else token.lower().replace("ischaem", "ischem")
    )


_PHRASES, _PREFIXES = _phrase_index()


def find_diagnoses(text: str) -> list[Mention]:
    """Vocabulary statements named in ``text`` (leftmost-longest, non-overlapping)."""
    tokens = list(_TOKEN_RE.finditer(text))
    found: list[Mention] = []
    i = 0
    while i < len(tokens):
        hit = _longest_at(text, tokens, i)
        if hit is None:
            i += 1
            continue
        n, code = hit
        found.append(Mention(tokens[i].start(), tokens[i + n - 1].end(), code=code))
        i += n
    return found


def _longest_at(text: str, tokens: list[re.Match[str]], i: int) -> tuple[int, str] | None:
    key = ""
    hits: list[tuple[int, str]] = []
    for n in range(1, len(tokens) - i + 1):
        token = tokens[i + n - 1]
        if n > 1 and not _JOINER_RE.fullmatch(text[tokens[i + n - 2].end() : token.start()]):
            break
        key = f"{key} {_fold(token.group())}" if key else _fold(token.group())
        if key not in _PREFIXES:
            break
        if key not in _PHRASES:
            continue
        exact = _PHRASES[key]
        written = text[tokens[i].start() : tokens[i + n - 1].end()]
        if exact is None or _squash(written) in exact:
            statement = find_by_phrase(key)
            if statement is not None:
                hits.append((n, statement.code))
    return hits[-1] if hits else None


# --- Lead findings --------------------------------------------------------------------------

_TW = r"T[-\s]?waves?"
_ST = r"ST(?:[-\s]segments?)?"
_NOT_SHIFT = r"(?!\s*(?:segment\s+)?(?:depression|elevation))"  # "horizontal ST depression"
_BE = r"(?:(?:is|are|appears?|seems?)\s+)?"
_NOT = r"(?P<neg>not\s+)?"
#: Finding -> pattern. ``neg`` marks an inline negation ("T waves are not inverted").
FINDING_PATTERNS: Mapping[str, str] = MappingProxyType(
    {
        "st_elevation": (
            rf"ST[-\s]?(?:segment\s+)?elevations?|elevated\s+{_ST}|{_ST}\s+{_BE}{_NOT}elevated|STE"
        ),
        "st_depression": (
            rf"ST[-\s]?(?:segment\s+)?depressions?|depressed\s+{_ST}|{_ST}\s+{_BE}{_NOT}depressed"
        ),
        "t_inversion": (
            rf"{_TW}\s+{_BE}{_NOT}inverted|{_TW}\s+inversions?|inverted\s+{_TW}|inversion\s+of\s+"
            rf"(?:the\s+)?{_TW}|negative\s+{_TW}|{_TW}\s+{_BE}{_NOT}negative|T\s+inversions?|TWI"
        ),
        "t_flat": (
            rf"(?:flat|flattened|low[-\s]amplitude)\s+{_TW}|{_TW}\s+{_BE}{_NOT}(?:flat|flattened)"
            rf"|{_TW}\s+flattening"
        ),
        "t_upright": rf"(?:upright|positive)\s+{_TW}|{_TW}\s+{_BE}{_NOT}(?:upright|positive)",
        "q_wave": (
            r"(?P<small>(?:small|septal|physiologic(?:al)?|normal|tiny|narrow|insignificant)\s+)?"
            r"(?:(?:patholog(?:ic|ical)|abnormal|significant|deep|wide|prominent)\s+)?Q[-\s]?waves?"
            r"|QS\s+(?:complex(?:es)?|pattern|waves?)"
        ),
        "st_form_upslope": (
            rf"up[-\s]?slop(?:ing|ed)\s+{_ST}{_NOT_SHIFT}|{_ST}\s+{_BE}up[-\s]?slop(?:ing|ed)"
        ),
        "st_form_horizontal": rf"horizontal\s+{_ST}{_NOT_SHIFT}|{_ST}\s+{_BE}horizontal",
        "st_form_declination": (
            rf"(?:down[-\s]?slop(?:ing|ed)|declin(?:ing|ation))\s+{_ST}{_NOT_SHIFT}"
            rf"|{_ST}\s+{_BE}(?:down[-\s]?slop(?:ing|ed)|declin(?:ing|ation))"
        ),
    }
)  # fmt: skip

#: Findings that name a vocabulary statement when no lead is given.
FINDING_CODES: Mapping[str, str] = MappingProxyType(
    {
        "st_elevation": "STE_",
        "st_depression": "STD_",
        "t_inversion": "INVT",
        "t_flat": "LOWT",
        "q_wave": "QWAVE",
    }
)

_FINDING_RE = re.compile(
    "(?<![A-Za-z0-9])(?:"  # the word boundary once, before the alternation (fast)
    + "|".join(
        f"(?P<{name}>(?:{pattern})(?![A-Za-z0-9]))" for name, pattern in FINDING_PATTERNS.items()
    )
    .replace("(?P<neg>", "(?:")
    .replace("(?P<small>", "(?:")
    + ")",
    re.IGNORECASE,
)
#: Feature name of a small (septal, physiological) q wave mention.
SMALL_Q = "q_wave_small"
_INLINE_NEG_RE = re.compile(r"\bnot\b", re.IGNORECASE)
_SMALL_Q_RE = re.compile(
    r"^(?:small|septal|physiologic(?:al)?|normal|tiny|narrow|insignificant)\s", re.IGNORECASE
)


def find_findings(text: str) -> list[Mention]:
    """Lead findings named in ``text`` (ST elevation/depression, T inversion, flat or upright
    T, Q waves, ST form). Small/septal/physiological q waves are normal and not reported."""
    found = []
    for match in _FINDING_RE.finditer(text):
        name = str(match.lastgroup)
        written = match.group()
        if name == "q_wave" and _SMALL_Q_RE.match(written):
            name = SMALL_Q  # normal: suppresses the vocabulary's "q waves", makes no claim
        found.append(
            Mention(
                match.start(),
                match.end(),
                code=FINDING_CODES.get(name) if name != SMALL_Q else None,
                feature=name,
                negated=_INLINE_NEG_RE.search(written) is not None,
            )
        )
    return found


# --- Qualitative intervals ("narrow QRS", "normal PR interval") -----------------------------

_QRS = r"QRS(?:\s+(?:complex(?:es)?|durations?|widths?|intervals?))?"
_PR = r"P[-\s]?R(?:\s+intervals?)?"
_QTC = r"QTc(?:\s+intervals?)?|corrected\s+QT(?:\s+intervals?)?"
_RATE = r"(?:heart|ventricular)\s+rates?"
_NORMAL = r"(?:normal|within\s+normal\s+limits|unremarkable)"
#: (feature, low, high, pattern): a bound implied by a qualitative word.
QUALITATIVE: tuple[tuple[str, float | None, float | None, str], ...] = (
    ("qrs_ms", None, tol.QRS_WIDE_MS, rf"narrow\s+{_QRS}|{_QRS}\s+{_BE}narrow"),
    ("qrs_ms", tol.QRS_WIDE_MS, None,
     rf"(?:wide|broad|widened)\s+{_QRS}|{_QRS}\s+{_BE}(?:wide|broad|widened)"),
    ("qrs_ms", None, tol.QRS_NORMAL_MAX_MS,
     rf"normal\s+QRS\s+(?:durations?|widths?)|QRS\s+(?:durations?|widths?)\s+{_BE}{_NORMAL}"),
    ("pr_ms", tol.PR_NORMAL_MIN_MS, tol.PR_NORMAL_MAX_MS,
     rf"normal\s+{_PR}|{_PR}\s+{_BE}{_NORMAL}"),
    ("pr_ms", None, tol.PR_NORMAL_MIN_MS, rf"short(?:ened)?\s+{_PR}|{_PR}\s+{_BE}short(?:ened)?"),
    ("qtc_ms", None, tol.QTC_NORMAL_MAX_MS, rf"normal\s+(?:{_QTC})|(?:{_QTC})\s+{_BE}{_NORMAL}"),
    ("heart_rate_bpm", tol.RATE_NORMAL_MIN_BPM, tol.RATE_NORMAL_MAX_BPM,
     rf"normal\s+{_RATE}|{_RATE}\s+{_BE}{_NORMAL}"),
)  # fmt: skip
_QUALITATIVE_RE = re.compile(
    "(?<![A-Za-z0-9])(?:"
    + "|".join(
        f"(?P<q{i}>(?:{pattern})(?![A-Za-z0-9]))"
        for i, (_, _, _, pattern) in enumerate(QUALITATIVE)
    )
    + ")",
    re.IGNORECASE,
)


def find_qualitative(text: str) -> list[Mention]:
    """Interval words that imply a bound: "narrow QRS" (QRS < 120 ms), "normal PR" (120-200)."""
    found = []
    for match in _QUALITATIVE_RE.finditer(text):
        feature, low, high, _ = QUALITATIVE[int(str(match.lastgroup)[1:])]
        found.append(Mention(match.start(), match.end(), feature=feature, low=low, high=high))
    return found


# --- Beats ----------------------------------------------------------------------------------

_ORDINALS = (
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
    "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth",
    "seventeenth", "eighteenth", "nineteenth", "twentieth",
)  # fmt: skip
_ORDINAL_INDEX = {word: i + 1 for i, word in enumerate(_ORDINALS)}
_BEAT_NOUN = r"(?:beat|complex|QRS\s+complex|cycle|heartbeat)"
_BEAT_RE = re.compile(
    rf"(?<![A-Za-z0-9])(?:(?P<word>{'|'.join(_ORDINALS)})|(?P<num>\d{{1,3}})(?:st|nd|rd|th))"
    rf"\s+{_BEAT_NOUN}(?![A-Za-z])"
    rf"|(?<![A-Za-z0-9]){_BEAT_NOUN}\s+(?:(?:number|no\.?|#)\s*)?(?P<index>\d{{1,3}})(?![\d.])",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class BeatMention:
    """A beat named at ``[start, end)``; ``beat`` is 1-based."""

    start: int
    end: int
    beat: int


def find_beats(text: str) -> list[BeatMention]:
    """Beats named as "the third beat", "3rd beat", "beat 3"."""
    found = []
    for match in _BEAT_RE.finditer(text):
        word, num, index = match.group("word"), match.group("num"), match.group("index")
        beat = _ORDINAL_INDEX[word.lower()] if word else int(num or index)
        if beat >= 1:
            found.append(BeatMention(match.start(), match.end(), beat))
    return found
