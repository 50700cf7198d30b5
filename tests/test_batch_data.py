"""Batches on the shared real recordings (skipped when the data is absent): LUDB, PTB-XL (one
of its records lacks the 500 Hz files: a failure, the rest goes on) and a list file mixing
datasets with a path that does not exist."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from agent.batch import RecordFailure, interpret_many
from agent.report import Report
from tests.batch_builders import failure_events, report_keys, summary

pytestmark = pytest.mark.data
N_LUDB = 10


def _split(outcomes: list[Report | RecordFailure]) -> tuple[list[Report], list[RecordFailure]]:
    reports = [o for o in outcomes if isinstance(o, Report)]
    return reports, [o for o in outcomes if isinstance(o, RecordFailure)]


def test_ludb(dataset_dir: Callable[[str], Path], tmp_path: Path) -> None:
    root = dataset_dir("ludb")
    outcomes = list(
        interpret_many(root, out_dir=tmp_path, workers=0, limit=N_LUDB, formats=["html"])
    )
    reports, failures = _split(outcomes)
    assert failures == [] and len(reports) == N_LUDB
    assert summary(tmp_path)["source"]["kind"] == "ludb"  # inferred from ludb.csv
    for report in reports:
        assert report.status == "complete" and report.record.dataset == "ludb"
        assert report.n_contradicted == 0 and report.record.labels  # LUDB diagnoses
        assert (tmp_path / "reports" / f"{report.record.record_id}.html").is_file()
    assert len(report_keys(tmp_path)) == N_LUDB
    assert "<table id='reports'>" in (tmp_path / "index.html").read_text()


def test_ptbxl_missing_files_fail_alone(dataset_dir: Callable[[str], Path], tmp_path: Path) -> None:
    root = dataset_dir("ptbxl")
    reports, failures = _split(list(interpret_many(root, out_dir=tmp_path, workers=0)))
    [failure] = failures
    assert (failure.key, failure.stage, failure.error_type) == ("1", "load", "MissingFileError")
    assert "500 Hz files are absent" in failure.message
    assert sorted(r.record.record_id for r in reports) == ["6000", "6001", "6002", "6003", "6004"]
    assert all(r.record.report for r in reports)  # PTB-XL's own report travels with the record
    assert [e["id"] for e in failure_events(tmp_path)] == ["1"]


def test_list_file_across_datasets(dataset_dir: Callable[[str], Path], tmp_path: Path) -> None:
    ludb, cinc = dataset_dir("ludb"), dataset_dir("cinc2021")
    listing = tmp_path / "records.txt"
    paths = [ludb / "data" / "1.hea", cinc / "E07500.hea", tmp_path / "absent.hea"]
    listing.write_text("".join(f"{p}\n" for p in paths))
    reports, failures = _split(list(interpret_many(listing, out_dir=tmp_path / "out", workers=0)))
    assert sorted(r.record.record_id for r in reports) == ["1", "E07500"]
    [failure] = failures
    assert failure.key == str(tmp_path / "absent.hea") and failure.stage == "load"
    assert summary(tmp_path / "out")["source"]["kind"] == "list"
