"""Durable JSON Lines: whole-line appends, torn tails ignored by readers and truncated before
the next append, atomic file replacement."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent.batch.jsonl import (
    TAIL_CHUNK_BYTES,
    append_line,
    corrupt_line,
    iter_lines,
    open_append,
    repair_tail,
    write_atomic,
)


def _append(path: Path, *lines: bytes) -> None:
    fd = open_append(path)
    try:
        for line in lines:
            append_line(fd, line)
    finally:
        os.close(fd)


class TestAppendLine:
    def test_basic(self, tmp_path: Path) -> None:
        path = tmp_path / "a.jsonl"
        _append(path, b'{"id":"a"}\n', b'{"id":"b"}\n')
        assert path.read_bytes() == b'{"id":"a"}\n{"id":"b"}\n'

    def test_fsyncs_every_line(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        synced: list[int] = []
        real = os.fsync

        def fsync(fd: int) -> None:
            synced.append(fd)
            real(fd)

        monkeypatch.setattr(os, "fsync", fsync)
        _append(tmp_path / "a.jsonl", b"1\n", b"2\n")
        assert len(synced) == 2

    def test_appends_after_existing_content(self, tmp_path: Path) -> None:
        path = tmp_path / "a.jsonl"
        path.write_bytes(b"old\n")
        _append(path, b"new\n")
        assert path.read_bytes() == b"old\nnew\n"

    def test_short_writes_are_completed(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        real = os.write
        monkeypatch.setattr(os, "write", lambda fd, data: real(fd, bytes(data[:3])))
        _append(tmp_path / "a.jsonl", b'{"id":"long line"}\n')
        monkeypatch.undo()
        assert (tmp_path / "a.jsonl").read_bytes() == b'{"id":"long line"}\n'

    @pytest.mark.parametrize("line", [b"no newline", b"two\nlines\n", b""])
    def test_not_one_line(self, tmp_path: Path, line: bytes) -> None:
        fd = open_append(tmp_path / "a.jsonl")
        try:
            with pytest.raises(ValueError, match="must end with its only newline"):
                append_line(fd, line)
        finally:
            os.close(fd)
        assert (tmp_path / "a.jsonl").read_bytes() == b""


class TestIterLines:
    def test_basic(self, tmp_path: Path) -> None:
        path = tmp_path / "a.jsonl"
        path.write_bytes(b"a\nb\n")
        assert list(iter_lines(path)) == [(1, b"a\n"), (2, b"b\n")]

    def test_torn_last_line_ignored(self, tmp_path: Path) -> None:
        path = tmp_path / "a.jsonl"
        path.write_bytes(b'{"id":"a"}\n{"id":"b","rep')
        assert [line for _, line in iter_lines(path)] == [b'{"id":"a"}\n']

    def test_blank_lines_skipped_numbers_kept(self, tmp_path: Path) -> None:
        path = tmp_path / "a.jsonl"
        path.write_bytes(b"a\n\n  \nb\n")
        assert list(iter_lines(path)) == [(1, b"a\n"), (4, b"b\n")]

    def test_missing_file(self, tmp_path: Path) -> None:
        assert list(iter_lines(tmp_path / "none.jsonl")) == []

    def test_empty_file(self, tmp_path: Path) -> None:
        (tmp_path / "a.jsonl").write_bytes(b"")
        assert list(iter_lines(tmp_path / "a.jsonl")) == []


class TestRepairTail:
    def test_torn_line_truncated(self, tmp_path: Path) -> None:
        path = tmp_path / "a.jsonl"
        path.write_bytes(b"a\nb\ntorn")
        assert repair_tail(path) == 4
        assert path.read_bytes() == b"a\nb\n"

    def test_then_append_gives_whole_lines(self, tmp_path: Path) -> None:
        path = tmp_path / "a.jsonl"
        path.write_bytes(b'{"id":"a"}\n{"id":"b","to')
        repair_tail(path)
        _append(path, b'{"id":"c"}\n')
        assert [line for _, line in iter_lines(path)] == [b'{"id":"a"}\n', b'{"id":"c"}\n']

    def test_whole_file_torn(self, tmp_path: Path) -> None:
        path = tmp_path / "a.jsonl"
        torn = b'{"id":"a", no newline yet'
        path.write_bytes(torn)
        assert repair_tail(path) == len(torn)
        assert path.read_bytes() == b""

    def test_clean_file_untouched(self, tmp_path: Path) -> None:
        path = tmp_path / "a.jsonl"
        path.write_bytes(b"a\nb\n")
        assert repair_tail(path) == 0
        assert path.read_bytes() == b"a\nb\n"

    def test_missing_file(self, tmp_path: Path) -> None:
        assert repair_tail(tmp_path / "none.jsonl") == 0
        assert not (tmp_path / "none.jsonl").exists()

    def test_torn_tail_longer_than_a_chunk(self, tmp_path: Path) -> None:
        path = tmp_path / "a.jsonl"
        torn = b"x" * (2 * TAIL_CHUNK_BYTES + 17)
        path.write_bytes(b"keep\n" + torn)
        assert repair_tail(path) == len(torn)
        assert path.read_bytes() == b"keep\n"


class TestWriteAtomic:
    def test_basic(self, tmp_path: Path) -> None:
        path = tmp_path / "r.json"
        write_atomic(path, b"one")
        write_atomic(path, b"two")
        assert path.read_bytes() == b"two"
        assert [p.name for p in tmp_path.iterdir()] == ["r.json"]  # no temporary left
        assert path.stat().st_mode & 0o777 == 0o644

    def test_failure_leaves_old_file(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        path = tmp_path / "r.json"
        write_atomic(path, b"old")

        def boom(src: str, dst: str) -> None:
            raise OSError("disk full")

        monkeypatch.setattr(os, "replace", boom)
        with pytest.raises(OSError, match="disk full"):
            write_atomic(path, b"new")
        assert path.read_bytes() == b"old"
        assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


class TestCorruptLine:
    def test_names_file_and_line(self, tmp_path: Path) -> None:
        error = corrupt_line(tmp_path / "reports.jsonl", 7, "bad JSON")
        assert "reports.jsonl" in str(error)
        assert "line 7" in str(error) and "bad JSON" in str(error)
