"""The batch output folder: commits, resume state, the failures' last word, torn tails, the
lock, and report file names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.batch.lines import dumps
from agent.batch.model import BatchError, RecordDone, RecordFailure
from agent.batch.outputs import (
    FAILURES_FILE,
    REPORTS_FILE,
    BatchOutputs,
    file_stem,
    read_failures,
    read_reports,
)
from tests.batch_builders import failure_events, report_keys


def _done(key: str, **files: bytes) -> RecordDone:
    line = {"id": key, "index": {"status": "complete"}, "report": {"k": key}, "run": {}}
    return RecordDone(key=key, line=(dumps(line) + "\n").encode(), files=files)


def _failed(key: str, stage: str = "load") -> RecordFailure:
    return RecordFailure(
        key=key, stage=stage, error_type="CorruptFileError", message=f"{key}.hea: bad header"
    )


class TestFileStem:
    def test_safe_key_kept(self) -> None:
        assert file_stem("00001_lr") == "00001_lr"
        assert file_stem("E07500.v2") == "E07500.v2"

    @pytest.mark.parametrize("key", ["data/1", "..", ".hidden", "a b", "", "x" * 300, "é"])
    def test_unsafe_key_hashed(self, key: str) -> None:
        stem = file_stem(key)
        assert stem != key
        assert all(ch.isalnum() or ch in "._-" for ch in stem)
        assert not stem.startswith(".") and len(stem) <= 120 + 11

    def test_no_two_keys_share_a_file(self) -> None:
        keys = ["a/b", "a_b", "a:b", "A/b"]
        assert len({file_stem(k) for k in keys}) == len(keys)


class TestCommit:
    def test_report(self, tmp_path: Path) -> None:
        with BatchOutputs(tmp_path) as out:
            assert out.commit(_done("data/1", json=b"{}", html=b"<p>1</p>"))
            html_path = out.report_file("data/1", "html")
        assert html_path.read_bytes() == b"<p>1</p>"
        assert html_path.parent == tmp_path / "reports"
        assert report_keys(tmp_path) == ["data/1"]

    def test_duplicate_not_written(self, tmp_path: Path) -> None:
        with BatchOutputs(tmp_path) as out:
            assert out.commit(_done("a"))
            assert not out.commit(_done("a"))
            assert not out.commit(_failed("a"))
        assert report_keys(tmp_path) == ["a"]
        assert failure_events(tmp_path) == []

    def test_failure(self, tmp_path: Path) -> None:
        with BatchOutputs(tmp_path) as out:
            out.commit(_failed("b", stage="interpret"))
            assert set(out.failed) == {"b"}
        [event] = failure_events(tmp_path)
        assert event["id"] == "b" and event["event"] == "failed"
        assert event["stage"] == "interpret" and event["error_type"] == "CorruptFileError"

    def test_success_after_failure_resolves(self, tmp_path: Path) -> None:
        with BatchOutputs(tmp_path) as out:
            out.commit(_failed("b"))
        with BatchOutputs(tmp_path) as out:
            assert set(out.failed) == {"b"}
            out.commit(_done("b"))
            assert out.failed == {}
        assert [e["event"] for e in failure_events(tmp_path)] == ["failed", "resolved"]
        assert read_failures(tmp_path / FAILURES_FILE) == {}


class TestResumeState:
    def test_reopen(self, tmp_path: Path) -> None:
        with BatchOutputs(tmp_path) as out:
            out.commit(_done("a"))
            out.commit(_failed("b"))
        with BatchOutputs(tmp_path) as out:
            assert out.done == {"a"}
            assert set(out.failed) == {"b"}
            assert out.repaired_bytes == 0

    def test_torn_tails_repaired(self, tmp_path: Path) -> None:
        with BatchOutputs(tmp_path) as out:
            out.commit(_done("a"))
        with open(tmp_path / REPORTS_FILE, "ab") as handle:
            handle.write(b'{"id":"b","index":{"sta')  # a kill in the middle of a write
        with open(tmp_path / FAILURES_FILE, "ab") as handle:
            handle.write(b'{"id":"c","ev')
        with BatchOutputs(tmp_path) as out:
            assert out.done == {"a"} and out.failed == {}
            assert out.repaired_bytes == len(b'{"id":"b","index":{"sta') + len(b'{"id":"c","ev')
            out.commit(_done("b"))
        assert report_keys(tmp_path) == ["a", "b"]
        assert [line["id"] for line in read_reports(tmp_path)] == ["a", "b"]

    def test_failures_last_word_wins(self, tmp_path: Path) -> None:
        path = tmp_path / FAILURES_FILE
        events = [
            {"id": "x", "event": "failed", "stage": "load"},
            {"id": "x", "event": "resolved"},
            {"id": "y", "event": "failed", "stage": "load"},
            {"id": "x", "event": "failed", "stage": "interpret", "error_type": "E", "message": "m"},
        ]
        path.write_text("".join(json.dumps(e) + "\n" for e in events))
        failures = read_failures(path)
        assert set(failures) == {"x", "y"}
        assert failures["x"].stage == "interpret"

    def test_done_wins_over_failure(self, tmp_path: Path) -> None:
        (tmp_path / FAILURES_FILE).write_text('{"id":"a","event":"failed","stage":"load"}\n')
        with BatchOutputs(tmp_path) as out:
            out.commit(_done("a"))
        (tmp_path / FAILURES_FILE).write_text('{"id":"a","event":"failed","stage":"load"}\n')
        with BatchOutputs(tmp_path) as out:  # killed before "resolved" was appended
            assert out.done == {"a"} and out.failed == {}

    def test_corrupt_interior_line(self, tmp_path: Path) -> None:
        (tmp_path / REPORTS_FILE).write_text('{"id":"a","index":{}}\nnot json\n{"id":"c"}\n')
        with pytest.raises(BatchError, match="line 2 is not a batch record"):
            BatchOutputs(tmp_path)
        BatchOutputs(tmp_path / "other").close()  # the lock was released on the error

    def test_corrupt_failure_line(self, tmp_path: Path) -> None:
        (tmp_path / FAILURES_FILE).write_text("[1]\n")
        with pytest.raises(BatchError, match=r"failures.jsonl: line 1"):
            BatchOutputs(tmp_path)


class TestLock:
    def test_second_writer_refused(self, tmp_path: Path) -> None:
        first = BatchOutputs(tmp_path)
        try:
            with pytest.raises(BatchError, match="another batch is writing to this folder"):
                BatchOutputs(tmp_path)
        finally:
            first.close()
        BatchOutputs(tmp_path).close()  # free again once closed

    def test_folder_cannot_be_created(self, tmp_path: Path) -> None:
        (tmp_path / "file").write_text("x")
        with pytest.raises(BatchError, match="cannot create the output folder"):
            BatchOutputs(tmp_path / "file" / "out")


class TestSummary:
    def test_written_as_json(self, tmp_path: Path) -> None:
        with BatchOutputs(tmp_path) as out:
            path = out.write_summary({"status": "complete", "wall_s": 1.5, "path": tmp_path})
        assert json.loads(path.read_text()) == {
            "status": "complete",
            "wall_s": 1.5,
            "path": str(tmp_path),
        }
