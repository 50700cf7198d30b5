"""Errors of the statement vocabulary and the criteria: one small hierarchy."""

from __future__ import annotations


class StatementError(ValueError):
    """A statement lookup or a criteria call got input it cannot use.

    Parameters
    ----------
    source
        Record id (or ``"vocabulary"``) the problem belongs to.
    problem
        What is wrong, in one sentence, with the fix when there is one.
    """

    def __init__(self, source: str, problem: str) -> None:
        self.source = source
        self.problem = problem
        super().__init__(f"{source}: {problem}")


class UnknownStatementError(StatementError, LookupError):
    """A statement code is not in the vocabulary."""
