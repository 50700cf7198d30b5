"""``gem-agent index``: build, info and search on a tiny real base and on the built-in base."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.cli_index import index_app
from tools.cases import builtin as bi
from tools.synth import SynthSpec, synthesize, write_synthetic

runner = CliRunner()
#: Records taken from each shared dataset for the tiny base.
PER_DATASET = 3


@pytest.fixture(scope="module")
def real_base(dataset_dir: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three LUDB and three CinC records in one base (skips without the shared data)."""
    ludb, cinc = dataset_dir("ludb"), dataset_dir("cinc2021")
    out = tmp_path_factory.mktemp("cli_index") / "base"
    for name, root in (("ludb", ludb), ("cinc", cinc)):
        result = runner.invoke(index_app, ["build", str(root), "--dataset", name, "--out",
                                           str(out), "--limit", str(PER_DATASET),
                                           "--workers", "1"])  # fmt: skip
        assert result.exit_code == 0, result.output
    return out


@pytest.fixture
def builtin_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The session's built-in base cache (shared with test_cases_builtin.py)."""
    folder = tmp_path_factory.getbasetemp() / "gem-agent-cache"
    monkeypatch.setenv(bi.CACHE_ENV, str(folder))
    return folder


@pytest.fixture(scope="module")
def lbbb_record(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ecg = synthesize(SynthSpec(conduction="lbbb", hr_bpm=80), seed=77)
    ecg = replace(ecg, record=replace(ecg.record, record_id="query-lbbb"))
    return Path(f"{write_synthetic(ecg, tmp_path_factory.mktemp('query'))}.hea")


class TestHelp:
    @pytest.mark.parametrize("command", ["build", "info", "search"])
    def test_each_command_has_help(self, command: str) -> None:
        result = runner.invoke(index_app, [command, "--help"])
        assert result.exit_code == 0
        assert "Usage" in result.output

    def test_lists_commands(self) -> None:
        result = runner.invoke(index_app, ["--help"])
        for command in ("build", "info", "search"):
            assert command in result.output


class TestBuild:
    def test_reports_cases_and_index(self, real_base: Path) -> None:
        info = json.loads(runner.invoke(index_app, ["info", str(real_base), "--json"]).output)
        assert info["datasets"] == {"ludb": PER_DATASET, "cinc": PER_DATASET}
        assert info["n_indexed"] == 2 * PER_DATASET
        assert info["index_type"] == "flat"

    def test_rerun_resumes_without_new_work(
        self, real_base: Path, dataset_dir: Callable[[str], Path]
    ) -> None:
        args = ["build", str(dataset_dir("ludb")), "--dataset", "ludb", "--out", str(real_base),
                "--limit", str(PER_DATASET), "--workers", "1"]  # fmt: skip
        result = runner.invoke(index_app, args)
        assert result.exit_code == 0, result.output
        assert f"{2 * PER_DATASET} cases in" in result.output

    def test_bad_index_type(self, tmp_path: Path) -> None:
        args = ["build", str(tmp_path), "--dataset", "dir", "--out", str(tmp_path / "b"),
                "--index-type", "lsh"]  # fmt: skip
        result = runner.invoke(index_app, args)
        assert result.exit_code == 2
        assert "auto, flat, hnsw, ivf" in result.output

    def test_missing_dataset_folder(self, tmp_path: Path) -> None:
        result = runner.invoke(index_app, ["build", str(tmp_path / "none"), "--dataset", "ludb",
                                           "--out", str(tmp_path / "b")])  # fmt: skip
        assert result.exit_code == 2
        assert "error" in result.output and "does not exist" in result.output
        assert "Traceback" not in result.output


class TestInfo:
    def test_table(self, real_base: Path) -> None:
        result = runner.invoke(index_app, ["info", str(real_base)])
        assert result.exit_code == 0, result.output
        assert "inner_product" in result.output
        assert "ludb" in result.output and "cinc" in result.output

    def test_not_a_case_base(self, tmp_path: Path) -> None:
        result = runner.invoke(index_app, ["info", str(tmp_path)])
        assert result.exit_code == 2
        assert "not a case base" in result.output
        assert result.output.count("error") == 1

    def test_needs_dir_or_builtin(self) -> None:
        result = runner.invoke(index_app, ["info"])
        assert result.exit_code == 2
        assert "--builtin" in result.output

    def test_builtin_json(self, builtin_cache: Path) -> None:
        result = runner.invoke(index_app, ["info", "--builtin", "--json"])
        assert result.exit_code == 0, result.output
        info = json.loads(result.stdout)  # stderr may say the base is being built
        assert info["n_cases"] == len(bi.builtin_specs())
        assert Path(info["path"]).parent == builtin_cache


class TestSearch:
    def test_json_excludes_the_query_itself(
        self, real_base: Path, dataset_dir: Callable[[str], Path]
    ) -> None:
        record = dataset_dir("ludb") / "data" / "1"
        result = runner.invoke(index_app, ["search", str(real_base), str(record), "-k", "3",
                                           "--json"])  # fmt: skip
        assert result.exit_code == 0, result.output
        payload = json.loads(result.output)
        assert payload["query"]["record_id"] == "1"
        ids = [case["case_id"] for case in payload["cases"]]
        assert len(ids) == 3
        assert "1" not in ids
        sims = [case["similarity"] for case in payload["cases"]]
        assert sims == sorted(sims, reverse=True)
        assert all(case["labels"] for case in payload["cases"])

    def test_include_self(self, real_base: Path, dataset_dir: Callable[[str], Path]) -> None:
        record = dataset_dir("cinc2021") / "E07500.hea"
        result = runner.invoke(index_app, ["search", str(real_base), str(record), "-k", "1",
                                           "--json", "--include-self"])  # fmt: skip
        assert result.exit_code == 0, result.output
        (case,) = json.loads(result.output)["cases"]
        assert case["case_id"] == "E07500"
        assert case["dataset"] == "cinc"
        assert case["similarity"] == pytest.approx(1.0, abs=1e-4)

    def test_table(self, real_base: Path, dataset_dir: Callable[[str], Path]) -> None:
        record = dataset_dir("cinc2021") / "E07502.hea"
        result = runner.invoke(index_app, ["search", str(real_base), str(record), "-k", "2"])
        assert result.exit_code == 0, result.output
        assert "Cases similar to E07502" in result.output
        assert "similarity" in result.output

    def test_builtin_finds_the_kind(self, builtin_cache: Path, lbbb_record: Path) -> None:
        result = runner.invoke(index_app, ["search", "--builtin", str(lbbb_record), "--json"])
        assert result.exit_code == 0, result.output
        cases = json.loads(result.output)["cases"]
        assert len(cases) == 5
        assert cases[0]["case_id"].startswith("lbbb-")
        assert "LBBB" in {label["code"] for label in cases[0]["labels"]}

    def test_builtin_takes_one_positional(self, lbbb_record: Path) -> None:
        result = runner.invoke(index_app, ["search", "--builtin", "somewhere", str(lbbb_record)])
        assert result.exit_code == 2
        assert "only the RECORD" in result.output

    def test_needs_record(self, tmp_path: Path) -> None:
        result = runner.invoke(index_app, ["search", str(tmp_path)])
        assert result.exit_code == 2
        assert "RECORD" in result.output

    def test_missing_record(self, real_base: Path, tmp_path: Path) -> None:
        result = runner.invoke(index_app, ["search", str(real_base), str(tmp_path / "x.hea")])
        assert result.exit_code == 2
        assert "x" in result.output and "error" in result.output
        assert "Traceback" not in result.output

    def test_version_mismatch(self, real_base: Path, lbbb_record: Path, tmp_path: Path) -> None:
        old = tmp_path / "old"
        old.mkdir()
        for name in ("cases.sqlite", "meta.json", "index.faiss"):
            (old / name).write_bytes((real_base / name).read_bytes())
        db = sqlite3.connect(old / "cases.sqlite")
        with db:
            db.execute("UPDATE settings SET value = '0' WHERE key = 'embedding_version'")
        db.close()
        result = runner.invoke(index_app, ["search", str(old), str(lbbb_record)])
        assert result.exit_code == 2
        assert "embedding version 0" in result.output
        info = runner.invoke(index_app, ["info", str(old), "--json"])
        assert info.exit_code == 0
        assert json.loads(info.output)["compatible"] is False
