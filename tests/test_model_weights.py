"""Strict loading: the weight-name mapping, and every way a checkpoint or tower file is wrong."""

from __future__ import annotations

import json
import shutil
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

import torch

from gem_core.model import (
    CheckpointError,
    LoadedGem,
    MissingCheckpointFileError,
    TinyCheckpoint,
    load_gem,
    make_tiny_checkpoint,
)
from gem_core.model.weights import (
    check_tensors,
    checkpoint_name,
    is_unused_ecg_key,
    module_key,
    plan_checkpoint,
    split_checkpoint_name,
)
from tests.model_builders import edit_shard, read_index, real_gem_config


@pytest.fixture
def tiny(tmp_path: Path) -> TinyCheckpoint:
    """A fresh tiny checkpoint per test (tests edit its files)."""
    return make_tiny_checkpoint(tmp_path / "tiny", seed=0)


def _load(tiny: TinyCheckpoint, **kwargs: Any) -> LoadedGem:
    return load_gem(tiny.checkpoint_dir, **kwargs)


class TestSplitCheckpointName:
    @pytest.mark.parametrize(
        ("name", "part", "key"),
        [
            ("model.embed_tokens.weight", "llm", "model.embed_tokens.weight"),
            ("model.layers.3.mlp.up_proj.weight", "llm", "model.layers.3.mlp.up_proj.weight"),
            ("lm_head.weight", "llm", "lm_head.weight"),
            ("model.mm_projector.2.bias", "mm_projector", "2.bias"),
            ("model.ecg_projector.weight", "ecg_projector", "weight"),
            (
                "model.vision_tower.vision_tower.vision_model.post_layernorm.bias",
                "vision_tower",
                "vision_model.post_layernorm.bias",
            ),
            ("model.ecg_tower.ecg_tower.conv1.weight", "ecg_tower", "conv1.weight"),
        ],
    )
    def test_round_trip(self, name: str, part: str, key: str) -> None:
        assert split_checkpoint_name(name) == (part, key)
        assert checkpoint_name(part, key) == name  # type: ignore[arg-type]

    def test_foreign(self) -> None:
        assert split_checkpoint_name("transformer.h.0.attn.weight") is None


class TestModuleKey:
    def test_clip_prefix_follows_the_module(self) -> None:
        key = "vision_model.encoder.layers.0.mlp.fc1.weight"
        assert module_key("vision_tower", key, ["encoder.layers.0.mlp.fc1.weight"]) == key[13:]
        assert module_key("vision_tower", key, ["vision_model.x"]) == key
        assert module_key("ecg_tower", "conv1.weight", []) == "conv1.weight"


class TestUnusedEcgKeys:
    @pytest.mark.parametrize("key", ["ln_post.weight", "proj", "attn_pool.query"])
    def test_unused(self, key: str) -> None:
        assert is_unused_ecg_key(key)

    @pytest.mark.parametrize("key", ["ln_pre.weight", "conv1.weight", "projector.weight"])
    def test_used(self, key: str) -> None:
        assert not is_unused_ecg_key(key)


class TestPlanAndCheck:
    def test_foreign_names_are_unexpected(self) -> None:
        with pytest.raises(CheckpointError, match=r"^ckpt: unexpected tensors .*foo\.bar"):
            plan_checkpoint(["model.norm.weight", "foo.bar"], ["llm"], "ckpt")

    def test_tower_copies_are_ignored_when_read_elsewhere(self) -> None:
        names = ["model.norm.weight", "model.ecg_tower.ecg_tower.conv1.weight"]
        plan = plan_checkpoint(names, ["llm"], "ckpt")
        assert list(plan.use) == ["model.norm.weight"]
        assert plan.ignored == ["model.ecg_tower.ecg_tower.conv1.weight"]

    def test_shape_mismatch_named(self) -> None:
        with pytest.raises(CheckpointError, match=r"f: x: tensor a has shape \[2\], expected \[3"):
            check_tensors({"a": (2,)}, {"a": (3,)}, "f", "x")


class TestLoadGem:
    def test_loads_with_file_towers(self, tiny: TinyCheckpoint) -> None:
        gem = _load(tiny)
        assert gem.tower_sources == {
            "ecg_tower": f"file:{tiny.ecg_tower_path.resolve()}",
            "vision_tower": f"file:{tiny.vision_tower_dir.resolve()}",
        }
        assert gem.ignored_tensors[str(tiny.ecg_tower_path.resolve())] == 7  # 4 decoys + 3 unused
        assert not any(p.is_meta for p in gem.model.parameters())
        assert not any(b.is_meta for b in gem.model.buffers())
        assert not gem.model.training

    def test_explicit_paths(self, tiny: TinyCheckpoint, tmp_path: Path) -> None:
        ecg = shutil.copy(tiny.ecg_tower_path, tmp_path / "ecg.pt")
        clip = shutil.copytree(tiny.vision_tower_dir, tmp_path / "clip")
        gem = _load(tiny, ecg_tower=ecg, vision_tower=clip)
        assert gem.tower_sources["ecg_tower"] == f"file:{ecg}"
        assert gem.tower_sources["vision_tower"] == f"file:{clip}"

    def test_missing_tensor(self, tiny: TinyCheckpoint) -> None:
        edit_shard(tiny.checkpoint_dir, "model.norm.weight", None)
        with pytest.raises(CheckpointError, match=r"index\.json: .*missing tensors model\.norm\."):
            _load(tiny)

    def test_unexpected_tensor(self, tiny: TinyCheckpoint) -> None:
        edit_shard(tiny.checkpoint_dir, "model.extra_head.weight", torch.zeros(3))
        with pytest.raises(CheckpointError, match=r"unexpected tensors model\.extra_head\.weight"):
            _load(tiny)

    def test_foreign_tensor(self, tiny: TinyCheckpoint) -> None:
        edit_shard(tiny.checkpoint_dir, "vision_head.weight", torch.zeros(3))
        with pytest.raises(CheckpointError, match=r"not part of GEM: vision_head\.weight"):
            _load(tiny)

    def test_wrong_shape(self, tiny: TinyCheckpoint) -> None:
        edit_shard(tiny.checkpoint_dir, "model.mm_projector.0.weight", torch.zeros(64, 31))
        with pytest.raises(
            CheckpointError,
            match=r"tensor model\.mm_projector\.0\.weight has shape \[64, 31\], expected \[64, 32",
        ):
            _load(tiny)

    def test_stale_rope_buffer_ignored(self, tiny: TinyCheckpoint) -> None:
        stale = "model.layers.0.self_attn.rotary_emb.inv_freq"
        edit_shard(tiny.checkpoint_dir, stale, torch.ones(8))
        gem = _load(tiny)
        index = str(tiny.checkpoint_dir / "model.safetensors.index.json")
        assert gem.ignored_tensors[index] == 1

    def test_index_names_absent_tensor(self, tiny: TinyCheckpoint) -> None:
        index_path = tiny.checkpoint_dir / "model.safetensors.index.json"
        index = json.loads(index_path.read_text())
        shards = sorted(set(index["weight_map"].values()))
        index["weight_map"]["model.norm.weight"] = next(
            s for s in shards if s != index["weight_map"]["model.norm.weight"]
        )
        index_path.write_text(json.dumps(index))
        with pytest.raises(CheckpointError, match=r"safetensors: the index lists tensor 'model"):
            _load(tiny)

    def test_missing_shard(self, tiny: TinyCheckpoint) -> None:
        shard = sorted(set(read_index(tiny.checkpoint_dir).values()))[-1]
        (tiny.checkpoint_dir / shard).unlink()
        with pytest.raises(MissingCheckpointFileError, match=rf"{shard}: shard named by"):
            _load(tiny)

    def test_no_weights(self, tiny: TinyCheckpoint) -> None:
        for path in tiny.checkpoint_dir.glob("model*"):
            path.unlink()
        with pytest.raises(MissingCheckpointFileError, match=r"neither model\.safetensors\.index"):
            _load(tiny)

    def test_single_file_checkpoint(self, tiny: TinyCheckpoint) -> None:
        from safetensors.torch import load_file, save_file

        merged: dict[str, object] = {}
        for shard in sorted(set(read_index(tiny.checkpoint_dir).values())):
            merged |= load_file(str(tiny.checkpoint_dir / shard))
            (tiny.checkpoint_dir / shard).unlink()
        (tiny.checkpoint_dir / "model.safetensors.index.json").unlink()
        save_file(merged, str(tiny.checkpoint_dir / "model.safetensors"))  # type: ignore[arg-type]
        assert _load(tiny).tower_sources["ecg_tower"].startswith("file:")

    def test_missing_checkpoint_dir(self, tmp_path: Path) -> None:
        with pytest.raises(MissingCheckpointFileError, match="checkpoint directory does not exist"):
            load_gem(tmp_path / "absent")

    def test_bad_dtype(self, tiny: TinyCheckpoint) -> None:
        with pytest.raises(ValueError, match="dtype must be one of"):
            _load(tiny, dtype="int8")


class TestTowerSources:
    def test_explicit_ecg_path_missing(self, tiny: TinyCheckpoint, tmp_path: Path) -> None:
        with pytest.raises(MissingCheckpointFileError, match=r"absent\.pt: ECG tower file: no"):
            _load(tiny, ecg_tower=tmp_path / "absent.pt")

    def test_explicit_vision_dir_missing(self, tiny: TinyCheckpoint, tmp_path: Path) -> None:
        with pytest.raises(MissingCheckpointFileError, match="vision tower directory: no such"):
            _load(tiny, vision_tower=tmp_path / "absent")

    def test_config_ecg_path_gone(self, tiny: TinyCheckpoint) -> None:
        tiny.ecg_tower_path.unlink()
        with pytest.raises(MissingCheckpointFileError, match=r"mm_ecg_tower .*--ecg-tower FILE"):
            _load(tiny)

    def test_config_vision_path_gone(self, tiny: TinyCheckpoint) -> None:
        shutil.rmtree(tiny.vision_tower_dir)
        with pytest.raises(MissingCheckpointFileError, match=r"mm_vision_tower .*--vision-tower"):
            _load(tiny)

    def test_towers_from_checkpoint(self, tmp_path: Path) -> None:
        tiny = make_tiny_checkpoint(tmp_path, towers_in_checkpoint=True)
        from_files = _load(tiny)
        tiny.ecg_tower_path.unlink()
        (tiny.vision_tower_dir / "model.safetensors").unlink()  # config.json stays: CLIP shape
        from_ckpt = _load(tiny)
        assert from_ckpt.tower_sources == {"ecg_tower": "checkpoint", "vision_tower": "checkpoint"}
        assert from_files.tower_sources["ecg_tower"].startswith("file:")
        signal = torch.randn(1, 12, 5000)
        pixels = torch.randn(1, 3, 336, 336)
        with torch.inference_mode():
            a = from_files.model.multimodal_embeds(signal, pixels)
            b = from_ckpt.model.multimodal_embeds(signal, pixels)
        torch.testing.assert_close(a, b, rtol=0, atol=0)


class TestEcgCocaFile:
    def _state(self, tiny: TinyCheckpoint) -> dict[str, object]:
        saved = torch.load(tiny.ecg_tower_path, weights_only=True)
        return dict(saved["state_dict"])

    def test_bad_prefixes(self, tiny: TinyCheckpoint, tmp_path: Path) -> None:
        state = {k.replace("module.ecg.", "visual."): v for k, v in self._state(tiny).items()}
        path = tmp_path / "bad.pt"
        torch.save({"state_dict": state}, path)
        expected = r"bad\.pt: no ECG tower tensors: .*'module\.ecg\.'.*visual\.conv1"
        with pytest.raises(CheckpointError, match=expected):
            _load(tiny, ecg_tower=path)

    def test_wrong_shape(self, tiny: TinyCheckpoint, tmp_path: Path) -> None:
        state = self._state(tiny)
        state["module.ecg.conv1.weight"] = torch.zeros(32, 12, 25)
        path = tmp_path / "short_patch.pt"
        torch.save({"state_dict": state}, path)
        expected = r"ECG tower: tensor conv1\.weight has shape \[32, 12, 25\]"
        with pytest.raises(CheckpointError, match=expected):
            _load(tiny, ecg_tower=path)

    def test_missing_block(self, tiny: TinyCheckpoint, tmp_path: Path) -> None:
        state = {k: v for k, v in self._state(tiny).items() if ".resblocks.1." not in k}
        path = tmp_path / "one_block.pt"
        torch.save(state, path)  # a bare state dict is accepted too
        expected = r"ECG tower: missing tensors transformer\.resblocks\.1\."
        with pytest.raises(CheckpointError, match=expected):
            _load(tiny, ecg_tower=path)

    def test_unexpected_ecg_key(self, tiny: TinyCheckpoint, tmp_path: Path) -> None:
        state = self._state(tiny) | {"module.ecg.head.weight": torch.zeros(2)}
        path = tmp_path / "extra.pt"
        torch.save({"state_dict": state}, path)
        with pytest.raises(CheckpointError, match=r"ECG tower: unexpected tensors head\.weight"):
            _load(tiny, ecg_tower=path)

    def test_pickled_objects_refused(self, tiny: TinyCheckpoint, tmp_path: Path) -> None:
        path = tmp_path / "pickled.pt"
        torch.save({"state_dict": self._state(tiny), "args": Fraction(1, 3)}, path)
        with pytest.raises(CheckpointError, match=r"pickled\.pt: .*weights_only=True"):
            _load(tiny, ecg_tower=path)

    def test_weights_only_is_requested(
        self, tiny: TinyCheckpoint, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        calls: list[dict[str, object]] = []
        real_load = torch.load

        def spy(*args: Any, **kwargs: Any) -> Any:
            calls.append(kwargs)
            return real_load(*args, **kwargs)

        monkeypatch.setattr(torch, "load", spy)
        _load(tiny)
        assert calls and all(c.get("weights_only") is True for c in calls)

    def test_not_a_torch_file(self, tiny: TinyCheckpoint, tmp_path: Path) -> None:
        path = tmp_path / "text.pt"
        path.write_text("hello")
        expected = r"text\.pt: ECG tower \(ECG-CoCa\) file cannot be read"
        with pytest.raises(CheckpointError, match=expected):
            _load(tiny, ecg_tower=path)


class TestRealGemShapes:
    """GEM.md's tensor shapes, from the full-size config built on the meta device."""

    def test_expected_shapes(self) -> None:
        from gem_core.model.config import CLIP_VIT_L14_336, VISION_PRESETS, parse_config
        from gem_core.model.gem import GemModel
        from gem_core.model.loader import expected_shapes

        config = parse_config(real_gem_config(), "real")
        with torch.device("meta"):
            model = GemModel(config, dict(VISION_PRESETS[CLIP_VIT_L14_336]))
        shapes = {
            checkpoint_name(part, key): shape
            for part in ("llm", "mm_projector", "ecg_projector", "vision_tower", "ecg_tower")
            for key, shape in expected_shapes(model, part).items()
        }
        assert shapes["model.embed_tokens.weight"] == (32000, 4096)
        assert shapes["lm_head.weight"] == (32000, 4096)
        assert shapes["model.layers.31.mlp.down_proj.weight"] == (4096, 11008)
        assert shapes["model.mm_projector.0.weight"] == (4096, 1024)
        assert shapes["model.mm_projector.2.weight"] == (4096, 4096)
        assert shapes["model.ecg_projector.weight"] == (1024, 768)
        ecg = "model.ecg_tower.ecg_tower."
        assert shapes[ecg + "conv1.weight"] == (768, 12, 50)
        assert shapes[ecg + "class_embedding"] == (768,)
        assert shapes[ecg + "positional_embedding"] == (101, 768)
        assert shapes[ecg + "transformer.resblocks.11.attn.in_proj_weight"] == (2304, 768)
        assert shapes[ecg + "transformer.resblocks.11.mlp.c_fc.weight"] == (3072, 768)
        clip = "model.vision_tower.vision_tower.vision_model."
        assert shapes[clip + "embeddings.patch_embedding.weight"] == (1024, 3, 14, 14)
        assert shapes[clip + "embeddings.position_embedding.weight"] == (577, 1024)
        assert shapes[clip + "encoder.layers.23.mlp.fc1.weight"] == (4096, 1024)
        assert model.n_multimodal_tokens == 677
        llm_params = sum(p.numel() for p in model.llm.parameters())
        assert 6.7e9 < llm_params < 6.8e9  # LLaMA-2 7B
