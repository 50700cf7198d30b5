"""The canonical lines of reports.jsonl and failures.jsonl: layout, round trip, the index row,
and normalisation (two runs of the criteria backend differ only in the ``run`` part)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.api import interpret
from agent.batch.lines import (
    VOLATILE_FIELDS,
    failure_from_line,
    failure_line,
    index_row,
    line_id,
    line_index,
    normalised_line,
    parse_line,
    report_from_line,
    report_line,
    resolved_line,
    split_report,
)
from agent.batch.model import RecordFailure
from agent.report import Report
from agent.settings import AgentSettings
from tests.batch_builders import SPECS, write_record
from tools.leads import STANDARD_LEADS
from tools.statements import get_statement
from tools.synth import SynthSpec

SETTINGS = AgentSettings(trace=False)


@pytest.fixture(scope="module")
def header(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_record(tmp_path_factory.mktemp("lines"), "rec1", SPECS[2], seed=3)


@pytest.fixture(scope="module")
def report(header: Path) -> Report:
    return interpret(header, settings=SETTINGS)


@pytest.fixture(scope="module")
def unusable(tmp_path_factory: pytest.TempPathFactory) -> Report:
    spec = SynthSpec(duration_s=6.0, flat_leads=STANDARD_LEADS)
    return interpret(
        write_record(tmp_path_factory.mktemp("flat"), "flat", spec, 0), settings=SETTINGS
    )


class TestSplitReport:
    def test_volatile_fields_moved(self, report: Report) -> None:
        data, run = split_report(report)
        for name in VOLATILE_FIELDS:
            assert name not in data
            assert name in run
        assert run["run_id"] == report.run_id
        assert all("latency_ms" not in rnd["draft"] for rnd in data["drafts"])
        assert run["draft_latency_ms"] == [rnd.draft.latency_ms for rnd in report.drafts]


class TestReportLine:
    def test_layout(self, report: Report) -> None:
        line = report_line("rec1", report)
        assert line.endswith(b"\n") and line.count(b"\n") == 1
        assert line.startswith(b'{"id":"rec1","index":{')
        assert list(json.loads(line)) == ["id", "index", "report", "run"]
        line.decode("utf-8")

    def test_round_trip(self, report: Report) -> None:
        assert report_from_line(report_line("rec1", report)) == report

    def test_run_extra(self, report: Report) -> None:
        value = parse_line(report_line("rec1", report, {"trace_db": "/t.sqlite"}))
        assert value["run"]["trace_db"] == "/t.sqlite"
        assert report_from_line(report_line("rec1", report, {"trace_db": "x"})) == report

    def test_two_runs_normalise_equal(self, header: Path, report: Report) -> None:
        again = interpret(header, settings=SETTINGS)
        first, second = report_line("rec1", report), report_line("rec1", again)
        assert again.run_id != report.run_id
        assert first != second  # run ids (and timings) differ ...
        assert normalised_line(first) == normalised_line(second)  # ... and nothing else

    def test_non_ascii_key(self, report: Report) -> None:
        line = report_line("patient-é/1\n2", report)
        assert line.count(b"\n") == 1  # escaped inside the string
        assert line_id(line) == "patient-é/1\n2"


class TestLineIndex:
    def test_reads_prefix_only(self, report: Report) -> None:
        line = report_line("rec1", report)
        cut = line.index(b',"report":')
        broken = line[:cut] + b',"report":{not json'
        key, row = line_index(broken)
        assert key == "rec1" and row == index_row(report)
        with pytest.raises(ValueError):
            parse_line(broken)

    @pytest.mark.parametrize(
        ("line", "problem"),
        [
            (b'{"event":"x","id":"a"}\n', "does not start with"),
            (b'{"id":1,"index":{}}\n', "not a string"),
            (b'{"id":"a","report":{}}\n', "no 'index'"),
            (b'{"id":"a","index":[1]}\n', "not an object"),
        ],
    )
    def test_malformed(self, line: bytes, problem: str) -> None:
        with pytest.raises(ValueError, match=problem):
            line_index(line)


class TestIndexRow:
    def test_complete_report(self, report: Report) -> None:
        row = index_row(report)
        g = report.measurements.global_ if report.measurements else None
        assert g is not None and g.heart_rate_bpm is not None
        assert row["record_id"] == "rec1" and row["status"] == "complete"
        assert row["heart_rate_bpm"] == round(g.heart_rate_bpm, 1)
        assert row["statements"] == [s.name for s in report.statements]
        assert row["rhythm"] == [
            s.name for s in report.statements if get_statement(s.code).category == "rhythm"
        ]
        assert row["rhythm"], "the AF record has a rhythm statement"
        assert row["n_supported"] == report.n_supported
        assert row["grounding_score"] == report.grounding_score

    def test_unusable_report(self, unusable: Report) -> None:
        row = index_row(unusable)
        assert row["status"] == "unusable"
        assert row["rhythm"] == [] and row["heart_rate_bpm"] is None
        assert row["exit_reason"] == unusable.exit_reason


class TestParseLine:
    @pytest.mark.parametrize("text", ["[1, 2]", '{"no_id": 1}', '{"id": 3}', "{bad"])
    def test_rejects(self, text: str) -> None:
        with pytest.raises(ValueError):
            parse_line(text)


class TestFailureLines:
    def test_round_trip(self) -> None:
        failure = RecordFailure(
            key="a/1",
            stage="load",
            error_type="CorruptFileError",
            message="a/1.hea: bad header",
            run_id=None,
        )
        value = parse_line(failure_line(failure))
        assert value["event"] == "failed" and value["at"]
        assert failure_from_line(value) == failure

    def test_resolved(self) -> None:
        value = parse_line(resolved_line("a/1"))
        assert value["id"] == "a/1" and value["event"] == "resolved"
