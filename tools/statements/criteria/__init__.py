"""Published ECG criteria applied to a measurement set, one module per statement family.

:data:`RULES` maps each statement code with a criterion onto its :class:`Rule`; the rule
functions are pure (``RuleInput -> Finding``) and live in :mod:`.rhythm`, :mod:`.conduction`,
:mod:`.axis`, :mod:`.hypertrophy`, :mod:`.ischemia`, :mod:`.infarction` and
:mod:`.repolarisation`. Thresholds are in :mod:`tools.statements.thresholds`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from tools.statements.criteria import (
    axis,
    conduction,
    hypertrophy,
    infarction,
    ischemia,
    repolarisation,
    rhythm,
)
from tools.statements.criteria._base import Finding, Rule, RuleInput, RuleResult
from tools.statements.errors import StatementError


def _registry() -> dict[str, Rule]:
    registry: dict[str, Rule] = {}
    for module in (rhythm, conduction, axis, hypertrophy, ischemia, infarction, repolarisation):
        for rule in module.RULES:
            if rule.code in registry:
                raise StatementError("criteria", f"two rules for statement {rule.code!r}")
            registry[rule.code] = rule
    return registry


#: Statement code -> its criterion, in evaluation (and report) order.
RULES: Mapping[str, Rule] = MappingProxyType(_registry())

__all__ = ["RULES", "Finding", "Rule", "RuleInput", "RuleResult"]
