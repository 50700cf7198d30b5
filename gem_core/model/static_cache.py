"""A static (pre-allocated) KV cache with one slot per running request.

:class:`StaticKVCache` holds, per layer, keys and values of shape
``[max_batch, kv_heads, max_context, head_dim]``, allocated once. A request owns one slot
(row) while it runs: its prompt's keys/values sit at columns ``0..n-1`` (no padding inside a
slot), its next token goes to column ``n`` at RoPE position ``n``, and each slot attends only
its own first ``n + 1`` columns. Admitting a request copies its prefill cache into a free
slot; finishing or aborting one frees the slot for the next request (continuous batching);
nothing is ever concatenated, trimmed or reallocated, so the decode step has fixed shapes
(:mod:`gem_core.model.static_decode`).

:class:`StaticRunningBatch` is the engine's running batch over such a cache. Each decode step
covers slots ``0..B-1`` and columns ``0..L-1``, with ``B`` and ``L`` rounded up to a few
bucket sizes so that a handful of CUDA graphs serve every batch: the free slot with the
lowest index is taken first, which keeps ``B`` small, and the idle slots below ``B`` run a
dummy token at position 0 of their own row, touching nothing else.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from gem_core.engine import EngineError
from gem_core.model.gem import GemModel
from gem_core.model.kvcache import DecodeBatch, cache_layers
from gem_core.model.static_decode import DecodeRunner

#: Decode batches are padded to a power of two up to this size, then to a multiple of it:
#: at most 8 idle rows ride along, and 64 slots need only 11 graphs per length.
BATCH_BUCKET = 8
#: Attended columns are rounded up to a multiple of this: at most 127 masked columns read
#: per slot (<= 15% of GEM's ~740-token prompts) and one graph per 128 decoded tokens.
LENGTH_BUCKET = 128


def batch_bucket(rows: int, max_batch: int) -> int:
    """Rows a decode step computes for slots ``0..rows-1``: the bucket size, capped."""
    if rows <= BATCH_BUCKET:
        size = 1 << max(rows - 1, 0).bit_length()
    else:
        size = -(-rows // BATCH_BUCKET) * BATCH_BUCKET
    return min(size, max_batch)


def length_bucket(columns: int, max_context: int) -> int:
    """Columns a decode step attends to cover ``columns``: a multiple of the bucket, capped."""
    return min(-(-columns // LENGTH_BUCKET) * LENGTH_BUCKET, max_context)


@dataclass(frozen=True, eq=False)
class StaticKVCache:
    """Per-layer ``[max_batch, kv_heads, max_context, head_dim]`` keys and values."""

    keys: tuple[torch.Tensor, ...]
    values: tuple[torch.Tensor, ...]

    @classmethod
    def allocate(
        cls,
        *,
        layers: int,
        max_batch: int,
        kv_heads: int,
        max_context: int,
        head_dim: int,
        dtype: torch.dtype,
        device: torch.device,
    ) -> StaticKVCache:
        """Zero-filled tensors (masked columns must hold finite values: ``0 * NaN`` would
        leak through the attention weights).

        Raises
        ------
        EngineError
            The cache does not fit the GPU's free memory (the message gives its size).
        """
        shape = (max_batch, kv_heads, max_context, head_dim)
        nbytes = 2 * layers * max_batch * kv_heads * max_context * head_dim * dtype.itemsize
        if device.type == "cuda":
            free, _ = torch.cuda.mem_get_info(device)
            if nbytes > free:
                raise EngineError(
                    f"the static KV cache needs {nbytes / 2**30:.1f} GiB ({max_batch} slots x "
                    f"{max_context} positions x {layers} layers) but {free / 2**30:.1f} GiB of "
                    f"{device} are free; lower max_batch or max_context (--max-batch, "
                    "--max-context)"
                )
        keys = tuple(torch.zeros(shape, dtype=dtype, device=device) for _ in range(layers))
        values = tuple(torch.zeros(shape, dtype=dtype, device=device) for _ in range(layers))
        return cls(keys, values)

    @property
    def max_batch(self) -> int:
        """Slots."""
        return int(self.keys[0].shape[0])

    @property
    def max_context(self) -> int:
        """Positions per slot."""
        return int(self.keys[0].shape[2])

    @property
    def nbytes(self) -> int:
        """Bytes of all keys and values."""
        return sum(t.numel() * t.element_size() for t in (*self.keys, *self.values))

    def write_prompts(
        self,
        slots: Sequence[int],
        prefilled: Sequence[tuple[torch.Tensor, torch.Tensor]],
        rows: Sequence[int],
        lengths: Sequence[int],
    ) -> None:
        """Copy left-padded prefill rows into slots, left-aligned.

        ``prefilled`` holds per layer ``[N, kv_heads, T, head_dim]`` keys and values whose row
        ``rows[i]`` has its ``lengths[i]`` real tokens in its last columns; they land in
        columns ``0..lengths[i]-1`` of slot ``slots[i]`` (one gather and one
        ``index_copy_`` per tensor). Columns past a row's length receive copies of its last
        token: masked, and overwritten by decoding.
        """
        width = int(prefilled[0][0].shape[2])
        span = max(lengths)
        if span > self.max_context:
            raise EngineError(
                f"a prompt of {span} tokens does not fit the static KV cache's "
                f"{self.max_context} positions per slot"
            )
        device = self.keys[0].device
        source = torch.tensor(list(rows), dtype=torch.long, device=device)
        target = torch.tensor(list(slots), dtype=torch.long, device=device)
        first = torch.tensor([width - n for n in lengths], dtype=torch.long, device=device)
        columns = (first[:, None] + torch.arange(span, device=device)[None, :]).clamp(max=width - 1)
        kv_heads, head_dim = self.keys[0].shape[1], self.keys[0].shape[3]
        index = columns[:, None, :, None].expand(len(rows), kv_heads, span, head_dim)
        for (keys, values), key_cache, value_cache in zip(
            prefilled, self.keys, self.values, strict=True
        ):
            for new, cache in ((keys, key_cache), (values, value_cache)):
                aligned = new.index_select(0, source).gather(2, index).to(cache.dtype)
                cache.narrow(2, 0, span).index_copy_(0, target, aligned)


class StaticRunningBatch:
    """The engine's running batch over a :class:`StaticKVCache` (module docstring).

    Rows are the engine's running requests in its order; ``join``/``decode``/``keep`` follow
    :class:`~gem_core.model.running.RunningBatch`.

    Parameters
    ----------
    model
        The loaded GEM (its LLM's shape, dtype and device size the cache).
    max_batch, max_context
        Slots, and positions per slot (prompt, multimodal embeddings and answer).
    cuda_graphs, compile
        See :class:`~gem_core.model.static_decode.DecodeRunner`.
    """

    def __init__(
        self,
        model: GemModel,
        *,
        max_batch: int,
        max_context: int,
        cuda_graphs: bool = False,
        compile: bool = False,
    ) -> None:
        config = model.config
        self.cache = StaticKVCache.allocate(
            layers=config.num_hidden_layers,
            max_batch=max_batch,
            kv_heads=config.kv_heads,
            max_context=max_context,
            head_dim=config.hidden_size // config.num_attention_heads,
            dtype=model.dtype,
            device=model.device,
        )
        self.runner = DecodeRunner(
            model.llm, self.cache.keys, self.cache.values, cuda_graphs=cuda_graphs, compile=compile
        )
        self._free = list(range(max_batch))  # a heap: the lowest free slot first
        self._slots: list[int] = []
        self._lengths: list[int] = []

    @property
    def size(self) -> int:
        """Running rows."""
        return len(self._slots)

    @property
    def max_context(self) -> int:
        """Tokens one request may occupy."""
        return self.cache.max_context

    @property
    def slots(self) -> tuple[int, ...]:
        """Each running row's slot."""
        return tuple(self._slots)

    @property
    def lengths(self) -> tuple[int, ...]:
        """Each running row's cached tokens (= the position of its next token)."""
        return tuple(self._lengths)

    def join(self, prefilled: DecodeBatch, rows: Sequence[int]) -> None:
        """Give rows ``rows`` of a prefill batch the lowest free slots and copy their cache."""
        if len(rows) > len(self._free):
            raise EngineError(
                f"{len(rows)} requests to admit but only {len(self._free)} free cache slots"
            )
        slots = [heapq.heappop(self._free) for _ in rows]
        lengths = [prefilled.lengths[r] for r in rows]
        self.cache.write_prompts(slots, cache_layers(prefilled.cache), rows, lengths)
        self._slots += slots
        self._lengths += lengths

    def decode(self, tokens: Sequence[int]) -> torch.Tensor:
        """Feed one token per row at its own position; ``[rows, V]`` logits in row order."""
        if len(tokens) != self.size:
            raise ValueError(f"{len(tokens)} tokens for a batch of {self.size}")
        longest = max(self._lengths)
        if longest >= self.max_context:
            raise EngineError(
                f"a request reached the static KV cache's {self.max_context} positions per slot"
            )
        width = batch_bucket(max(self._slots) + 1, self.cache.max_batch)
        ids, positions = [0] * width, [0] * width
        for slot, length, token in zip(self._slots, self._lengths, tokens, strict=True):
            ids[slot], positions[slot] = token, length
        logits = self.runner.run(ids, positions, length_bucket(longest + 1, self.max_context))
        self._lengths = [n + 1 for n in self._lengths]
        order = torch.tensor(self._slots, dtype=torch.long, device=logits.device)
        return logits.index_select(0, order)

    def keep(self, rows: Sequence[int]) -> None:
        """Keep ``rows`` (in that order); the other rows' slots become free."""
        kept = set(rows)
        for row, slot in enumerate(self._slots):
            if row not in kept:
                heapq.heappush(self._free, slot)
        self._slots = [self._slots[r] for r in rows]
        self._lengths = [self._lengths[r] for r in rows]
