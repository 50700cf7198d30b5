"""A pool of worker processes, each interpreting several records at once in threads.

Each worker has its own pipes (items in, messages out), so a worker that dies takes nothing
shared with it: the parent sees which records it had started (each is announced before it is
interpreted), records them as failures at stage ``"worker"`` and stops the batch with a
:class:`~agent.batch.model.BatchError` (a rerun resumes; the records that killed the worker
are not retried without ``--retry-failed``). Workers are spawned, not forked (the parent may
hold FAISS/OpenMP threads), ignore SIGINT (the parent decides what a Ctrl-C stops) and exit
when the parent goes away.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.context import SpawnContext, SpawnProcess
from typing import Any

from agent.batch.executors import POLL_S, QUEUE_PER_THREAD, fill_least_busy, serve_threads
from agent.batch.model import BatchError, BatchItem, Outcome, RecordFailure
from agent.batch.work import Gate, RecordWorker, WorkSpec

#: Seconds a worker gets to exit after the last item before it is killed.
JOIN_TIMEOUT_S = 10.0


def _worker_main(
    tasks: Connection, results: Connection, spec: WorkSpec, threads: int, gate: Gate
) -> None:
    """A worker process: read items from ``tasks``, interpret them in threads, report."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    lock = threading.Lock()

    def emit(message: tuple[str, Any]) -> None:
        with lock:
            try:
                results.send(message)
            except OSError:  # the parent is gone: nothing to report to
                os._exit(0)

    try:
        worker = RecordWorker(spec, gate)
    except Exception as exc:
        emit(("init_error", f"{type(exc).__name__}: {exc}"))
        return
    inbox: queue.Queue[BatchItem | None] = queue.Queue()
    pool = serve_threads(worker, inbox, emit, threads)
    emit(("ready", os.getpid()))
    while True:
        try:
            item = tasks.recv()
        except (EOFError, OSError):  # the parent died: stop at once
            os._exit(0)
        if item is None:
            break
        inbox.put(item)
    for _ in pool:
        inbox.put(None)
    for thread in pool:
        thread.join()


@dataclass
class _Worker:
    """The parent's handle on one worker process."""

    process: SpawnProcess
    tasks: Connection
    results: Connection
    assigned: dict[str, BatchItem] = field(default_factory=dict)
    started: set[str] = field(default_factory=set)
    dead: bool = False

    @classmethod
    def start(cls, ctx: SpawnContext, spec: WorkSpec, threads: int, gate: Gate) -> _Worker:
        task_reader, task_writer = ctx.Pipe(duplex=False)
        result_reader, result_writer = ctx.Pipe(duplex=False)
        process = ctx.Process(
            target=_worker_main,
            name="gem-batch-worker",
            daemon=True,
            args=(task_reader, result_writer, spec, threads, gate),
        )
        process.start()
        task_reader.close()
        result_writer.close()
        return cls(process, task_writer, result_reader)

    def send(self, item: BatchItem) -> None:
        try:
            self.tasks.send(item)
        except OSError:
            self.dead = True
            return
        self.assigned[item.key] = item

    def stop(self, *, graceful: bool) -> None:
        if graceful and not self.dead:
            with contextlib.suppress(OSError):
                self.tasks.send(None)
            self.process.join(JOIN_TIMEOUT_S)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.tasks.close()
        self.results.close()


class ProcessExecutor:
    """Interpret in ``workers`` spawned processes with ``threads`` threads each.

    At most ``concurrency`` model calls are in flight across all of them (one shared
    semaphore); each worker holds at most ``threads + threads * QUEUE_PER_THREAD`` items.
    """

    def __init__(self, spec: WorkSpec, *, workers: int, threads: int, concurrency: int) -> None:
        self.spec, self.workers = spec, max(workers, 1)
        self.threads, self.concurrency = max(threads, 1), max(concurrency, 1)
        self.pids: list[int] = []

    def describe(self) -> dict[str, Any]:
        return {
            "engine": "local",
            "workers": self.workers,
            "threads_per_worker": self.threads,
            "concurrency": self.concurrency,
        }

    def run(
        self, items: Iterator[BatchItem], stop: threading.Event | None = None
    ) -> Iterator[Outcome]:
        ctx = multiprocessing.get_context("spawn")
        gate = ctx.BoundedSemaphore(self.concurrency)
        workers = [_Worker.start(ctx, self.spec, self.threads, gate) for _ in range(self.workers)]
        self.pids = [w.process.pid or 0 for w in workers]
        capacity = self.threads * (1 + QUEUE_PER_THREAD)
        exhausted, finished = False, False
        try:
            while True:
                if not exhausted and not (stop is not None and stop.is_set()):
                    exhausted = _fill(workers, items, capacity)
                if exhausted and not any(w.assigned for w in workers):
                    finished = True
                    return
                if stop is not None and stop.is_set():
                    return
                ready = wait(
                    [w.results for w in workers] + [w.process.sentinel for w in workers],
                    timeout=POLL_S,
                )
                for w in workers:
                    if w.results in ready or w.process.sentinel in ready or w.dead:
                        yield from _receive(w)
                        if w.dead or not w.process.is_alive():
                            yield from _died(w)
        finally:
            for w in workers:
                w.stop(graceful=finished)


def _fill(workers: list[_Worker], items: Iterator[BatchItem], capacity: int) -> bool:
    """Hand items to the least busy live workers; True once ``items`` is exhausted.

    A worker found dead while sending is marked; its death is reported by the main loop."""
    return fill_least_busy(
        workers,
        items,
        capacity,
        ready=lambda w: not w.dead,
        load=lambda w: len(w.assigned),
        submit=lambda w, item: w.send(item),
    )


def _receive(w: _Worker) -> Iterator[Outcome]:
    """Every message the worker has sent so far."""
    while True:
        try:
            if not w.results.poll():
                return
            kind, value = w.results.recv()
        except (EOFError, OSError):
            w.dead = True
            return
        if kind == "start":
            w.started.add(value)
        elif kind == "done":
            w.assigned.pop(value.key, None)
            w.started.discard(value.key)
            yield value
        elif kind == "init_error":
            raise BatchError(None, f"a worker process could not start: {value}")


def _died(w: _Worker) -> Iterator[Outcome]:
    """Failures for the records a dead worker had started, then the error that stops."""
    w.process.join(1.0)
    code = w.process.exitcode
    for key in sorted(w.started):
        yield RecordFailure(
            key=key,
            stage="worker",
            error_type="WorkerDied",
            message=f"worker process {w.process.pid} exited with code {code} "
            "while interpreting this record",
            pid=w.process.pid or 0,
        )
        w.assigned.pop(key, None)
    w.started.clear()
    raise _death(w, len(w.assigned))


def _death(w: _Worker, unstarted: int) -> BatchError:
    return BatchError(
        None,
        f"worker process {w.process.pid} died (exit code {w.process.exitcode}); the records "
        f"it was interpreting are in failures.jsonl, {unstarted} queued record(s) were not "
        "started; everything finished is kept: rerun the same command to resume",
    )
