"""``gem-agent index``: build, describe and search similar-case bases (FAISS + SQLite)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from agent.cli_common import (
    DatasetOpt,
    FsOpt,
    LeadsOpt,
    RootOpt,
    console,
    err_console,
    load_record,
    record_errors,
)
from agent.tables import PlainTable

if TYPE_CHECKING:
    from tools.cases import BuildProgress, CaseBase, CaseBaseInfo, SimilarCase

index_app = typer.Typer(
    name="index",
    help="Build, describe and search similar-case bases (FAISS + SQLite).",
    no_args_is_help=True,
    add_completion=False,
)

#: Characters of a report shown in the search table (the JSON output has it whole).
REPORT_WIDTH = 60
#: Labels shown per case in the search table.
LABELS_SHOWN = 4

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
BuiltinOpt = Annotated[
    bool, typer.Option("--builtin", help="Use the built-in synthetic case base (no DIR).")
]


@index_app.command("build")
def build(
    root: Annotated[Path, typer.Argument(help="The dataset's folder, in its own layout.")],
    dataset: Annotated[
        str,
        typer.Option(help="ptbxl | mimic | cinc | ludb | code15 | cpsc2018 | dir (WFDB folder)"),
    ],
    out: Annotated[
        Path, typer.Option("-o", "--out", help="Case-base folder (resumed if it exists).")
    ],
    workers: Annotated[int, typer.Option(help="Worker processes (1: no pool).")] = 2,
    limit: Annotated[int | None, typer.Option(help="Only the first K records.")] = None,
    index_type: Annotated[
        str, typer.Option(help="auto (exact up to 20k cases, HNSW above) | flat | hnsw | ivf")
    ] = "auto",
    batch_size: Annotated[int, typer.Option(help="Records per committed batch.")] = 64,
    retry_failures: Annotated[
        bool, typer.Option("--retry-failures", help="Retry records that failed before.")
    ] = False,
) -> None:
    """Measure and embed a dataset into a case base; rerun to resume an interrupted build."""
    from tools.cases import INDEX_SETTINGS, build_case_base

    if index_type not in INDEX_SETTINGS:
        raise typer.BadParameter(
            f"choose one of {', '.join(INDEX_SETTINGS)}", param_hint="--index-type"
        )
    columns = (TextColumn("[progress.description]{task.description}"), BarColumn(),
               MofNCompleteColumn(), TextColumn("{task.fields[failed]} failed"),
               TimeRemainingColumn())  # fmt: skip
    with record_errors(), Progress(*columns, console=err_console) as bar:
        task = bar.add_task(f"{dataset} -> {out}", total=None, failed=0)

        def report(state: BuildProgress) -> None:
            bar.update(task, total=state.total, completed=state.done, failed=state.failed)

        info = build_case_base(
            dataset, root, out, workers=workers, batch_size=batch_size, limit=limit,
            index_type=index_type, retry_failures=retry_failures, progress=report,
        )  # fmt: skip
    failures = ", ".join(f"{n} {kind}" for kind, n in info.failures_by_type.items())
    console.print(
        f"{info.n_cases} cases in {info.path} ({info.index_type} index)"
        + (f"; {info.n_failures} failed: {failures}" if info.n_failures else "")
    )


def _open_base(folder: str | None, builtin: bool) -> CaseBase:
    from tools.cases import CaseBase, builtin_case_base
    from tools.cases.builtin import builtin_dir
    from tools.cases.casebase import read_meta

    if builtin:
        if not read_meta(builtin_dir()):
            err_console.print("building the built-in case base (first use, about 10 s)...")
        return builtin_case_base()
    if folder is None:
        raise typer.BadParameter("give a case-base folder or --builtin", param_hint="DIR")
    return CaseBase.open(folder)


def _info_table(info: CaseBaseInfo) -> PlainTable:
    table = PlainTable(title=f"Case base {info.path}", show_header=False, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value")
    version = f"{info.embedding_version} (dim {info.embedding_dim}, measurements "
    version += f"{info.measurement_version})" + ("" if info.compatible else " - INCOMPATIBLE")
    table.add_row("embedding", version)
    table.add_row("index", f"{info.index_type or '-'} ({info.index_setting or '-'}), {info.metric}")
    table.add_row("cases", f"{info.n_cases} ({info.n_indexed} indexed)")
    for name, n in info.datasets.items():
        table.add_row(f"  {name}", str(n))
    table.add_row("failures", str(info.n_failures))
    for kind, n in info.failures_by_type.items():
        table.add_row(f"  {kind}", str(n))
    for key, value in info.build.items():
        table.add_row(f"build {key}", str(value))
    return table


@index_app.command("info")
def info(
    folder: Annotated[str | None, typer.Argument(metavar="DIR", help="Case-base folder.")] = None,
    builtin: BuiltinOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Describe a case base: embedding version, index type, counts, failures, build settings."""
    from tools.cases import case_base_info

    with record_errors():
        if builtin:
            with _open_base(None, True) as base:
                described = base.info()
        elif folder is None:
            raise typer.BadParameter("give a case-base folder or --builtin", param_hint="DIR")
        else:
            described = case_base_info(folder)
    if as_json:
        typer.echo(described.model_dump_json(indent=2))
    else:
        console.print(_info_table(described))


def _whole(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _cases_table(cases: list[SimilarCase], title: str) -> PlainTable:
    table = PlainTable(title=title, title_justify="left")
    for column in ("#", "case", "dataset", "similarity", "labels", "HR", "QRS", "QTc", "report"):
        table.add_column(column, justify="right" if column in ("#", "similarity") else "left")
    for case in cases:
        names = [label.name or label.code for label in case.labels]
        shown = "; ".join(names[:LABELS_SHOWN]) + (" ..." if len(names) > LABELS_SHOWN else "")
        hr, qrs, qtc = (
            _whole(case.measurements.get(name))
            for name in ("heart_rate_bpm", "qrs_ms", "qtc_bazett_ms")
        )
        report = case.report or "-"
        if len(report) > REPORT_WIDTH:
            report = report[: REPORT_WIDTH - 3] + "..."
        table.add_row(str(case.rank), case.case_id, case.dataset, f"{case.similarity:.3f}",
                      shown or "-", hr, qrs, qtc, report)  # fmt: skip
    return table


@index_app.command("search")
def search(
    first: Annotated[
        str,
        typer.Argument(metavar="DIR", help="Case-base folder (or, with --builtin, the record)."),
    ],
    second: Annotated[
        str | None, typer.Argument(metavar="RECORD", help="The query record.")
    ] = None,
    k: Annotated[int, typer.Option("-k", "--k", min=1, help="Number of cases.")] = 5,
    builtin: BuiltinOpt = False,
    include_self: Annotated[
        bool,
        typer.Option("--include-self", help="Keep the record's own id and patient in results."),
    ] = False,
    dataset: DatasetOpt = None,
    root: RootOpt = None,
    fs: FsOpt = None,
    leads: LeadsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The k cases most similar to a record: search DIR RECORD, or search --builtin RECORD."""
    if builtin and second is not None:
        raise typer.BadParameter("with --builtin give only the RECORD", param_hint="DIR")
    folder, record_ref = (None, first) if builtin else (first, second)
    if record_ref is None:
        raise typer.BadParameter("give DIR and RECORD (or --builtin RECORD)", param_hint="RECORD")
    with record_errors():
        record = load_record(record_ref, dataset, root, fs, leads)
        with _open_base(folder, builtin) as base:
            cases = base.search_record(record, k, exclude_self=not include_self)
            where = str(base.folder)
    if as_json:
        payload = {
            "query": {
                "record_id": record.record_id,
                "dataset": record.dataset,
                "patient_id": record.patient_id,
            },
            "case_base": where,
            "cases": [case.model_dump(mode="json") for case in cases],
        }
        typer.echo(json.dumps(payload, indent=2))
    else:
        console.print(_cases_table(cases, f"Cases similar to {record.record_id} ({where})"))
