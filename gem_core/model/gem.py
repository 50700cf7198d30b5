"""The GEM model in torch: LLaMA (transformers), CLIP vision tower, ECG-CoCa tower, projectors.

:class:`GemModel` holds GEM's five parts under fixed attribute names (the weight mapping in
:mod:`gem_core.model.weights` refers to them):

* ``llm``: transformers ``LlamaForCausalLM`` (Vicuna-7B in GEM);
* ``vision_tower``: transformers ``CLIPVisionModel`` (ViT-L/14-336); GEM takes the hidden
  states of layer ``mm_vision_select_layer`` (-2) and drops the CLS token: 576 tokens;
* ``ecg_tower``: :class:`~gem_core.model.ecg_tower.EcgCoCaEncoder`: 101 tokens;
* ``ecg_projector``: ECG width -> ``mm_hidden_size`` (``linear`` in GEM);
* ``mm_projector``: ``mm_hidden_size`` -> LLM width (``mlp2x_gelu``: Linear, GELU, Linear),
  shared by both modalities.

The prompt's single ``<image>`` placeholder (:data:`~gem_core.model.tokenizer.IMAGE_TOKEN_ID`)
is replaced by ``[ECG tokens ; image tokens]``; a missing modality is fed as a zero signal /
zero image through its tower, as GEM was trained.

References
----------
Lan X et al. (GEM), arXiv:2503.06073, 2025. Liu H et al. (LLaVA-1.5), CVPR 2024: projector
and placeholder splicing. Touvron H et al. "Llama 2", arXiv:2307.09288, 2023.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from gem_core.model.config import GemConfig, image_tokens, projector_depth
from gem_core.model.ecg_tower import EcgCoCaEncoder
from gem_core.model.errors import CheckpointError
from gem_core.model.tokenizer import IMAGE_TOKEN_ID


@dataclass(frozen=True)
class PromptBatch:
    """Left-padded prompt embeddings of a batch, ready for the LLM's prefill.

    ``embeds`` ``[B, T, H]`` (zeros at padding), ``attention_mask`` ``[B, T]`` (1 = real),
    ``position_ids`` ``[B, T]`` (0 at each row's first real position), ``lengths`` the
    real length of each row (text tokens plus multimodal embeddings).
    """

    embeds: torch.Tensor
    attention_mask: torch.Tensor
    position_ids: torch.Tensor
    lengths: list[int]


def llama_config(config: GemConfig) -> Any:
    """transformers ``LlamaConfig`` of GEM's LLM from its ``config.json`` fields."""
    from transformers import LlamaConfig

    kwargs: dict[str, Any] = {
        "vocab_size": config.vocab_size,
        "hidden_size": config.hidden_size,
        "intermediate_size": config.intermediate_size,
        "num_hidden_layers": config.num_hidden_layers,
        "num_attention_heads": config.num_attention_heads,
        "num_key_value_heads": config.kv_heads,
        "max_position_embeddings": config.max_position_embeddings,
        "rms_norm_eps": config.rms_norm_eps,
        "rope_theta": config.rope_theta,
        "hidden_act": config.hidden_act,
        "attention_bias": config.attention_bias,
        "tie_word_embeddings": config.tie_word_embeddings,
        "bos_token_id": config.bos_token_id,
        "eos_token_id": config.eos_token_id,
        "pad_token_id": config.pad_token_id,
        "initializer_range": config.initializer_range,
    }
    if config.rope_scaling is not None:
        kwargs["rope_scaling"] = config.rope_scaling
    return LlamaConfig(**kwargs)


def build_projector(projector_type: str, in_features: int, out_features: int) -> nn.Module:
    """LLaVA's projector: ``linear`` -> ``nn.Linear``; ``mlp{N}x_gelu`` -> ``nn.Sequential``
    of N Linear layers with GELU between them (state keys ``0``, ``2``, ...)."""
    depth = projector_depth(projector_type)
    if projector_type == "linear":
        return nn.Linear(in_features, out_features)
    layers: list[nn.Module] = [nn.Linear(in_features, out_features)]
    for _ in range(1, depth):
        layers += [nn.GELU(), nn.Linear(out_features, out_features)]
    return nn.Sequential(*layers)


class GemModel(nn.Module):
    """GEM: towers, projectors and the LLaMA LLM (see the module docstring).

    Parameters
    ----------
    config
        The checkpoint's validated ``config.json``.
    vision
        The CLIP vision config (``CLIPVisionConfig`` keyword arguments).
    source
        Named in errors (the checkpoint directory).

    Raises
    ------
    CheckpointError
        ``mm_hidden_size`` differs from the CLIP tower's width, or the select layer is out of
        range.
    """

    def __init__(self, config: GemConfig, vision: dict[str, Any], source: str = "") -> None:
        super().__init__()
        from transformers import CLIPVisionConfig, CLIPVisionModel, LlamaForCausalLM

        self.config = config
        vision_config = CLIPVisionConfig(**vision)
        if vision_config.hidden_size != config.mm_hidden_size:
            raise CheckpointError(
                source,
                f"mm_hidden_size {config.mm_hidden_size} differs from the CLIP tower's "
                f"hidden_size {vision_config.hidden_size}",
            )
        n_layers = vision_config.num_hidden_layers
        if not -n_layers - 1 <= config.mm_vision_select_layer <= n_layers:
            raise CheckpointError(
                source,
                f"mm_vision_select_layer {config.mm_vision_select_layer} is outside the CLIP "
                f"tower's {n_layers} layers",
            )
        ecg = config.ecg_tower
        self.llm = LlamaForCausalLM(llama_config(config))
        self.vision_tower = CLIPVisionModel(vision_config)
        self.ecg_tower = EcgCoCaEncoder(ecg)
        self.ecg_projector = build_projector(
            config.ecg_projector_type, ecg.width, config.mm_hidden_size
        )
        self.mm_projector = build_projector(
            config.mm_projector_type, config.mm_hidden_size, config.hidden_size
        )
        self.n_ecg_tokens = ecg.n_tokens
        self.n_image_tokens = image_tokens(vision, config.mm_vision_select_feature)
        self.image_size = int(vision["image_size"])
        forward_args = inspect.signature(self.llm.forward).parameters
        # transformers 5 renamed past_key_values -> cache and num_logits_to_keep -> logits_to_keep.
        self._cache_arg = "cache" if "cache" in forward_args else "past_key_values"
        self._keep_arg = (
            "logits_to_keep" if "logits_to_keep" in forward_args else "num_logits_to_keep"
        )

    @property
    def n_multimodal_tokens(self) -> int:
        """Embeddings replacing the placeholder: 101 ECG + 576 image = 677 for GEM."""
        return self.n_ecg_tokens + self.n_image_tokens

    @property
    def dtype(self) -> torch.dtype:
        """The LLM's parameter dtype."""
        return next(self.llm.parameters()).dtype

    @property
    def device(self) -> torch.device:
        """Where the LLM's parameters live."""
        return next(self.llm.parameters()).device

    def encode_ecg(self, signal: torch.Tensor) -> torch.Tensor:
        """``[B, 12, 5000]`` mV -> ``[B, 101, H]``: ECG tower, then both projectors."""
        features = self.ecg_tower(signal.to(self.dtype))
        return self.mm_projector(self.ecg_projector(features))

    def encode_image(self, pixels: torch.Tensor) -> torch.Tensor:
        """``[B, 3, S, S]`` CLIP-normalised -> ``[B, 576, H]``: layer -2 patch tokens, projected."""
        out = self.vision_tower(pixel_values=pixels.to(self.dtype), output_hidden_states=True)
        features = out.hidden_states[self.config.mm_vision_select_layer]
        if self.config.mm_vision_select_feature == "patch":
            features = features[:, 1:]
        return self.mm_projector(features)

    def multimodal_embeds(self, signal: torch.Tensor, pixels: torch.Tensor) -> torch.Tensor:
        """``[B, 677, H]``: the ECG tokens, then the image tokens (GEM's order)."""
        return torch.cat([self.encode_ecg(signal), self.encode_image(pixels)], dim=1)

    def prompt_embeds(
        self, token_ids: Sequence[Sequence[int]], multimodal: torch.Tensor
    ) -> PromptBatch:
        """Left-padded embeddings with each row's placeholder replaced by its multimodal rows.

        Parameters
        ----------
        token_ids
            One id list per prompt (:meth:`GemTokenizer.encode_prompt`), each holding exactly
            one :data:`IMAGE_TOKEN_ID`.
        multimodal
            ``[B, M, H]`` from :meth:`multimodal_embeds`.

        Raises
        ------
        ValueError
            A row without exactly one placeholder, or a batch size mismatch.
        """
        if len(token_ids) != multimodal.shape[0]:
            raise ValueError(f"{len(token_ids)} prompts but {multimodal.shape[0]} multimodal rows")
        splits = [_split_placeholder(ids, row) for row, ids in enumerate(token_ids)]
        text = [t for before, after in splits for t in (*before, *after)]
        embedded = self.llm.get_input_embeddings()(
            torch.tensor(text, dtype=torch.long, device=self.device)
        )
        rows, start = [], 0
        for i, (before, after) in enumerate(splits):
            head = embedded[start : start + len(before)]
            tail = embedded[start + len(before) : start + len(before) + len(after)]
            start += len(before) + len(after)
            rows.append(torch.cat([head, multimodal[i].to(embedded.dtype), tail]))
        lengths = [row.shape[0] for row in rows]
        width = max(lengths)
        embeds = embedded.new_zeros(len(rows), width, embedded.shape[-1])
        mask = torch.zeros(len(rows), width, dtype=torch.long, device=self.device)
        for i, row in enumerate(rows):
            embeds[i, width - lengths[i] :] = row
            mask[i, width - lengths[i] :] = 1
        positions = (mask.cumsum(dim=1) - 1).clamp(min=0)
        return PromptBatch(embeds, mask, positions, lengths)

    def forward_llm(
        self,
        *,
        cache: Any,
        attention_mask: torch.Tensor,
        position_ids: torch.Tensor,
        input_ids: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """One LLM forward appending to ``cache``; the last position's logits ``[B, V]``."""
        kwargs: dict[str, Any] = {
            "attention_mask": attention_mask,
            "position_ids": position_ids,
            "use_cache": True,
            self._cache_arg: cache,
            self._keep_arg: 1,
        }
        if input_ids is not None:
            kwargs["input_ids"] = input_ids
        else:
            kwargs["inputs_embeds"] = inputs_embeds
        out = self.llm(**kwargs)
        return out.logits[:, -1, :]


def _split_placeholder(ids: Sequence[int], row: int) -> tuple[list[int], list[int]]:
    at = [i for i, t in enumerate(ids) if t == IMAGE_TOKEN_ID]
    if len(at) != 1:
        raise ValueError(f"prompt {row} has {len(at)} image placeholders; GEM needs exactly one")
    return list(ids[: at[0]]), list(ids[at[0] + 1 :])
