"""Atomic writes: the target is the old file or the new one, never half, never a stray temp."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tools.atomic import atomic_path, write_atomic


def test_text_and_bytes(tmp_path: Path) -> None:
    target = tmp_path / "a.json"
    write_atomic(target, "é\n")
    assert target.read_bytes() == "é\n".encode()
    write_atomic(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_error_keeps_the_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "index.faiss"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="disk full"), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["index.faiss"]


def test_mode(tmp_path: Path) -> None:
    target = tmp_path / "r.jsonl"
    write_atomic(target, "x", mode=0o644)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
