"""Atomic file writes: through a temporary file beside the target and a rename.

A reader (or a crash) never sees half a file: the target is either the old file or the new one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | Path, *, mode: int | None = None) -> Iterator[Path]:
    """A temporary path beside ``path``; moved onto ``path`` when the block ends without error.

    The temporary file exists (empty) when the block starts; write it by name (e.g. a library
    that takes a file name). ``mode`` sets its permission bits; on an error it is removed.
    """
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        os.close(fd)
        yield Path(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(path: str | Path, data: bytes | str, *, mode: int | None = None) -> None:
    """Write ``data`` (text as UTF-8) to ``path`` atomically (see :func:`atomic_path`)."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_path(path, mode=mode) as tmp:
        tmp.write_bytes(payload)
