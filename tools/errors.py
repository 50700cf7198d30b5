"""Errors raised by the signal tools: one small hierarchy, every message names the source.

Every reader and transform raises a subclass of :class:`RecordError`. The message always
starts with the record (file path or id) so a batch log line is enough to find the culprit.
"""

from __future__ import annotations

from pathlib import Path


class RecordError(Exception):
    """Base class: a record could not be read or is not a valid ECG.

    Parameters
    ----------
    source
        File path or record id the problem belongs to.
    problem
        What is wrong, in one sentence; include the fix when there is one.
    """

    def __init__(self, source: str | Path | None, problem: str) -> None:
        self.source = str(source) if source is not None else "<in-memory record>"
        self.problem = problem
        super().__init__(f"{self.source}: {problem}")


class MissingFileError(RecordError):
    """A file the record needs (header, signal, annotation, table) does not exist."""


class CorruptFileError(RecordError):
    """A file exists but cannot be parsed: truncated, empty, wrong format, or not an ECG."""


class HeaderMismatchError(CorruptFileError):
    """The header disagrees with the sample data (sample count, channel count)."""


class LeadError(RecordError):
    """A lead name cannot be mapped onto the canonical names, or a lead is duplicated."""


class UnknownLeadError(LeadError):
    """A lead name is not a known spelling of any lead."""


class DuplicateLeadError(LeadError):
    """Two channels map onto the same lead."""


class SignalValueError(RecordError):
    """The samples are unusable as given: fs <= 0, wrong shape, an all-NaN lead, bad units."""


class DatasetError(RecordError):
    """A dataset folder does not have the layout its reader expects."""
