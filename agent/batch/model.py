"""What flows through a batch: items to interpret, and the outcome of each one.

These are plain picklable dataclasses: an executor (threads in this process, a process pool,
or a cluster) ships :class:`BatchItem` objects to wherever records are interpreted and brings
:class:`RecordDone` / :class:`RecordFailure` objects back to the process that writes outputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tools.readers.base import DatasetEntry
    from tools.record import ECGRecord


class BatchError(RuntimeError):
    """A batch cannot start or go on (bad source, locked or corrupt output folder, a dead
    worker); the message names the file or folder and the fix.

    Parameters
    ----------
    where
        The file, folder or source concerned.
    problem
        What went wrong, in one sentence, with the fix when there is one.
    """

    def __init__(self, where: str | Path | None, problem: str) -> None:
        self.where = None if where is None else str(where)
        self.problem = problem
        super().__init__(f"{where}: {problem}" if where is not None else problem)


@dataclass(frozen=True)
class BatchItem:
    """One record to interpret, known without reading its samples.

    Exactly one of ``entry`` (a dataset's record), ``path`` (a record file) or ``record`` (an
    in-memory record) is set.

    Attributes
    ----------
    key
        The record's id in the batch: unique within it, the resume key of ``reports.jsonl``
        (a dataset's record id, a list file's path as written, an in-memory record's id).
    """

    key: str
    entry: DatasetEntry | None = None
    path: str | None = None
    record: ECGRecord | None = None


@dataclass(frozen=True)
class RecordDone:
    """A record interpreted: its ``reports.jsonl`` line and its rendered report files.

    Attributes
    ----------
    key
        The item's key.
    line
        The canonical ``reports.jsonl`` line (see :mod:`agent.batch.lines`), ``\\n``-terminated.
    files
        Report files by format (``"json"``, ``"md"``, ``"html"``), already rendered.
    status
        The report's status: ``"complete"``, or ``"unusable"`` when the quality gate ended it.
    elapsed_ms
        Wall time of the record in its worker: load, graph, rendering.
    node_ms
        Wall time of each graph node (from the report's timings).
    pid, peak_rss_mb
        The worker process and its peak resident memory so far.
    """

    key: str
    line: bytes
    files: dict[str, bytes] = field(default_factory=dict)
    status: str = "complete"
    elapsed_ms: float = 0.0
    node_ms: dict[str, float] = field(default_factory=dict)
    pid: int = 0
    peak_rss_mb: float | None = None


@dataclass(frozen=True)
class RecordFailure:
    """A record that could not be interpreted; the batch goes on.

    Attributes
    ----------
    key
        The item's key.
    stage
        Where it failed: ``"load"`` (reading the record), a graph node (``"interpret"``,
        ``"measure"`` ...), ``"graph"`` (the run ended without naming a node), ``"render"``
        (writing the report files) or ``"worker"`` (the worker process died).
    error_type, message
        The exception's class name and message (which names the record or endpoint).
    run_id
        The run's trace id when the graph started (``gem-agent trace show RUN`` with
        ``--trace``).
    """

    key: str
    stage: str
    error_type: str
    message: str
    run_id: str | None = None
    elapsed_ms: float = 0.0
    pid: int = 0
    peak_rss_mb: float | None = None


Outcome = RecordDone | RecordFailure


@dataclass(frozen=True)
class BatchProgress:
    """Where a batch stands, reported after every finished record.

    Attributes
    ----------
    total
        Records this run set out to interpret (``None`` when the source cannot be counted).
    done, failed
        Records finished by this run: interpreted, and failed.
    skipped
        Records skipped because an earlier run finished them (or failed them, without
        ``retry_failed``).
    elapsed_s
        Seconds since the first record was submitted.
    """

    total: int | None
    done: int = 0
    failed: int = 0
    skipped: int = 0
    elapsed_s: float = 0.0

    @property
    def finished(self) -> int:
        """Records finished by this run (interpreted or failed)."""
        return self.done + self.failed
