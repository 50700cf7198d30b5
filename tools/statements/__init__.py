"""ECG statements: the vocabulary and the published criteria that compute them.

>>> from tools.statements import evaluate_criteria, explain, find_by_phrase
>>> statements = evaluate_criteria(measurements, sex="F", age_years=63)  # doctest: +SKIP
>>> explain("CLBBB", measurements).met  # doctest: +SKIP
False

:func:`evaluate_criteria` returns a :class:`~tools.measure.model.Statement` (with its evidence)
for every criterion met; :func:`evaluate_rule` checks one statement; :func:`explain` returns
the evidence whether the criterion is met or not, and says when it cannot be assessed.
"""

from __future__ import annotations

from tools.measure.model import Measurements, Statement
from tools.statements.criteria import RULES, Finding, Rule, RuleInput, RuleResult
from tools.statements.criteria._base import Sex
from tools.statements.errors import StatementError, UnknownStatementError
from tools.statements.vocabulary import (
    CATEGORIES,
    OWN_PREFIX,
    STATEMENTS,
    Category,
    StatementDef,
    Superclass,
    find_by_phrase,
    find_by_scp,
    find_by_snomed,
    get_statement,
    normalise_phrase,
    ptbxl_superclass,
    statements_by_category,
)


def _result(rule: Rule, inp: RuleInput, finding: Finding | None = None) -> RuleResult:
    finding = rule.evaluate(inp) if finding is None else finding
    return RuleResult(
        code=rule.code,
        name=get_statement(rule.code).name,
        met=finding.state is True,
        assessable=finding.state is not None,
        leads=list(finding.leads) if finding.state else [],
        evidence=[check.to_evidence() for check in finding.evidence],
        rule=rule.criterion,
        citation=rule.citation,
        note=finding.note,
    )


def explain(
    code: str,
    measurements: Measurements,
    *,
    sex: Sex | None = None,
    age_years: float | None = None,
) -> RuleResult:
    """Check one statement and return its evidence, met or not.

    Parameters
    ----------
    code
        Statement code (``"CLBBB"``, ``"GEM:STE_INF"``).
    measurements
        The record's measurement set.
    sex, age_years
        ``"M"``/``"F"`` and age where known; sex- and age-dependent limits fall back to the
        conservative one (stated in the evidence) when they are not.

    Returns
    -------
    RuleResult
        ``met``; ``assessable`` (False when a needed measurement is missing, the needed leads
        are unusable, or the statement has no criterion yet, e.g. ``AFLT``); the evidence.

    Raises
    ------
    UnknownStatementError
        ``code`` is not in the vocabulary.
    StatementError
        ``sex`` or ``age_years`` is invalid.
    """
    statement = get_statement(code)
    inp = RuleInput.build(measurements, sex, age_years)
    rule = RULES.get(code)
    if rule is None:
        return RuleResult(
            code=code,
            name=statement.name,
            met=False,
            assessable=False,
            note=f"no criterion for {code} is computed from the measurement set",
        )
    return _result(rule, inp)


def evaluate_rule(
    code: str,
    measurements: Measurements,
    *,
    sex: Sex | None = None,
    age_years: float | None = None,
) -> Statement | None:
    """The :class:`Statement` for ``code`` when its criterion is met, else ``None``.

    Use :func:`explain` to see the evidence when it is not met.
    """
    return explain(code, measurements, sex=sex, age_years=age_years).to_statement()


def evaluate_criteria(
    measurements: Measurements,
    *,
    sex: Sex | None = None,
    age_years: float | None = None,
) -> list[Statement]:
    """Every statement whose published criterion the measurements meet, with its evidence.

    Statements come in a fixed order (rhythm, conduction, axis, hypertrophy and voltage, ST,
    Q waves, repolarisation). Leads not in ``measurements.usable_leads`` never fire a rule,
    and a missing measurement never counts as zero.

    Raises
    ------
    StatementError
        ``sex`` or ``age_years`` is invalid.
    DuplicateLeadError
        Two lead entries name the same lead.
    """
    inp = RuleInput.build(measurements, sex, age_years)
    statements: list[Statement] = []
    for rule in RULES.values():
        finding = rule.evaluate(inp)
        if finding.state is True:
            statement = _result(rule, inp, finding).to_statement()
            if statement is not None:
                statements.append(statement)
    return statements


def criteria_codes() -> tuple[str, ...]:
    """Codes of the statements that have a criterion, in evaluation order."""
    return tuple(RULES)


__all__ = [
    "CATEGORIES",
    "OWN_PREFIX",
    "STATEMENTS",
    "Category",
    "RuleResult",
    "StatementDef",
    "StatementError",
    "Superclass",
    "UnknownStatementError",
    "criteria_codes",
    "evaluate_criteria",
    "evaluate_rule",
    "explain",
    "find_by_phrase",
    "find_by_scp",
    "find_by_snomed",
    "get_statement",
    "normalise_phrase",
    "ptbxl_superclass",
    "statements_by_category",
]
