"""interpret_many / BatchRun end to end on synthetic WFDB records: outcomes, outputs, resume,
retry, determinism, stopping, and the process pool giving the same reports."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agent.batch import (
    BatchError,
    BatchProgress,
    BatchRun,
    RecordFailure,
    interpret_many,
    open_source,
    work_spec,
)
from agent.report import Report
from agent.traces import list_runs
from tests.batch_builders import (
    CORRUPT_ID,
    FLAT_ID,
    SPECS,
    failure_events,
    good_ids,
    normalised_reports,
    report_keys,
    summary,
    write_dataset,
    write_record,
)
from tools.readers import open_record

N_GOOD = 6
FORMATS = ("json", "md", "html")
INTERPRETED = [*good_ids(N_GOOD), FLAT_ID]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("runner-data"), N_GOOD)


@pytest.fixture(scope="module")
def reference(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    """An uninterrupted in-process run, and what it yielded."""
    out = tmp_path_factory.mktemp("reference")
    outcomes = list(
        interpret_many(folder, dataset="wfdb-dir", out_dir=out, workers=0, formats=FORMATS)
    )
    return out, outcomes


def _run(folder: Path, out: Path | None, **kw: object) -> list[Report | RecordFailure]:
    return list(interpret_many(folder, dataset="wfdb-dir", out_dir=out, workers=0, **kw))  # type: ignore[arg-type]


class TestOutcomes:
    def test_reports_and_failures(self, reference: tuple[Path, list]) -> None:
        _, outcomes = reference
        reports = {o.record.record_id: o for o in outcomes if isinstance(o, Report)}
        failures = [o for o in outcomes if isinstance(o, RecordFailure)]
        assert sorted(reports) == INTERPRETED
        assert reports[FLAT_ID].status == "unusable"
        assert all(reports[k].status == "complete" for k in good_ids(N_GOOD))
        [failure] = failures
        assert (failure.key, failure.stage, failure.error_type) == (
            CORRUPT_ID,
            "load",
            "CorruptFileError",
        )
        assert f"{CORRUPT_ID}.hea" in failure.message

    def test_files(self, reference: tuple[Path, list]) -> None:
        out, _ = reference
        assert sorted(report_keys(out)) == INTERPRETED
        for key in INTERPRETED:
            for fmt in FORMATS:
                assert (out / "reports" / f"{key}.{fmt}").stat().st_size > 0
        assert not (out / "reports" / f"{CORRUPT_ID}.json").exists()
        assert [e["id"] for e in failure_events(out)] == [CORRUPT_ID]
        assert (out / "index.html").is_file()
        assert not (out / "traces.sqlite").exists()  # traces are off by default

    def test_summary(self, reference: tuple[Path, list]) -> None:
        s = summary(reference[0])
        assert s["status"] == "complete"
        assert s["counts"] == {
            "todo": N_GOOD + 2,
            "skipped": 0,
            "done": N_GOOD + 1,
            "unusable": 1,
            "failed": 1,
            "not_finished": 0,
            "reports_in_folder": N_GOOD + 1,
            "open_failures": 1,
        }
        assert s["failures_by_stage"] == {"load": 1}
        assert s["backend"]["name"] == "criteria"
        assert s["executor"]["workers"] == 0
        assert s["settings"]["agent"]["trace"] is False
        assert s["settings"]["formats"] == list(FORMATS)
        assert s["versions"]["gem_agent"] and s["versions"]["langgraph"]
        assert s["throughput_records_per_s"] > 0
        assert set(s["node_ms_mean"]) >= {"load", "assess_quality", "measure", "verify"}
        assert s["memory"]["parent_peak_rss_mb"] > 0

    def test_report_json_file_is_the_report(self, reference: tuple[Path, list]) -> None:
        out, outcomes = reference
        report = next(o for o in outcomes if isinstance(o, Report))
        text = (out / "reports" / f"{report.record.record_id}.json").read_text()
        assert Report.model_validate_json(text) == report


class TestResume:
    def test_rerun_does_nothing(
        self, folder: Path, reference: tuple[Path, list], tmp_path: Path
    ) -> None:
        out = tmp_path / "out"
        shutil.copytree(reference[0], out)
        before = (out / "reports.jsonl").read_bytes()
        assert _run(folder, out) == []
        assert (out / "reports.jsonl").read_bytes() == before
        s = summary(out)
        assert s["counts"]["todo"] == 0 and s["counts"]["skipped"] == N_GOOD + 2
        assert s["executor"]["workers"] == 0 and s["status"] == "complete"

    def test_limit_then_extend(
        self, folder: Path, reference: tuple[Path, list], tmp_path: Path
    ) -> None:
        assert len(_run(folder, tmp_path, limit=3)) == 3
        assert len(report_keys(tmp_path)) == 3
        assert len(_run(folder, tmp_path)) == N_GOOD + 2 - 3
        assert sorted(report_keys(tmp_path)) == INTERPRETED  # no duplicate, none lost
        assert normalised_reports(tmp_path) == normalised_reports(reference[0])

    def test_retry_failed(self, folder: Path, tmp_path: Path) -> None:
        data = tmp_path / "data"
        shutil.copytree(folder, data)
        out = tmp_path / "out"
        _run(data, out, ids=[CORRUPT_ID, "r00"])
        (data / f"{CORRUPT_ID}.hea").unlink()
        write_record(data, CORRUPT_ID, SPECS[0], seed=5)  # the file is repaired
        assert _run(data, out, ids=[CORRUPT_ID, "r00"]) == []  # failures are not retried ...
        [report] = _run(data, out, ids=[CORRUPT_ID, "r00"], retry_failed=True)  # ... unless asked
        assert isinstance(report, Report) and report.record.record_id == CORRUPT_ID
        assert [e["event"] for e in failure_events(out)] == ["failed", "resolved"]
        assert summary(out)["counts"]["open_failures"] == 0
        assert sorted(report_keys(out)) == sorted([CORRUPT_ID, "r00"])


class TestDeterminism:
    def test_two_runs_identical_up_to_timings(
        self, folder: Path, reference: tuple[Path, list], tmp_path: Path
    ) -> None:
        _run(folder, tmp_path, formats=FORMATS)
        first, second = normalised_reports(reference[0]), normalised_reports(tmp_path)
        assert first == second
        assert (reference[0] / "reports.jsonl").read_bytes() != (
            tmp_path / "reports.jsonl"
        ).read_bytes()  # run ids and timings do differ


class TestStopping:
    def test_request_stop(self, folder: Path, reference: tuple[Path, list], tmp_path: Path) -> None:
        source = open_source(folder, dataset="wfdb-dir")
        spec = work_spec(source)
        seen: list[BatchProgress] = []

        def progress(p: BatchProgress) -> None:
            seen.append(p)
            if p.finished == 2:
                run.request_stop()

        run = BatchRun(source, spec, out_dir=tmp_path, workers=0, progress=progress)
        outcomes = list(run)
        assert 2 <= len(outcomes) < N_GOOD + 2
        assert run.summary is not None and run.summary["status"] == "interrupted"
        assert summary(tmp_path)["status"] == "interrupted"
        assert len(report_keys(tmp_path)) + len(failure_events(tmp_path)) == len(outcomes)
        _run(folder, tmp_path)  # the rerun finishes the job
        assert normalised_reports(tmp_path) == normalised_reports(reference[0])

    def test_consumer_breaks_early(self, folder: Path, tmp_path: Path) -> None:
        for _ in interpret_many(folder, dataset="wfdb-dir", out_dir=tmp_path, workers=0):
            break
        assert summary(tmp_path)["status"] == "interrupted"
        assert len(report_keys(tmp_path)) >= 1
        _run(folder, tmp_path, limit=1)  # the folder is not left locked

    def test_progress(self, folder: Path, tmp_path: Path) -> None:
        seen: list[BatchProgress] = []
        _run(folder, tmp_path, progress=seen.append)
        assert seen[0] == BatchProgress(total=N_GOOD + 2)
        assert [p.finished for p in seen] == list(range(N_GOOD + 3))
        assert (seen[-1].done, seen[-1].failed) == (N_GOOD + 1, 1)


class TestOptions:
    def test_in_memory_without_out_dir(self, folder: Path, tmp_path: Path) -> None:
        records = [open_record(folder / f"{k}.hea") for k in good_ids(2)]
        reports = list(interpret_many(iter(records), workers=0))
        assert sorted(r.record.record_id for r in reports if isinstance(r, Report)) == [
            "r00",
            "r01",
        ]
        assert list(tmp_path.iterdir()) == []

    def test_trace_on(self, folder: Path, tmp_path: Path) -> None:
        outcomes = _run(folder, tmp_path, trace=True, ids=["r00", "r01"])
        runs = {r.run_id: r for r in list_runs(tmp_path / "traces.sqlite")}
        assert {o.run_id for o in outcomes if isinstance(o, Report)} == set(runs)
        assert all(r.status == "complete" for r in runs.values())

    def test_unknown_format(self, folder: Path) -> None:
        with pytest.raises(ValueError, match="unknown report format"):
            _run(folder, None, formats=["json", "pdf"])

    def test_unknown_dataset(self, folder: Path) -> None:
        with pytest.raises(BatchError, match="unknown dataset"):
            list(interpret_many(folder, dataset="nope", workers=0))


@pytest.mark.slow
class TestProcessPool:
    def test_same_reports_as_in_process(
        self, folder: Path, reference: tuple[Path, list], tmp_path: Path
    ) -> None:
        outcomes = list(
            interpret_many(folder, dataset="wfdb-dir", out_dir=tmp_path, workers=2, formats=FORMATS)
        )
        assert len(outcomes) == N_GOOD + 2
        assert normalised_reports(tmp_path) == normalised_reports(reference[0])
        s = summary(tmp_path)
        assert s["executor"] == {
            "engine": "local",
            "workers": 2,
            "threads_per_worker": 1,
            "concurrency": 8,
        }
        assert s["counts"]["failed"] == 1 and s["failures_by_type"] == {"CorruptFileError": 1}
        assert 1 <= len(s["memory"]["worker_peak_rss_mb"]) <= 2
        for key in INTERPRETED:
            assert (tmp_path / "reports" / f"{key}.html").is_file()
