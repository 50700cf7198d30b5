"""The ``local`` backend: GEM run in-process by a :class:`~gem_core.engine.Engine`, no server.

It sends the model exactly what the ``endpoint`` backend sends a ``gem-agent serve`` server:
GEM's system prompt, the grounding instruction (:func:`~gem_core.prompting.interpret_prompt`),
the 12 x 1 page rendered as the endpoint renders it, and the ECG in the checkpoint's lead
order; ``revise`` adds the previous draft as the assistant turn and the verifier's feedback as
a second user turn (GEM's ``llava_v1`` conversation). Decoding defaults to GEM's evaluation
settings (greedy, 1024 new tokens).

The engine is loaded on first use from ``GEM_AGENT_LOCAL_*`` settings (torch and transformers
are imported then), or handed in ready-made. Calls are serialised: one request at a time.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from gem_core.backends.base import (
    BackendError,
    BackendRejected,
    BackendResponseError,
    Draft,
    InterpretRequest,
    Usage,
)
from gem_core.backends.endpoint import MIN_LETTERS, MIN_PRINTABLE_FRACTION, page_png
from gem_core.engine import Engine, EngineError, GenerationRequest, SamplingParams
from gem_core.inputs import gem_image, gem_signal
from gem_core.model.errors import CheckpointError
from gem_core.prompting import interpret_prompt, llava_v1_conversation, revise_prompt, system_prompt
from gem_core.serve.settings import engine_image_size, engine_lead_order
from prompts import PromptError


class LocalSettings(BaseSettings):
    """Where the model is and how to decode; every field reads ``GEM_AGENT_LOCAL_<FIELD>``.

    ``checkpoint``, ``ecg_tower`` and ``vision_tower`` are the three files/folders of a GEM
    install (as for ``gem-agent serve``); they are needed only when no engine is handed in.
    """

    model_config = SettingsConfigDict(env_prefix="GEM_AGENT_LOCAL_", extra="ignore")

    checkpoint: Path | None = None
    ecg_tower: Path | None = None
    vision_tower: Path | None = None
    device: str = Field(default="cpu", pattern="^(cuda|cpu)$")
    dtype: str = Field(default="fp32", pattern="^(bf16|fp16|fp32)$")
    max_batch: int = Field(default=1, ge=1)
    max_tokens: int = Field(default=1024, gt=0)
    temperature: float = Field(default=0.0, ge=0)
    seed: int | None = None
    send_ecg: bool = True
    send_context: bool = False
    ecg_dtype: str = Field(default="float16", pattern="^float(16|32)$")


class LocalBackend:
    """Interpretation by GEM in this process.

    Parameters
    ----------
    settings
        Model files and decoding settings (from the environment when omitted).
    engine
        A ready engine (tests pass a fake; ``gem_core.model.load_engine`` builds the real
        one); when omitted it is loaded from ``settings`` on first use.
    """

    name = "local"
    needs_image = True

    def __init__(
        self, settings: LocalSettings | None = None, *, engine: Engine | None = None
    ) -> None:
        self.settings = settings or LocalSettings()
        self._engine = engine
        self._lock = threading.Lock()

    @property
    def engine(self) -> Engine:
        """The engine, loaded on first use."""
        with self._lock:
            if self._engine is None:
                self._engine = _load_engine(self.settings)
            return self._engine

    # ---- the two calls ---------------------------------------------------------------------
    def interpret(self, request: InterpretRequest) -> Draft:
        """Ask GEM for a grounded interpretation of ``request``."""
        prompt = self._instruction(request)
        return self._generate(request, [prompt], {"prompt": prompt}, kind="interpret")

    def revise(self, request: InterpretRequest, previous: Draft, feedback: str) -> Draft:
        """Ask GEM to rewrite ``previous`` given the verifier's ``feedback``."""
        prompt = self._instruction(request)
        revise = revise_prompt(None, feedback)
        summary = {"prompt": prompt, "revise_prompt": revise, "previous_chars": len(previous.text)}
        return self._generate(request, [prompt, previous.text, revise], summary, kind="revise")

    # ---- internals --------------------------------------------------------------------------
    def _instruction(self, request: InterpretRequest) -> str:
        return interpret_prompt(
            measurements=request.measurements,
            cases=request.cases,
            include_context=self.settings.send_context,
        )

    def _generate(
        self, request: InterpretRequest, turns: list[str], summary: dict[str, Any], *, kind: str
    ) -> Draft:
        engine = self.engine
        s = self.settings
        try:
            prompt = llava_v1_conversation(system_prompt(), turns)
        except PromptError as err:
            problem = f"cannot build GEM's prompt: {err}"
            raise BackendRejected(self.name, None, problem, None) from None
        ecg, image, inputs = self._inputs(engine, request)
        summary = {**summary, **inputs, "kind": kind}
        params = SamplingParams(max_new_tokens=s.max_tokens, temperature=s.temperature, seed=s.seed)
        generation = GenerationRequest(f"local-{uuid.uuid4().hex}", prompt, ecg, image, params)
        start = time.perf_counter()
        text, finish_reason, usage = self._run(engine, generation)
        latency_ms = round((time.perf_counter() - start) * 1000, 3)
        return Draft(
            text=self._checked(text),
            backend=self.name,
            model=engine.model_name,
            usage=usage,
            latency_ms=latency_ms,
            structured={"finish_reason": finish_reason, "truncated": finish_reason == "length"},
            request_summary=summary,
            kind="revise" if kind == "revise" else "interpret",
        )

    def _inputs(
        self, engine: Engine, request: InterpretRequest
    ) -> tuple[np.ndarray | None, np.ndarray, dict[str, Any]]:
        """GEM's ECG (checkpoint lead order) and CLIP pixels, and what was sent, as the
        endpoint backend describes it."""
        s = self.settings
        png = page_png(request)
        image = gem_image(png, size=engine_image_size(engine))
        summary: dict[str, Any] = {
            "model": engine.model_name,
            "max_tokens": s.max_tokens,
            "temperature": s.temperature,
            "context_included": s.send_context,
            "n_cases": len(request.cases),
            "image_png_bytes": len(png),
            "image_rendered_here": request.image_png is None,
            "ecg_sent": s.send_ecg,
        }
        if not s.send_ecg:
            return None, image, summary
        order = engine_lead_order(engine)
        signal = gem_signal(request.record, lead_order=order, dtype=np.dtype(s.ecg_dtype))
        summary["ecg"] = signal.summary()
        return signal.array.astype(np.float32), image, summary

    def _run(self, engine: Engine, request: GenerationRequest) -> tuple[str, str | None, Usage]:
        """Add ``request`` and step the engine until it finishes (one caller at a time)."""
        with self._lock:
            try:
                engine.add(request)
            except EngineError as err:
                problem = f"the engine refused the request: {err}"
                raise BackendRejected(self.name, None, problem, None) from None
            try:
                return self._until_finished(engine, request.request_id)
            except BackendError:
                raise
            except Exception as err:
                with contextlib.suppress(Exception):  # the original failure is what matters
                    engine.abort(request.request_id)
                problem = f"the engine failed: {type(err).__name__}: {err}"
                raise BackendError(self.name, None, problem) from err

    def _until_finished(self, engine: Engine, rid: str) -> tuple[str, str | None, Usage]:
        pieces: list[str] = []
        while engine.has_work():
            for event in engine.step().events:
                if event.request_id != rid:
                    continue
                pieces.append(event.text)
                if event.finished:
                    usage = Usage(
                        prompt_tokens=event.prompt_tokens,
                        completion_tokens=event.completion_tokens,
                        total_tokens=event.prompt_tokens + event.completion_tokens,
                    )
                    return "".join(pieces), event.finish_reason, usage
        raise BackendError(self.name, None, f"request {rid} left the engine without finishing")

    def _checked(self, text: str) -> str:
        """The answer's text, or :class:`BackendResponseError` when it is empty or not text."""
        stripped = text.strip()
        if not stripped:
            raise BackendResponseError(self.name, None, "the model's answer is empty")
        printable = sum(ch.isprintable() or ch in "\n\t" for ch in stripped) / len(stripped)
        letters = sum(ch.isalpha() for ch in stripped)
        if printable < MIN_PRINTABLE_FRACTION or letters < MIN_LETTERS:
            raise BackendResponseError(
                self.name,
                None,
                f"the answer is not text ({letters} letters, {printable:.0%} printable): "
                f"{stripped[:80]!r}",
            )
        return stripped


def _load_engine(settings: LocalSettings) -> Engine:
    """GEM's engine from the settings' files (imports torch and transformers)."""
    files = {"checkpoint": settings.checkpoint, "ecg_tower": settings.ecg_tower,
             "vision_tower": settings.vision_tower}  # fmt: skip
    missing = [f"GEM_AGENT_LOCAL_{name.upper()}" for name, path in files.items() if path is None]
    if missing or settings.checkpoint is None:
        raise BackendError("local", None, f"no model files configured: set {', '.join(missing)}")
    try:
        from gem_core.model import load_engine
    except ImportError as err:
        raise BackendError(
            "local", None, f"needs torch and transformers ({err}): pip install 'gem-agent[gpu]'"
        ) from None
    try:
        engine: Engine = load_engine(
            settings.checkpoint,
            ecg_tower=settings.ecg_tower,
            vision_tower=settings.vision_tower,
            device=settings.device,
            dtype=settings.dtype,
            max_batch=settings.max_batch,
        )
    except CheckpointError as err:
        raise BackendError("local", None, f"cannot load GEM: {err}") from None
    return engine
