"""make_tiny_checkpoint: GEM's real file layout, consistent shards and index, deterministic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

import torch
from safetensors import safe_open

from gem_core.model import TinyCheckpoint, make_tiny_checkpoint
from gem_core.model.tiny import TINY_ECG_TOWER, train_tiny_tokenizer


def _shard_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.safetensors"))}


class TestMakeTinyCheckpoint:
    def test_layout(self, tiny: TinyCheckpoint) -> None:
        ckpt = tiny.checkpoint_dir
        for name in (
            "config.json",
            "model.safetensors.index.json",
            "tokenizer.model",
            "tokenizer_config.json",
            "special_tokens_map.json",
            "generation_config.json",
        ):
            assert (ckpt / name).is_file(), name
        assert len(list(ckpt.glob("model-*-of-*.safetensors"))) >= 2
        assert tiny.ecg_tower_path.is_file() and tiny.ecg_tower_path.suffix == ".pt"
        for name in ("config.json", "model.safetensors", "preprocessor_config.json"):
            assert (tiny.vision_tower_dir / name).is_file(), name

    def test_config_points_at_the_towers(self, tiny: TinyCheckpoint) -> None:
        config = json.loads((tiny.checkpoint_dir / "config.json").read_text())
        assert Path(config["mm_ecg_tower"]) == tiny.ecg_tower_path.resolve()
        assert Path(config["mm_vision_tower"]) == tiny.vision_tower_dir.resolve()

    def test_index_matches_shards(self, tiny: TinyCheckpoint) -> None:
        index = json.loads((tiny.checkpoint_dir / "model.safetensors.index.json").read_text())
        weight_map: dict[str, str] = index["weight_map"]
        held: dict[str, str] = {}
        total = 0
        for shard in sorted(set(weight_map.values())):
            with safe_open(str(tiny.checkpoint_dir / shard), framework="pt") as handle:
                for name in handle.keys():  # noqa: SIM118 (safe_open is not a dict)
                    held[name] = shard
                    tensor = handle.get_tensor(name)
                    total += tensor.numel() * tensor.element_size()
        assert held == weight_map
        assert index["metadata"]["total_size"] == total
        assert {"lm_head.weight", "model.embed_tokens.weight", "model.norm.weight"} <= set(held)
        assert "model.mm_projector.0.weight" in held and "model.mm_projector.2.bias" in held
        assert "model.ecg_projector.weight" in held
        assert not any(n.startswith(("model.vision_tower.", "model.ecg_tower.")) for n in held)

    def test_towers_in_checkpoint(self, tmp_path: Path) -> None:
        paths = make_tiny_checkpoint(tmp_path, towers_in_checkpoint=True)
        index = json.loads((paths.checkpoint_dir / "model.safetensors.index.json").read_text())
        names = set(index["weight_map"])
        assert "model.ecg_tower.ecg_tower.conv1.weight" in names
        assert (
            "model.vision_tower.vision_tower.vision_model.embeddings.patch_embedding.weight"
            in names
        )

    def test_ecg_file_keys(self, tiny: TinyCheckpoint) -> None:
        saved = torch.load(tiny.ecg_tower_path, map_location="cpu", weights_only=True)
        state = saved["state_dict"]
        width = TINY_ECG_TOWER["width"]
        assert tuple(state["module.ecg.conv1.weight"].shape) == (width, 12, 50)
        assert tuple(state["module.ecg.positional_embedding"].shape) == (101, width)
        assert tuple(state["module.ecg.class_embedding"].shape) == (width,)
        block = "module.ecg.transformer.resblocks.0."
        assert tuple(state[block + "attn.in_proj_weight"].shape) == (3 * width, width)
        assert tuple(state[block + "mlp.c_fc.weight"].shape) == (4 * width, width)
        assert "module.ecg.ln_post.weight" in state and "module.ecg.proj" in state
        assert any(k.startswith("module.text.") for k in state)

    def test_clip_dir_is_a_full_clip_model(self, tiny: TinyCheckpoint) -> None:
        config = json.loads((tiny.vision_tower_dir / "config.json").read_text())
        assert config["model_type"] == "clip"
        vision = config["vision_config"]
        assert (vision["image_size"] // vision["patch_size"]) ** 2 == 576
        with safe_open(str(tiny.vision_tower_dir / "model.safetensors"), framework="pt") as handle:
            names = list(handle.keys())
        assert any(n.startswith("vision_model.encoder.layers.") for n in names)
        assert any(n.startswith("text_model.") for n in names)

    def test_deterministic(self, tiny: TinyCheckpoint, tmp_path: Path) -> None:
        again = make_tiny_checkpoint(tmp_path / "again", seed=0)
        other = make_tiny_checkpoint(tmp_path / "other", seed=1)
        first = _shard_bytes(tiny.checkpoint_dir)
        assert _shard_bytes(again.checkpoint_dir) == first
        assert _shard_bytes(other.checkpoint_dir) != first
        assert (again.checkpoint_dir / "tokenizer.model").read_bytes() == (
            tiny.checkpoint_dir / "tokenizer.model"
        ).read_bytes()


class TestTrainTinyTokenizer:
    def test_llama_special_ids(self) -> None:
        import sentencepiece as spm

        sp = spm.SentencePieceProcessor(model_proto=train_tiny_tokenizer())
        assert [sp.id_to_piece(i) for i in (0, 1, 2)] == ["<unk>", "<s>", "</s>"]
        assert sp.id_to_piece(3) == "<0x00>"  # byte fallback pieces follow, as in LLaMA
        assert sp.decode(sp.encode("ECG €")) == "ECG €"
