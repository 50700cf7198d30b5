"""A deterministic in-memory engine implementing :class:`gem_core.engine.Engine` faithfully,
plus request builders shared by the server tests.

The fake keeps a bounded waiting queue, admits up to ``max_batch`` requests per step,
decodes one token for every running request per step, emits incremental text (one token of
each answer is split like a multi-byte character: an empty delta, then its text), and honours
``max_new_tokens``, ``stop_token_ids``, EOS and ``abort``. Each answer is a function of the
prompt, the ECG, the image and (when sampling) the seed, so tests compute what to expect with
:meth:`FakeEngine.answer_pieces` instead of hard-coding it. ``hold()`` blocks ``step()``;
``permit(n)`` then lets exactly ``n`` steps run and ``release()`` lets all run, so tests decide
which step admits a request.
"""

from __future__ import annotations

import base64
import io
import threading
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from gem_core.ecg_part import encode_ecg_part
from gem_core.engine import (
    EngineError,
    EngineFull,
    FinishReason,
    GenerationRequest,
    PromptTooLong,
    StepResult,
    TokenEvent,
)
from gem_core.inputs import GEM_IMAGE_SIZE, GemSignal
from gem_core.prompting import IMAGE_TOKEN
from tools.leads import MIMIC_LEADS

#: Embeddings that replace ``<image>``: 101 ECG + 576 image tokens.
MULTIMODAL_TOKENS = 677
EOS_ID = 2
#: Words the fake writes; "+60°" is split like a multi-byte character ("", "°").
WORDS = ("Sinus", " rhythm", " at", " 72", " bpm", ".", " QRS", " 92", " ms", " in", " lead",
         " II", ",", " axis", " +60°", " normal", " PR", " 160", " ST", " T")  # fmt: skip
HOLD_TIMEOUT_S = 30.0


@dataclass
class _Live:
    request: GenerationRequest
    pieces: list[tuple[int, str]]
    completion_tokens: int = 0
    prompt_tokens: int = 0


@dataclass
class FakeEngine:
    """See the module docstring. ``answer_tokens`` is the answer length before EOS."""

    model_name: str = "gem-fake"
    max_batch: int = 4
    max_queue: int = 64
    context_tokens: int = 4096
    answer_tokens: int = 12
    step_delay_s: float = 0.0
    fail_on_step: int | None = None
    added: dict[str, GenerationRequest] = field(default_factory=dict)
    aborted: list[str] = field(default_factory=list)
    abort_calls: list[str] = field(default_factory=list)
    step_batches: list[tuple[str, ...]] = field(default_factory=list)
    admitted_at: dict[str, int] = field(default_factory=dict)
    finished_at: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._waiting: list[_Live] = []
        self._running: list[_Live] = []
        self._aborting: set[str] = set()
        self._gate: threading.Semaphore | None = None
        self.steps = 0

    # ---- test controls ----------------------------------------------------------------------
    def hold(self) -> None:
        """Block ``step()`` until :meth:`permit` or :meth:`release`."""
        self._gate = threading.Semaphore(0)

    def permit(self, n_steps: int = 1) -> None:
        """Let ``n_steps`` more steps run while held."""
        if self._gate is not None:
            self._gate.release(n_steps)

    def release(self) -> None:
        """Let ``step()`` run freely again."""
        gate, self._gate = self._gate, None
        if gate is not None:
            gate.release()  # wakes the engine thread if it waits (it alone steps)

    @staticmethod
    def answer_pieces(request: GenerationRequest, n_tokens: int) -> list[tuple[int, str]]:
        """The ``(token_id, text)`` pieces the fake writes for ``request`` before EOS."""
        key = request.prompt.encode()
        for array in (request.ecg, request.image):
            key += b"-" if array is None else np.ascontiguousarray(array, np.float32).tobytes()
        if request.params.temperature > 0:
            key += f"seed={request.params.seed}".encode()
        rng = np.random.default_rng(zlib.crc32(key))
        pieces: list[tuple[int, str]] = []
        for index in rng.integers(0, len(WORDS), n_tokens):
            word = WORDS[int(index)]
            if word.endswith("°"):  # "°" is two UTF-8 bytes: a token each, text on the second
                pieces += [(100 + int(index), word[:-1]), (98, ""), (99, "°")]
            else:
                pieces.append((100 + int(index), word))
        return pieces[:n_tokens]

    @classmethod
    def expected_text(cls, request: GenerationRequest, n_tokens: int) -> str:
        """The full text of :meth:`answer_pieces`."""
        return "".join(text for _, text in cls.answer_pieces(request, n_tokens))

    # ---- Engine protocol --------------------------------------------------------------------
    @property
    def running(self) -> int:
        return len(self._running)

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def count_tokens(self, prompt: str) -> int:
        return len(prompt.split()) + MULTIMODAL_TOKENS

    def has_work(self) -> bool:
        return bool(self._waiting or self._running)

    def add(self, request: GenerationRequest) -> None:
        rid = request.request_id
        if rid in self.added:
            raise EngineError(f"request {rid}: id already used")
        if request.prompt.count(IMAGE_TOKEN) != 1:
            raise EngineError(f"request {rid}: the prompt must hold exactly one {IMAGE_TOKEN}")
        _check_array(rid, "ecg", request.ecg, (12, 5000))
        _check_array(rid, "image", request.image, (3, GEM_IMAGE_SIZE, GEM_IMAGE_SIZE))
        n_prompt = self.count_tokens(request.prompt)
        if n_prompt + request.params.max_new_tokens > self.context_tokens:
            raise PromptTooLong(
                f"request {rid}: {n_prompt} prompt tokens + {request.params.max_new_tokens} new "
                f"tokens exceed the {self.context_tokens}-token context"
            )
        if len(self._waiting) >= self.max_queue:
            raise EngineFull(f"request {rid}: {len(self._waiting)} requests already waiting")
        pieces = self.answer_pieces(request, self.answer_tokens)
        self.added[rid] = request
        self._waiting.append(_Live(request, pieces, prompt_tokens=n_prompt))

    def abort(self, request_id: str) -> None:
        self.abort_calls.append(request_id)
        if any(live.request.request_id == request_id for live in self._waiting + self._running):
            self._aborting.add(request_id)

    def step(self) -> StepResult:
        gate = self._gate
        if gate is not None and not gate.acquire(timeout=HOLD_TIMEOUT_S):
            raise RuntimeError("FakeEngine held for too long")
        self.steps += 1
        if self.fail_on_step is not None and self.steps == self.fail_on_step:
            raise RuntimeError("simulated device failure")
        events = self._abort_events()
        prefilled = 0
        while self._waiting and len(self._running) < self.max_batch:
            live = self._waiting.pop(0)
            self.admitted_at[live.request.request_id] = self.steps
            self._running.append(live)
            prefilled += 1
        batch = tuple(live.request.request_id for live in self._running)
        if batch:
            self.step_batches.append(batch)
        for live in list(self._running):
            events.append(self._decode(live))
        if self.step_delay_s:
            time.sleep(self.step_delay_s)
        return StepResult(events=events, prefilled=prefilled, decode_batch_size=len(batch))

    def _abort_events(self) -> list[TokenEvent]:
        events = []
        for queue in (self._waiting, self._running):
            for live in [x for x in queue if x.request.request_id in self._aborting]:
                queue.remove(live)
                rid = live.request.request_id
                self.aborted.append(rid)
                self.finished_at[rid] = self.steps
                events.append(TokenEvent(rid, None, "", True, "abort", live.prompt_tokens,
                                         live.completion_tokens))  # fmt: skip
        self._aborting.clear()
        return events

    def _decode(self, live: _Live) -> TokenEvent:
        params = live.request.params
        rid = live.request.request_id
        if live.completion_tokens < len(live.pieces):
            token_id, text = live.pieces[live.completion_tokens]
        else:
            token_id, text = EOS_ID, ""
        live.completion_tokens += 1
        finish: FinishReason | None = None
        if token_id == EOS_ID or token_id in params.stop_token_ids:
            finish = "stop"
        elif live.completion_tokens >= params.max_new_tokens:
            finish = "length"
        if finish is not None:
            self._running.remove(live)
            self.finished_at[rid] = self.steps
        return TokenEvent(rid, token_id, text, finish is not None, finish,
                          live.prompt_tokens, live.completion_tokens)  # fmt: skip


def _check_array(rid: str, name: str, array: np.ndarray | None, shape: Sequence[int]) -> None:
    if array is None:
        return
    if tuple(array.shape) != tuple(shape) or not np.isfinite(array).all():
        raise EngineError(f"request {rid}: {name} must be finite {list(shape)}")


# ---- request builders ----------------------------------------------------------------------------
def ecg_array(seed: int = 0, dtype: str = "float16") -> np.ndarray:
    """A deterministic [12, 5000] signal in mV (rows in MIMIC order)."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((12, 5000)) * 0.2).astype(dtype)


def ecg_part(
    seed: int = 0, *, lead_names: Sequence[str] = MIMIC_LEADS, dtype: str = "float16"
) -> dict[str, Any]:
    """An ``input_ecg`` content part whose rows are named ``lead_names``."""
    return encode_ecg_part(GemSignal(array=ecg_array(seed, dtype), lead_names=tuple(lead_names)))


def png_bytes(width: int = 440, height: int = 340, seed: int = 0, fmt: str = "PNG") -> bytes:
    """A small deterministic RGB picture."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=fmt)
    return buffer.getvalue()


def image_part(data: bytes | None = None, media_type: str = "image/png") -> dict[str, Any]:
    """An ``image_url`` part holding a data URL."""
    payload = base64.b64encode(data if data is not None else png_bytes()).decode("ascii")
    return {"type": "image_url", "image_url": {"url": f"data:{media_type};base64,{payload}"}}


def user_message(text: str = "Interpret this ECG.", *parts: dict[str, Any]) -> dict[str, Any]:
    """A user message: the given parts, then the text."""
    return {"role": "user", "content": [*parts, {"type": "text", "text": text}]}
