"""Interpret a batch on a Ray cluster (``gem-agent batch --engine ray``).

Each Ray actor holds one :class:`~agent.batch.work.RecordWorker` (backend and case base load
once per actor) and interprets records in threads, like a worker process of the local pool;
the driver (the process that runs the batch) streams items to the least busy actors, keeps
at most one item per actor thread in flight (memory bounded whatever the dataset size), and
yields outcomes as they finish. Outputs are written by the driver only (:mod:`agent.batch.runner`),
so the outputs and the resume semantics are those of the local engine.

Model calls spread over several endpoints: actor ``i`` calls ``base_urls[i % n]``. The batch's
``concurrency`` is shared out among the actors (at least one call per actor).

A record whose actor dies (killed, out of memory, a crash in native code) is recorded as a
failure at stage ``"worker"`` (every item in flight on an actor has started: there is no
queue behind the actor's threads), the actor is replaced, and the batch goes on; a batch whose
actors keep dying stops with a :class:`~agent.batch.model.BatchError`.

``ray`` is imported here only, and only when a Ray batch runs (``pip install 'gem-agent[ray]'``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from agent.batch.executors import POLL_S, fill_least_busy, threads_per_worker
from agent.batch.model import BatchError, BatchItem, Outcome, RecordFailure
from agent.batch.work import RecordWorker, WorkSpec

#: How to get Ray, in the error shown when it is missing.
INSTALL_HINT = "pip install 'gem-agent[ray]'"
#: Environment variable listing several endpoints, comma-separated (the Ray engine only).
BASE_URLS_ENV = "GEM_AGENT_BASE_URLS"
#: CPUs Ray reserves per actor: measurement and rendering are single-threaded.
ACTOR_CPUS = 1.0
#: Seconds to wait for the first actor to start (an autoscaling cluster may add a node first).
ACTOR_START_TIMEOUT_S = 300.0
#: Actor deaths tolerated per actor before the batch stops (a crashing record kills one
#: actor; a broken node or environment kills them all, again and again).
DEATHS_PER_ACTOR = 3
#: Characters of a Ray error kept in a failure message (its tracebacks can be long).
MAX_ERROR_CHARS = 500


def require_ray() -> Any:
    """The ``ray`` module, or a :class:`BatchError` saying how to install it."""
    try:
        import ray
    except ImportError:
        message = f"the ray engine needs Ray, which is not installed: {INSTALL_HINT}"
        raise BatchError(None, message) from None
    return ray


def endpoint_urls(spec: WorkSpec, base_urls: Sequence[str] | None = None) -> tuple[str, ...]:
    """The endpoints the actors share: ``base_urls``, else ``$GEM_AGENT_BASE_URLS``
    (comma-separated), else the spec's endpoint (``()`` for a backend without a model)."""
    if not spec.calls_model:
        return ()
    urls = [u.strip() for u in base_urls or () if u.strip()]
    if not urls:
        urls = [u.strip() for u in os.environ.get(BASE_URLS_ENV, "").split(",") if u.strip()]
    if not urls:
        from gem_core.backends.endpoint import EndpointSettings

        urls = [(spec.endpoint or EndpointSettings()).base_url]
    return tuple(dict.fromkeys(urls))


def gate_shares(concurrency: int, actors: int) -> list[int]:
    """``concurrency`` model calls shared out among ``actors`` (at least one each)."""
    base, extra = divmod(max(concurrency, 1), max(actors, 1))
    return [max(base + (i < extra), 1) for i in range(max(actors, 1))]


class RecordActor:
    """A Ray actor's state: one :class:`RecordWorker` shared by the actor's threads.

    Parameters
    ----------
    spec
        The batch's work (with this actor's endpoint).
    gate_size
        Model calls this actor may have in flight.
    """

    def __init__(self, spec: WorkSpec, gate_size: int) -> None:
        self.worker = RecordWorker(spec, threading.BoundedSemaphore(max(gate_size, 1)))

    def ready(self) -> int:
        """The actor's process id, once its worker is built."""
        return os.getpid()

    def process(self, item: BatchItem) -> Outcome:
        """Interpret one item (a record's problem is a failure outcome, never an error)."""
        return self.worker.process(item)


@dataclass
class _Slot:
    """The driver's handle on one actor (replaced when the actor dies)."""

    index: int
    spec: WorkSpec
    gate_size: int
    handle: Any = None
    ready_ref: Any = None
    pid: int | None = None
    in_flight: dict[Any, BatchItem] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return self.pid is not None

    def start(self, actor_cls: Any) -> None:
        self.handle = actor_cls.remote(self.spec, self.gate_size)
        self.ready_ref, self.pid = self.handle.ready.remote(), None
        self.in_flight.clear()

    def kill(self, ray: Any) -> None:
        if self.handle is not None:
            with contextlib.suppress(Exception):
                ray.kill(self.handle, no_restart=True)


class RayExecutor:
    """Interpret on Ray actors, each holding a :class:`RecordWorker`.

    Parameters
    ----------
    spec
        The batch's work.
    address
        Ray cluster to connect to (``"auto"``, ``"HOST:6379"``, ``"ray://HOST:10001"``);
        ``None``: the one Ray is already connected to, else ``$RAY_ADDRESS``, else a local
        instance started for the batch (and stopped after it).
    actors
        Actors to run (``None`` or ``<= 0``: one per CPU of the cluster).
    concurrency
        Model calls in flight at most across the batch (at least one per actor).
    base_urls
        Endpoints to share among the actors, round-robin (see :func:`endpoint_urls`).
    """

    def __init__(
        self,
        spec: WorkSpec,
        *,
        address: str | None = None,
        actors: int | None = None,
        concurrency: int = 1,
        base_urls: Sequence[str] | None = None,
    ) -> None:
        require_ray()
        self.spec, self.address = spec, address
        self.requested_actors = actors if actors is not None and actors > 0 else None
        self.concurrency = max(concurrency, 1)
        self.base_urls = endpoint_urls(spec, base_urls)
        self.actors: int | None = None
        self.cluster_cpus: float | None = None
        self.deaths = 0
        self.pids: list[int] = []
        self._actor_cls: Any = None

    @property
    def threads(self) -> int | None:
        """Threads per actor (known once the number of actors is)."""
        if self.actors is None:
            return None
        return threads_per_worker(self.spec, self.actors, self.concurrency)

    def describe(self) -> dict[str, Any]:
        return {
            "engine": "ray",
            "address": self.address or os.environ.get("RAY_ADDRESS") or "local",
            "actors": self.actors,
            "threads_per_actor": self.threads,
            "concurrency": self.concurrency,
            "cluster_cpus": self.cluster_cpus,
            "base_urls": list(self.base_urls) or None,
            "actor_deaths": self.deaths,
        }

    def run(
        self, items: Iterator[BatchItem], stop: threading.Event | None = None
    ) -> Iterator[Outcome]:
        ray = require_ray()
        connected_here = self._connect(ray)
        slots: list[_Slot] = []
        try:
            slots = self._start_actors(ray)
            yield from self._drive(ray, slots, items, stop)
        finally:
            for slot in slots:  # abandons items in flight: they were not written
                slot.kill(ray)
            if connected_here:
                ray.shutdown()

    def _connect(self, ray: Any) -> bool:
        """Connect to (or start) Ray unless already connected; True when connected here."""
        if ray.is_initialized():
            return False
        main = threading.current_thread() is threading.main_thread()
        sigterm = signal.getsignal(signal.SIGTERM) if main else None
        options: dict[str, Any] = {"address": self.address}
        if not (self.address or "").startswith("ray://"):
            options.update(log_to_driver=False, logging_level=logging.WARNING)
        if self.address is None and not os.environ.get("RAY_ADDRESS"):
            options["include_dashboard"] = False
        try:
            ray.init(**options)
        except Exception as exc:
            where = self.address or "a local Ray instance"
            raise BatchError(where, f"cannot start or connect to Ray: {_brief(exc)}") from exc
        finally:
            if sigterm is not None:  # ray.init replaces SIGTERM's handler; ours stops cleanly
                signal.signal(signal.SIGTERM, sigterm)
        return True

    def _start_actors(self, ray: Any) -> list[_Slot]:
        self.cluster_cpus = float(ray.cluster_resources().get("CPU", 0.0))
        n = self.requested_actors or max(int(self.cluster_cpus // ACTOR_CPUS), 1)
        self.actors = n
        actor_cls = ray.remote(
            num_cpus=ACTOR_CPUS, max_concurrency=self.threads, max_restarts=0, max_task_retries=0
        )(RecordActor)
        slots = []
        for i, share in enumerate(gate_shares(self.concurrency, n)):
            spec = self._actor_spec(i)
            slot = _Slot(index=i, spec=spec, gate_size=share)
            slot.start(actor_cls)
            slots.append(slot)
        self._actor_cls = actor_cls
        return slots

    def _actor_spec(self, index: int) -> WorkSpec:
        """The spec with actor ``index``'s endpoint, resolved here (not on the node)."""
        if not self.base_urls:
            return self.spec
        from gem_core.backends.endpoint import EndpointSettings

        endpoint = self.spec.endpoint or EndpointSettings()
        url = self.base_urls[index % len(self.base_urls)]
        return replace(self.spec, endpoint=endpoint.model_copy(update={"base_url": url}))

    def _drive(
        self,
        ray: Any,
        slots: list[_Slot],
        items: Iterator[BatchItem],
        stop: threading.Event | None,
    ) -> Iterator[Outcome]:
        """Feed ready actors, collect what finishes; return when all is done or on stop."""
        pending: dict[Any, tuple[_Slot, BatchItem | None]] = {s.ready_ref: (s, None) for s in slots}
        capacity = self.threads or 1  # no queue behind the threads: all in flight started
        serving_since, exhausted = time.monotonic(), False
        while True:
            if stop is not None and stop.is_set():
                return
            if not exhausted:
                exhausted = _fill(slots, items, pending, capacity)
            if exhausted and not any(s.in_flight for s in slots):
                return
            if any(s.ready for s in slots):
                serving_since = time.monotonic()
            else:
                _check_start_timeout(serving_since, len(slots), self.cluster_cpus)
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=POLL_S)
            if stop is not None and stop.is_set():
                return
            for ref in ready:
                slot, item = pending.pop(ref)
                if item is None:
                    slot.pid = _ready_pid(ray, ref)
                    self.pids.append(slot.pid)
                    continue
                yield from self._collect(ray, ref, slot, item, pending)

    def _collect(
        self,
        ray: Any,
        ref: Any,
        slot: _Slot,
        item: BatchItem,
        pending: dict[Any, tuple[_Slot, BatchItem | None]],
    ) -> Iterator[Outcome]:
        """The outcome of a finished task; a dead actor's records fail and it is replaced."""
        try:
            outcome: Outcome = ray.get(ref)
        except ray.exceptions.RayActorError as exc:
            yield from self._actor_died(ray, slot, exc, pending)
            return
        except ray.exceptions.RayError as exc:  # the task itself failed (not the record)
            slot.in_flight.pop(ref, None)
            cause = getattr(exc, "cause", None) or exc
            yield RecordFailure(
                key=item.key,
                stage="worker",
                error_type=type(cause).__name__,
                message=f"Ray task failed on actor {slot.index}: {_brief(exc)}",
                pid=slot.pid or 0,
            )
            return
        slot.in_flight.pop(ref, None)
        yield outcome

    def _actor_died(
        self,
        ray: Any,
        slot: _Slot,
        exc: BaseException,
        pending: dict[Any, tuple[_Slot, BatchItem | None]],
    ) -> Iterator[Outcome]:
        """Failures for the records the dead actor held; replace it, or stop the batch."""
        for ref, item in sorted(slot.in_flight.items(), key=lambda kv: kv[1].key):
            pending.pop(ref, None)
            yield RecordFailure(
                key=item.key,
                stage="worker",
                error_type="WorkerDied",
                message=f"Ray actor {slot.index} (pid {slot.pid}) died while interpreting "
                f"this record: {_brief(exc)}",
                pid=slot.pid or 0,
            )
        self.deaths += 1
        budget = DEATHS_PER_ACTOR * (self.actors or 1)
        if self.deaths > budget:
            raise BatchError(
                None,
                f"Ray actors died {self.deaths} times (last: {_brief(exc)}); the records they "
                "were interpreting are in failures.jsonl; everything finished is kept: rerun "
                "the same command to resume",
            )
        slot.kill(ray)
        slot.start(self._actor_cls)
        pending[slot.ready_ref] = (slot, None)


def _fill(
    slots: list[_Slot],
    items: Iterator[BatchItem],
    pending: dict[Any, tuple[_Slot, BatchItem | None]],
    capacity: int,
) -> bool:
    """Submit items to the least busy ready actors; True once ``items`` is exhausted."""

    def submit(slot: _Slot, item: BatchItem) -> None:
        ref = slot.handle.process.remote(item)
        slot.in_flight[ref] = item
        pending[ref] = (slot, item)

    return fill_least_busy(
        slots, items, capacity,
        ready=lambda s: s.ready, load=lambda s: len(s.in_flight), submit=submit,
    )  # fmt: skip


def _ready_pid(ray: Any, ref: Any) -> int:
    """The pid an actor reports once started, or the error that stops the batch."""
    try:
        return int(ray.get(ref))
    except ray.exceptions.RayError as exc:
        raise BatchError(None, f"a Ray actor could not start: {_brief(exc)}") from exc


def _check_start_timeout(since: float, actors: int, cluster_cpus: float | None) -> None:
    """Stop the batch when no actor has been ready for :data:`ACTOR_START_TIMEOUT_S`."""
    if time.monotonic() - since > ACTOR_START_TIMEOUT_S:
        raise BatchError(
            None,
            f"no Ray actor started in {ACTOR_START_TIMEOUT_S:.0f} s ({actors} asked for, "
            f"{ACTOR_CPUS:g} CPU each; the cluster has {cluster_cpus or 0:g} CPUs): "
            "check `ray status`, or ask for fewer with --workers",
        )


def _brief(exc: BaseException) -> str:
    """The gist of a (Ray) error: its last non-empty line, cut to a readable length."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[-1] if lines else type(exc).__name__
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 3] + "..."
