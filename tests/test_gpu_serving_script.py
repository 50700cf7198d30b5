"""benchmarks/gpu_serving.py in ``--tiny`` mode on the CPU, and the random GEM it builds."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

import torch

from gem_core.model.gem import GemModel
from gem_core.model.random_gem import gem_shape_config, random_gem, random_loaded_gem

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_serving.py"


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    out = tmp_path_factory.mktemp("bench") / "gpu_serving.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--tiny", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads(out.read_text()), done.stdout


def _positive(value: object) -> bool:
    return isinstance(value, float) and math.isfinite(value) and value > 0


class TestTinyRun:
    def test_plan_and_environment(self, tiny_run: tuple[dict[str, Any], str]) -> None:
        payload, _ = tiny_run
        assert payload["benchmark"] == "gpu_serving"
        plan = payload["plan"]
        assert (plan["mode"], plan["device"], plan["dtype"]) == ("tiny", "cpu", "fp32")
        assert payload["environment"]["torch"] == torch.__version__
        assert payload["errors"] == []

    def test_single_stream_rows(self, tiny_run: tuple[dict[str, Any], str]) -> None:
        payload, _ = tiny_run
        rows = {r["config"]: r for r in payload["single_stream"]}
        assert set(rows) == {"static", "dynamic", "hf-generate-dynamic"}
        for row in rows.values():
            assert _positive(row["ms_per_step"]) and _positive(row["prefill_ms"])
            assert row["tokens_per_s"] == pytest.approx(1e3 / row["ms_per_step"])
            assert row["new_tokens"] == payload["plan"]["new_tokens"]
        assert rows["static"]["graphs_captured"] == 0  # no CUDA graphs on the CPU

    def test_concurrent_rows(self, tiny_run: tuple[dict[str, Any], str]) -> None:
        payload, _ = tiny_run
        plan = payload["plan"]
        static = [r for r in payload["concurrent"] if r["config"] == "static"]
        assert [r["concurrency"] for r in static] == plan["concurrency"]
        for row in payload["concurrent"]:
            assert _positive(row["tokens_per_s"]) and _positive(row["steady_ms_per_step"])
            assert row["prompt_tokens"] >= 677 + plan["text_tokens"]
            assert row["prefill_steps"] >= 1
            assert row["floor_ms_per_step"] > payload["bandwidth"]["floor_ms_per_step"]
        assert any(r["config"] == "dynamic" for r in payload["concurrent"])

    def test_bandwidth_floor_and_goals(self, tiny_run: tuple[dict[str, Any], str]) -> None:
        payload, _ = tiny_run
        bandwidth = payload["bandwidth"]
        expected = bandwidth["llm_weight_bytes"] / bandwidth["copy_bytes_per_s"] * 1e3
        assert bandwidth["floor_ms_per_step"] == pytest.approx(expected)
        assert bandwidth["llm_weight_bytes"] == payload["model"]["llm_parameters"] * 4  # fp32
        goals = payload["goals"]
        assert goals["single_stream_ms_goal"] == pytest.approx(1.3 * bandwidth["floor_ms_per_step"])
        assert _positive(goals["x_gem_at_32"]) is False  # no 32-request row in tiny mode
        assert [s["name"] for s in payload["skipped"]] == ["engine static+compile"]

    def test_progress_and_tables_printed(self, tiny_run: tuple[dict[str, Any], str]) -> None:
        _, stdout = tiny_run
        assert stdout.startswith("[") and "s] plan:" in stdout.splitlines()[0]
        assert "Single stream (batch 1)" in stdout and "Concurrent requests" in stdout


class TestGemShape:
    def test_full_size_shape_on_meta(self) -> None:
        config, vision = gem_shape_config(tiny=False)
        assert (config.hidden_size, config.num_hidden_layers, config.vocab_size) == (
            4096,
            32,
            32000,
        )
        assert config.intermediate_size == 11008 and config.ecg_tower.width == 768
        assert (vision["hidden_size"], vision["num_hidden_layers"]) == (1024, 24)
        with torch.device("meta"):
            model = GemModel(config, vision)
        llm = sum(p.numel() for p in model.llm.parameters())
        assert 6.7e9 < llm < 6.8e9  # LLaMA-2 7B: 6.74 B parameters
        assert model.n_multimodal_tokens == 677


@pytest.fixture(scope="module")
def shape() -> tuple[Any, dict[str, Any]]:
    return gem_shape_config(tiny=True)


class TestRandomGem:
    def test_initialised_and_deterministic(self, shape: tuple[Any, dict[str, Any]]) -> None:
        first = random_gem(*shape, device="cpu", dtype=torch.float32, seed=3)
        again = random_gem(*shape, device="cpu", dtype=torch.float32, seed=3)
        other = random_gem(*shape, device="cpu", dtype=torch.float32, seed=4)
        weight = "llm.model.layers.0.self_attn.q_proj.weight"
        state = first.state_dict()
        assert torch.equal(state[weight], again.state_dict()[weight])
        assert not torch.equal(state[weight], other.state_dict()[weight])
        assert state[weight].std().item() == pytest.approx(0.02, rel=0.2)
        assert torch.equal(state["llm.model.norm.weight"], torch.ones(64))
        assert not any(t.is_meta for t in state.values())

    def test_buffers_recomputed(self, shape: tuple[Any, dict[str, Any]]) -> None:
        model = random_gem(*shape, device="cpu", dtype=torch.bfloat16)
        rotary = model.llm.model.rotary_emb
        fresh = type(rotary)(rotary.config)
        torch.testing.assert_close(rotary.inv_freq, fresh.inv_freq)
        assert rotary.inv_freq.dtype == torch.float32
        ids = dict(model.named_buffers())["vision_tower.embeddings.position_ids"]
        assert torch.equal(ids, torch.arange(577)[None])
        assert next(model.llm.parameters()).dtype == torch.bfloat16

    def test_forward_is_finite(self, shape: tuple[Any, dict[str, Any]]) -> None:
        model = random_gem(*shape, device="cpu", dtype=torch.float32)
        with torch.inference_mode():
            logits = model.llm(input_ids=torch.tensor([[1, 5, 9, 200]])).logits
        assert logits.shape == (1, 4, 320) and torch.isfinite(logits).all()


class TestRandomLoadedGem:
    def test_engine_ready_with_stand_in_tokenizer(self) -> None:
        gem = random_loaded_gem(tiny=True, device="cpu", dtype="fp32")
        assert gem.dtype == torch.float32 and gem.device == torch.device("cpu")
        tokenizer = gem.tokenizer
        assert tokenizer.eos_id == -1  # never stops a request
        pieces = tokenizer.vocab_size
        assert tokenizer.decode([31999, 5000]) == tokenizer.decode([31999 % pieces, 5000 % pieces])
        assert gem.tokenizer.encode_prompt("<image>\nhi")[:2] == [1, -200]
