"""Run a batch: stream a source through an executor into an output folder, resumably.

:class:`BatchRun` is the engine behind ``gem-agent batch`` and
:func:`~agent.batch.api.interpret_many`: it yields light outcomes and keeps the summary. Where the
work runs is the executor's business (:mod:`agent.batch.executors`); what is written and
what a rerun skips is the output folder's (:mod:`agent.batch.outputs`).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from itertools import chain
from pathlib import Path
from typing import Any

from agent.batch.executors import Executor, make_executor
from agent.batch.model import BatchItem, BatchProgress, Outcome, RecordDone, RecordFailure
from agent.batch.outputs import BatchOutputs
from agent.batch.sources import Source
from agent.batch.summary import RunStats, now_iso
from agent.batch.work import WorkSpec
from agent.settings import AgentSettings

#: Model calls in flight at most, unless asked otherwise.
DEFAULT_CONCURRENCY = 8

ProgressCallback = Callable[[BatchProgress], None]


def default_workers() -> int:
    """Worker processes by default: one per CPU."""
    return os.cpu_count() or 1


class BatchRun:
    """One run of a batch; iterate it to run (outcomes come as records finish).

    Parameters
    ----------
    source
        The records (:func:`~agent.batch.sources.open_source`).
    spec
        What to do with each record.
    out_dir
        Output folder (resumed when it holds an earlier run); ``None`` writes nothing.
    workers, concurrency
        Worker processes (0: threads in this process) and model calls in flight at most.
    retry_failed
        Interpret again the records an earlier run failed (else they are skipped).
    progress
        Called with a :class:`~agent.batch.model.BatchProgress` at the start and after each
        record.
    executor
        Run the work with this executor instead of the one ``engine`` and ``workers`` ask for.
    engine, address, base_urls
        ``"local"`` (default) or ``"ray"``: Ray actors (``workers`` of them, default one per
        CPU of the cluster) on the cluster at ``address`` sharing the endpoints ``base_urls``
        (see :func:`~agent.batch.executors.make_executor`).

    Attributes
    ----------
    summary
        What ``summary.json`` holds, once the run has ended (also when interrupted).
    """

    def __init__(
        self,
        source: Source,
        spec: WorkSpec,
        *,
        out_dir: str | Path | None = None,
        workers: int | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        retry_failed: bool = False,
        progress: ProgressCallback | None = None,
        executor: Executor | None = None,
        engine: str = "local",
        address: str | None = None,
        base_urls: Sequence[str] | None = None,
    ) -> None:
        self.source, self.spec = source, spec
        self.out_dir = None if out_dir is None else Path(out_dir)
        self.workers = default_workers() if workers is None else workers
        self.concurrency = max(concurrency, 1)
        self.retry_failed = retry_failed
        self._progress_cb = progress
        self.executor = executor or make_executor(
            spec,
            workers=workers if engine == "ray" else self.workers,  # ray: the cluster's CPUs
            concurrency=self.concurrency,
            engine=engine,
            address=address,
            base_urls=base_urls,
        )
        self.progress = BatchProgress(total=None)
        self.summary: dict[str, Any] | None = None
        self._stop = threading.Event()
        self._stats = RunStats()

    def request_stop(self) -> None:
        """Finish cleanly as soon as possible: what finished is written, the rest is left."""
        self._stop.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def __iter__(self) -> Iterator[Outcome]:
        outputs = BatchOutputs(self.out_dir) if self.out_dir is not None else None
        started_at, start = now_iso(), time.perf_counter()
        status, error = "failed", None
        try:
            skip = _skip_set(outputs, self.retry_failed)
            total, skipped = self._plan(skip)
            self._report(BatchProgress(total=total, skipped=skipped))
            _open_case_base(self.spec.settings)  # built once here, before workers start
            items = self._todo(skip)
            first = next(items, None)  # nothing to do: no worker is started
            todo = (
                iter(()) if first is None else self.executor.run(chain([first], items), self._stop)
            )
            for outcome in todo:
                if outputs is not None:
                    outputs.commit(outcome)
                self._stats.add(outcome, time.perf_counter() - start)
                p = self.progress
                done, failed = isinstance(outcome, RecordDone), isinstance(outcome, RecordFailure)
                elapsed_s = time.perf_counter() - start
                self._report(
                    replace(p, done=p.done + done, failed=p.failed + failed, elapsed_s=elapsed_s)
                )
                yield outcome
            status = "interrupted" if self._stop.is_set() else "complete"
        except (KeyboardInterrupt, GeneratorExit):
            status = "interrupted"
            raise
        except BaseException as exc:
            error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            self.summary = self._summary(
                status, error, started_at, time.perf_counter() - start, outputs
            )
            if outputs is not None:
                try:
                    outputs.write_summary(self.summary)
                    outputs.write_index(self.spec.formats)
                finally:
                    outputs.close()

    def _report(self, progress: BatchProgress) -> None:
        self.progress = progress
        if self._progress_cb is not None:
            self._progress_cb(progress)

    def _plan(self, skip: set[str]) -> tuple[int | None, int]:
        """``(records to interpret, records skipped)``; one pass over the source's metadata
        when something is skipped (``None, 0`` for a one-shot iterable)."""
        if not self.source.reiterable:
            return None, 0
        if not skip:
            return self.source.count(), 0
        selected = todo = 0
        for item in self.source.items():
            selected += 1
            todo += item.key not in skip
        return todo, selected - todo

    def _todo(self, skip: set[str]) -> Iterator[BatchItem]:
        for item in self.source.items():
            if item.key in skip:
                if not self.source.reiterable:  # not counted ahead: count as met
                    self._report(replace(self.progress, skipped=self.progress.skipped + 1))
                continue
            yield item

    def _summary(
        self,
        status: str,
        error: str | None,
        started_at: str,
        wall_s: float,
        outputs: BatchOutputs | None,
    ) -> dict[str, Any]:
        from agent.batch import summary as sm

        done = None if outputs is None else len(outputs.done)
        failures = None if outputs is None else len(outputs.failed)
        return {
            "status": status,
            "error": error,
            "out_dir": None if self.out_dir is None else str(self.out_dir.resolve()),
            "source": self.source.describe(),
            "started_at": started_at,
            "finished_at": sm.now_iso(),
            "wall_s": round(wall_s, 3),
            "counts": sm.counts_summary(self.progress, self._stats, done, failures),
            **self._stats.describe(self.progress.finished, wall_s),
            "backend": sm.backend_summary(self.spec),
            "executor": self.executor.describe(),
            "settings": sm.settings_summary(self.spec, self.retry_failed),
            "versions": sm.versions(),
            "memory": sm.memory_summary(self._stats),
            "repaired_bytes": None if outputs is None else outputs.repaired_bytes,
        }


def _skip_set(outputs: BatchOutputs | None, retry_failed: bool) -> set[str]:
    if outputs is None:
        return set()
    return set(outputs.done) if retry_failed else outputs.done | set(outputs.failed)


def _open_case_base(settings: AgentSettings) -> None:
    """Open the case base once (building the built-in one on first use), so a bad folder
    fails here and workers do not race to build it."""
    if settings.case_base == "none" or settings.k_cases == 0:
        return
    from tools.cases import CaseBase, builtin_case_base

    base = (
        builtin_case_base()
        if settings.case_base == "builtin"
        else CaseBase.open(settings.case_base)
    )
    base.close()
