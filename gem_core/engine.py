"""The generation engine's contract: what the server and the ``local`` backend drive.

An engine holds a model and runs *continuous batching*: requests are added at any time,
each :meth:`Engine.step` first admits waiting requests (prefill: their prompt and the 677
multimodal embeddings go through the model once, filling their KV cache) and then runs one
decode step for every running request together, so a request that arrives while others
decode joins the running batch between two decode steps. Nothing here imports torch; the
torch engine lives in :mod:`gem_core.model`.

The engine is single-threaded: one thread (the server's engine loop, or the ``local``
backend) calls ``add``/``step``/``abort``; others hand requests to that thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

import numpy as np

FinishReason = Literal["stop", "length", "abort"]


class EngineError(RuntimeError):
    """The engine cannot take or run a request; the message names the request and why."""


class EngineFull(EngineError):
    """The engine's queue is full (a server answers HTTP 429)."""


class PromptTooLong(EngineError):
    """The prompt plus the multimodal tokens and ``max_new_tokens`` exceed the context."""


@dataclass(frozen=True)
class SamplingParams:
    """Decoding settings of one request (GEM's evaluation: greedy, max 1024 new tokens).

    ``temperature == 0`` means greedy; otherwise softmax sampling at that temperature with
    nucleus ``top_p``, reproducible when ``seed`` is set. Generation stops at EOS, at any of
    ``stop_token_ids``, or after ``max_new_tokens``.
    """

    max_new_tokens: int = 1024
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int | None = None
    stop_token_ids: tuple[int, ...] = ()


@dataclass(frozen=True, eq=False)
class GenerationRequest:
    """One prompt to complete.

    Attributes
    ----------
    request_id
        Unique among the engine's live requests.
    prompt
        The rendered prompt (GEM's ``llava_v1`` template) holding exactly one ``<image>``
        placeholder, replaced by [101 ECG ; 576 image] embeddings.
    ecg
        ``[12, 5000]`` float samples in mV in the checkpoint's lead order, or ``None`` for
        a zero signal (GEM's missing-modality input).
    image
        ``[3, 336, 336]`` float32 CLIP-normalised pixels, or ``None`` for a zero image.
    params
        Decoding settings.
    """

    request_id: str
    prompt: str
    ecg: np.ndarray | None = None
    image: np.ndarray | None = None
    params: SamplingParams = field(default_factory=SamplingParams)


@dataclass(frozen=True)
class TokenEvent:
    """What one step produced for one request.

    ``text`` is the newly decodable text since the previous event (incremental
    detokenisation: it may be empty while a multi-byte character is incomplete);
    ``token_id`` is ``None`` only on an abort event. The last event of a request has
    ``finished`` set and a ``finish_reason``.
    """

    request_id: str
    token_id: int | None
    text: str
    finished: bool
    finish_reason: FinishReason | None
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class StepResult:
    """One engine step: the events, and how many requests were prefilled and decoded."""

    events: list[TokenEvent]
    prefilled: int
    decode_batch_size: int


@runtime_checkable
class Engine(Protocol):
    """A continuous-batching generation engine (see the module docstring)."""

    @property
    def model_name(self) -> str:
        """The served model's id (``/v1/models``)."""
        ...

    @property
    def max_batch(self) -> int:
        """Most requests decoded together; more wait in the engine's queue."""
        ...

    @property
    def running(self) -> int:
        """Requests being decoded."""
        ...

    @property
    def waiting(self) -> int:
        """Requests added but not yet prefilled."""
        ...

    def count_tokens(self, prompt: str) -> int:
        """Prompt length in tokens, multimodal embeddings included."""
        ...

    def add(self, request: GenerationRequest) -> None:
        """Queue a request; raises :class:`PromptTooLong` or :class:`EngineError`."""
        ...

    def step(self) -> StepResult:
        """Admit waiting requests (up to ``max_batch`` running) and decode one token each."""
        ...

    def abort(self, request_id: str) -> None:
        """Drop a request (waiting or running); its next event is an ``abort`` event."""
        ...

    def has_work(self) -> bool:
        """True while any request is waiting or running."""
        ...
