"""How records are interpreted in parallel: the :class:`Executor` contract, threads in this
process, and the choice between them and the process pool (:mod:`agent.batch.pool`).

An executor takes a stream of items and yields outcomes as they finish, holding a bounded
number of items in flight; it knows nothing of output files (the runner writes them), so any
executor, a cluster one included, gives the same outputs and the same resume semantics.

Threads and processes: measurement, rendering and verification are CPU-bound, so a batch
runs ``workers`` processes. Model calls are I/O-bound: each worker runs enough threads that
``concurrency`` calls can be in flight across the batch, plus one that measures and renders
the next record meanwhile; a shared gate caps the calls at ``concurrency``. The criteria
backend makes no model calls: one thread per worker.
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, TypeVar

from agent.batch.model import BatchItem, Outcome
from agent.batch.work import RecordWorker, WorkSpec

#: Where a batch can run: this machine, or a Ray cluster (:mod:`agent.batch.ray_executor`).
ENGINES: tuple[str, ...] = ("local", "ray")
#: Seconds between checks of the stop flag while waiting for results.
POLL_S = 0.2
#: Items queued per thread beyond the one it runs (keeps threads busy, memory bounded).
QUEUE_PER_THREAD = 1
#: Threads per worker beyond those waiting on the model: they measure and render meanwhile.
PIPELINE_THREADS = 1


class Executor(Protocol):
    """Runs :class:`~agent.batch.work.RecordWorker` over a stream of items."""

    def run(
        self, items: Iterator[BatchItem], stop: threading.Event | None = None
    ) -> Iterator[Outcome]:
        """Outcomes in the order they finish; returns early once ``stop`` is set (items
        in flight are abandoned: they were not written, a rerun does them)."""
        ...

    def describe(self) -> dict[str, Any]:
        """JSON-native description for ``summary.json``."""
        ...


def threads_per_worker(spec: WorkSpec, workers: int, concurrency: int) -> int:
    """Threads each worker runs: ``ceil(concurrency / workers) + PIPELINE_THREADS`` for a
    model backend, 1 for the criteria backend."""
    if not spec.calls_model:
        return 1
    return math.ceil(concurrency / max(workers, 1)) + PIPELINE_THREADS


def serve_threads(
    worker: RecordWorker,
    inbox: queue.Queue[BatchItem | None],
    emit: Callable[[tuple[str, Any]], None],
    n_threads: int,
) -> list[threading.Thread]:
    """Start ``n_threads`` daemon threads that process items from ``inbox`` until ``None``.

    Each item is announced with ``("start", key)`` and finished with ``("done", outcome)``.
    """

    def loop() -> None:
        while (item := inbox.get()) is not None:
            emit(("start", item.key))
            emit(("done", worker.process(item)))

    threads = [
        threading.Thread(target=loop, name=f"gem-batch-{i}", daemon=True) for i in range(n_threads)
    ]
    for thread in threads:
        thread.start()
    return threads


class ThreadExecutor:
    """Interpret in this process with ``threads`` threads (``--workers 0``).

    Parameters
    ----------
    spec
        The batch's work.
    threads
        Threads interpreting records.
    concurrency
        Model calls in flight at most.
    worker
        A ready :class:`RecordWorker` (built from ``spec`` when omitted).
    """

    def __init__(
        self,
        spec: WorkSpec,
        *,
        threads: int = 1,
        concurrency: int = 1,
        worker: RecordWorker | None = None,
    ) -> None:
        self.spec, self.threads, self.concurrency = spec, max(threads, 1), max(concurrency, 1)
        self._worker = worker

    def describe(self) -> dict[str, Any]:
        return {
            "engine": "local",
            "workers": 0,
            "threads_per_worker": self.threads,
            "concurrency": self.concurrency,
        }

    def run(
        self, items: Iterator[BatchItem], stop: threading.Event | None = None
    ) -> Iterator[Outcome]:
        worker = self._worker or RecordWorker(
            self.spec, threading.BoundedSemaphore(self.concurrency)
        )
        inbox: queue.Queue[BatchItem | None] = queue.Queue()
        outbox: queue.Queue[tuple[str, Any]] = queue.Queue()
        threads = serve_threads(worker, inbox, outbox.put, self.threads)
        window = self.threads * (1 + QUEUE_PER_THREAD)
        in_flight, exhausted = 0, False
        try:
            while True:
                while not exhausted and in_flight < window:
                    item = next(items, None)
                    if item is None:
                        exhausted = True
                    else:
                        inbox.put(item)
                        in_flight += 1
                if in_flight == 0 or (stop is not None and stop.is_set()):
                    return
                try:
                    kind, value = outbox.get(timeout=POLL_S)
                except queue.Empty:
                    continue
                if kind == "done":
                    in_flight -= 1
                    yield value
        finally:
            _drain(inbox)
            for _ in threads:  # threads finish the record in hand, then exit (daemons)
                inbox.put(None)


def _drain(inbox: queue.Queue[Any]) -> None:
    while True:
        try:
            inbox.get_nowait()
        except queue.Empty:
            return


def make_executor(
    spec: WorkSpec,
    *,
    workers: int | None,
    concurrency: int,
    engine: str = "local",
    address: str | None = None,
    base_urls: Sequence[str] | None = None,
) -> Executor:
    """The executor for ``engine``.

    ``local``: threads in this process for ``workers`` 0 or ``None``, else a pool of
    ``workers`` processes (one endpoint). ``ray``: ``workers`` Ray actors (``None``: one per
    CPU of the cluster at ``address``) sharing the endpoints ``base_urls``
    (:class:`~agent.batch.ray_executor.RayExecutor`).
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose from {', '.join(ENGINES)}")
    if engine == "ray":
        from agent.batch.ray_executor import RayExecutor

        return RayExecutor(
            spec, address=address, actors=workers, concurrency=concurrency, base_urls=base_urls
        )
    if address is not None or len(base_urls or ()) > 1:
        raise ValueError(
            "address and several base_urls need engine='ray' (the local engine calls one endpoint)"
        )
    workers = 0 if workers is None else workers
    threads = threads_per_worker(spec, workers, concurrency)
    if workers <= 0:
        return ThreadExecutor(spec, threads=threads, concurrency=concurrency)
    from agent.batch.pool import ProcessExecutor

    return ProcessExecutor(spec, workers=workers, threads=threads, concurrency=concurrency)


Slot = TypeVar("Slot")


def fill_least_busy(
    slots: Sequence[Slot],
    items: Iterator[BatchItem],
    capacity: int,
    *,
    ready: Callable[[Slot], bool],
    load: Callable[[Slot], int],
    submit: Callable[[Slot, BatchItem], None],
) -> bool:
    """Hand items to the least busy ready slot (process or actor) until every ready slot
    holds ``capacity`` items; True once ``items`` is exhausted, False when it must wait."""
    while True:
        candidates = [s for s in slots if ready(s)]
        if not candidates:
            return False
        slot = min(candidates, key=load)
        if load(slot) >= capacity:
            return False
        item = next(items, None)
        if item is None:
            return True
        submit(slot, item)
