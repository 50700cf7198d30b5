"""Build a case base from a dataset: measure and embed in a process pool, resumably.

Records are processed in batches by worker processes; the main process commits each batch to
the case table in one transaction, in dataset order, and at the end brings ``index.faiss``
(appending the new rows) and ``meta.json`` up to date with the table. A build killed at any
point leaves whole batches in the table; rerunning it skips the ids already stored or failed
and finishes the job, with the same rows an uninterrupted build would have written.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from tools.cases.casebase import check_signature, refresh_index
from tools.cases.embedding import embed_measurements, embedding_signature, key_measurements
from tools.cases.index import INDEX_SETTINGS
from tools.cases.model import CaseBaseError, CaseBaseInfo, CaseLabel
from tools.cases.store import CaseRow, CaseStore, FailureRow
from tools.readers.base import Dataset, DatasetEntry
from tools.record import ECGRecord

if TYPE_CHECKING:
    from tools.measure.pipeline import MeasurementRun

#: Records per worker task and per committed transaction: ~3 s of work at ~50 ms a record,
#: small enough that an interrupt loses little, large enough to amortise process hand-offs.
DEFAULT_BATCH_SIZE = 64
#: Batches queued per worker beyond the one it runs (keeps workers busy, memory bounded).
QUEUE_PER_WORKER = 2

Item = TypeVar("Item")
Result = CaseRow | FailureRow


class BuildJob(Protocol[Item]):
    """What a build does with each item: a picklable object run in every worker."""

    def process(self, batch: list[Item]) -> list[Result]:
        """Turn a batch of items into case rows or failure rows (never raises per item)."""
        ...


@dataclass(frozen=True)
class BuildProgress:
    """Where a build stands, reported after each committed batch.

    Attributes
    ----------
    total
        Items this run set out to process (after skipping those already in the base).
    done
        Items processed so far in this run.
    added, failed
        Of ``done``: cases stored, records that failed.
    skipped
        Items skipped because a previous run already stored or failed them.
    """

    total: int
    done: int = 0
    added: int = 0
    failed: int = 0
    skipped: int = 0


ProgressCallback = Callable[[BuildProgress], None]


def case_row(record: ECGRecord, dataset: str, run: MeasurementRun) -> CaseRow:
    """A case row from a record and its :class:`~tools.measure.pipeline.MeasurementRun`."""
    report = record.report or record.metadata.get("report")
    return CaseRow(
        case_id=record.record_id,
        dataset=dataset,
        patient_id=record.patient_id,
        labels=tuple(
            CaseLabel(code=label.code, vocabulary=label.vocabulary, name=label.name)
            for label in record.labels
        ),
        report=str(report) if report else None,
        measurements=key_measurements(run.measurements),
        embedding=embed_measurements(run),
    )


def failure_row(case_id: str, dataset: str, exc: Exception) -> FailureRow:
    """A failure row naming the error type and its message."""
    return FailureRow(case_id, dataset, type(exc).__name__, str(exc) or repr(exc))


@dataclass
class DatasetJob:
    """Read, measure and embed records of one dataset (opened once per worker process)."""

    dataset: str
    root: str
    options: dict[str, Any] = field(default_factory=dict)
    _opened: Dataset | None = field(default=None, repr=False)

    def __getstate__(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "root": self.root, "options": self.options,
                "_opened": None}  # fmt: skip

    def open(self) -> Dataset:
        """The dataset, opened on first use."""
        if self._opened is None:
            from tools.readers import open_dataset

            self._opened = open_dataset(self.dataset, self.root, **self.options)
        return self._opened

    def process(self, batch: list[DatasetEntry]) -> list[Result]:
        """Load, measure and embed each entry; a record that fails becomes a failure row."""
        from tools.measure.pipeline import measure_record

        ds = self.open()
        name = ds.name or self.dataset
        results: list[Result] = []
        for entry in batch:
            try:
                record = ds.load(entry)
                run = measure_record(record, per_beat=False)
                results.append(case_row(record, name, run))
            except Exception as exc:  # one bad record must not stop a batch of thousands
                results.append(failure_row(entry.record_id, name, exc))
        return results


# ---- the runner ----------------------------------------------------------------------------
_WORKER_JOB: Any = None  # the job of this worker process (set by the pool initializer)


def _init_worker(job: BuildJob[Any]) -> None:
    global _WORKER_JOB
    _WORKER_JOB = job


def _run_in_worker(batch: list[Any]) -> list[Result]:
    result: list[Result] = _WORKER_JOB.process(batch)
    return result


def run_build(
    store: CaseStore,
    job: BuildJob[Item],
    batches: Iterable[list[Item]],
    total: int,
    *,
    workers: int = 2,
    skipped: int = 0,
    progress: ProgressCallback | None = None,
) -> BuildProgress:
    """Run ``job`` over ``batches`` and commit each batch's results in order.

    ``workers`` <= 1 runs in this process; more starts a pool of spawned processes (spawn, not
    fork: the parent may hold FAISS/OpenMP threads). Results are committed in submission
    order, so the rows do not depend on which worker finished first.
    """
    state = BuildProgress(total=total, skipped=skipped)
    if progress is not None:
        progress(state)

    def commit(results: list[Result], n_items: int) -> None:
        nonlocal state
        cases = [r for r in results if isinstance(r, CaseRow)]
        failures = [r for r in results if isinstance(r, FailureRow)]
        store.add_batch(cases, failures)
        state = BuildProgress(total, state.done + n_items, state.added + len(cases),
                              state.failed + len(failures), skipped)  # fmt: skip
        if progress is not None:
            progress(state)

    if workers <= 1:
        for batch in batches:
            commit(job.process(batch), len(batch))
        return state
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                             initargs=(job,)) as pool:  # fmt: skip
        pending: deque[tuple[Future[list[Result]], int]] = deque()
        try:
            for batch in batches:
                pending.append((pool.submit(_run_in_worker, batch), len(batch)))
                while len(pending) > workers * QUEUE_PER_WORKER:
                    future, n = pending.popleft()
                    commit(future.result(), n)
            while pending:
                future, n = pending.popleft()
                commit(future.result(), n)
        except BrokenProcessPool as exc:
            raise CaseBaseError(
                store.folder,
                f"a worker process died ({exc}); the batches committed so far are kept: "
                "rerun the build to resume (scripts must guard their entry point with "
                "`if __name__ == '__main__':`, as workers are spawned)",
            ) from exc
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return state


def batched(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    """Consecutive lists of ``size`` items (the last one shorter)."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def open_build_store(out_dir: str | Path) -> CaseStore:
    """The case table of ``out_dir``, created with this embedding's signature when new.

    Raises :class:`~tools.cases.model.CaseBaseVersionError` when the folder holds a base of
    another embedding version (a resume must not mix vectors).
    """
    store = CaseStore(out_dir, create=True)
    try:
        if not store.settings():
            store.write_settings(dict(embedding_signature()))
        check_signature(store)
    except BaseException:
        store.close()
        raise
    return store


def build_case_base(
    dataset: str,
    root: str | Path,
    out_dir: str | Path,
    *,
    workers: int = 2,
    batch_size: int = DEFAULT_BATCH_SIZE,
    limit: int | None = None,
    index_type: str = "auto",
    retry_failures: bool = False,
    progress: ProgressCallback | None = None,
    dataset_options: dict[str, Any] | None = None,
) -> CaseBaseInfo:
    """Measure and embed every record of a dataset into a case base folder (resumable).

    Parameters
    ----------
    dataset, root
        A dataset name of :func:`tools.readers.open_dataset` and its folder.
    out_dir
        The case-base folder (created; an existing base of the same embedding version is
        extended: ids already stored or failed are skipped).
    workers
        Worker processes (<= 1: in this process).
    batch_size
        Records per task and per committed transaction.
    limit
        Only the first ``limit`` records of the dataset (in its stable order).
    index_type
        ``auto`` (exact up to 20k cases, HNSW above), ``flat``, ``hnsw`` or ``ivf``.
    retry_failures
        Try again the records an earlier run recorded as failures.
    progress
        Called with a :class:`BuildProgress` after each committed batch.
    dataset_options
        Reader options (e.g. ``{"fs_hz": 100}`` for PTB-XL).

    Returns
    -------
    CaseBaseInfo
        The finished base.
    """
    from tools.cases.casebase import case_base_info
    from tools.readers import open_dataset

    if index_type not in INDEX_SETTINGS:
        raise CaseBaseError(out_dir, f"index type must be one of {', '.join(INDEX_SETTINGS)}")
    if batch_size < 1:
        raise CaseBaseError(out_dir, f"batch size must be >= 1, got {batch_size}")
    options = dict(dataset_options or {})
    ds = open_dataset(dataset, root, **options)
    name = ds.name or dataset
    n_wanted = len(ds) if limit is None else min(len(ds), max(limit, 0))
    with open_build_store(out_dir) as store:
        done = store.known_ids(name, with_failures=not retry_failures)
        # Two passes over the (metadata-only) entries: count, then stream; a million entries
        # with their metadata need not sit in memory.
        n_todo = sum(e.record_id not in done for e in islice(ds.entries(), n_wanted))
        todo = (e for e in islice(ds.entries(), n_wanted) if e.record_id not in done)
        job = DatasetJob(dataset, str(Path(root).resolve()), options)
        run_build(store, job, batched(todo, batch_size), n_todo, workers=workers,
                  skipped=n_wanted - n_todo, progress=progress)  # fmt: skip
        settings = {"dataset": name, "root": str(Path(root).resolve()), "limit": limit,
                    "workers": workers, "batch_size": batch_size, "index_type": index_type,
                    "options": options, "cpu_count": os.cpu_count()}  # fmt: skip
        refresh_index(store, index_type, build=settings)
    return case_base_info(out_dir)
