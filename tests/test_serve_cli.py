"""The ``serve`` command (agent.cli_serve): options, key handling, startup errors, lazy torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import openai
import pytest
import typer
from typer.testing import CliRunner

from agent import cli_serve
from gem_core.model.errors import CheckpointError
from gem_core.serve import serve_in_thread
from tests.fake_engine import FakeEngine, user_message

runner = CliRunner()


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command()(cli_serve.serve)
    return app


@pytest.fixture
def files(tmp_path: Path) -> list[str]:
    checkpoint = tmp_path / "gem"
    vision = tmp_path / "clip"
    checkpoint.mkdir()
    vision.mkdir()
    tower = tmp_path / "ecg.pt"
    tower.write_bytes(b"")
    return ["--checkpoint", str(checkpoint), "--ecg-tower", str(tower),
            "--vision-tower", str(vision)]  # fmt: skip


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Replace model loading by the fake engine and serving by a recorder."""
    seen: dict[str, Any] = {}

    def load(checkpoint: Path, ecg_tower: Path, vision_tower: Path, **kw: Any) -> FakeEngine:
        seen["load"] = {"checkpoint": checkpoint, **kw}
        return FakeEngine(max_batch=kw["max_batch"])

    def run(app: Any, host: str, port: int) -> None:
        seen.update(app=app, host=host, port=port)

    monkeypatch.setattr(cli_serve, "_load_engine", load)
    monkeypatch.setattr(cli_serve, "_run", run)
    return seen


class TestServe:
    def test_help_lists_the_options(self) -> None:
        result = runner.invoke(_app(), ["--help"])
        assert result.exit_code == 0
        for option in ("--checkpoint", "--ecg-tower", "--vision-tower", "--device", "--dtype",
                       "--host", "--port", "--api-key-env", "--max-batch", "--max-queue",
                       "--max-body-bytes", "--model-name"):  # fmt: skip
            assert option in result.output

    def test_help_does_not_import_torch(self) -> None:
        code = (
            "import sys, typer; from typer.testing import CliRunner; "
            "from agent.cli_serve import serve; app = typer.Typer(); app.command()(serve); "
            "r = CliRunner().invoke(app, ['--help']); assert r.exit_code == 0, r.output; "
            "assert 'torch' not in sys.modules and 'transformers' not in sys.modules"
        )
        subprocess.run([sys.executable, "-c", code], check=True, timeout=120)

    def test_settings_reach_engine_and_app(
        self, files: list[str], captured: dict[str, Any], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("GEM_TEST_KEY", "s3cret")
        args = [*files, "--device", "cpu", "--port", "8123", "--api-key-env", "GEM_TEST_KEY",
                "--max-batch", "3", "--max-queue", "5", "--model-name", "LANSG/GEM"]  # fmt: skip
        result = runner.invoke(_app(), args)
        assert result.exit_code == 0, result.output
        load = captured["load"]
        assert load["device"] == "cpu" and load["dtype"] == "fp32"  # fp32 default on CPU
        assert load["max_batch"] == 3 and load["max_queue"] == 5
        assert captured["port"] == 8123 and captured["host"] == "127.0.0.1"
        state = captured["app"].state.gem
        assert state.settings.api_key == "s3cret" and state.model_name == "LANSG/GEM"
        assert state.loop.max_pending == 3 + 5
        with serve_in_thread(captured["app"]) as url:
            client = openai.OpenAI(base_url=f"{url}/v1", api_key="s3cret", max_retries=0)
            reply = client.chat.completions.create(model="LANSG/GEM", messages=[user_message()])
            with pytest.raises(openai.AuthenticationError):
                openai.OpenAI(base_url=f"{url}/v1", api_key="nope", max_retries=0).models.list()
        assert reply.choices[0].message.content

    def test_cuda_defaults_to_bf16(self, files: list[str], captured: dict[str, Any]) -> None:
        assert runner.invoke(_app(), files).exit_code == 0
        assert captured["load"]["device"] == "cuda" and captured["load"]["dtype"] == "bf16"

    def test_unset_key_variable_refuses_to_start(
        self, files: list[str], captured: dict[str, Any], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("GEM_TEST_MISSING", raising=False)
        result = runner.invoke(_app(), [*files, "--api-key-env", "GEM_TEST_MISSING"])
        assert result.exit_code == 2
        assert "GEM_TEST_MISSING" in result.output and "load" not in captured

    def test_checkpoint_error_is_one_line_exit_2(
        self, files: list[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def broken(checkpoint: Path, *args: Any, **kw: Any) -> FakeEngine:
            raise CheckpointError(checkpoint, "tensor model.norm.weight is missing")

        monkeypatch.setattr(cli_serve, "_load_engine", broken)
        result = runner.invoke(_app(), files)
        assert result.exit_code == 2
        assert "model.norm.weight is missing" in result.output
        assert "Traceback" not in result.output

    def test_missing_checkpoint_folder(self, files: list[str], tmp_path: Path) -> None:
        args = [*files[2:], "--checkpoint", str(tmp_path / "nowhere")]
        result = runner.invoke(_app(), args)
        assert result.exit_code == 2 and "does not exist" in result.output
