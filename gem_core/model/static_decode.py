"""The fixed-shape LLaMA decode step over a static KV cache, eager or replayed as a CUDA graph.

:func:`decode_forward` runs one token per slot through GEM's LLaMA using the layers' own
modules (projections, RMSNorms, MLP, RoPE module, LM head), but not transformers' attention
and cache plumbing: each layer writes the new key/value at its slot's position with one
``index_put_`` (a scatter; no concatenation, no allocation that grows with the context),
then attends over the first ``length`` columns of the cache with a per-slot mask
``column <= position`` (an additive bias built once per step). Every tensor's shape depends
only on ``(batch, length)``, so the step can be captured once per such pair and replayed
(:class:`DecodeRunner`), which removes the per-kernel launch cost that bounds an eager 7B
decode at batch 1 on a GPU.

References
----------
Touvron H et al. "Llama 2", arXiv:2307.09288, 2023 (the decoder layer). Su J et al.
"RoFormer: Enhanced Transformer with Rotary Position Embedding", arXiv:2104.09864, 2021.
Kwon W et al. "Efficient Memory Management for LLM Serving with PagedAttention" (vLLM),
SOSP 2023: slot-based continuous batching with decode steps captured as CUDA graphs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

#: CUDA graph warm-up runs before a capture (cuBLAS/allocator initialisation happens on the
#: first call; PyTorch's documentation warms up on a side stream before capturing).
GRAPH_WARMUP_RUNS = 2


@dataclass(frozen=True)
class LlamaParts:
    """The modules of a transformers ``LlamaForCausalLM`` the decode step uses."""

    embed: nn.Module
    layers: Sequence[Any]
    norm: nn.Module
    lm_head: nn.Module
    rotary: nn.Module
    heads: int
    kv_heads: int
    head_dim: int


def llama_parts(llm: Any) -> LlamaParts:
    """Pick the decode step's modules out of a transformers ``LlamaForCausalLM``."""
    config = llm.config
    heads = int(config.num_attention_heads)
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
    return LlamaParts(
        embed=llm.model.embed_tokens,
        layers=list(llm.model.layers),
        norm=llm.model.norm,
        lm_head=llm.lm_head,
        rotary=llm.model.rotary_emb,
        heads=heads,
        kv_heads=int(config.num_key_value_heads or heads),
        head_dim=int(head_dim),
    )


def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotary position embedding of ``x`` ``[B, heads, 1, d]`` (Su et al. 2021, LLaMA's
    half-split layout)."""
    half = x.shape[-1] // 2
    rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos + rotated * sin


def decode_forward(
    parts: LlamaParts,
    keys: Sequence[torch.Tensor],
    values: Sequence[torch.Tensor],
    input_ids: torch.Tensor,
    positions: torch.Tensor,
    columns: torch.Tensor,
) -> torch.Tensor:
    """One decode step of slots ``0..B-1``: ``[B]`` token ids at ``[B]`` positions -> ``[B, V]``.

    Parameters
    ----------
    parts
        The LLM's modules (:func:`llama_parts`).
    keys, values
        Per layer ``[max_batch, kv_heads, max_context, head_dim]`` caches; slot ``b``'s new
        key/value is written at column ``positions[b]``.
    input_ids, positions
        ``[B]`` long tensors on the cache's device (``B <= max_batch``).
    columns
        ``arange(length)``: the cache columns attended (``length > positions.max()``);
        columns past a slot's position are masked. A tensor rather than an int, so that
        ``torch.compile`` can treat the length as a dynamic size.
    """
    batch, length = input_ids.shape[0], columns.shape[0]
    device = input_ids.device
    hidden = parts.embed(input_ids)[:, None, :]
    cos, sin = parts.rotary(hidden, positions[:, None])
    cos, sin = cos[:, None], sin[:, None]  # [B, 1, 1, d]: broadcast over heads
    visible = (columns[None, :] <= positions[:, None])[:, None, None, :]
    bias = torch.zeros(visible.shape, dtype=hidden.dtype, device=device)
    bias = bias.masked_fill(~visible, float("-inf"))  # once per step, not per layer
    rows = torch.arange(batch, device=device)[:, None]
    heads = torch.arange(parts.kv_heads, device=device)[None, :]
    at = (rows, heads, positions[:, None])
    for layer, key_cache, value_cache in zip(parts.layers, keys, values, strict=True):
        attn = layer.self_attn
        x = layer.input_layernorm(hidden)
        q = attn.q_proj(x).view(batch, 1, parts.heads, parts.head_dim).transpose(1, 2)
        k = attn.k_proj(x).view(batch, 1, parts.kv_heads, parts.head_dim).transpose(1, 2)
        v = attn.v_proj(x).view(batch, 1, parts.kv_heads, parts.head_dim).transpose(1, 2)
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        key_cache.index_put_(at, k[:, :, 0])
        value_cache.index_put_(at, v[:, :, 0])
        extra = {"enable_gqa": True} if parts.kv_heads != parts.heads else {}
        out = F.scaled_dot_product_attention(
            q,
            key_cache[:batch, :, :length],
            value_cache[:batch, :, :length],
            attn_mask=bias,
            scale=getattr(attn, "scaling", None),
            **extra,
        )
        hidden = hidden + attn.o_proj(out.transpose(1, 2).reshape(batch, 1, -1))
        hidden = hidden + layer.mlp(layer.post_attention_layernorm(hidden))
    logits: torch.Tensor = parts.lm_head(parts.norm(hidden))[:, 0]
    return logits


class DecodeRunner:
    """Runs :func:`decode_forward` eagerly, compiled, and/or replayed from CUDA graphs.

    The inputs live in one persistent ``[2, max_batch]`` device buffer (token ids, positions)
    so a captured graph reads each step's values from fixed addresses; one graph is captured
    per ``(batch, length)`` shape, on first use, into one shared memory pool.

    Parameters
    ----------
    llm
        transformers ``LlamaForCausalLM``.
    keys, values
        The static cache's per-layer tensors (:class:`~gem_core.model.static_cache.StaticKVCache`).
    cuda_graphs
        Capture and replay CUDA graphs (CUDA devices only).
    compile
        Wrap the step in ``torch.compile`` (inductor kernel fusion; batch and length are
        dynamic sizes, so one compilation serves every length, one more every batch > 1).
    """

    def __init__(
        self,
        llm: Any,
        keys: Sequence[torch.Tensor],
        values: Sequence[torch.Tensor],
        *,
        cuda_graphs: bool = False,
        compile: bool = False,
    ) -> None:
        device = keys[0].device
        if cuda_graphs and device.type != "cuda":
            raise ValueError(f"CUDA graphs need a CUDA device; the cache is on {device}")
        self._inputs = torch.zeros(2, keys[0].shape[0], dtype=torch.long, device=device)
        self._columns = torch.arange(keys[0].shape[2], device=device)
        step: Callable[..., torch.Tensor] = functools.partial(
            decode_forward, llama_parts(llm), tuple(keys), tuple(values)
        )
        self._step = torch.compile(step) if compile else step
        self._compiled = compile
        self._graphs: dict[tuple[int, int], tuple[Any, torch.Tensor]] = {}
        self._pool = torch.cuda.graph_pool_handle() if cuda_graphs else None
        self.cuda_graphs = cuda_graphs

    @property
    def captured(self) -> int:
        """CUDA graphs captured so far (one per ``(batch, length)`` shape seen)."""
        return len(self._graphs)

    def run(self, input_ids: Sequence[int], positions: Sequence[int], length: int) -> torch.Tensor:
        """``[B, V]`` logits of one step (B = ``len(input_ids)``, see :func:`decode_forward`).

        With CUDA graphs the result is the graph's output buffer: read it before the next
        :meth:`run`.
        """
        batch = len(input_ids)
        host = torch.tensor([list(input_ids), list(positions)], dtype=torch.long)
        self._inputs[:, :batch].copy_(host)
        if self._pool is None:
            return self._call(batch, length)
        graph = self._graphs.get((batch, length))
        if graph is None:
            graph = self._capture(batch, length)
        graph[0].replay()
        return graph[1]

    def _call(self, batch: int, length: int) -> torch.Tensor:
        inputs = (self._inputs[0, :batch], self._inputs[1, :batch], self._columns[:length])
        if self._compiled:  # one compilation for every length (and every batch above 1)
            for tensor in inputs:
                torch._dynamo.maybe_mark_dynamic(tensor, 0)
        return self._step(*inputs)

    def _capture(self, batch: int, length: int) -> tuple[Any, torch.Tensor]:
        """Warm up on a side stream, then capture one step of this shape. The warm-up runs
        write the same keys/values the replay writes, so they change nothing."""
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(GRAPH_WARMUP_RUNS):
                self._call(batch, length)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, pool=self._pool):
            out = self._call(batch, length)
        self._graphs[(batch, length)] = (graph, out)
        return graph, out
