"""The output folder of a batch, and what it says about the records already done.

::

    DIR/reports.jsonl   one line per interpreted record (agent.batch.lines), the commit log
    DIR/failures.jsonl  failure events, append-only; the last event of an id wins
    DIR/reports/        <key>.json / .md / .html per record (names: :func:`file_stem`)
    DIR/summary.json    counts, durations, throughput, backend, versions, settings
    DIR/index.html      a table of every report, browsable from the file system

A record is *done* when its line is in ``reports.jsonl``; it is *failed* when its last event
in ``failures.jsonl`` is ``failed`` and it is not done. Report files are written (atomically)
before the line is appended and fsynced, so a record is never done without its files; a kill
in between only means the record is interpreted again. A record that succeeds after failing
gets a ``resolved`` event. One batch at a time may write a folder (an exclusive lock).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from agent.batch.jsonl import (
    append_line,
    corrupt_line,
    fsync_dir,
    iter_lines,
    open_append,
    repair_tail,
    write_atomic,
)
from agent.batch.lines import (
    failure_from_line,
    failure_line,
    line_id,
    parse_line,
    resolved_line,
)
from agent.batch.model import BatchError, Outcome, RecordDone, RecordFailure

T = TypeVar("T")

REPORTS_FILE = "reports.jsonl"
FAILURES_FILE = "failures.jsonl"
SUMMARY_FILE = "summary.json"
INDEX_FILE = "index.html"
REPORTS_DIR = "reports"
LOCK_FILE = ".batch.lock"
#: Longest file stem kept from a key before it is shortened and hashed.
MAX_STEM_CHARS = 120
#: Hex digits of the key's SHA-1 added to a stem that had to be changed.
STEM_HASH_CHARS = 10
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def file_stem(key: str) -> str:
    """A file name for a record key: the key itself when it is a safe name, else its safe
    characters plus a hash of the key (so two keys never share a file)."""
    stem = _UNSAFE.sub("_", key)
    if stem == key and not key.startswith(".") and 0 < len(key) <= MAX_STEM_CHARS:
        return key
    digest = hashlib.sha1(key.encode()).hexdigest()[:STEM_HASH_CHARS]
    return f"{stem[:MAX_STEM_CHARS].lstrip('.')}-{digest}"


class BatchOutputs:
    """An output folder opened for writing: locked, torn tails repaired, state loaded.

    Attributes
    ----------
    done
        Keys with a line in ``reports.jsonl``.
    failed
        Keys whose last failure event is ``failed`` and that are not done, with that event.
    repaired_bytes
        Bytes of torn last lines truncated away on opening.
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        try:
            (self.folder / REPORTS_DIR).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BatchError(self.folder, f"cannot create the output folder ({exc})") from None
        self._lock_fd = _lock(self.folder / LOCK_FILE)
        try:
            self.repaired_bytes = sum(
                repair_tail(self.folder / name) for name in (REPORTS_FILE, FAILURES_FILE)
            )
            self.done = set(read_done_keys(self.folder / REPORTS_FILE))
            self.failed = {
                k: f
                for k, f in read_failures(self.folder / FAILURES_FILE).items()
                if k not in self.done
            }
            self._reports_fd = open_append(self.folder / REPORTS_FILE)
            self._failures_fd = open_append(self.folder / FAILURES_FILE)
            fsync_dir(self.folder)
        except BaseException:
            os.close(self._lock_fd)
            raise

    @property
    def path(self) -> Path:
        return self.folder

    def report_file(self, key: str, fmt: str) -> Path:
        """Where the record's report in format ``fmt`` is written."""
        return self.folder / REPORTS_DIR / f"{file_stem(key)}.{fmt}"

    def commit(self, outcome: Outcome) -> bool:
        """Write one outcome; ``False`` when its record was already done (nothing written).

        A report: files first, then the line (fsynced), then ``resolved`` if it had failed
        before. A failure: its event (fsynced).
        """
        if outcome.key in self.done:
            return False
        if isinstance(outcome, RecordDone):
            for fmt, data in outcome.files.items():
                write_atomic(self.report_file(outcome.key, fmt), data)
            append_line(self._reports_fd, outcome.line)
            self.done.add(outcome.key)
            if self.failed.pop(outcome.key, None) is not None:
                append_line(self._failures_fd, resolved_line(outcome.key))
            return True
        append_line(self._failures_fd, failure_line(outcome))
        self.failed[outcome.key] = outcome
        return True

    def write_summary(self, summary: dict[str, Any]) -> Path:
        """``summary.json``, replaced atomically."""
        path = self.folder / SUMMARY_FILE
        write_atomic(path, (json.dumps(summary, indent=2, default=str) + "\n").encode())
        return path

    def write_index(self, formats: tuple[str, ...]) -> Path:
        """``index.html`` from every line of ``reports.jsonl`` and the open failures."""
        from agent.batch.index_html import write_index

        return write_index(self, formats)

    def close(self) -> None:
        """Close the files and release the lock."""
        for fd in (self._reports_fd, self._failures_fd, self._lock_fd):
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> BatchOutputs:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()


def _lock(path: Path) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise BatchError(
            path.parent, "another batch is writing to this folder; wait for it or choose --out"
        ) from None
    return fd


def read_done_keys(path: str | Path) -> list[str]:
    """Keys of the complete lines of a ``reports.jsonl`` (a torn last line is ignored)."""
    return list(_parsed_lines(path, line_id))


def read_failures(path: str | Path) -> dict[str, RecordFailure]:
    """The ids of ``failures.jsonl`` whose last event is ``failed``, with that failure."""
    failures: dict[str, RecordFailure] = {}
    for value in _parsed_lines(path, parse_line):
        if value.get("event") == "failed":
            failures[value["id"]] = failure_from_line(value)
        else:
            failures.pop(value["id"], None)
    return failures


def read_reports(folder: str | Path) -> list[dict[str, Any]]:
    """Every report line of a batch folder, parsed (a torn last line is ignored).

    Loads the whole file: for a large batch iterate :func:`agent.batch.jsonl.iter_lines` and
    parse what you need.
    """
    path = Path(folder) / REPORTS_FILE
    return list(_parsed_lines(path, parse_line))


def _parsed_lines(path: str | Path, parse: Callable[[bytes], T]) -> Iterator[T]:
    """``parse`` of every complete line of a JSONL file; a line it rejects (ValueError) is a
    :func:`corrupt_line` error naming the file and line."""
    for number, line in iter_lines(path):
        try:
            yield parse(line)
        except ValueError as exc:
            raise corrupt_line(path, number, str(exc)) from None
