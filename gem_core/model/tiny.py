"""A tiny GEM written in exactly the real layout, for tests and the server's integration test.

:func:`make_tiny_checkpoint` writes, under one directory:

* ``gem/``: ``config.json`` with every key of GEM's (``model_type: llava_llama``, the
  ``mm_*`` keys, ``open_clip_config``, ``ecg_projector_type``, ...), the LLM and projectors
  in two safetensors shards with ``model.safetensors.index.json``, a SentencePiece
  ``tokenizer.model`` trained here on a small ECG text (LLaMA's settings: BPE, byte
  fallback, digits split, ``<unk>``/``<s>``/``</s>`` = 0/1/2), ``tokenizer_config.json``,
  ``special_tokens_map.json`` and ``generation_config.json``;
* ``ecg_coca/cpt_wfep_epoch_20.pt``: an open_clip-style training checkpoint whose
  ``state_dict`` holds the ECG tower under ``module.ecg.`` (``ln_post``/``proj`` included,
  as in the real file) and a few text-tower decoys;
* ``clip-vit-tiny-patch14-336/``: a full-``CLIPModel``-style directory (``config.json`` with
  text and vision configs, ``model.safetensors`` with ``vision_model.*`` and text-side
  tensors, ``preprocessor_config.json``).

Only the widths and depths are tiny: the image is still 336 px in 14 px patches (576
tokens) and the signal 12 x 5000 in 50-sample patches (101 tokens), so every sequence length
is GEM's. The config stores the ECG tower's tiny shape in ``ecg_tower_config`` (GEM's real
config names a preset instead) and absolute tower paths in ``mm_ecg_tower`` /
``mm_vision_tower`` (GEM's hold the authors' paths). Deterministic given ``seed``.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from gem_core.inputs import CLIP_MEAN_RGB, CLIP_STD_RGB
from gem_core.model.config import parse_config, vision_config_dict
from gem_core.model.gem import GemModel
from gem_core.model.weights import CORE_PARTS, ECG_COCA_PREFIX, Part, checkpoint_name, file_key

#: Tiny widths and depths (GEM: LLM 4096 x 32 layers, CLIP 1024 x 24, ECG 768 x 12).
TINY_LLM: dict[str, Any] = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 4,
}
TINY_CLIP_VISION: dict[str, Any] = {
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "image_size": 336,
    "patch_size": 14,
    "num_channels": 3,
    "hidden_act": "quick_gelu",
    "layer_norm_eps": 1e-5,
    "projection_dim": 16,
    "model_type": "clip_vision_model",
}
TINY_CLIP_TEXT: dict[str, Any] = {
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 1,
    "num_attention_heads": 2,
    "vocab_size": 64,
    "max_position_embeddings": 77,
    "projection_dim": 16,
    "model_type": "clip_text_model",
}
TINY_ECG_TOWER: dict[str, Any] = {"width": 32, "layers": 2, "heads": 2}
#: SentencePiece vocabulary cap: 3 specials + 256 byte pieces + ~60 merges of the corpus.
TINY_VOCAB = 320
#: Standard deviation of the random matrices: large enough that greedy decoding depends on
#: the context (GEM's 0.02 gives near-uniform logits at width 64).
TINY_INIT_STD = 0.2
#: Shards of the LLM checkpoint (>= 2 so the index is exercised).
TINY_SHARDS = 2
#: Training text of the tiny tokenizer: GEM's prompt and typical answer vocabulary.
TINY_CORPUS = (
    "A chat between a curious human and an artificial intelligence assistant. The assistant "
    "gives helpful, detailed, and polite answers to the human's questions.",
    "USER: Interpret the provided ECG image, identify key features and abnormalities in each "
    "lead, and generate a clinical diagnosis that is supported by the observed evidence. "
    "ASSISTANT:",
    "The ECG shows sinus rhythm at 72 bpm with a normal axis. PR interval 160 ms, QRS "
    "duration 92 ms, QT 380 ms, QTc 420 ms.",
    "QRS durations in lead I range from 92 to 132 ms. ST elevation in leads V1, V2 and V3; "
    "T wave inversion in II, III and aVF; aVR, aVL, V4, V5, V6 are normal.",
    "Atrial fibrillation, left bundle branch block, right bundle branch block, first degree "
    "AV block, left ventricular hypertrophy, myocardial infarction, sinus bradycardia.",
)
ECG_TOWER_FILE = "cpt_wfep_epoch_20.pt"
CLIP_DIR = "clip-vit-tiny-patch14-336"


@dataclass(frozen=True)
class TinyCheckpoint:
    """Paths of a written tiny GEM: pass them to :func:`~gem_core.model.load_gem`."""

    checkpoint_dir: Path
    ecg_tower_path: Path
    vision_tower_dir: Path


def make_tiny_checkpoint(
    directory: str | Path, *, seed: int = 0, towers_in_checkpoint: bool = False
) -> TinyCheckpoint:
    """Write a tiny GEM of the real layout under ``directory`` (module docstring).

    Parameters
    ----------
    directory
        Created if needed; ``gem/``, ``ecg_coca/`` and the CLIP directory go inside.
    seed
        All weights are drawn from a generator seeded with it (the global RNG is untouched).
    towers_in_checkpoint
        Also store both towers' tensors in the checkpoint under
        ``model.vision_tower.vision_tower.*`` / ``model.ecg_tower.ecg_tower.*``.

    Returns
    -------
    TinyCheckpoint
    """
    root = Path(directory)
    paths = TinyCheckpoint(
        checkpoint_dir=root / "gem",
        ecg_tower_path=root / "ecg_coca" / ECG_TOWER_FILE,
        vision_tower_dir=root / CLIP_DIR,
    )
    for folder in (paths.checkpoint_dir, paths.ecg_tower_path.parent, paths.vision_tower_dir):
        folder.mkdir(parents=True, exist_ok=True)
    sp_model = train_tiny_tokenizer()
    config = tiny_config(paths, _vocab_size(sp_model))
    model = tiny_gem(seed, sp_model=sp_model, config=config)
    _write_checkpoint(paths.checkpoint_dir, model, config, sp_model, towers_in_checkpoint)
    _write_ecg_tower(paths.ecg_tower_path, model, seed)
    _write_clip_dir(paths.vision_tower_dir, model, seed)
    return paths


def tiny_gem(
    seed: int = 0, *, sp_model: bytes | None = None, config: dict[str, Any] | None = None
) -> GemModel:
    """The in-memory model :func:`make_tiny_checkpoint` writes for the same ``seed``."""
    if config is None:
        sp_model = sp_model or train_tiny_tokenizer()
        placeholder = TinyCheckpoint(Path("/gem"), Path("/ecg.pt"), Path("/clip"))
        config = tiny_config(placeholder, _vocab_size(sp_model))
    gem_config = parse_config(config, "<tiny config>")
    with torch.random.fork_rng(devices=[]):
        model = GemModel(gem_config, dict(TINY_CLIP_VISION))
    _fill(model, seed)
    return model.eval().requires_grad_(False)


def train_tiny_tokenizer() -> bytes:
    """A LLaMA-style SentencePiece model (serialised) trained on :data:`TINY_CORPUS`."""
    import sentencepiece as spm

    buffer = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(TINY_CORPUS),
        model_writer=buffer,
        vocab_size=TINY_VOCAB,
        hard_vocab_limit=False,
        model_type="bpe",
        byte_fallback=True,
        split_digits=True,
        character_coverage=1.0,
        normalization_rule_name="identity",
        remove_extra_whitespaces=False,
        add_dummy_prefix=True,
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=-1,
        num_threads=1,
        minloglevel=2,
    )
    return buffer.getvalue()


def tiny_config(paths: TinyCheckpoint, vocab_size: int) -> dict[str, Any]:
    """The tiny ``config.json``: GEM's keys (LLaVA-1.5 + GEM) with tiny widths."""
    return {
        "_name_or_path": "tiny-gem",
        "architectures": ["LlavaLlamaForCausalLM"],
        "model_type": "llava_llama",
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "pad_token_id": 0,
        "hidden_act": "silu",
        **TINY_LLM,
        "initializer_range": TINY_INIT_STD,
        "max_position_embeddings": 4096,
        "pretraining_tp": 1,
        "rms_norm_eps": 1e-5,
        "rope_scaling": None,
        "rope_theta": 10000.0,
        "tie_word_embeddings": False,
        "torch_dtype": "float32",
        "transformers_version": "4.37.2",
        "use_cache": True,
        "vocab_size": vocab_size,
        "mm_ecg_tower": str(paths.ecg_tower_path.resolve()),
        "open_clip_config": "coca_ViT-B-32",
        "ecg_projector_type": "linear",
        "ecg_tower_config": dict(TINY_ECG_TOWER),
        "mm_vision_tower": str(paths.vision_tower_dir.resolve()),
        "mm_hidden_size": TINY_CLIP_VISION["hidden_size"],
        "mm_projector_type": "mlp2x_gelu",
        "mm_projector_lr": None,
        "mm_vision_select_layer": -2,
        "mm_vision_select_feature": "patch",
        "mm_patch_merge_type": "flat",
        "image_aspect_ratio": "ori",
        "image_grid_pinpoints": None,
        "mm_use_im_start_end": False,
        "mm_use_im_patch_token": False,
        "freeze_mm_mlp_adapter": False,
        "tune_mm_mlp_adapter": False,
        "use_mm_proj": True,
        "tokenizer_model_max_length": 4096,
        "tokenizer_padding_side": "right",
    }


def _vocab_size(sp_model: bytes) -> int:
    import sentencepiece as spm

    return int(spm.SentencePieceProcessor(model_proto=sp_model).get_piece_size())


def _fill(model: GemModel, seed: int) -> None:
    """Overwrite every parameter from one seeded generator, in name order."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in sorted(model.state_dict().items()):
            noise = torch.randn(tensor.shape, generator=generator)
            if name.endswith("bias"):
                tensor.copy_(0.02 * noise)
            elif tensor.ndim == 1 and ("norm" in name or "ln" in name):
                tensor.copy_(1.0 + 0.1 * noise)
            else:
                tensor.copy_(TINY_INIT_STD * noise)


def _part_tensors(model: GemModel, part: Part) -> dict[str, torch.Tensor]:
    """A part's tensors under their file-style keys, contiguous copies (safetensors-safe)."""
    module = getattr(model, part)
    return {
        file_key(part, k): v.detach().clone().contiguous() for k, v in module.state_dict().items()
    }


def _write_checkpoint(
    folder: Path, model: GemModel, config: dict[str, Any], sp_model: bytes, towers: bool
) -> None:
    parts: list[Part] = [*CORE_PARTS, *(("ecg_tower", "vision_tower") if towers else ())]
    tensors = {
        checkpoint_name(part, key): value
        for part in parts
        for key, value in _part_tensors(model, part).items()
    }
    names = sorted(tensors)
    per_shard = -(-len(names) // TINY_SHARDS)
    weight_map: dict[str, str] = {}
    for i in range(TINY_SHARDS):
        shard = f"model-{i + 1:05d}-of-{TINY_SHARDS:05d}.safetensors"
        chosen = names[i * per_shard : (i + 1) * per_shard]
        save_file({n: tensors[n] for n in chosen}, str(folder / shard), metadata={"format": "pt"})
        weight_map.update(dict.fromkeys(chosen, shard))
    total = sum(t.numel() * t.element_size() for t in tensors.values())
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    _write_json(folder / "model.safetensors.index.json", index)
    _write_json(folder / "config.json", config)
    (folder / "tokenizer.model").write_bytes(sp_model)
    specials = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<unk>"}
    _write_json(folder / "special_tokens_map.json", specials)
    tokenizer_config = {
        **specials,
        "add_bos_token": True,
        "add_eos_token": False,
        "clean_up_tokenization_spaces": False,
        "legacy": False,
        "model_max_length": config["tokenizer_model_max_length"],
        "padding_side": "right",
        "sp_model_kwargs": {},
        "tokenizer_class": "LlamaTokenizer",
    }
    _write_json(folder / "tokenizer_config.json", tokenizer_config)
    generation = {"bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 0, "max_length": 4096}
    _write_json(folder / "generation_config.json", generation)
    parse_config(config, folder / "config.json")  # the writer's own check


def _write_ecg_tower(path: Path, model: GemModel, seed: int) -> None:
    ecg = _part_tensors(model, "ecg_tower")
    width = model.ecg_tower.cfg.width
    generator = torch.Generator().manual_seed(seed + 1)
    unused = {  # in the real file, not used by GEM
        "ln_post.weight": torch.ones(width),
        "ln_post.bias": torch.zeros(width),
        "proj": torch.randn(width, 16, generator=generator),
    }
    decoys = {  # CoCa's text tower and decoder: ignored by the loader
        "module.text.token_embedding.weight": torch.randn(64, 16, generator=generator),
        "module.text.positional_embedding": torch.randn(8, 16, generator=generator),
        "module.text_decoder.ln_final.weight": torch.ones(16),
        "module.logit_scale": torch.tensor(4.6052),
    }
    state = {ECG_COCA_PREFIX + k: v for k, v in {**ecg, **unused}.items()} | decoys
    torch.save({"epoch": 20, "name": "tiny-ecg-coca", "state_dict": state}, path)


def _write_clip_dir(folder: Path, model: GemModel, seed: int) -> None:
    config = {
        "architectures": ["CLIPModel"],
        "model_type": "clip",
        "projection_dim": TINY_CLIP_VISION["projection_dim"],
        "logit_scale_init_value": 2.6592,
        "text_config": dict(TINY_CLIP_TEXT),
        "vision_config": dict(TINY_CLIP_VISION),
    }
    vision_config_dict(config, folder / "config.json")
    generator = torch.Generator().manual_seed(seed + 2)
    text_width, proj = TINY_CLIP_TEXT["hidden_size"], TINY_CLIP_VISION["projection_dim"]
    decoys = {
        "text_model.embeddings.token_embedding.weight": torch.randn(
            TINY_CLIP_TEXT["vocab_size"], text_width, generator=generator
        ),
        "text_model.final_layer_norm.weight": torch.ones(text_width),
        "text_projection.weight": torch.randn(proj, text_width, generator=generator),
        "visual_projection.weight": torch.randn(
            proj, TINY_CLIP_VISION["hidden_size"], generator=generator
        ),
        "logit_scale": torch.tensor(2.6592),
    }
    tensors = _part_tensors(model, "vision_tower") | decoys
    save_file(tensors, str(folder / "model.safetensors"), metadata={"format": "pt"})
    _write_json(folder / "config.json", config)
    size = TINY_CLIP_VISION["image_size"]
    preprocessor = {
        "crop_size": {"height": size, "width": size},
        "do_center_crop": True,
        "do_normalize": True,
        "do_resize": True,
        "image_mean": list(CLIP_MEAN_RGB),
        "image_std": list(CLIP_STD_RGB),
        "resample": 3,
        "size": {"shortest_edge": size},
    }
    _write_json(folder / "preprocessor_config.json", preprocessor)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
