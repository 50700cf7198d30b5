"""Durable JSON Lines files: whole-line appends with fsync, torn tails ignored and repaired.

A line is appended with one ``os.write`` of all its bytes, newline included, on a file opened
with ``O_APPEND``, then ``os.fsync``. A process killed in the middle can leave at most the
start of one line at the end of the file, without its newline: readers here trust only
newline-terminated lines, and :func:`repair_tail` truncates the torn bytes away before the
next run appends (so they never merge with a new line).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from agent.batch.model import BatchError
from tools.atomic import write_atomic as atomic_write

NEWLINE = b"\n"
#: Permissions of written files (``mkstemp`` would leave them private to the owner).
FILE_MODE = 0o644
#: Bytes read per step while scanning a file backwards for its last newline.
TAIL_CHUNK_BYTES = 64 * 1024


def open_append(path: str | Path) -> int:
    """A file descriptor appending to ``path`` (created when missing)."""
    return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)


def append_line(fd: int, line: bytes) -> None:
    """Append one whole line and fsync it.

    Parameters
    ----------
    fd
        A descriptor from :func:`open_append`.
    line
        The line's bytes: exactly one ``\\n``, at the end.

    Raises
    ------
    ValueError
        ``line`` is not one newline-terminated line.
    """
    if not line.endswith(NEWLINE) or NEWLINE in line[:-1]:
        raise ValueError("a JSON line must end with its only newline")
    view = memoryview(line)
    while view:  # a regular file takes it in one write; loop for the rare short write
        written = os.write(fd, view)
        view = view[written:]
    os.fsync(fd)


def repair_tail(path: str | Path) -> int:
    """Truncate the bytes after the last newline (a torn last line); returns how many.

    A missing file needs no repair (0).
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return 0
    keep = _end_of_last_line(path, size)
    if keep < size:
        with open(path, "r+b") as handle:
            handle.truncate(keep)
            handle.flush()
            os.fsync(handle.fileno())
    return size - keep


def _end_of_last_line(path: Path, size: int) -> int:
    """Offset just past the file's last newline (0 when it has none)."""
    with open(path, "rb") as handle:
        end = size
        while end > 0:
            start = max(0, end - TAIL_CHUNK_BYTES)
            handle.seek(start)
            chunk = handle.read(end - start)
            at = chunk.rfind(NEWLINE)
            if at >= 0:
                return start + at + 1
            end = start
    return 0


def iter_lines(path: str | Path) -> Iterator[tuple[int, bytes]]:
    """``(line number, line)`` for every complete line of ``path``; a torn tail is skipped.

    Blank lines are skipped too. A missing file has no lines.
    """
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below; a generator holds it open
    except FileNotFoundError:
        return
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.endswith(NEWLINE):
                return  # torn last line: never trusted
            if line.strip():
                yield number, line


def corrupt_line(path: str | Path, number: int, problem: str) -> BatchError:
    """The error for a complete line that cannot be read (it was not written by a batch)."""
    return BatchError(
        path,
        f"line {number} is not a batch record ({problem}); the file was edited or written by "
        "another program: move it away or delete that line, then rerun",
    )


def write_atomic(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename (never half a file)."""
    atomic_write(path, data, mode=FILE_MODE)


def fsync_dir(folder: str | Path) -> None:
    """Make a folder's new entries (created files) durable; a no-op where unsupported."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
