"""Shared pieces of the command line: consoles, record options, error handling, tables."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from agent.tables import PlainTable
from tools.errors import RecordError
from tools.record import ECGRecord, RecordSummary

#: Tables are wide; off a terminal (pipes, CI logs) print them at this width, not 80 columns.
PIPE_WIDTH = 160
console = Console(width=None if sys.stdout.isatty() else PIPE_WIDTH)
#: Error lines are never wrapped, so a log line holds the whole message.
err_console = Console(stderr=True, soft_wrap=True)

RecordArg = Annotated[
    str,
    typer.Argument(help="Record: WFDB .hea/.dat, CinC .mat+.hea, CPSC .mat, .npy/.npz/.csv"),
]
DatasetOpt = Annotated[
    str | None,
    typer.Option(help="Dataset the record belongs to (with --root: RECORD is an id)."),
]
RootOpt = Annotated[Path | None, typer.Option(help="Dataset folder, when RECORD is an id.")]
FsOpt = Annotated[float | None, typer.Option("--fs", help="Sampling rate in Hz (.npy/.csv only).")]
LeadsOpt = Annotated[
    str | None, typer.Option(help="Comma-separated lead names (.npy/.csv only), e.g. I,II,V1")
]


@contextmanager
def record_errors() -> Iterator[None]:
    """Turn record errors into one clear line and exit status 2."""
    try:
        yield
    except RecordError as exc:
        err_console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(code=2) from None


def load_record(
    record: str, dataset: str | None, root: Path | None, fs: float | None, leads: str | None
) -> ECGRecord:
    from tools.readers import open_record

    options: dict[str, object] = {}
    if fs is not None:
        options["fs_hz"] = fs
    if leads is not None:
        options["lead_names"] = [name.strip() for name in leads.split(",")]
    return open_record(record, dataset=dataset, root=root, **options)


def summary_table(summary: RecordSummary) -> Table:
    table = PlainTable(title=f"Record {summary.record_id}", show_header=False, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value")
    table.add_row("dataset", summary.dataset or "-")
    table.add_row("source", summary.source_path or "-")
    table.add_row("sampling rate", f"{summary.fs_hz:g} Hz")
    table.add_row("duration", f"{summary.duration_s:.2f} s ({summary.n_samples} samples)")
    table.add_row("leads", f"{', '.join(summary.lead_names)} ({summary.lead_system})")
    if summary.original_lead_names != summary.lead_names:
        table.add_row("as named in file", ", ".join(summary.original_lead_names))
    if summary.dropped_leads:
        table.add_row("dropped leads", ", ".join(summary.dropped_leads))
    demo = [f"{summary.age_years:g} y" if summary.age_years is not None else None, summary.sex]
    table.add_row("demographics", ", ".join(d for d in demo if d) or "-")
    if summary.patient_id:
        table.add_row("patient", summary.patient_id)
    for label in summary.labels:
        likelihood = f" ({label.likelihood:g}%)" if label.likelihood is not None else ""
        name = f" {label.name}" if label.name else ""
        table.add_row(f"label [{label.vocabulary}]", f"{label.code}{name}{likelihood}")
    if summary.report:
        table.add_row("report", summary.report)
    nan = ", ".join(f"{lead}: {n}" for lead, n in summary.nan_counts.items())
    table.add_row("NaN samples", nan or "none")
    return table
