"""GEM with random weights built straight on a device, for speed measurements without weights.

:func:`random_gem` builds :class:`~gem_core.model.gem.GemModel` on the ``meta`` device (no
memory, no initialisation), allocates every tensor on the target device in the target dtype
(``to_empty``) and fills it there in place: a 7B model is ready on a GPU in seconds and never
touches host memory. The values only have to be finite and non-degenerate: matrices
``N(0, std)``, norm weights 1, biases 0; the buffers (RoPE frequencies, CLIP position ids)
are recomputed as the loader does.

:func:`gem_shape_config` gives GEM's published shape (Vicuna-7B, CLIP ViT-L/14-336, the
``coca_ViT-B-32`` ECG tower) or the tiny test shape (:mod:`gem_core.model.tiny`).
:func:`random_loaded_gem` wraps such a model with a :class:`StandInTokenizer` into the
:class:`~gem_core.model.loader.LoadedGem` an engine takes, for speed runs.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from gem_core.model.config import CLIP_VIT_L14_336, VISION_PRESETS, GemConfig, parse_config
from gem_core.model.gem import GemModel
from gem_core.model.loader import LoadedGem, resolve_dtype
from gem_core.model.tiny import TINY_CLIP_VISION, TinyCheckpoint, tiny_config, train_tiny_tokenizer
from gem_core.model.tokenizer import TOKENIZER_FILE, GemTokenizer
from tools.leads import MIMIC_LEADS

#: Vicuna-7B (LLaMA-2 7B) shape, GEM's LLM.
GEM_7B_LLM: dict[str, Any] = {
    "hidden_size": 4096,
    "intermediate_size": 11008,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": 32,
    "vocab_size": 32000,
    "mm_hidden_size": 1024,
}
#: Standard deviation of the random matrices (LLaMA's ``initializer_range``): keeps a 32-layer
#: bf16 forward finite.
RANDOM_INIT_STD = 0.02


def gem_shape_config(
    *, tiny: bool, vocab_size: int | None = None
) -> tuple[GemConfig, dict[str, Any]]:
    """``(config, CLIP vision config)`` of GEM's shape, or of the tiny test checkpoint.

    Parameters
    ----------
    tiny
        Tiny widths and depths (still 677 multimodal tokens) instead of GEM's 7B shape.
    vocab_size
        Override the vocabulary (default: 32000 for GEM, 320 for tiny).
    """
    placeholder = TinyCheckpoint(Path("/gem"), Path("/ecg.pt"), Path("/clip"))
    data = tiny_config(placeholder, vocab_size or 320)
    if tiny:
        return parse_config(data, "<tiny shape>"), dict(TINY_CLIP_VISION)
    data.update(GEM_7B_LLM, mm_vision_tower=CLIP_VIT_L14_336)
    if vocab_size is not None:
        data["vocab_size"] = vocab_size
    del data["ecg_tower_config"]  # the coca_ViT-B-32 preset: 768 wide, 12 blocks
    return parse_config(data, "<GEM 7B shape>"), dict(VISION_PRESETS[CLIP_VIT_L14_336])


def random_gem(
    config: GemConfig,
    vision: dict[str, Any],
    *,
    device: str | torch.device,
    dtype: torch.dtype,
    seed: int = 0,
    std: float = RANDOM_INIT_STD,
) -> GemModel:
    """A :class:`GemModel` of ``config`` with random weights, allocated and filled on ``device``.

    Deterministic for a given ``seed`` and device (one generator on ``device``); the global
    RNG is untouched.
    """
    target = torch.device(device)
    with torch.device("meta"):
        model = GemModel(config, vision, source="<random>")
    model = model.to(dtype).to_empty(device=target)
    generator = torch.Generator(device=target).manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith("bias"):
                param.zero_()
            elif param.ndim == 1 and ("norm" in name or "ln" in name):
                param.fill_(1.0)
            else:
                param.normal_(0.0, std, generator=generator)
    _restore_buffers(model, target)
    return model.eval().requires_grad_(False)


def _restore_buffers(model: GemModel, device: torch.device) -> None:
    """Recompute what ``to_empty`` left as garbage: RoPE frequencies and position ids."""
    for name, module in list(model.named_modules()):
        if type(module).__name__.endswith("RotaryEmbedding"):
            parent, _, attr = name.rpartition(".")
            setattr(model.get_submodule(parent), attr, type(module)(module.config).to(device))
    for name, buffer in list(model.named_buffers()):
        if name.endswith("position_ids"):
            owner, _, attr = name.rpartition(".")
            ids = torch.arange(buffer.shape[-1], device=device).expand(1, -1)
            model.get_submodule(owner).register_buffer(attr, ids, persistent=False)


class StandInTokenizer(GemTokenizer):
    """The tiny SentencePiece model standing in for Vicuna's in speed runs of a random model:
    ids beyond its pieces decode modulo its size, and EOS never ends a request (every request
    generates exactly its ``max_new_tokens``)."""

    @property
    def eos_id(self) -> int:
        """Never produced."""
        return -1

    def decode(self, ids: Sequence[int]) -> str:
        """Text of ``ids`` folded into this model's pieces."""
        return super().decode([i % self.vocab_size for i in ids])


def random_loaded_gem(
    *, tiny: bool, device: str | torch.device, dtype: str | torch.dtype, seed: int = 0
) -> LoadedGem:
    """GEM's shape (or the tiny one) with random weights on ``device`` and a
    :class:`StandInTokenizer` (written to a temporary directory), as a :class:`LoadedGem`."""
    folder = Path(tempfile.mkdtemp(prefix="random-gem-"))
    (folder / TOKENIZER_FILE).write_bytes(train_tiny_tokenizer())
    config, vision = gem_shape_config(tiny=tiny)
    target, precision = torch.device(device), resolve_dtype(dtype)
    return LoadedGem(
        model=random_gem(config, vision, device=target, dtype=precision, seed=seed),
        tokenizer=StandInTokenizer(folder / TOKENIZER_FILE),
        config=config,
        lead_order=MIMIC_LEADS,
        tower_sources={"ecg_tower": "random", "vision_tower": "random"},
        checkpoint_dir=folder,
        device=target,
        dtype=precision,
    )
