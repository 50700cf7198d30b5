"""gem-agent run / demo / trace on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.cli import app
from tests.loopback_openai import ScriptedChatServer
from tools.synth import SynthSpec, synthesize, write_synthetic

runner = CliRunner()


@pytest.fixture(scope="module")
def record(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ecg = synthesize(SynthSpec(hr_bpm=66), seed=21)
    return write_synthetic(ecg, tmp_path_factory.mktemp("cli")).with_suffix(".hea")


def test_run_json_and_files(record: Path, tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite"
    out = tmp_path / "reports"
    result = runner.invoke(app, ["run", str(record), "--json", "--trace-db", str(db),
                                 "--out", str(out), "--case-base", "none"])  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["status"] == "complete" and report["n_contradicted"] == 0
    stem = out / report["record"]["record_id"]
    for suffix in (".json", ".md", ".html"):
        assert stem.with_suffix(suffix).is_file()
    listing = runner.invoke(app, ["trace", "list", "--trace-db", str(db), "--json"])
    runs = json.loads(listing.output)
    assert [r["run_id"] for r in runs] == [report["run_id"]]
    shown = runner.invoke(app, ["trace", "show", report["run_id"], "--trace-db", str(db)])
    assert shown.exit_code == 0 and "assess_quality" in shown.output
    html = tmp_path / "trace.html"
    exported = runner.invoke(app, ["trace", "export", report["run_id"], "--format", "html",
                                   "-o", str(html), "--trace-db", str(db)])  # fmt: skip
    assert exported.exit_code == 0 and html.read_text().count("<details>") == 7


def test_run_endpoint(record: Path, tmp_path: Path) -> None:
    server = ScriptedChatServer(["Sinus rhythm. No evidence of atrial fibrillation."])
    with server.running():
        result = runner.invoke(app, ["run", str(record), "--backend", "endpoint", "--base-url",
                                     server.url, "--model", "gem-test", "--no-trace",
                                     "--case-base", "none"],
                               env={"GEM_AGENT_API_KEY": "k",
                                    "GEM_AGENT_MAX_RETRIES": "0"})  # fmt: skip
    assert result.exit_code == 0, result.output
    assert server.requests[0]["model"] == "gem-test"
    assert "run id:" in result.output


def test_run_endpoint_failure_is_one_line(record: Path, tmp_path: Path) -> None:
    server = ScriptedChatServer([(400, "nope")])
    with server.running():
        result = runner.invoke(app, ["run", str(record), "--backend", "endpoint", "--base-url",
                                     server.url, "--trace-db", str(tmp_path / "t.sqlite"),
                                     "--case-base", "none"],
                               env={"GEM_AGENT_API_KEY": "k"})  # fmt: skip
    assert result.exit_code == 1
    assert "failed in node 'interpret'" in result.output


def test_trace_missing_db(tmp_path: Path) -> None:
    result = runner.invoke(app, ["trace", "list", "--trace-db", str(tmp_path / "none.sqlite")])
    assert result.exit_code == 2 and "no trace database" in result.output


def test_demo_runs_the_agent(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "grounding score" in result.output and "run id:" in result.output
    assert (tmp_path / "traces.sqlite").is_file()
    assert len(list(tmp_path.glob("*.html"))) == 1


def test_run_unknown_backend_is_a_usage_error(record: Path) -> None:
    result = runner.invoke(app, ["run", str(record), "--backend", "foo"])
    assert result.exit_code == 2
    words = result.output.replace("│", " ").split()
    assert "'foo' is not one of 'criteria', 'endpoint', 'local'" in " ".join(words)


def test_backend_registry_checks_settings_type() -> None:
    from gem_core.backends import BACKENDS, BackendError, get_backend
    from gem_core.backends.endpoint import EndpointSettings
    from gem_core.backends.local import LocalBackend, LocalSettings

    assert BACKENDS == ("criteria", "endpoint", "local")
    backend = get_backend("local", LocalSettings(checkpoint="/nowhere"))
    assert isinstance(backend, LocalBackend) and backend.name == "local"
    with pytest.raises(BackendError, match="needs EndpointSettings"):
        get_backend("endpoint", LocalSettings())
    with pytest.raises(BackendError, match="needs LocalSettings"):
        get_backend("local", EndpointSettings())
    with pytest.raises(BackendError, match="unknown backend"):
        get_backend("gpt")
