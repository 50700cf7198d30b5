"""The gem-agent command line: every command, its JSON output and its errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from agent.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def synthetic_record(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    result = runner.invoke(app, ["synth", "-o", str(out), "--hr", "80", "--conduction", "rbbb"])
    assert result.exit_code == 0, result.output
    (header,) = out.glob("*.hea")
    return header


class TestHelp:
    @pytest.mark.parametrize("command", ["inspect", "measure", "render", "synth", "demo"])
    def test_each_command_has_help(self, command: str) -> None:
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0
        assert "Usage" in result.output

    def test_top_level_lists_commands(self) -> None:
        result = runner.invoke(app, ["--help"])
        for command in ("inspect", "render", "synth", "demo"):
            assert command in result.output


class TestSynth:
    def test_writes_record_and_truth(self, synthetic_record: Path) -> None:
        truth = json.loads(synthetic_record.with_suffix(".truth.json").read_text())
        assert truth["intervals"]["hr_bpm"] == pytest.approx(80, abs=1)
        assert synthetic_record.with_suffix(".dat").exists()

    def test_json_is_truth(self, tmp_path: Path) -> None:
        result = runner.invoke(app, ["synth", "-o", str(tmp_path), "--hr", "50", "--json"])
        assert result.exit_code == 0
        assert json.loads(result.output)["intervals"]["hr_bpm"] == pytest.approx(50, abs=1)

    def test_infarct_is_labelled(self, tmp_path: Path) -> None:
        args = ["synth", "-o", str(tmp_path), "--infarct", "inferior", "--json"]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        assert "IMI" in json.loads(result.output)["labels"]

    def test_out_of_range_is_clear_error(self, tmp_path: Path) -> None:
        result = runner.invoke(app, ["synth", "-o", str(tmp_path), "--hr", "500"])
        assert result.exit_code == 2
        assert "hr_bpm=500" in result.output
        assert not list(tmp_path.glob("*.hea"))

    def test_bad_st_option(self, tmp_path: Path) -> None:
        result = runner.invoke(app, ["synth", "-o", str(tmp_path), "--st", "inferior"])
        assert result.exit_code != 0
        assert "LEAD=MV" in result.output


class TestInspect:
    def test_json_summary(self, synthetic_record: Path) -> None:
        result = runner.invoke(app, ["inspect", str(synthetic_record), "--json"])
        assert result.exit_code == 0, result.output
        data = json.loads(result.output)
        assert data["fs_hz"] == 500 and len(data["lead_names"]) == 12
        assert data["units"] == "mV"

    def test_table(self, synthetic_record: Path) -> None:
        result = runner.invoke(app, ["inspect", str(synthetic_record)])
        assert result.exit_code == 0
        assert "label [synthetic]" in result.output and "RBBB" in result.output

    def test_missing_file(self, tmp_path: Path) -> None:
        result = runner.invoke(app, ["inspect", str(tmp_path / "nope.hea")])
        assert result.exit_code == 2
        assert "nope" in result.output and "error" in result.output

    def test_array_needs_fs(self, tmp_path: Path) -> None:
        path = tmp_path / "x.npy"
        np.save(path, np.zeros((2, 100), dtype=np.float32))
        result = runner.invoke(app, ["inspect", str(path), "--leads", "I,II"])
        assert result.exit_code == 2
        assert "x.npy" in result.output
        ok = runner.invoke(app, ["inspect", str(path), "--leads", "I,II", "--fs", "100", "--json"])
        assert ok.exit_code == 0, ok.output
        assert json.loads(ok.output)["duration_s"] == pytest.approx(1.0)

    def test_dataset_id(self, dataset_dir) -> None:
        root = dataset_dir("ptbxl")
        result = runner.invoke(
            app, ["inspect", "6000", "--dataset", "ptbxl", "--root", str(root), "--json"]
        )
        assert result.exit_code == 0, result.output
        data = json.loads(result.output)
        assert data["record_id"] == "6000"
        assert any(label["code"] == "NORM" for label in data["labels"])


class TestRender:
    @pytest.mark.parametrize(("layout", "size"), [("gem", (2200, 1700)), ("3x4", (2200, 1700))])
    def test_png(self, synthetic_record: Path, tmp_path: Path, layout: str, size: tuple) -> None:
        out = tmp_path / "page.png"
        result = runner.invoke(
            app, ["render", str(synthetic_record), "-o", str(out), "--layout", layout]
        )
        assert result.exit_code == 0, result.output
        assert Image.open(out).size == size

    def test_bad_layout(self, synthetic_record: Path, tmp_path: Path) -> None:
        result = runner.invoke(
            app, ["render", str(synthetic_record), "-o", str(tmp_path / "p.png"), "--layout", "6x2"]
        )
        assert result.exit_code != 0
        assert "gem" in result.output


def test_demo_writes_record_truth_and_page(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert len(list(tmp_path.glob("*.hea"))) == 1
    assert len(list(tmp_path.glob("*.truth.json"))) == 1
    (page,) = tmp_path.glob("*.png")
    assert Image.open(page).size == (2200, 1700)
    assert "1AVB" in result.output


class TestMeasure:
    def test_json(self, synthetic_record: Path) -> None:
        result = runner.invoke(app, ["measure", str(synthetic_record), "--json"])
        assert result.exit_code == 0, result.output
        data = json.loads(result.output)
        assert data["quality"]["verdict"] in {"good", "degraded"}
        assert data["measurements"]["global"]["heart_rate_bpm"] == pytest.approx(80, abs=2)
        assert data["measurements"]["beats"]["features"] == []
        codes = {s["code"] for s in data["measurements"]["statements"]}
        assert "CRBBB" in codes

    def test_per_beat_json(self, synthetic_record: Path) -> None:
        result = runner.invoke(app, ["measure", str(synthetic_record), "--json", "--per-beat"])
        features = json.loads(result.output)["measurements"]["beats"]["features"]
        assert len(features) == 12 and features[0]["lead"] == "I"

    def test_tables(self, synthetic_record: Path) -> None:
        result = runner.invoke(app, ["measure", str(synthetic_record), "--per-beat"])
        assert result.exit_code == 0, result.output
        for title in ("Signal quality", "Global measurements", "Per-lead", "Statements"):
            assert title in result.output
        assert 'Lead V1: {"heart_rate"' in result.output

    def test_bad_record(self, tmp_path: Path) -> None:
        bad = tmp_path / "x.hea"
        bad.write_text("not a header\n")
        result = runner.invoke(app, ["measure", str(bad)])
        assert result.exit_code == 2 and "x.hea" in result.output
