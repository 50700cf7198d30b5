"""The agent end to end: offline runs, the early exit, traces, and resuming a failed run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agent.api import interpret
from agent.graph import build_graph, compiled_graph
from agent.settings import AgentSettings
from agent.traces import list_runs, run_steps
from tools.leads import STANDARD_LEADS
from tools.synth import SynthSpec, synthesize, write_synthetic

NODES_IN_ORDER = ["load", "assess_quality", "measure", "retrieve", "interpret", "verify", "report"]


@pytest.fixture
def settings(tmp_path: Path) -> AgentSettings:
    return AgentSettings(trace_db=tmp_path / "traces.sqlite", case_base="builtin")


@pytest.fixture(scope="module")
def synthetic_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ecg = synthesize(SynthSpec(hr_bpm=64, pr_ms=230, axis_deg=-45), seed=4)
    return write_synthetic(ecg, tmp_path_factory.mktemp("synth")).with_suffix(".hea")


class TestGraphShape:
    def test_nodes_and_edges(self) -> None:
        graph = build_graph().compile()
        nodes = set(graph.get_graph().nodes)
        assert set(NODES_IN_ORDER) | {"revise"} <= nodes

    def test_compiled_once_checkpointer_per_run(self, tmp_path: Path) -> None:
        import sqlite3

        from langgraph.checkpoint.sqlite import SqliteSaver

        assert compiled_graph() is compiled_graph()
        saver = SqliteSaver(sqlite3.connect(tmp_path / "t.sqlite", check_same_thread=False))
        bound = compiled_graph(saver)
        assert bound.checkpointer is saver
        assert compiled_graph().checkpointer is None  # the shared graph is left unbound

    def test_top_level_api(self) -> None:
        import agent
        from agent import interpret as top_level

        assert top_level is interpret
        with pytest.raises(AttributeError, match="no attribute 'nope'"):
            _ = agent.nope


class TestOfflineRuns:
    def test_synthetic_record(self, synthetic_path: Path, settings: AgentSettings) -> None:
        report = interpret(synthetic_path, settings=settings)
        assert report.status == "complete"
        assert report.backend == "criteria"
        codes = {s.code for s in report.statements}
        assert "1AVB" in codes
        assert report.interpretation and "PR" in report.interpretation
        assert report.n_contradicted == 0
        assert report.grounding_score is not None and report.grounding_score == 1.0
        assert len(report.similar_cases) == settings.k_cases
        assert report.revisions == 0
        assert set(NODES_IN_ORDER[:-1]) <= set(report.timings_ms)  # report times itself last

    @pytest.mark.parametrize(
        ("folder", "name"),
        [("ptbxl", "records500/06000/06000_hr.hea"), ("ludb", "data/1.hea"),
         ("cinc2021", "E07500.hea")],
    )  # fmt: skip
    def test_shared_records(self, dataset_dir, settings: AgentSettings, folder: str, name: str):
        report = interpret(dataset_dir(folder) / name, settings=settings)
        assert report.status == "complete"
        assert report.measurements is not None and report.measurements.global_.n_beats > 5
        assert report.interpretation
        assert report.n_contradicted == 0

    def test_array_input(self, settings: AgentSettings) -> None:
        ecg = synthesize(SynthSpec(hr_bpm=80), seed=2)
        report = interpret(
            ecg.record.signal_mv, fs_hz=500, lead_names=STANDARD_LEADS, settings=settings
        )
        assert report.record.record_id == "array"
        assert report.measurements is not None
        assert report.measurements.global_.heart_rate_bpm == pytest.approx(80, abs=2)

    def test_unusable_record_exits_early(self, settings: AgentSettings) -> None:
        report = interpret(
            np.zeros((12, 5000)), fs_hz=500, lead_names=STANDARD_LEADS, settings=settings
        )
        assert report.status == "unusable"
        assert report.exit_reason and "unusable" in report.exit_reason
        assert report.drafts == [] and report.measurements is None
        assert "interpret" not in report.timings_ms and "measure" not in report.timings_ms


class TestTraces:
    def test_every_node_input_and_output(
        self, synthetic_path: Path, settings: AgentSettings
    ) -> None:
        report = interpret(synthetic_path, settings=settings, run_id="trace-me")
        assert report.run_id == "trace-me"
        steps = run_steps(settings.trace_path(), "trace-me")
        assert [s.node for s in steps] == NODES_IN_ORDER
        by_node = {s.node: s for s in steps}
        assert "record" in by_node["load"].output
        assert "quality" in by_node["assess_quality"].output
        assert "measurements" in by_node["measure"].output
        assert "record" in by_node["measure"].input  # the state the node saw
        assert by_node["interpret"].output["drafts"][0]["backend"] == "criteria"
        assert all(s.error is None for s in steps)
        runs = list_runs(settings.trace_path())
        assert [r.run_id for r in runs] == ["trace-me"] and runs[0].status == "complete"

    def test_trace_database_uses_wal(self, synthetic_path: Path, settings: AgentSettings) -> None:
        import sqlite3

        interpret(synthetic_path, settings=settings)
        with sqlite3.connect(settings.trace_path()) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"

    def test_no_trace(self, synthetic_path: Path, tmp_path: Path) -> None:
        settings = AgentSettings(trace=False, trace_db=tmp_path / "t.sqlite")
        report = interpret(synthetic_path, settings=settings)
        assert report.status == "complete"
        assert not (tmp_path / "t.sqlite").exists()


def test_settings_overrides_are_validated(synthetic_path: Path, tmp_path: Path) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        interpret(synthetic_path, trace=False, max_revisions=-1)
    report = interpret(synthetic_path, backend="criteria", trace=False, case_base="none")
    assert report.backend == "criteria" and report.similar_cases == []
    given = AgentSettings(trace=False, case_base="none", k_cases=3)
    report = interpret(synthetic_path, settings=given, max_revisions=0)
    assert report.similar_cases == []  # the given settings kept, the override applied
