"""GEM's ``config.json`` (LLaVA ``llava_llama`` + GEM's ``mm_*`` keys) and its towers' settings.

A GEM checkpoint's ``config.json`` is a LLaMA config extended with LLaVA's multimodal keys
(``mm_vision_tower``, ``mm_projector_type``, ...) and GEM's ECG keys (``mm_ecg_tower``,
``open_clip_config``, ``ecg_projector_type``). :func:`load_config` validates it into a
:class:`GemConfig`; every error names the file and the key. Nothing here imports torch or
transformers, and nothing ever resolves a hub id: tower paths are local files or an error.

The tower shapes the config does not spell out come from named presets: GEM's ECG-CoCa
tower (``open_clip_config: "coca_ViT-B-32"``: width 768, 12 layers, 12 heads, 50-sample
patches of a 5000-sample signal) and CLIP ViT-L/14-336 (``mm_vision_tower:
"openai/clip-vit-large-patch14-336"``). A non-standard ECG tower (the tiny test checkpoint)
states its shape in the optional key ``ecg_tower_config``.

References
----------
Lan X et al. "Empowering MLLM for Grounded ECG Understanding with Time Series and Images"
(GEM), arXiv:2503.06073, 2025. Liu H et al. "Improved Baselines with Visual Instruction
Tuning" (LLaVA-1.5), CVPR 2024: the ``mm_*`` keys.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gem_core.model.errors import CheckpointError, MissingCheckpointFileError

#: The checkpoint's own config file and LLaVA's model type / class name in it.
CONFIG_FILE = "config.json"
LLAVA_MODEL_TYPE = "llava_llama"
LLAVA_ARCHITECTURE = "LlavaLlamaForCausalLM"

#: GEM's vision tower: CLIP ViT-L/14 at 336 px (openai/clip-vit-large-patch14-336), the
#: vision half of its published config.json, so a checkpoint that carries the tower's tensors
#: loads without the CLIP directory (and without any hub access).
CLIP_VIT_L14_336 = "openai/clip-vit-large-patch14-336"
VISION_PRESETS: dict[str, dict[str, Any]] = {
    CLIP_VIT_L14_336: {
        "hidden_size": 1024,
        "intermediate_size": 4096,
        "num_hidden_layers": 24,
        "num_attention_heads": 16,
        "image_size": 336,
        "patch_size": 14,
        "num_channels": 3,
        "hidden_act": "quick_gelu",
        "layer_norm_eps": 1e-5,
        "projection_dim": 768,
    }
}

_PROJECTOR = re.compile(r"^mlp(?P<depth>\d+)x_gelu$")


class EcgTowerConfig(BaseModel):
    """Shape of GEM's ECG-CoCa signal encoder (open_clip's ViT with a Conv1d patch stem).

    Defaults are GEM's ``coca_ViT-B-32`` ECG tower: 12 leads x 5000 samples cut into 100
    patches of 50 samples (0.1 s at 500 Hz), width 768, 12 blocks of 12 heads, MLP ratio 4.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    width: int = Field(768, gt=0)
    layers: int = Field(12, gt=0)
    heads: int = Field(12, gt=0)
    mlp_ratio: float = Field(4.0, gt=0)
    patch_size: int = Field(50, gt=0)
    n_leads: int = Field(12, gt=0)
    n_samples: int = Field(5000, gt=0)
    layer_norm_eps: float = Field(1e-5, gt=0)

    @model_validator(mode="after")
    def _divisible(self) -> EcgTowerConfig:
        if self.width % self.heads:
            raise ValueError(f"width {self.width} is not divisible by heads {self.heads}")
        if self.n_samples % self.patch_size:
            raise ValueError(
                f"n_samples {self.n_samples} is not a multiple of patch_size {self.patch_size}"
            )
        return self

    @property
    def n_tokens(self) -> int:
        """Tokens the tower outputs: one per patch plus the class token (101 for GEM)."""
        return self.n_samples // self.patch_size + 1

    @property
    def mlp_width(self) -> int:
        """Hidden width of each block's MLP (3072 for GEM)."""
        return int(self.width * self.mlp_ratio)


#: ECG tower shapes by ``open_clip_config`` name.
ECG_TOWER_PRESETS: dict[str, EcgTowerConfig] = {"coca_ViT-B-32": EcgTowerConfig()}


class GemConfig(BaseModel):
    """A validated GEM ``config.json``: the LLaMA LLM's fields and the multimodal keys.

    Unknown keys are kept (``extra="allow"``): real checkpoints carry training leftovers
    (``tune_mm_mlp_adapter``, ``mm_projector_lr``, ...) that do not change inference.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    model_type: Literal["llava_llama"]
    architectures: list[str]
    # LLaMA (transformers LlamaConfig names).
    vocab_size: int = Field(gt=0)
    hidden_size: int = Field(gt=0)
    intermediate_size: int = Field(gt=0)
    num_hidden_layers: int = Field(gt=0)
    num_attention_heads: int = Field(gt=0)
    num_key_value_heads: int | None = Field(None, gt=0)
    max_position_embeddings: int = Field(gt=0)
    rms_norm_eps: float = Field(1e-5, gt=0)
    rope_theta: float = Field(10000.0, gt=0)
    rope_scaling: dict[str, Any] | None = None
    hidden_act: Literal["silu"] = "silu"
    attention_bias: bool = False
    tie_word_embeddings: bool = False
    bos_token_id: int = 1
    eos_token_id: int = 2
    pad_token_id: int | None = None
    initializer_range: float = 0.02
    # LLaVA / GEM multimodal keys.
    mm_ecg_tower: str
    open_clip_config: str
    ecg_projector_type: str
    mm_vision_tower: str
    mm_hidden_size: int = Field(gt=0)
    mm_projector_type: str
    mm_vision_select_layer: int
    mm_vision_select_feature: Literal["patch", "cls_patch"]
    mm_patch_merge_type: Literal["flat"]
    image_aspect_ratio: str
    mm_use_im_start_end: Literal[False]
    mm_use_im_patch_token: Literal[False]
    tokenizer_model_max_length: int = Field(gt=0)
    # Not in GEM's config: the ECG tower's shape when it is not a named preset.
    ecg_tower_config: EcgTowerConfig | None = None

    @model_validator(mode="after")
    def _consistent(self) -> GemConfig:
        if LLAVA_ARCHITECTURE not in self.architectures:
            raise ValueError(f"architectures must include {LLAVA_ARCHITECTURE!r}")
        if self.hidden_size % self.num_attention_heads:
            raise ValueError("hidden_size is not divisible by num_attention_heads")
        if self.num_attention_heads % self.kv_heads:
            raise ValueError("num_attention_heads is not divisible by num_key_value_heads")
        for key in ("mm_projector_type", "ecg_projector_type"):
            projector_depth(getattr(self, key))
        if self.ecg_tower_config is None and self.open_clip_config not in ECG_TOWER_PRESETS:
            raise ValueError(
                f"open_clip_config {self.open_clip_config!r} is not a known ECG tower "
                f"({sorted(ECG_TOWER_PRESETS)}); state its shape in 'ecg_tower_config'"
            )
        return self

    @property
    def kv_heads(self) -> int:
        """Key/value heads (LLaMA-2 7B: as many as attention heads)."""
        return self.num_key_value_heads or self.num_attention_heads

    @property
    def ecg_tower(self) -> EcgTowerConfig:
        """The ECG tower's shape: ``ecg_tower_config`` if given, else the named preset."""
        if self.ecg_tower_config is not None:
            return self.ecg_tower_config
        return ECG_TOWER_PRESETS[self.open_clip_config]

    @property
    def context_tokens(self) -> int:
        """Longest sequence (prompt, multimodal embeddings and answer): 4096 for GEM."""
        return min(self.max_position_embeddings, self.tokenizer_model_max_length)


def projector_depth(projector_type: str) -> int:
    """Linear layers of a LLaVA projector: ``linear`` -> 1, ``mlp{N}x_gelu`` -> N.

    Raises
    ------
    ValueError
        Any other type (LLaVA's ``identity`` and resampler types are not GEM's).
    """
    if projector_type == "linear":
        return 1
    match = _PROJECTOR.match(projector_type)
    if match is None or int(match["depth"]) < 1:
        raise ValueError(f"unsupported projector type {projector_type!r}")
    return int(match["depth"])


def load_config(checkpoint_dir: str | Path) -> GemConfig:
    """Read and validate ``checkpoint_dir/config.json``.

    Raises
    ------
    MissingCheckpointFileError
        The directory or its ``config.json`` does not exist.
    CheckpointError
        Not JSON, or a key is missing, mistyped or inconsistent (the message names it).
    """
    path = Path(checkpoint_dir) / CONFIG_FILE
    data = read_json(path, what="GEM config")
    return parse_config(data, path)


def parse_config(data: dict[str, Any], source: str | Path) -> GemConfig:
    """Validate a config mapping; errors name ``source`` and each offending key."""
    try:
        return GemConfig.model_validate(data)
    except ValidationError as err:
        raise CheckpointError(source, f"invalid GEM config: {_describe(err)}") from None


def read_json(path: Path, *, what: str) -> dict[str, Any]:
    """A JSON object from ``path``; :class:`CheckpointError` naming the file otherwise."""
    if not path.is_file():
        raise MissingCheckpointFileError(path, f"{what} file does not exist")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(path, f"{what} is not readable JSON: {err}") from None
    if not isinstance(data, dict):
        raise CheckpointError(path, f"{what} must be a JSON object, got {type(data).__name__}")
    return data


def vision_config_dict(clip_config: dict[str, Any], source: str | Path) -> dict[str, Any]:
    """The vision tower's settings from a CLIP ``config.json`` (full CLIPModel or vision-only).

    Raises
    ------
    CheckpointError
        The file is neither a CLIP model config nor a CLIP vision config.
    """
    if isinstance(clip_config.get("vision_config"), dict):
        return dict(clip_config["vision_config"])
    if clip_config.get("model_type") == "clip_vision_model":
        return dict(clip_config)
    raise CheckpointError(
        source,
        "not a CLIP config: expected 'vision_config' (CLIPModel) or model_type 'clip_vision_model'",
    )


def image_tokens(vision: dict[str, Any], select_feature: str) -> int:
    """CLIP tokens GEM keeps per image: patches (576 at 336 px / 14 px), plus CLS for
    ``cls_patch``."""
    patches = (int(vision["image_size"]) // int(vision["patch_size"])) ** 2
    return patches + (1 if select_feature == "cls_patch" else 0)


def _describe(err: ValidationError) -> str:
    parts = []
    for item in err.errors()[:8]:
        key = ".".join(str(p) for p in item["loc"]) or "<root>"
        parts.append(f"key {key!r}: {item['msg']}")
    more = len(err.errors()) - len(parts)
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")
