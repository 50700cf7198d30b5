"""``gem-agent batch`` on the command line: options, output, exit codes; and the real thing in
a subprocess: killed with SIGKILL at random points then rerun (same reports as an
uninterrupted run, no line lost or duplicated), and stopped with Ctrl-C (SIGINT)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from agent.batch.outputs import REPORTS_FILE, SUMMARY_FILE
from agent.cli_batch import EXIT_INTERRUPTED, _reader_options
from tests.batch_builders import (
    ANSWER,
    CORRUPT_ID,
    CountingServer,
    batch_app,
    failure_events,
    good_ids,
    normalised_reports,
    report_keys,
    summary,
    write_dataset,
)

REPO = Path(__file__).resolve().parents[1]
N_GOOD = 12
#: Seconds a killed or interrupted child may take to get where the test stops it.
CHILD_TIMEOUT_S = 120
POLL_S = 0.005

app = batch_app()


runner = CliRunner()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("cli-data"), N_GOOD, flat=False)


@pytest.fixture(scope="module")
def reference(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted run through the command."""
    out = tmp_path_factory.mktemp("cli-reference")
    result = runner.invoke(
        app, ["batch", str(folder), "--out", str(out), "--workers", "0", "--quiet"]
    )
    assert result.exit_code == 0, result.output
    return out


def _invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["batch", *args])
    return result.exit_code, result.output


def _in_process(folder: Path, out: Path, *args: str) -> tuple[int, str]:
    """``gem-agent batch FOLDER --out OUT --workers 0 ARGS...`` (threads in this process)."""
    return _invoke(str(folder), "--out", str(out), "--workers", "0", *args)


class TestCommand:
    def test_json_summary(self, folder: Path, tmp_path: Path) -> None:
        code, output = _in_process(folder, tmp_path, "--limit", "3", "--json", "--quiet")
        assert code == 0, output
        s = json.loads(output)  # --json --quiet: only the summary on stdout
        assert s["counts"]["done"] == 3 and s["source"]["kind"] == "wfdb-dir"
        assert s == summary(tmp_path)
        assert sorted(report_keys(tmp_path)) == good_ids(3)

    def test_human_summary(self, folder: Path, tmp_path: Path) -> None:
        code, output = _in_process(
            folder, tmp_path, "--ids", str(_ids_file(tmp_path, [CORRUPT_ID, "r00"]))
        )
        assert code == 0, output
        assert "complete: 1 interpreted (0 unusable), 1 failed" in output
        assert "index.html" in output and "1 CorruptFileError" in output
        bar = next(line for line in output.splitlines() if "ETA" in line)  # the progress bar
        assert "2/2" in bar and "rec/s" in bar and "1 done 1 failed" in bar

    def test_formats_and_reader_options(self, folder: Path, tmp_path: Path) -> None:
        code, output = _in_process(
            folder,
            tmp_path,
            "--quiet",
            "--limit",
            "1",
            "--formats",
            "md",
            "--option",
            "lead_policy=standard",
        )
        assert code == 0, output
        assert sorted(p.suffix for p in (tmp_path / "reports").iterdir()) == [".md"]
        assert summary(tmp_path)["source"]["options"] == {"lead_policy": "standard"}

    def test_retry_failed(self, folder: Path, tmp_path: Path) -> None:
        ids = str(_ids_file(tmp_path, [CORRUPT_ID]))
        base = [
            str(folder),
            "--out",
            str(tmp_path / "o"),
            "--workers",
            "0",
            "--json",
            "--quiet",
            "--ids",
            ids,
        ]
        assert json.loads(_invoke(*base)[1])["counts"]["failed"] == 1
        assert json.loads(_invoke(*base)[1])["counts"]["skipped"] == 1
        again = json.loads(_invoke(*base, "--retry-failed")[1])
        assert again["counts"]["failed"] == 1 and again["counts"]["skipped"] == 0
        assert [e["event"] for e in failure_events(tmp_path / "o")] == ["failed", "failed"]

    def test_bad_format(self, folder: Path, tmp_path: Path) -> None:
        code, output = _invoke(str(folder), "--out", str(tmp_path), "--formats", "json,pdf")
        assert code == 2 and "unknown report format(s) pdf" in output

    def test_unknown_dataset(self, folder: Path, tmp_path: Path) -> None:
        code, output = _invoke(str(folder), "--out", str(tmp_path), "--dataset", "nope")
        assert code == 2 and "unknown dataset 'nope'" in output

    def test_missing_source(self, tmp_path: Path) -> None:
        code, output = _invoke(str(tmp_path / "nope"), "--out", str(tmp_path / "o"))
        assert code == 2 and "no such file or folder" in output

    def test_bad_case_base(self, folder: Path, tmp_path: Path) -> None:
        code, output = _in_process(folder, tmp_path, "--case-base", str(tmp_path / "no-base"))
        assert code == 2 and "case-base folder does not exist" in output
        assert summary(tmp_path)["status"] == "failed"

    def test_missing_ids_file(self, folder: Path, tmp_path: Path) -> None:
        code, output = _invoke(str(folder), "--out", str(tmp_path), "--ids", "/nope/ids.txt")
        assert code == 2 and "cannot read the ids file" in output


class TestReaderOptions:
    def test_values(self) -> None:
        assert _reader_options(["fs_hz=100", "available_only=true", "name=a=b"]) == {
            "fs_hz": 100,
            "available_only": True,
            "name": "a=b",
        }

    def test_bad(self) -> None:
        with pytest.raises(typer.BadParameter, match="expected KEY=VALUE"):
            _reader_options(["fs_hz"])


def _ids_file(folder: Path, ids: list[str]) -> Path:
    path = folder / "ids.txt"
    path.write_text("\n".join(ids) + "\n")
    return path


def _start(args: list[str]) -> subprocess.Popen[str]:
    """The command in a child process, in its own process group (workers die with it)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "agent.cli_batch", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _lines(out: Path) -> int:
    try:
        return (out / REPORTS_FILE).read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def _wait_for_lines(child: subprocess.Popen[str], out: Path, n: int) -> bool:
    """Wait until ``out`` has ``n`` report lines; False if the child ended first."""
    deadline = time.monotonic() + CHILD_TIMEOUT_S
    while _lines(out) < n:
        if child.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(POLL_S)
    return True


@pytest.mark.slow
class TestKilledAndRerun:
    @pytest.mark.parametrize(("seed", "workers"), [(0, 1), (1, 0), (2, 0)])
    def test_sigkill_then_rerun_matches_uninterrupted(
        self, folder: Path, reference: Path, tmp_path: Path, seed: int, workers: int
    ) -> None:
        rng = np.random.default_rng(seed)
        out = tmp_path / "out"
        kill_after = int(rng.integers(1, N_GOOD // 2))
        child = _start([str(folder), "--out", str(out), "--workers", str(workers), "--quiet"])
        try:
            reached = _wait_for_lines(child, out, kill_after)
            time.sleep(float(rng.uniform(0, 0.05)))
        finally:
            os.killpg(child.pid, signal.SIGKILL)
            child.communicate(timeout=30)
        assert reached, "the child ended before the kill point"
        assert not (out / SUMMARY_FILE).exists()  # killed: it never got to the end
        torn = b'{"id":"r11","index":{"record_id":"r1' if seed == 1 else b""
        with open(out / REPORTS_FILE, "ab") as handle:  # a kill in the middle of a write
            handle.write(torn)
        killed_keys = report_keys(out)

        code, output = _invoke(str(folder), "--out", str(out), "--workers", "0", "--quiet")
        assert code == 0, output
        keys = report_keys(out)
        assert keys[: len(killed_keys)] == killed_keys  # nothing written before was lost
        assert len(keys) == len(set(keys))  # nor duplicated
        assert normalised_reports(out) == normalised_reports(reference)
        assert [e["id"] for e in failure_events(out)] == [CORRUPT_ID]
        s = summary(out)
        assert s["counts"]["skipped"] == len(killed_keys)
        assert s["repaired_bytes"] == len(torn)


@pytest.mark.slow
class TestInterrupted:
    def test_sigint_stops_cleanly_then_resumes(self, folder: Path, tmp_path: Path) -> None:
        n = N_GOOD // 2
        server = CountingServer([("sleep", 0.5, ANSWER)] * (2 * n))  # abandoned calls too
        out = tmp_path / "out"
        args = [
            str(folder),
            "--out",
            str(out),
            "--backend",
            "endpoint",
            "--case-base",
            "none",
            "--limit",
            str(n),
            "--concurrency",
            "2",
            "--quiet",
        ]
        with server.running():
            child = _start([*args, "--workers", "1", "--base-url", server.url])
            try:
                assert _wait_for_lines(child, out, 1), child.communicate()
                os.killpg(child.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
                _, stderr = child.communicate(timeout=CHILD_TIMEOUT_S)
            finally:
                if child.poll() is None:
                    os.killpg(child.pid, signal.SIGKILL)
            assert child.returncode == EXIT_INTERRUPTED, stderr
            assert "interrupted: rerun the same command to resume" in stderr
            s = summary(out)
            assert s["status"] == "interrupted"
            stopped = report_keys(out)
            assert 1 <= len(stopped) < n
            assert s["counts"]["reports_in_folder"] == len(stopped)
            assert (out / "index.html").is_file()
            assert (out / REPORTS_FILE).read_bytes().endswith(b"\n")  # no torn line

            code, output = _invoke(*args, "--workers", "0", "--base-url", server.url)
        assert code == 0, output
        assert sorted(report_keys(out)) == good_ids(n)
        assert summary(out)["counts"]["skipped"] == len(stopped)


def test_second_batch_on_same_folder_refused(folder: Path, tmp_path: Path) -> None:
    from agent.batch.outputs import BatchOutputs

    holder = BatchOutputs(tmp_path)
    try:
        code, output = _invoke(str(folder), "--out", str(tmp_path), "--workers", "0")
    finally:
        holder.close()
    assert code == 1 and "another batch is writing to this folder" in output
