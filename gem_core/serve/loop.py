"""The engine thread: owns the engine, admits requests between steps, routes token events.

An :class:`~gem_core.engine.Engine` is single-threaded. :class:`EngineLoop` runs it on one
thread that repeats: take the new requests and aborts from a thread-safe inbox (``add`` /
``abort``), then call ``step()`` while any request waits or runs. A request that arrives while
others decode is therefore handed to the engine before the next step, which admits it into
the running batch (continuous batching, Yu et al., "Orca", OSDI 2022). Each step's
:class:`~gem_core.engine.TokenEvent` objects go to the asyncio queue of their request.

HTTP handlers call :meth:`EngineLoop.submit` (which waits until the engine accepted or
refused the request) and read :meth:`RequestStream.next_event`.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Final

from gem_core.engine import Engine, EngineError, EngineFull, GenerationRequest, TokenEvent
from gem_core.serve.metrics import ServeMetrics

log = logging.getLogger(__name__)

#: Longest idle sleep of the engine thread; new work wakes it at once, this only bounds
#: how late it notices a stop request it missed.
IDLE_WAIT_S = 0.5
#: Pause after a failed step before the next, so a persistently failing engine does not spin.
FAILURE_BACKOFF_S = 0.05


class EngineFailure(RuntimeError):
    """The engine raised while running a request (HTTP 500; the traceback is only logged)."""


class EngineUnavailable(RuntimeError):
    """The engine thread is not running (stopped or shutting down; HTTP 503)."""


class _Admitted:
    """Marker: the engine accepted the request."""


ADMITTED: Final = _Admitted()
QueueItem = TokenEvent | BaseException | _Admitted


@dataclass
class _Sink:
    """Where one request's events go: an asyncio queue, fed from the engine thread."""

    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[QueueItem]
    detached: bool = False

    def put(self, item: QueueItem) -> None:
        if self.detached:
            return
        try:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, item)
        except RuntimeError:  # the event loop is closed: nobody is listening any more
            self.detached = True


@dataclass
class RequestStream:
    """The events of one accepted request, read from the HTTP handler's event loop."""

    request_id: str
    _queue: asyncio.Queue[QueueItem] = field(repr=False)

    async def next_event(self) -> TokenEvent:
        """The next event; raises :class:`EngineFailure` / :class:`EngineUnavailable`."""
        item = await self._queue.get()
        if isinstance(item, BaseException):
            raise item
        if isinstance(item, _Admitted):  # pragma: no cover - only ever the first item
            return await self.next_event()
        return item


class EngineLoop:
    """Run ``engine`` on a dedicated thread (see the module docstring).

    Parameters
    ----------
    engine
        The engine; no other thread may call it once the loop is started.
    metrics
        Where steps and load are recorded.
    max_pending
        Most requests in flight (accepted and not finished); one more is refused with
        :class:`~gem_core.engine.EngineFull` before it reaches the engine. ``None``: only
        the engine's own queue bound applies.
    """

    def __init__(
        self, engine: Engine, metrics: ServeMetrics | None = None, *, max_pending: int | None = None
    ) -> None:
        if max_pending is not None and max_pending < 1:
            raise ValueError(f"max_pending must be >= 1, got {max_pending}")
        self.engine = engine
        self.metrics = metrics or ServeMetrics()
        self.max_pending = max_pending
        # An inbox item is a request to add (with its sink) or the id of a request to abort.
        self._inbox: queue.SimpleQueue[tuple[GenerationRequest, _Sink] | str] = queue.SimpleQueue()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._pending = 0
        self._live: dict[str, _Sink] = {}
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        """Start the engine thread (once)."""
        if self._thread is not None:
            raise RuntimeError("EngineLoop.start: already started")
        self._thread = threading.Thread(target=self._run, name="gem-engine", daemon=True)
        self._thread.start()
        self.metrics.set_engine_up(True)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the thread; requests still in flight fail with :class:`EngineUnavailable`."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        self.metrics.set_engine_up(False)

    @property
    def alive(self) -> bool:
        """True while the engine thread runs and is not stopping."""
        thread = self._thread
        return thread is not None and thread.is_alive() and not self._stopping.is_set()

    @property
    def pending(self) -> int:
        """Requests accepted (or being added) and not yet finished."""
        with self._lock:
            return self._pending

    # ---- called from HTTP handlers ------------------------------------------------------------
    async def submit(self, request: GenerationRequest) -> RequestStream:
        """Hand ``request`` to the engine and wait until it is accepted.

        Raises
        ------
        EngineFull
            ``max_pending`` requests are in flight, or the engine's queue is full.
        PromptTooLong, EngineError
            The engine refused the request.
        EngineUnavailable
            The engine thread is not running.
        """
        if not self.alive:
            raise EngineUnavailable("the engine is not running (server starting or stopping)")
        with self._lock:
            if self.max_pending is not None and self._pending >= self.max_pending:
                raise EngineFull(
                    f"request {request.request_id}: {self._pending} requests in flight, the "
                    f"limit is {self.max_pending} (max batch + max queue); retry later"
                )
            self._pending += 1
        sink = _Sink(asyncio.get_running_loop(), asyncio.Queue())
        self._send((request, sink))
        try:
            first = await sink.queue.get()
        except asyncio.CancelledError:
            self.abort(request.request_id)
            raise
        if isinstance(first, BaseException):
            raise first
        return RequestStream(request.request_id, sink.queue)

    def abort(self, request_id: str) -> None:
        """Drop a request (the client left or a stop string was hit); its events are discarded."""
        self._send(request_id)

    def _send(self, item: tuple[GenerationRequest, _Sink] | str) -> None:
        self._inbox.put(item)
        self._wake.set()

    # ---- the engine thread ------------------------------------------------------------------
    def _run(self) -> None:
        try:
            while True:
                self._wake.clear()  # before the stop check, so a stop() cannot be missed
                if self._stopping.is_set():
                    break
                self._drain_inbox()
                if self.engine.has_work():
                    self._step()
                else:
                    self._update_load()
                    self._wake.wait(IDLE_WAIT_S)
        except BaseException:  # pragma: no cover - a bug in the loop itself
            log.exception("engine thread crashed")
            raise
        finally:
            self._shutdown()

    def _drain_inbox(self) -> None:
        while True:
            try:
                item = self._inbox.get_nowait()
            except queue.Empty:
                return
            if isinstance(item, str):
                self._abort(item)
            else:
                self._add(*item)

    def _add(self, request: GenerationRequest, sink: _Sink) -> None:
        try:
            if self._stopping.is_set():
                raise EngineUnavailable("the server is shutting down")
            self.engine.add(request)
        except Exception as err:
            with self._lock:
                self._pending -= 1
            if not isinstance(err, EngineError | EngineUnavailable):
                log.exception("engine.add failed for request %s", request.request_id)
                err = EngineFailure(f"engine error while adding the request: {err}")
            sink.put(err)
            return
        self._live[request.request_id] = sink
        sink.put(ADMITTED)

    def _abort(self, request_id: str) -> None:
        sink = self._live.get(request_id)
        if sink is None:  # finished already, or never accepted
            return
        self._detach(request_id, sink)

    def _step(self) -> None:
        try:
            result = self.engine.step()
        except Exception as err:
            log.exception("engine step failed; failing %d live requests", len(self._live))
            self._fail_all(EngineFailure(f"engine error: {type(err).__name__}: {err}"))
            time.sleep(FAILURE_BACKOFF_S)
            return
        # Bookkeeping and metrics first, delivery last: a client that has its answer sees
        # the request finished, counted and gone from the load gauges.
        deliveries = []
        for event in result.events:
            sink = self._live.get(event.request_id)
            if sink is None:
                continue
            deliveries.append((sink, event))
            if event.finished:
                self.metrics.record_finish(event.finish_reason or "stop", event.prompt_tokens)
                self._forget(event.request_id)
        self.metrics.record_step(
            decode_batch_size=result.decode_batch_size,
            prefilled=result.prefilled,
            new_tokens=sum(event.token_id is not None for event in result.events),
        )
        self._update_load()
        for sink, event in deliveries:
            sink.put(event)

    def _detach(self, request_id: str, sink: _Sink) -> None:
        """Stop delivering to ``sink`` and abort the request in the engine; when the engine
        cannot abort it, forget it here (it would never finish)."""
        sink.detached = True
        try:
            self.engine.abort(request_id)
        except Exception:
            log.exception("engine.abort failed for request %s", request_id)
            self._forget(request_id)

    def _forget(self, request_id: str) -> None:
        if self._live.pop(request_id, None) is not None:
            with self._lock:
                self._pending -= 1

    def _fail_all(self, error: BaseException) -> None:
        for request_id, sink in list(self._live.items()):
            sink.put(error)
            self._detach(request_id, sink)
            self._forget(request_id)

    def _update_load(self) -> None:
        running = self.engine.running
        with self._lock:
            queued = max(0, self._pending - running)
        self.metrics.set_load(running=running, queue_depth=queued)

    def _shutdown(self) -> None:
        self._drain_inbox()
        self._fail_all(EngineUnavailable("the server is shutting down"))
        self.metrics.set_engine_up(False)
        self._update_load()
