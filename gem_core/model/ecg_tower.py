"""GEM's ECG tower: the ECG-CoCa signal encoder (open_clip ViT with a Conv1d patch stem).

A ``[12, 5000]`` signal in mV is cut into 100 non-overlapping 50-sample patches by a
bias-free ``Conv1d(12 -> width, kernel 50, stride 50)``; a learnable class token is
prepended, a learnable positional embedding added, ``ln_pre`` applied, then ``layers``
pre-norm transformer blocks (``nn.MultiheadAttention``, sequence-first as in open_clip, and a
GELU MLP). GEM feeds the LLM the last block's full output, class token included, *before*
``ln_post``: ``[101, width]`` per signal. ``ln_post`` and ``proj`` exist in the checkpoint but
are not built here (GEM does not use them). Parameter names match the open_clip checkpoint
(``conv1.weight``, ``transformer.resblocks.{i}.attn.in_proj_weight``, ...).

References
----------
Yu J et al. "CoCa: Contrastive Captioners are Image-Text Foundation Models", TMLR 2022.
Dosovitskiy A et al. "An Image is Worth 16x16 Words" (ViT), ICLR 2021. Lan X et al. (GEM),
arXiv:2503.06073, 2025: the ECG variant and the choice of the last block's output.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from gem_core.model.config import EcgTowerConfig


class EcgResidualBlock(nn.Module):
    """One pre-norm block: ``x + attn(ln_1(x))``, then ``x + mlp(ln_2(x))``; input ``[L, N, D]``."""

    def __init__(self, cfg: EcgTowerConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.width, eps=cfg.layer_norm_eps)
        self.attn = nn.MultiheadAttention(cfg.width, cfg.heads)
        self.ln_2 = nn.LayerNorm(cfg.width, eps=cfg.layer_norm_eps)
        self.mlp = nn.Sequential(
            OrderedDict(
                c_fc=nn.Linear(cfg.width, cfg.mlp_width),
                gelu=nn.GELU(),
                c_proj=nn.Linear(cfg.mlp_width, cfg.width),
            )
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Sequence-first ``[tokens, batch, width]`` in and out."""
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


class EcgTransformer(nn.Module):
    """The block stack (named ``transformer.resblocks`` as in open_clip)."""

    def __init__(self, cfg: EcgTowerConfig) -> None:
        super().__init__()
        self.resblocks = nn.ModuleList(EcgResidualBlock(cfg) for _ in range(cfg.layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Sequence-first ``[tokens, batch, width]`` in and out."""
        for block in self.resblocks:
            x = block(x)
        return x


class EcgCoCaEncoder(nn.Module):
    """GEM's ECG tower; ``forward([B, 12, 5000]) -> [B, 101, 768]`` (see the module docstring)."""

    def __init__(self, cfg: EcgTowerConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.conv1 = nn.Conv1d(
            cfg.n_leads, cfg.width, kernel_size=cfg.patch_size, stride=cfg.patch_size, bias=False
        )
        self.class_embedding = nn.Parameter(torch.zeros(cfg.width))
        self.positional_embedding = nn.Parameter(torch.zeros(cfg.n_tokens, cfg.width))
        self.ln_pre = nn.LayerNorm(cfg.width, eps=cfg.layer_norm_eps)
        self.transformer = EcgTransformer(cfg)

    def forward(self, signal: torch.Tensor) -> torch.Tensor:
        """Encode ``[batch, leads, samples]`` (mV) into ``[batch, n_tokens, width]``."""
        patches = self.conv1(signal.to(self.conv1.weight.dtype)).transpose(1, 2)
        cls = self.class_embedding.to(patches.dtype).expand(patches.shape[0], 1, -1)
        x = torch.cat([cls, patches], dim=1) + self.positional_embedding.to(patches.dtype)
        x = self.ln_pre(x)
        x = self.transformer(x.transpose(0, 1))
        return x.transpose(0, 1)
