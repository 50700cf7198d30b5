"""The running batch's KV cache: left-padded rows that can be merged, dropped and trimmed.

Every row of a :class:`DecodeBatch` ends at the last column: a row's real tokens are its last
``lengths[i]`` columns, the columns before them are padding (attention mask 0, keys and
values 0). Decoding appends one column to all rows, so the invariant holds; merging two
batches left-pads the shorter one; dropping rows (finished or aborted requests) indexes the
cache; trimming removes leading columns that are padding in every row. Positions are
per row (``lengths[i]`` is the next position), so padding never shifts RoPE.

The cache is transformers' ``DynamicCache``; this module is the only place that reads or
rebuilds its per-layer tensors (``cache.layers[i].keys/values`` in transformers >= 4.56).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

#: Trim leading all-padding columns once at least this many have accumulated (each trim
#: copies the whole cache, so trimming every step would cost more than attending the pad).
TRIM_MIN_COLUMNS = 32


@dataclass
class DecodeBatch:
    """A cache plus its ``[B, L]`` attention mask and each row's real length (host side)."""

    cache: Any
    attention_mask: torch.Tensor
    lengths: list[int]

    @property
    def size(self) -> int:
        """Rows in the batch."""
        return len(self.lengths)

    @property
    def columns(self) -> int:
        """Cached positions per row, padding included."""
        return int(self.attention_mask.shape[1])

    def positions(self) -> torch.Tensor:
        """``[B, 1]`` position ids of the next token of each row."""
        return torch.tensor(self.lengths, device=self.attention_mask.device)[:, None]

    def extended_mask(self) -> torch.Tensor:
        """The mask with one more real column (the token being decoded)."""
        ones = self.attention_mask.new_ones(self.size, 1)
        return torch.cat([self.attention_mask, ones], dim=1)

    def advance(self, mask: torch.Tensor) -> None:
        """Record one decoded token per row (``mask`` from :meth:`extended_mask`)."""
        self.attention_mask = mask
        self.lengths = [n + 1 for n in self.lengths]


def cache_layers(cache: Any) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """``[(keys, values)]`` per layer, each ``[B, heads, L, head_dim]``."""
    if hasattr(cache, "layers"):
        return [(layer.keys, layer.values) for layer in cache.layers]
    return list(zip(cache.key_cache, cache.value_cache, strict=True))  # transformers < 4.56


def new_cache(layers: list[tuple[torch.Tensor, torch.Tensor]] | None = None) -> Any:
    """A ``DynamicCache`` holding ``layers`` (empty when ``None``)."""
    from transformers import DynamicCache

    cache = DynamicCache()
    for index, (keys, values) in enumerate(layers or []):
        cache.update(keys, values, index)
    return cache


def select_rows(batch: DecodeBatch, rows: list[int]) -> DecodeBatch:
    """The batch restricted to ``rows`` (in that order), without the padding they all share."""
    lengths = [batch.lengths[i] for i in rows]
    drop = batch.columns - max(lengths, default=0)
    index = torch.tensor(rows, dtype=torch.long, device=batch.attention_mask.device)
    layers = [
        (k.index_select(0, index)[:, :, drop:], v.index_select(0, index)[:, :, drop:])
        for k, v in cache_layers(batch.cache)
    ]
    mask = batch.attention_mask.index_select(0, index)[:, drop:]
    return DecodeBatch(new_cache(layers), mask, lengths)


def merge(first: DecodeBatch, second: DecodeBatch) -> DecodeBatch:
    """Rows of ``first`` then rows of ``second``, the narrower side left-padded with zeros."""
    width = max(first.columns, second.columns)
    layers = [
        (
            torch.cat([_pad(k1, width), _pad(k2, width)]),
            torch.cat([_pad(v1, width), _pad(v2, width)]),
        )
        for (k1, v1), (k2, v2) in zip(
            cache_layers(first.cache), cache_layers(second.cache), strict=True
        )
    ]
    mask = torch.cat(
        [_pad_mask(first.attention_mask, width), _pad_mask(second.attention_mask, width)]
    )
    return DecodeBatch(new_cache(layers), mask, first.lengths + second.lengths)


def trim(batch: DecodeBatch, *, min_columns: int = TRIM_MIN_COLUMNS) -> DecodeBatch:
    """Drop the leading columns that are padding in every row, if at least ``min_columns``."""
    drop = batch.columns - max(batch.lengths, default=0)
    if drop < max(1, min_columns):
        return batch
    layers = [(k[:, :, drop:], v[:, :, drop:]) for k, v in cache_layers(batch.cache)]
    return DecodeBatch(new_cache(layers), batch.attention_mask[:, drop:], batch.lengths)


def _pad(states: torch.Tensor, width: int) -> torch.Tensor:
    missing = width - states.shape[2]
    if missing == 0:
        return states
    shape = (states.shape[0], states.shape[1], missing, states.shape[3])
    return torch.cat([states.new_zeros(shape), states], dim=2)


def _pad_mask(mask: torch.Tensor, width: int) -> torch.Tensor:
    missing = width - mask.shape[1]
    if missing == 0:
        return mask
    return torch.cat([mask.new_zeros(mask.shape[0], missing), mask], dim=1)
