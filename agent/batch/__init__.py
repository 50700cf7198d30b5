"""Batch report generation: interpret whole datasets, resumably, in parallel.

>>> from agent.batch import interpret_many
>>> for report in interpret_many("ptbxl/", dataset="ptbxl", out_dir="out/"):  # doctest: +SKIP
...     print(report.record.record_id, report.grounding_score)

Modules: :mod:`~agent.batch.sources` (what to interpret), :mod:`~agent.batch.work` (one
record, anywhere), :mod:`~agent.batch.executors` and :mod:`~agent.batch.pool` (where, in
parallel), :mod:`~agent.batch.outputs`, :mod:`~agent.batch.lines` and
:mod:`~agent.batch.jsonl` (what is written, and resume), :mod:`~agent.batch.index_html`
(the browsable index), :mod:`~agent.batch.runner` and :mod:`~agent.batch.summary` (the whole run),
:mod:`~agent.batch.api` (``interpret_many``).
"""

from __future__ import annotations

from agent.batch.api import DEFAULT_FORMATS, interpret_many, work_spec
from agent.batch.lines import normalised_line, report_from_line
from agent.batch.model import (
    BatchError,
    BatchItem,
    BatchProgress,
    Outcome,
    RecordDone,
    RecordFailure,
)
from agent.batch.outputs import BatchOutputs, read_failures, read_reports
from agent.batch.runner import DEFAULT_CONCURRENCY, BatchRun
from agent.batch.sources import Source, open_source, read_ids
from agent.batch.work import FORMATS, WorkSpec

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_FORMATS",
    "FORMATS",
    "BatchError",
    "BatchItem",
    "BatchOutputs",
    "BatchProgress",
    "BatchRun",
    "Outcome",
    "RecordDone",
    "RecordFailure",
    "Source",
    "WorkSpec",
    "interpret_many",
    "normalised_line",
    "open_source",
    "read_failures",
    "read_ids",
    "read_reports",
    "report_from_line",
    "work_spec",
]
