"""GEM's config.json: validation with errors naming the file and key, tower presets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from gem_core.model.config import (
    ECG_TOWER_PRESETS,
    VISION_PRESETS,
    GemConfig,
    image_tokens,
    load_config,
    parse_config,
    projector_depth,
    vision_config_dict,
)
from gem_core.model.errors import CheckpointError, MissingCheckpointFileError
from tests.model_builders import real_gem_config, tiny_config_dict

#: The keys GEM's config.json has (GEM.md: llava_llama + mm_* + GEM's ECG keys + LLaMA's).
REAL_KEYS = (
    "model_type",
    "architectures",
    "mm_ecg_tower",
    "open_clip_config",
    "ecg_projector_type",
    "mm_vision_tower",
    "mm_hidden_size",
    "mm_projector_type",
    "mm_vision_select_layer",
    "mm_vision_select_feature",
    "mm_patch_merge_type",
    "image_aspect_ratio",
    "mm_use_im_start_end",
    "mm_use_im_patch_token",
    "tokenizer_model_max_length",
    "hidden_size",
    "intermediate_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "vocab_size",
    "max_position_embeddings",
    "rms_norm_eps",
    "rope_theta",
    "bos_token_id",
    "eos_token_id",
)


def _write(folder: Path, data: dict[str, object]) -> Path:
    (folder / "config.json").write_text(json.dumps(data))
    return folder


class TestLoadConfig:
    def test_tiny_config_has_every_real_key(self) -> None:
        data = tiny_config_dict()
        missing = [key for key in REAL_KEYS if key not in data]
        assert missing == []
        assert data["model_type"] == "llava_llama"
        assert data["architectures"] == ["LlavaLlamaForCausalLM"]

    def test_real_gem_shape(self, tmp_path: Path) -> None:
        config = load_config(_write(tmp_path, real_gem_config()))
        assert config.ecg_tower == ECG_TOWER_PRESETS["coca_ViT-B-32"]
        assert (config.ecg_tower.width, config.ecg_tower.layers, config.ecg_tower.heads) == (
            768,
            12,
            12,
        )
        assert config.ecg_tower.n_tokens == 101
        assert config.context_tokens == 4096
        assert image_tokens(VISION_PRESETS[config.mm_vision_tower], "patch") == 576

    def test_extra_keys_kept(self, tmp_path: Path) -> None:
        data = real_gem_config() | {"tune_mm_mlp_adapter": False}
        config = load_config(_write(tmp_path, data))
        assert config.model_extra is not None
        assert config.model_extra["tune_mm_mlp_adapter"] is False

    @pytest.mark.parametrize("key", ["mm_hidden_size", "mm_ecg_tower", "hidden_size"])
    def test_missing_key_named(self, tmp_path: Path, key: str) -> None:
        data = real_gem_config()
        del data[key]
        with pytest.raises(CheckpointError, match=rf"config\.json: .*'{key}'.*Field required"):
            load_config(_write(tmp_path, data))

    def test_wrong_model_type(self, tmp_path: Path) -> None:
        data = real_gem_config() | {"model_type": "llama"}
        with pytest.raises(CheckpointError, match="'model_type'"):
            load_config(_write(tmp_path, data))

    def test_architecture_required(self, tmp_path: Path) -> None:
        data = real_gem_config() | {"architectures": ["LlamaForCausalLM"]}
        with pytest.raises(CheckpointError, match="LlavaLlamaForCausalLM"):
            load_config(_write(tmp_path, data))

    def test_im_start_end_tokens_refused(self, tmp_path: Path) -> None:
        data = real_gem_config() | {"mm_use_im_start_end": True}
        with pytest.raises(CheckpointError, match="'mm_use_im_start_end'"):
            load_config(_write(tmp_path, data))

    def test_unknown_ecg_tower_needs_shape(self, tmp_path: Path) -> None:
        data = real_gem_config() | {"open_clip_config": "coca_ViT-L-14"}
        with pytest.raises(CheckpointError, match="ecg_tower_config"):
            load_config(_write(tmp_path, data))

    def test_bad_projector(self, tmp_path: Path) -> None:
        data = real_gem_config() | {"mm_projector_type": "resampler"}
        with pytest.raises(CheckpointError, match="resampler"):
            load_config(_write(tmp_path, data))

    def test_heads_must_divide_width(self, tmp_path: Path) -> None:
        data = real_gem_config() | {"num_attention_heads": 30}
        with pytest.raises(CheckpointError, match="divisible"):
            load_config(_write(tmp_path, data))

    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(MissingCheckpointFileError, match=r"config\.json: GEM config file"):
            load_config(tmp_path)

    def test_not_json(self, tmp_path: Path) -> None:
        (tmp_path / "config.json").write_text("{not json")
        with pytest.raises(CheckpointError, match="not readable JSON"):
            load_config(tmp_path)

    def test_not_an_object(self, tmp_path: Path) -> None:
        (tmp_path / "config.json").write_text("[1, 2]")
        with pytest.raises(CheckpointError, match="JSON object"):
            load_config(tmp_path)


class TestParseConfig:
    def test_source_in_message(self) -> None:
        with pytest.raises(CheckpointError, match=r"^<here>: invalid GEM config"):
            parse_config({"model_type": "llava_llama"}, "<here>")

    def test_returns_model(self) -> None:
        assert isinstance(parse_config(tiny_config_dict(), "x"), GemConfig)


class TestProjectorDepth:
    @pytest.mark.parametrize(
        ("name", "depth"), [("linear", 1), ("mlp2x_gelu", 2), ("mlp3x_gelu", 3)]
    )
    def test_known(self, name: str, depth: int) -> None:
        assert projector_depth(name) == depth

    @pytest.mark.parametrize("name", ["identity", "mlp0x_gelu", "mlp2x_relu", ""])
    def test_unknown(self, name: str) -> None:
        with pytest.raises(ValueError, match="unsupported projector"):
            projector_depth(name)


class TestVisionConfigDict:
    def test_full_clip_config(self) -> None:
        data = {"model_type": "clip", "vision_config": {"hidden_size": 8}, "text_config": {}}
        assert vision_config_dict(data, "c") == {"hidden_size": 8}

    def test_vision_only_config(self) -> None:
        data = {"model_type": "clip_vision_model", "hidden_size": 8}
        assert vision_config_dict(data, "c")["hidden_size"] == 8

    def test_not_clip(self) -> None:
        with pytest.raises(CheckpointError, match=r"^c: not a CLIP config"):
            vision_config_dict({"model_type": "llama"}, "c")
