"""The engine's running batch: the KV cache of the requests being decoded, behind one interface.

:class:`RunningBatch` is what :class:`~gem_core.model.engine.GemEngine` drives each step:
``join`` (admitted requests' prefill cache), ``decode`` (one token per row), ``keep`` (the
rows still running, after every decode step and every abort). Two implementations:

* ``"dynamic"``: :class:`DynamicRunningBatch`, transformers' ``DynamicCache`` in left-padded
  rows that are concatenated, indexed and trimmed (:mod:`gem_core.model.kvcache`); no memory
  is reserved, but every step reallocates and costs more host time;
* ``"static"``: :class:`~gem_core.model.static_cache.StaticRunningBatch`, one pre-allocated
  cache of ``max_batch`` slots x ``max_context`` positions with a fixed-shape decode step,
  optionally replayed from CUDA graphs and/or compiled.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

import torch

from gem_core.model.gem import GemModel
from gem_core.model.generate import decode_step
from gem_core.model.kvcache import DecodeBatch, merge, select_rows, trim

KVCacheKind = Literal["dynamic", "static"]
KV_CACHE_KINDS: tuple[KVCacheKind, ...] = ("dynamic", "static")


class RunningBatch(Protocol):
    """The running requests' KV cache (module docstring); rows follow the engine's order."""

    @property
    def size(self) -> int:
        """Running rows."""
        ...

    @property
    def max_context(self) -> int:
        """Most tokens one request may occupy (prompt, multimodal embeddings and answer)."""
        ...

    def join(self, prefilled: DecodeBatch, rows: Sequence[int]) -> None:
        """Append rows ``rows`` of a fresh prefill batch (after the current rows)."""
        ...

    def decode(self, tokens: Sequence[int]) -> torch.Tensor:
        """Feed one token per row; ``[rows, V]`` next-token logits."""
        ...

    def keep(self, rows: Sequence[int]) -> None:
        """Keep only ``rows`` (indices into the current rows, in the new order)."""
        ...


class DynamicRunningBatch:
    """Left-padded ``DynamicCache`` rows (:mod:`gem_core.model.kvcache`)."""

    def __init__(self, model: GemModel, *, max_context: int) -> None:
        self._model = model
        self._max_context = max_context
        self._batch: DecodeBatch | None = None

    @property
    def size(self) -> int:
        """Running rows."""
        return 0 if self._batch is None else self._batch.size

    @property
    def max_context(self) -> int:
        """Most tokens one request may occupy."""
        return self._max_context

    def join(self, prefilled: DecodeBatch, rows: Sequence[int]) -> None:
        """Merge the rows in (the narrower side left-padded)."""
        joined = prefilled if len(rows) == prefilled.size else select_rows(prefilled, list(rows))
        self._batch = joined if self._batch is None else merge(self._batch, joined)

    def decode(self, tokens: Sequence[int]) -> torch.Tensor:
        """One token per row appended to the cache."""
        if self._batch is None:
            raise ValueError("decode on an empty running batch")
        return decode_step(self._model, self._batch, tokens)

    def keep(self, rows: Sequence[int]) -> None:
        """Index the kept rows, then trim columns that became padding in every row."""
        if self._batch is None:
            return
        if not rows:
            self._batch = None
            return
        if list(rows) != list(range(self._batch.size)):
            self._batch = select_rows(self._batch, list(rows))
        self._batch = trim(self._batch)


def running_batch(
    model: GemModel,
    kind: KVCacheKind,
    *,
    max_batch: int,
    max_context: int | None = None,
    cuda_graphs: bool | None = None,
    compile: bool = False,
) -> RunningBatch:
    """The running batch of ``kind`` for ``model``.

    Parameters
    ----------
    max_context
        Tokens per request; default (and upper bound) the model's context. The static cache
        reserves ``max_batch x max_context`` positions per layer.
    cuda_graphs
        Static cache only: replay decode steps from CUDA graphs (default: on for CUDA).
    compile
        Static cache only: ``torch.compile`` the decode step.

    Raises
    ------
    ValueError
        An unknown kind, a ``max_context`` outside ``1..context``, graphs or compilation
        asked for the dynamic cache, or CUDA graphs off CUDA.
    """
    if kind not in KV_CACHE_KINDS:
        raise ValueError(f"kv_cache must be one of {', '.join(KV_CACHE_KINDS)}; got {kind!r}")
    context = model.config.context_tokens
    if max_context is None:
        max_context = context
    if not 1 <= max_context <= context:
        raise ValueError(f"max_context must be in 1..{context} (the model's); got {max_context}")
    if kind == "dynamic":
        if cuda_graphs or compile:
            raise ValueError("cuda_graphs and compile need kv_cache='static'")
        return DynamicRunningBatch(model, max_context=max_context)
    from gem_core.model.static_cache import StaticRunningBatch

    graphs = model.device.type == "cuda" if cuda_graphs is None else cuda_graphs
    return StaticRunningBatch(
        model, max_batch=max_batch, max_context=max_context, cuda_graphs=graphs, compile=compile
    )
