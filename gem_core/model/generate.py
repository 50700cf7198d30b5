"""Batched generation with a KV cache: request checks, prefill, one-token decode steps.

* :func:`check_request` validates a :class:`~gem_core.engine.GenerationRequest` against a
  loaded model (one ``<image>``, signal/image shapes, finite values, sampling settings,
  context length) and tokenises its prompt.
* :func:`prefill` runs the towers and the LLM over a batch of prompts once (left padding,
  attention mask, per-row position ids) and returns the last logits and a
  :class:`~gem_core.model.kvcache.DecodeBatch`.
* :func:`decode_step` feeds ONE token per row; the prefix is read from the cache, never
  re-run.
* :class:`SequenceState` turns a row's sampled tokens into
  :class:`~gem_core.engine.TokenEvent` s (stop ids, ``max_new_tokens``, streaming text).
* :func:`generate` runs a static batch to completion (finished rows leave the batch).

The continuous-batching :class:`~gem_core.model.engine.GemEngine` is built from the same
pieces.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from gem_core.engine import (
    EngineError,
    FinishReason,
    GenerationRequest,
    PromptTooLong,
    TokenEvent,
)
from gem_core.model.gem import GemModel
from gem_core.model.kvcache import DecodeBatch, new_cache, select_rows
from gem_core.model.sampling import RowSampling, request_generator, sample_tokens
from gem_core.model.tokenizer import GemTokenizer, IncrementalDecoder
from gem_core.prompting import IMAGE_TOKEN


@dataclass(frozen=True)
class CheckedRequest:
    """A validated request, its prompt ids (placeholder included) and its token count."""

    request: GenerationRequest
    token_ids: list[int]
    prompt_tokens: int


@dataclass(frozen=True)
class GenerationOutput:
    """A finished request of :func:`generate`: the generated ids (a final stop id included)
    and their text (stop id excluded)."""

    request_id: str
    token_ids: list[int]
    text: str
    finish_reason: FinishReason
    prompt_tokens: int
    completion_tokens: int


def check_request(
    request: GenerationRequest, model: GemModel, tokenizer: GemTokenizer
) -> CheckedRequest:
    """Validate ``request`` for ``model`` and tokenise its prompt.

    Raises
    ------
    EngineError
        Not exactly one ``<image>``, a signal that is not ``[12, 5000]`` finite floats, an
        image that is not ``[3, S, S]`` finite floats, or bad sampling settings.
    PromptTooLong
        Prompt tokens + multimodal embeddings + ``max_new_tokens`` exceed the context.
    """
    rid = request.request_id
    found = request.prompt.count(IMAGE_TOKEN)
    if found != 1:
        raise EngineError(
            f"request {rid!r}: the prompt must hold exactly one {IMAGE_TOKEN} placeholder "
            f"(where the ECG and image embeddings go), found {found}"
        )
    ecg = model.ecg_tower.cfg
    _check_array(rid, "ECG signal", request.ecg, (ecg.n_leads, ecg.n_samples))
    size = model.image_size
    _check_array(rid, "image", request.image, (3, size, size))
    _check_params(request, tokenizer.vocab_size)
    token_ids = tokenizer.encode_prompt(request.prompt)
    prompt_tokens = len(token_ids) - 1 + model.n_multimodal_tokens
    context = model.config.context_tokens
    wanted = prompt_tokens + request.params.max_new_tokens
    if wanted > context:
        raise PromptTooLong(
            f"request {rid!r}: {prompt_tokens} prompt tokens ({model.n_multimodal_tokens} of "
            f"them ECG/image embeddings) + max_new_tokens {request.params.max_new_tokens} = "
            f"{wanted} exceeds the context of {context} tokens"
        )
    return CheckedRequest(request, token_ids, prompt_tokens)


def prefill(
    model: GemModel, requests: Sequence[CheckedRequest]
) -> tuple[torch.Tensor, DecodeBatch]:
    """Run ``requests`` through the towers and the LLM once; ``([B, V] logits, batch)``."""
    signals = _stack(
        [r.request.ecg for r in requests],
        (model.ecg_tower.cfg.n_leads, model.ecg_tower.cfg.n_samples),
        model,
    )
    pixels = _stack(
        [r.request.image for r in requests], (3, model.image_size, model.image_size), model
    )
    prompt = model.prompt_embeds(
        [r.token_ids for r in requests], model.multimodal_embeds(signals, pixels)
    )
    cache = new_cache()
    logits = model.forward_llm(
        cache=cache,
        attention_mask=prompt.attention_mask,
        position_ids=prompt.position_ids,
        inputs_embeds=prompt.embeds,
    )
    return logits, DecodeBatch(cache, prompt.attention_mask, list(prompt.lengths))


def decode_step(model: GemModel, batch: DecodeBatch, tokens: Sequence[int]) -> torch.Tensor:
    """Feed one token per row (``[B, 1]``) against the cache; ``[B, V]`` logits."""
    if len(tokens) != batch.size:
        raise ValueError(f"{len(tokens)} tokens for a batch of {batch.size}")
    input_ids = torch.tensor(list(tokens), dtype=torch.long, device=model.device)[:, None]
    mask = batch.extended_mask()
    logits = model.forward_llm(
        cache=batch.cache, attention_mask=mask, position_ids=batch.positions(), input_ids=input_ids
    )
    batch.advance(mask)
    return logits


@dataclass
class SequenceState:
    """One request's decoding progress: sampling settings, generated ids, streamed text."""

    checked: CheckedRequest
    eos_id: int
    decoder: IncrementalDecoder
    sampling: RowSampling
    generated: list[int] = field(default_factory=list)
    finish_reason: FinishReason | None = None

    @property
    def finished(self) -> bool:
        """True once a stop id or ``max_new_tokens`` ended the request."""
        return self.finish_reason is not None

    @classmethod
    def start(
        cls, checked: CheckedRequest, tokenizer: GemTokenizer, device: torch.device
    ) -> SequenceState:
        """Fresh state; a seeded generator on ``device`` for sampled requests."""
        params = checked.request.params
        generator = request_generator(params.seed, device) if params.temperature > 0 else None
        sampling = RowSampling(params.temperature, params.top_p, generator)
        return cls(checked, tokenizer.eos_id, tokenizer.incremental(), sampling)

    @property
    def request_id(self) -> str:
        """The request's id."""
        return self.checked.request.request_id

    def accept(self, token: int) -> TokenEvent:
        """Record a sampled token; the event carries its text and, if it ends the request,
        the finish reason (``stop`` on EOS/stop ids, ``length`` at ``max_new_tokens``)."""
        params = self.checked.request.params
        self.generated.append(token)
        reason: FinishReason | None = None
        if token == self.eos_id or token in params.stop_token_ids:
            reason, text = "stop", self.decoder.flush()
        else:
            text = self.decoder.push(token)
            if len(self.generated) >= params.max_new_tokens:
                reason, text = "length", text + self.decoder.flush()
        self.finish_reason = reason
        return self.event(token, text, reason)

    def event(self, token: int | None, text: str, reason: FinishReason | None) -> TokenEvent:
        """A :class:`TokenEvent` of this request."""
        return TokenEvent(
            request_id=self.request_id,
            token_id=token,
            text=text,
            finished=reason is not None,
            finish_reason=reason,
            prompt_tokens=self.checked.prompt_tokens,
            completion_tokens=len(self.generated),
        )


def sample_batch(logits: torch.Tensor, states: Sequence[SequenceState]) -> list[TokenEvent]:
    """Sample one token per row and feed it to the row's state."""
    tokens = sample_tokens(logits, [s.sampling for s in states])
    return [state.accept(token) for state, token in zip(states, tokens, strict=True)]


def generate(
    model: GemModel, tokenizer: GemTokenizer, requests: Sequence[GenerationRequest]
) -> list[GenerationOutput]:
    """Complete a static batch of requests together (left padding, KV cache, one token per
    row per step); finished rows leave the batch. Outputs are in request order.

    Raises
    ------
    EngineError, PromptTooLong
        A request fails :func:`check_request`.
    """
    checked = [check_request(r, model, tokenizer) for r in requests]
    states = [SequenceState.start(c, tokenizer, model.device) for c in checked]
    texts: dict[str, list[str]] = {s.request_id: [] for s in states}
    with torch.inference_mode():
        logits, batch = prefill(model, checked)
        live = list(range(len(states)))
        while live:
            for event in sample_batch(logits, [states[i] for i in live]):
                texts[event.request_id].append(event.text)
            keep = [row for row, i in enumerate(live) if not states[i].finished]
            if not keep:
                break
            if len(keep) < len(live):
                batch = select_rows(batch, keep)
                live = [live[row] for row in keep]
            logits = decode_step(model, batch, [states[i].generated[-1] for i in live])
    return [
        GenerationOutput(
            request_id=s.request_id,
            token_ids=list(s.generated),
            text="".join(texts[s.request_id]),
            finish_reason=s.finish_reason or "length",
            prompt_tokens=s.checked.prompt_tokens,
            completion_tokens=len(s.generated),
        )
        for s in states
    ]


def _check_array(rid: str, what: str, array: object, shape: tuple[int, ...]) -> None:
    if array is None:
        return
    if not isinstance(array, np.ndarray):
        raise EngineError(
            f"request {rid!r}: {what} must be a numpy array, got {type(array).__name__}"
        )
    if array.shape != shape:
        raise EngineError(
            f"request {rid!r}: {what} must have shape {list(shape)}, got {list(array.shape)}"
        )
    if not np.issubdtype(array.dtype, np.floating):
        raise EngineError(f"request {rid!r}: {what} must be float16/32/64, got {array.dtype}")
    bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
    if bad:
        raise EngineError(f"request {rid!r}: {what} holds {bad} NaN/Inf values")


def _check_params(request: GenerationRequest, vocab_size: int) -> None:
    rid, params = request.request_id, request.params
    if params.max_new_tokens < 1:
        raise EngineError(
            f"request {rid!r}: max_new_tokens must be >= 1, got {params.max_new_tokens}"
        )
    if not (math.isfinite(params.temperature) and params.temperature >= 0):
        raise EngineError(f"request {rid!r}: temperature must be >= 0, got {params.temperature}")
    if not (0 < params.top_p <= 1):
        raise EngineError(f"request {rid!r}: top_p must be in (0, 1], got {params.top_p}")
    bad = [t for t in params.stop_token_ids if not 0 <= t < vocab_size]
    if bad:
        raise EngineError(f"request {rid!r}: stop token ids {bad} are outside the vocabulary")


def _stack(
    arrays: Sequence[np.ndarray | None], shape: tuple[int, ...], model: GemModel
) -> torch.Tensor:
    """``[B, *shape]`` on the model's device; ``None`` rows are zeros (GEM's missing input)."""
    out = np.zeros((len(arrays), *shape), dtype=np.float32)
    for i, array in enumerate(arrays):
        if array is not None:
            out[i] = array
    return torch.from_numpy(out).to(device=model.device, dtype=model.dtype)
