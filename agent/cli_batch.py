"""``gem-agent batch``: interpret a whole dataset into an output folder, resumably.

Exit status: 0 when every selected record was interpreted or recorded as failed; 130 when
interrupted (Ctrl-C / SIGTERM: what finished is written, rerun to resume); 1 when the batch
stopped on an error (e.g. a worker process died); 2 for bad arguments or an unreadable source.
"""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Column
from rich.text import Text

from agent.cli_common import console, err_console

if TYPE_CHECKING:
    from agent.batch import BatchProgress, BatchRun

#: Exit status of an interrupted batch (128 + SIGINT, as shells report a Ctrl-C).
EXIT_INTERRUPTED = 130
#: Progress bar: label and bar widths (characters), so the line fits 80 columns.
LABEL_WIDTH = 24
BAR_WIDTH = 20
#: Room for the rate ("12345.6 rec/s"), so a narrow terminal shrinks the label, not the rate.
RATE_WIDTH = 13


class RateColumn(ProgressColumn):
    """Records per second."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("- rec/s" if not speed else f"{speed:.1f} rec/s", style="progress.data.speed")


def _reader_options(values: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` reader options; values are JSON when they parse (``100``, ``true``)."""
    options: dict[str, Any] = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"expected KEY=VALUE, got {value!r}", param_hint="--option")
        try:
            options[key.strip()] = json.loads(text)
        except ValueError:
            options[key.strip()] = text
    return options


def _endpoint(base_url: str | None, model: str | None, timeout_s: float | None) -> Any:
    from gem_core.backends.endpoint import EndpointSettings

    overrides = {"base_url": base_url, "model": model, "timeout_s": timeout_s}
    return EndpointSettings.model_validate({k: v for k, v in overrides.items() if v})


def _check_engine(engine: str, address: str | None, base_urls: list[str]) -> None:
    """Options only the ray engine takes are refused with the local one."""
    from agent.batch.executors import ENGINES

    if engine not in ENGINES:
        raise typer.BadParameter(
            f"unknown engine {engine!r}; choose from {', '.join(ENGINES)}", param_hint="--engine"
        )
    if engine == "local" and address is not None:
        raise typer.BadParameter("needs --engine ray", param_hint="--address")
    if engine == "local" and len(base_urls) > 1:
        raise typer.BadParameter(
            "several endpoints need --engine ray (the local engine calls one)",
            param_hint="--base-url",
        )


@contextmanager
def _stop_on_signals(run: BatchRun) -> Iterator[None]:
    """The first Ctrl-C (or SIGTERM) asks the run to stop cleanly; a second one forces."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.getsignal(sig) for sig in signals}

    def handler(signum: int, frame: FrameType | None) -> None:
        run.request_stop()
        err_console.print("[yellow]stopping: writing what finished (Ctrl-C again to force)[/]")
        signal.signal(signal.SIGINT, signal.default_int_handler)

    for sig in signals:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextmanager
def _progress_bar(enabled: bool, label: str) -> Iterator[Any]:
    """A rich progress bar on stderr (rate, ETA, done/failed); ``None`` when disabled."""
    if not enabled:
        yield None
        return
    columns = (
        TextColumn(
            "[progress.description]{task.description}",
            table_column=Column(max_width=LABEL_WIDTH, no_wrap=True, overflow="ellipsis"),
        ),
        BarColumn(bar_width=BAR_WIDTH),
        MofNCompleteColumn(),
        RateColumn(table_column=Column(no_wrap=True, min_width=RATE_WIDTH)),
        TextColumn("[green]{task.fields[done]} done[/] [red]{task.fields[failed]} failed[/]"),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err_console) as bar:
        yield bar, bar.add_task(label, total=None, done=0, failed=0, skipped=0)


def _print_summary(summary: dict[str, Any], out: Path) -> None:
    c = summary["counts"]
    rate = summary.get("throughput_records_per_s")
    line = (
        f"{summary['status']}: {c['done']} interpreted ({c['unusable']} unusable), "
        f"{c['failed']} failed, {c['skipped']} skipped in {summary['wall_s']:.1f} s"
        f" ({rate or 0:.1f} records/s)"
    )
    console.print(line)
    console.print(
        f"{c.get('reports_in_folder', 0)} reports, {c.get('open_failures', 0)} open "
        f"failures in {out}; browse {out / 'index.html'}"
    )
    if summary["failures_by_type"]:
        kinds = ", ".join(f"{n} {kind}" for kind, n in summary["failures_by_type"].items())
        console.print(f"failures this run: {kinds} (see {out / 'failures.jsonl'})")


def batch(
    source: Annotated[
        Path, typer.Argument(help="Dataset folder, or a text file of record paths (one a line).")
    ],
    out: Annotated[Path, typer.Option("-o", "--out", help="Output folder (rerun to resume it).")],
    dataset: Annotated[
        str,
        typer.Option(
            help="auto | ptbxl | mimic | cinc | cpsc2018 | code15 | ludb | wfdb-dir | list"
        ),
    ] = "auto",
    backend: Annotated[
        str, typer.Option(help="criteria (offline, default) or endpoint (OpenAI-compatible).")
    ] = "criteria",
    base_url: Annotated[
        list[str] | None,
        typer.Option(
            help="Endpoint URL, e.g. http://127.0.0.1:8000/v1; repeat with --engine ray: "
            "the actors share them round-robin."
        ),
    ] = None,
    model: Annotated[str | None, typer.Option(help="Model name on the endpoint.")] = None,
    timeout: Annotated[
        float | None, typer.Option(help="Seconds to wait for one model answer.")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Worker processes (default: one per CPU; 0: no pool); with --engine ray, "
            "Ray actors (default: one per CPU of the cluster)."
        ),
    ] = None,
    concurrency: Annotated[
        int, typer.Option(help="Model calls in flight at most (endpoint backend).")
    ] = 8,
    limit: Annotated[int | None, typer.Option(help="Only the first K records.")] = None,
    ids: Annotated[
        Path | None, typer.Option(help="Only the record ids listed in this file (one a line).")
    ] = None,
    formats: Annotated[
        str, typer.Option(help="Report files per record: any of json,md,html.")
    ] = "json,html",
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Retry records that failed before.")
    ] = False,
    trace: Annotated[
        bool, typer.Option("--trace", help="Checkpoint every run (OUT/traces.sqlite).")
    ] = False,
    ecg_images: Annotated[
        bool, typer.Option("--ecg-images", help="ECG page in each HTML report (~0.3 s/record).")
    ] = False,
    case_base: Annotated[
        str, typer.Option(help="'builtin', 'none', or a folder from `gem-agent index build`.")
    ] = "builtin",
    k: Annotated[int, typer.Option("-k", help="Similar cases to retrieve.")] = 5,
    max_revisions: Annotated[int, typer.Option(help="Revision rounds after verification.")] = 2,
    option: Annotated[
        list[str] | None,
        typer.Option("--option", help="Reader option KEY=VALUE (repeat), e.g. fs_hz=100."),
    ] = None,
    engine: Annotated[
        str,
        typer.Option(help="local (this machine) or ray (a Ray cluster; needs Ray installed)."),
    ] = "local",
    address: Annotated[
        str | None,
        typer.Option(
            help="Ray cluster: auto, HOST:6379 or ray://HOST:10001 (default: a local instance)."
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Interpret every record of a dataset: reports.jsonl, per-record reports, failures,
    summary.json and a browsable index.html in OUT; rerun the same command to resume."""
    from agent.batch import BatchError, BatchRun, open_source, read_ids, work_spec
    from agent.settings import AgentSettings
    from tools.errors import RecordError

    _check_engine(engine, address, base_url or [])
    try:
        if engine == "ray":
            from agent.batch.ray_executor import require_ray

            require_ray()
        src = open_source(
            source,
            dataset=dataset,
            limit=limit,
            ids=None if ids is None else read_ids(ids),
            options=_reader_options(option or []),
        )
        settings = AgentSettings(max_revisions=max_revisions, case_base=case_base, k_cases=k)
        first_url = base_url[0] if base_url else None
        endpoint = _endpoint(first_url, model, timeout) if backend == "endpoint" else None
        spec = work_spec(
            src,
            settings=settings,
            backend=backend,
            endpoint=endpoint,
            formats=formats.split(","),
            ecg_images=ecg_images,
            trace=trace,
            out_dir=out,
        )
    except (BatchError, RecordError) as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}")
        raise typer.Exit(code=2) from None
    except ValueError as exc:  # formats, settings
        raise typer.BadParameter(str(exc)) from None
    with _progress_bar(not quiet, f"{src.spec.kind} -> {out.name}") as bar:

        def progress(p: BatchProgress) -> None:
            if bar is not None:
                bar[0].update(
                    bar[1],
                    total=p.total,
                    completed=p.finished,
                    done=p.done,
                    failed=p.failed,
                    skipped=p.skipped,
                )

        run = BatchRun(
            src,
            spec,
            out_dir=out,
            workers=workers,
            concurrency=concurrency,
            retry_failed=retry_failed,
            progress=progress,
            engine=engine,
            address=address,
            base_urls=base_url or None,
        )
        try:
            with _stop_on_signals(run):
                for _ in run:
                    pass
        except BatchError as exc:
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}")
            raise typer.Exit(code=1) from None
        except RecordError as exc:  # the source or the case base cannot be read
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}")
            raise typer.Exit(code=2) from None
        except KeyboardInterrupt:  # a second Ctrl-C: the summary is written all the same
            raise typer.Exit(code=EXIT_INTERRUPTED) from None
    summary = run.summary or {}
    if as_json:
        typer.echo(json.dumps(summary, indent=2, default=str))
    elif not quiet:
        _print_summary(summary, out)
    if summary.get("status") == "interrupted":
        err_console.print(f"interrupted: rerun the same command to resume ({out})")
        raise typer.Exit(code=EXIT_INTERRUPTED)


if __name__ == "__main__":  # pragma: no cover - `python -m agent.cli_batch`
    typer.run(batch)
