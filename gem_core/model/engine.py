""":class:`GemEngine`: continuous batching of GEM requests (a :class:`gem_core.engine.Engine`).

Each :meth:`GemEngine.step`:

1. emits the ``abort`` events of requests aborted since the last step and drops aborted
   rows from the running batch;
2. admits waiting requests, up to ``max_batch`` running and ``max_prefill`` per step: one
   batched prefill (towers + LLM over their prompts), their first token sampled, their KV
   cache joined to the running batch;
3. runs ONE decode step for every running request together (one token per row through the
   LLM, the prefix read from the cache) and samples each row's next token;
4. removes finished rows from the running batch.

The running batch's KV cache (:mod:`gem_core.model.running`) is ``kv_cache="dynamic"``
(transformers' ``DynamicCache``: left-padded rows merged, indexed and trimmed) or
``"static"`` (one pre-allocated cache of ``max_batch`` slots, a finished request's slot
reused by the next, a fixed-shape decode step replayed from CUDA graphs on a GPU; see
:mod:`gem_core.model.static_cache`). Both give the same tokens.

So a request added while others decode joins them between two decode steps. The engine is
single-threaded (see :mod:`gem_core.engine`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from pathlib import Path

import torch

from gem_core.engine import (
    EngineError,
    EngineFull,
    GenerationRequest,
    PromptTooLong,
    StepResult,
    TokenEvent,
)
from gem_core.model.generate import SequenceState, check_request, prefill, sample_batch
from gem_core.model.loader import LoadedGem, load_gem
from gem_core.model.running import KVCacheKind, RunningBatch, running_batch
from gem_core.model.tokenizer import IMAGE_TOKEN_ID
from tools.leads import MIMIC_LEADS

#: Requests prefilled in one step: bounds the pause a prefill (677+ tokens each) imposes on
#: the running requests' next token.
DEFAULT_MAX_PREFILL = 8


class GemEngine:
    """Continuous-batching generation over a loaded GEM (module docstring).

    Parameters
    ----------
    gem
        The loaded model and tokenizer (:func:`~gem_core.model.load_gem`).
    max_batch
        Most requests decoded together.
    max_queue
        Most requests waiting for admission; :meth:`add` raises :class:`EngineFull` beyond.
    max_prefill
        Most requests prefilled in one step.
    model_name
        Served model id; default: the checkpoint directory's name.
    kv_cache
        ``"dynamic"`` or ``"static"`` (module docstring).
    max_context
        Most tokens per request (prompt, 677 multimodal embeddings, answer); default the
        model's context. The static cache reserves ``max_batch x max_context`` positions.
    cuda_graphs
        Static cache: replay decode steps from CUDA graphs (default: on for a CUDA model).
    compile
        Static cache: ``torch.compile`` the decode step (minutes of compilation on a GPU).

    Raises
    ------
    ValueError
        A bad size or cache option (see :func:`~gem_core.model.running.running_batch`).
    EngineError
        The static cache does not fit the GPU's free memory.
    """

    def __init__(
        self,
        gem: LoadedGem,
        *,
        max_batch: int = 32,
        max_queue: int = 256,
        max_prefill: int = DEFAULT_MAX_PREFILL,
        model_name: str | None = None,
        kv_cache: KVCacheKind = "dynamic",
        max_context: int | None = None,
        cuda_graphs: bool | None = None,
        compile: bool = False,
    ) -> None:
        if min(max_batch, max_queue, max_prefill) < 1:
            raise ValueError("max_batch, max_queue and max_prefill must be >= 1")
        self.gem = gem
        self._model = gem.model
        self._tokenizer = gem.tokenizer
        self._max_batch = max_batch
        self._max_queue = max_queue
        self._max_prefill = max_prefill
        self._name = model_name or gem.checkpoint_dir.name
        self._waiting: deque[SequenceState] = deque()
        self._running: list[SequenceState] = []
        self._batch = running_batch(
            gem.model,
            kv_cache,
            max_batch=max_batch,
            max_context=max_context,
            cuda_graphs=cuda_graphs,
            compile=compile,
        )
        self._kv_cache: KVCacheKind = kv_cache
        self._pending_events: list[TokenEvent] = []
        self._abort_running: set[str] = set()

    @property
    def model_name(self) -> str:
        """The served model's id."""
        return self._name

    @property
    def max_batch(self) -> int:
        """Most requests decoded together."""
        return self._max_batch

    @property
    def kv_cache(self) -> KVCacheKind:
        """``"dynamic"`` or ``"static"``."""
        return self._kv_cache

    @property
    def running_batch(self) -> RunningBatch:
        """The running requests' KV cache (rows in decoding order)."""
        return self._batch

    @property
    def running_ids(self) -> tuple[str, ...]:
        """Ids of the running requests, in the running batch's row order."""
        return tuple(s.request_id for s in self._running)

    @property
    def running(self) -> int:
        """Requests being decoded."""
        return len(self._running)

    @property
    def waiting(self) -> int:
        """Requests added but not yet prefilled."""
        return len(self._waiting)

    @property
    def lead_order(self) -> tuple[str, ...]:
        """Row order of the ``[12, 5000]`` signal the checkpoint expects."""
        return self.gem.lead_order

    @property
    def image_size(self) -> int:
        """Side of the ``[3, S, S]`` CLIP input (336 for GEM)."""
        return self._model.image_size

    @property
    def context_tokens(self) -> int:
        """Most tokens per request (prompt, multimodal embeddings and answer): the model's
        context, or the engine's smaller ``max_context``."""
        return self._batch.max_context

    def count_tokens(self, prompt: str) -> int:
        """Prompt length in tokens, each ``<image>`` counted as its 677 embeddings."""
        ids = self._tokenizer.encode_prompt(prompt)
        placeholders = ids.count(IMAGE_TOKEN_ID)
        return len(ids) - placeholders + placeholders * self._model.n_multimodal_tokens

    def add(self, request: GenerationRequest) -> None:
        """Validate and queue ``request``.

        Raises
        ------
        EngineError
            Duplicate live id, or an invalid request (see
            :func:`~gem_core.model.generate.check_request`).
        PromptTooLong
            The prompt and ``max_new_tokens`` do not fit the context (the model's, or the
            engine's ``max_context``).
        EngineFull
            ``max_queue`` requests are already waiting.
        """
        if request.request_id in self._live_ids():
            raise EngineError(f"request {request.request_id!r} is already in the engine")
        checked = check_request(request, self._model, self._tokenizer)
        wanted = checked.prompt_tokens + request.params.max_new_tokens
        if wanted > self.context_tokens:
            raise PromptTooLong(
                f"request {request.request_id!r}: {checked.prompt_tokens} prompt tokens + "
                f"max_new_tokens {request.params.max_new_tokens} = {wanted} exceeds the "
                f"engine's max_context of {self.context_tokens} tokens per request"
            )
        if len(self._waiting) >= self._max_queue:
            raise EngineFull(
                f"request {request.request_id!r}: the queue is full ({self._max_queue} waiting)"
            )
        self._waiting.append(SequenceState.start(checked, self._tokenizer, self._model.device))

    def abort(self, request_id: str) -> None:
        """Drop a waiting or running request; its abort event comes with the next step.
        Unknown or finished ids are ignored (a client may disconnect after the end)."""
        for state in self._waiting:
            if state.request_id == request_id:
                self._waiting.remove(state)
                self._pending_events.append(state.event(None, "", "abort"))
                return
        if any(s.request_id == request_id for s in self._running):
            self._abort_running.add(request_id)

    def has_work(self) -> bool:
        """True while any request is waiting or running, or an abort event is pending."""
        return bool(self._waiting or self._running or self._pending_events)

    def step(self) -> StepResult:
        """Abort, admit (prefill) and decode one token for every running request."""
        events, self._pending_events = self._pending_events, []
        with torch.inference_mode():
            self._drop_aborted(events)
            prefilled = self._admit(events)
            decoded = self._decode(events)
        return StepResult(events=events, prefilled=prefilled, decode_batch_size=decoded)

    # ---- step parts ------------------------------------------------------------------------

    def _live_ids(self) -> set[str]:
        return {s.request_id for s in (*self._waiting, *self._running)}

    def _drop_aborted(self, events: list[TokenEvent]) -> None:
        if not self._abort_running:
            return
        keep = [i for i, s in enumerate(self._running) if s.request_id not in self._abort_running]
        for state in self._running:
            if state.request_id in self._abort_running:
                events.append(state.event(None, "", "abort"))
        self._abort_running.clear()
        self._keep_rows(keep)

    def _admit(self, events: list[TokenEvent]) -> int:
        room = min(self._max_batch - len(self._running), self._max_prefill, len(self._waiting))
        if room <= 0:
            return 0
        admitted = [self._waiting.popleft() for _ in range(room)]
        logits, batch = prefill(self._model, [s.checked for s in admitted])
        events.extend(sample_batch(logits, admitted))
        rows = [i for i, s in enumerate(admitted) if not s.finished]
        if rows:
            self._batch.join(batch, rows)
            self._running.extend(admitted[i] for i in rows)
        return room

    def _decode(self, events: list[TokenEvent]) -> int:
        if not self._running:
            return 0
        size = len(self._running)
        logits = self._batch.decode([s.generated[-1] for s in self._running])
        events.extend(sample_batch(logits, self._running))
        self._keep_rows([i for i, s in enumerate(self._running) if not s.finished])
        return size

    def _keep_rows(self, rows: Sequence[int]) -> None:
        self._running = [self._running[i] for i in rows]
        self._batch.keep(rows)


def load_engine(
    checkpoint_dir: str | Path,
    *,
    ecg_tower: str | Path | None = None,
    vision_tower: str | Path | None = None,
    device: str | torch.device = "cpu",
    dtype: str | torch.dtype = "fp32",
    max_batch: int = 32,
    max_queue: int = 256,
    max_prefill: int = DEFAULT_MAX_PREFILL,
    lead_order: Sequence[str] = MIMIC_LEADS,
    model_name: str | None = None,
    kv_cache: KVCacheKind = "dynamic",
    max_context: int | None = None,
    cuda_graphs: bool | None = None,
    compile: bool = False,
) -> GemEngine:
    """Load GEM (:func:`~gem_core.model.load_gem`) and wrap it in a :class:`GemEngine`
    (``kv_cache``, ``max_context``, ``cuda_graphs``, ``compile``: see there).

    Raises what :func:`~gem_core.model.load_gem` raises (``CheckpointError`` and its
    ``MissingCheckpointFileError``, ``ValueError`` for a bad dtype/device/lead order), and
    what :class:`GemEngine` raises for its options.
    """
    gem = load_gem(
        checkpoint_dir,
        ecg_tower=ecg_tower,
        vision_tower=vision_tower,
        device=device,
        dtype=dtype,
        lead_order=lead_order,
    )
    return GemEngine(
        gem,
        max_batch=max_batch,
        max_queue=max_queue,
        max_prefill=max_prefill,
        model_name=model_name,
        kv_cache=kv_cache,
        max_context=max_context,
        cuda_graphs=cuda_graphs,
        compile=compile,
    )
