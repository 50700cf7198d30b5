"""The Python API of batches: :func:`interpret_many`, and :func:`work_spec` that validates
options into a :class:`~agent.batch.work.WorkSpec` (the CLI uses it too)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.batch.model import RecordDone, RecordFailure
from agent.batch.runner import DEFAULT_CONCURRENCY, BatchRun, ProgressCallback
from agent.batch.sources import AUTO, Source, open_source
from agent.batch.work import FORMATS, WorkSpec
from agent.settings import AgentSettings

if TYPE_CHECKING:
    from agent.report import Report
    from gem_core.backends.endpoint import EndpointSettings

#: Report files written per record unless asked otherwise (the full JSON is in reports.jsonl).
DEFAULT_FORMATS: tuple[str, ...] = ("json", "html")
#: Trace database of a traced batch, in its output folder.
TRACE_FILE = "traces.sqlite"


def work_spec(
    source: Source,
    *,
    settings: AgentSettings | None = None,
    backend: str | None = None,
    endpoint: EndpointSettings | None = None,
    formats: Iterable[str] = DEFAULT_FORMATS,
    ecg_images: bool = False,
    trace: bool = False,
    out_dir: str | Path | None = None,
    **settings_overrides: Any,
) -> WorkSpec:
    """The :class:`~agent.batch.work.WorkSpec` for these options (validated).

    Traces are off unless ``trace``; then they go to ``settings.trace_db`` or, when unset,
    ``<out_dir>/traces.sqlite``.
    """
    chosen = tuple(dict.fromkeys(f.strip().lower() for f in formats if f.strip()))
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown:
        raise ValueError(
            f"unknown report format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}"
        )
    base = (settings or AgentSettings()).model_dump()
    overrides: dict[str, Any] = {**settings_overrides, "trace": trace}
    if backend is not None:
        overrides["backend"] = backend
    if trace and base.get("trace_db") is None and out_dir is not None:
        overrides["trace_db"] = Path(out_dir) / TRACE_FILE
    resolved = AgentSettings.model_validate({**base, **overrides})
    return WorkSpec(
        source=source.spec,
        settings=resolved,
        endpoint=endpoint,
        formats=chosen,
        ecg_images=ecg_images,
    )


def interpret_many(
    source: str | Path | Iterable[Any] | Source,
    *,
    dataset: str = AUTO,
    out_dir: str | Path | None = None,
    settings: AgentSettings | None = None,
    backend: str | None = None,
    endpoint: EndpointSettings | None = None,
    workers: int | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    limit: int | None = None,
    ids: Iterable[str] | None = None,
    formats: Iterable[str] = DEFAULT_FORMATS,
    retry_failed: bool = False,
    ecg_images: bool = False,
    trace: bool = False,
    progress: ProgressCallback | None = None,
    options: dict[str, Any] | None = None,
    engine: str = "local",
    address: str | None = None,
    base_urls: Sequence[str] | None = None,
    **settings_overrides: Any,
) -> Iterator[Report | RecordFailure]:
    """Interpret many ECGs in parallel, yielding each report (or failure) as it finishes.

    Parameters
    ----------
    source
        A dataset folder or a list file (read as ``dataset``, see
        :mod:`agent.batch.sources`), an iterable of :class:`~tools.record.ECGRecord` objects
        or record paths, or a :class:`~agent.batch.sources.Source`.
    dataset
        ``auto``, ``list``, or a dataset name (``ptbxl``, ``mimic``, ``cinc``, ``cpsc2018``,
        ``code15``, ``ludb``, ``wfdb-dir``).
    out_dir
        Write ``reports.jsonl``, ``failures.jsonl``, per-record reports, ``summary.json`` and
        ``index.html`` here, and resume: records already in ``reports.jsonl`` are skipped
        (failed ones too, unless ``retry_failed``). ``None``: write nothing.
    settings, backend, endpoint
        Agent settings (``settings_overrides`` replace single fields), the backend name, and
        the endpoint backend's settings (``None``: ``GEM_AGENT_*`` environment variables).
    workers
        Worker processes (default: one per CPU; 0: threads in this process).
    concurrency
        Model calls in flight at most (the endpoint backend).
    limit, ids
        Only the first ``limit`` records, only these ids.
    formats
        Report files per record: any of ``json``, ``md``, ``html``.
    ecg_images
        Put the ECG page in each HTML report (about 0.3 s of CPU per record).
    trace
        Checkpoint every run (off by default: a large batch would write gigabytes).
    progress
        Called with a :class:`~agent.batch.model.BatchProgress` after every record.
    options
        Reader options, e.g. ``{"fs_hz": 100}`` for PTB-XL's 100 Hz records.
    engine, address, base_urls
        ``"local"`` (default) or ``"ray"``: Ray actors (``workers`` of them, default one per
        CPU of the cluster) on the Ray cluster at ``address`` (``None``: a local instance),
        calling the endpoints ``base_urls`` round-robin, one per actor (``None``:
        ``$GEM_AGENT_BASE_URLS``, comma-separated, else ``endpoint``'s); needs
        ``pip install 'gem-agent[ray]'``.

    Yields
    ------
    Report or RecordFailure
        In the order records finish (not the source's order).

    Notes
    -----
    Workers are spawned processes: a script calling this with ``workers > 0`` must guard its
    entry point with ``if __name__ == "__main__":``.
    """
    from agent.batch.lines import report_from_line

    src = (
        source
        if isinstance(source, Source)
        else open_source(source, dataset=dataset, ids=ids, limit=limit, options=options)
    )
    spec = work_spec(
        src,
        settings=settings,
        backend=backend,
        endpoint=endpoint,
        formats=formats,
        ecg_images=ecg_images,
        trace=trace,
        out_dir=out_dir,
        **settings_overrides,
    )
    run = BatchRun(
        src,
        spec,
        out_dir=out_dir,
        workers=workers,
        concurrency=concurrency,
        retry_failed=retry_failed,
        progress=progress,
        engine=engine,
        address=address,
        base_urls=base_urls,
    )
    for outcome in run:
        yield report_from_line(outcome.line) if isinstance(outcome, RecordDone) else outcome
