"""The ECG statement vocabulary: lookups by code, SNOMED CT id, category and phrase.

One :class:`StatementDef` per statement, keyed by its SCP-ECG code as PTB-XL uses it (or a
``GEM:`` code where PTB-XL has none); the table itself is :mod:`tools.statements._table`.
Label metrics map PTB-XL SCP codes (:func:`find_by_scp`) and CinC SNOMED CT ids
(:func:`find_by_snomed`) onto it; the verifier maps diagnosis mentions in free text onto it
(:func:`find_by_phrase`, exact after normalisation; fuzzy reading is a later issue).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from types import MappingProxyType

from tools.statements._table import STATEMENT_TABLE
from tools.statements.definition import (
    CATEGORIES,
    OWN_PREFIX,
    Category,
    StatementDef,
    Superclass,
)
from tools.statements.errors import StatementError, UnknownStatementError

__all__ = [
    "CATEGORIES",
    "OWN_PREFIX",
    "STATEMENTS",
    "Category",
    "StatementDef",
    "Superclass",
    "find_by_phrase",
    "find_by_scp",
    "find_by_snomed",
    "get_statement",
    "normalise_phrase",
    "ptbxl_superclass",
    "statements_by_category",
]

#: British spellings folded onto the American ones the synonyms use.
_SPELLING_FOLDS: tuple[tuple[str, str], ...] = (("ischaem", "ischem"), ("oesophag", "esophag"))


def normalise_phrase(text: str) -> str:
    """Normalise a phrase for exact matching.

    Unicode NFKC, lower case, British ``ischaem-`` folded to ``ischem-``, every run of
    characters other than letters and digits (hyphens, apostrophes, punctuation, spaces)
    collapsed to one space, ends stripped:
    ``"1st-degree A-V block."`` -> ``"1st degree a v block"``.
    """
    folded = unicodedata.normalize("NFKC", text).lower()
    for british, american in _SPELLING_FOLDS:
        folded = folded.replace(british, american)
    return re.sub(r"[^0-9a-z]+", " ", folded).strip()


def _index_by_code(table: tuple[StatementDef, ...]) -> dict[str, StatementDef]:
    index: dict[str, StatementDef] = {}
    for entry in table:
        if entry.code in index:
            raise StatementError("vocabulary", f"statement code {entry.code!r} is defined twice")
        index[entry.code] = entry
    return index


def _index_many(
    table: tuple[StatementDef, ...], keys_of: str, normalise: bool = False
) -> dict[str, StatementDef]:
    """Index statements by each of their keys; a key naming two statements is a table bug."""
    index: dict[str, StatementDef] = {}
    for entry in table:
        keys: tuple[str, ...] = getattr(entry, keys_of)
        for raw in keys:
            key = normalise_phrase(raw) if normalise else raw
            other = index.get(key)
            if other is not None and other.code != entry.code:
                raise StatementError(
                    "vocabulary", f"{keys_of} {raw!r} names both {other.code} and {entry.code}"
                )
            index[key] = entry
    return index


#: Code -> statement, in table order (read-only).
STATEMENTS: Mapping[str, StatementDef] = MappingProxyType(_index_by_code(STATEMENT_TABLE))
_BY_SNOMED = _index_many(STATEMENT_TABLE, "snomed")
_BY_PHRASE = _index_many(STATEMENT_TABLE, "phrases", normalise=True)
_BY_ALIAS = _index_many(STATEMENT_TABLE, "scp_aliases")


def get_statement(code: str) -> StatementDef:
    """Return the statement of ``code`` (``"AFIB"``, ``"GEM:LAD"``).

    Raises
    ------
    UnknownStatementError
        When ``code`` is not in the vocabulary.
    """
    try:
        return STATEMENTS[code]
    except KeyError:
        raise UnknownStatementError(
            "vocabulary",
            f"statement code {code!r} is not in the vocabulary; codes are SCP-ECG codes as "
            f"PTB-XL writes them (e.g. 'AFIB', '1AVB') or project codes starting {OWN_PREFIX!r}",
        ) from None


def statements_by_category(category: Category) -> tuple[StatementDef, ...]:
    """All statements of one category, in table order.

    Raises
    ------
    StatementError
        When ``category`` is not one of :data:`CATEGORIES`.
    """
    if category not in CATEGORIES:
        raise StatementError(
            "vocabulary", f"unknown category {category!r}; expected one of {', '.join(CATEGORIES)}"
        )
    return tuple(entry for entry in STATEMENTS.values() if entry.category == category)


def find_by_snomed(code: str | int) -> StatementDef | None:
    """The statement a CinC 2020/2021 SNOMED CT id maps onto, or ``None``."""
    return _BY_SNOMED.get(str(code).strip())


def find_by_scp(code: str) -> StatementDef | None:
    """The statement a PTB-XL SCP code maps onto (its own entry or an alias), or ``None``.

    ``find_by_scp("LPR")`` gives ``1AVB``; ``find_by_scp("VCLVH")`` gives ``LVH``.
    """
    key = code.strip()
    return STATEMENTS.get(key) or _BY_ALIAS.get(key)


def find_by_phrase(text: str) -> StatementDef | None:
    """The statement whose name or synonym equals ``text`` after :func:`normalise_phrase`.

    Exact match only: ``"Atrial Fibrillation"``, ``"a-fib"`` and ``"AF"`` all give ``AFIB``;
    ``"atrial fibrillation with RVR"`` gives ``None``.
    """
    return _BY_PHRASE.get(normalise_phrase(text))


def ptbxl_superclass(code: str) -> Superclass | None:
    """PTB-XL diagnostic superclass (NORM, MI, STTC, CD, HYP) of ``code``, or ``None``.

    Raises
    ------
    UnknownStatementError
        When ``code`` is not in the vocabulary.
    """
    return get_statement(code).superclass
