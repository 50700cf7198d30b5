"""Agent commands: run, demo, and the trace sub-commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from agent.cli_common import (
    DatasetOpt,
    FsOpt,
    LeadsOpt,
    RecordArg,
    RootOpt,
    console,
    err_console,
    load_record,
    record_errors,
    summary_table,
)
from agent.report import Report
from agent.settings import AgentSettings
from gem_core.backends import BackendName

TraceDbOpt = Annotated[
    Path | None, typer.Option("--trace-db", help="Trace database (default: user data folder).")
]

VERDICT_STYLE = {"supported": "green", "contradicted": "bold red", "unverifiable": "yellow"}


def print_report(report: Report) -> None:
    """The report on the terminal: interpretation with claim verdicts, statements, run id."""
    from agent.tables import statements_table

    console.print(Text(f"Report {report.record.record_id}: {report.status}", style="bold"))
    if report.exit_reason:
        console.print(Text(f"ended early: {report.exit_reason}", style="yellow"))
    if report.interpretation is not None:
        text = Text(report.interpretation)
        for check in report.claims:
            start, end = check.claim.span
            if 0 <= start < end <= len(report.interpretation):
                text.stylize(VERDICT_STYLE[check.verdict], start, end)
        console.print(text)
        score = "-" if report.grounding_score is None else f"{report.grounding_score:.2f}"
        console.print(
            f"grounding score {score}: {report.n_supported} supported, "
            f"{report.n_contradicted} contradicted, {report.n_unverifiable} unverifiable; "
            f"{report.revisions} revision(s); backend {report.backend}"
        )
        for check in report.claims:
            if check.verdict == "contradicted":
                console.print(Text(f"  contradicted: {check.claim.text} -> {check.detail}",
                                   style="red"))  # fmt: skip
    if report.measurements is not None:
        console.print(statements_table(report.measurements))
    if report.similar_cases:
        cases = ", ".join(
            f"{c.case_id} ({'/'.join(lab.code for lab in c.labels[:3])})"
            for c in report.similar_cases
        )
        console.print(Text(f"similar cases: {cases}"))
    console.print(Text(f"run id: {report.run_id}", style="bold"))


def write_report_files(report: Report, out: Path, record: Any = None) -> list[Path]:
    """``<id>.json``, ``<id>.md`` and ``<id>.html`` of the report in ``out``."""
    from agent.report_render import render_html, render_markdown

    out.mkdir(parents=True, exist_ok=True)
    stem = out / report.record.record_id
    files = {
        stem.with_suffix(".json"): report.model_dump_json(indent=2, by_alias=True),
        stem.with_suffix(".md"): render_markdown(report),
        stem.with_suffix(".html"): render_html(report, record),
    }
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    return list(files)


def _backend(name: str, base_url: str | None, model: str | None) -> Any:
    from gem_core.backends import get_backend

    if name != "endpoint":
        return get_backend(name)
    from gem_core.backends.endpoint import EndpointSettings

    overrides = {k: v for k, v in {"base_url": base_url, "model": model}.items() if v}
    return get_backend("endpoint", EndpointSettings.model_validate(overrides))


def run(
    record: RecordArg,
    dataset: DatasetOpt = None,
    root: RootOpt = None,
    fs: FsOpt = None,
    leads: LeadsOpt = None,
    backend: Annotated[
        BackendName,
        typer.Option(
            help="criteria (offline, default), endpoint (OpenAI-compatible server) or local "
            "(GEM in-process; GEM_AGENT_LOCAL_CHECKPOINT, _ECG_TOWER, _VISION_TOWER).",
        ),
    ] = BackendName.criteria,
    base_url: Annotated[
        str | None, typer.Option(help="Endpoint URL, e.g. http://127.0.0.1:8000/v1.")
    ] = None,
    model: Annotated[str | None, typer.Option(help="Model name on the endpoint.")] = None,
    max_revisions: Annotated[int, typer.Option(help="Revision rounds after verification.")] = 2,
    case_base: Annotated[
        str, typer.Option(help="'builtin', 'none', or a folder from `gem-agent index build`.")
    ] = "builtin",
    k: Annotated[int, typer.Option("-k", help="Similar cases to retrieve.")] = 5,
    out: Annotated[
        Path | None, typer.Option(help="Write the report as JSON, Markdown, HTML.")
    ] = None,
    trace_db: TraceDbOpt = None,
    no_trace: Annotated[
        bool, typer.Option("--no-trace", help="Do not checkpoint the run.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Interpret a record: measure, retrieve, ask the model, verify every claim, revise."""
    from agent.api import AgentRunError, interpret

    settings = AgentSettings(
        backend=backend,
        max_revisions=max_revisions,
        case_base=case_base,
        k_cases=k,
        trace_db=trace_db,
        trace=not no_trace,
    )
    with record_errors():
        ecg = load_record(record, dataset, root, fs, leads)
        try:
            report = interpret(ecg, settings=settings, backend=_backend(backend, base_url, model))
        except AgentRunError as exc:
            err_console.print(f"[bold red]error:[/] {exc}")
            raise typer.Exit(code=1) from None
    if out is not None:
        write_report_files(report, out, ecg)
    if as_json:
        typer.echo(report.model_dump_json(indent=2, by_alias=True))
    else:
        print_report(report)


def demo(
    out: Annotated[Path, typer.Option("-o", "--out", help="Folder for the demo's files.")] = Path(
        "gem-agent-demo"
    ),
    seed: Annotated[int, typer.Option(help="Random seed of the synthetic ECG.")] = 7,
) -> None:
    """The full offline run on a built-in synthetic ECG (no data download, no model needed)."""
    from agent.api import interpret
    from tools.render import save_ecg_image
    from tools.synth import SynthSpec, synthesize, write_synthetic

    with record_errors():
        spec = SynthSpec(hr_bpm=68, pr_ms=220, axis_deg=-40, seed=seed, baseline_wander_mv=0.05)
        ecg = synthesize(spec)
        out.mkdir(parents=True, exist_ok=True)
        base = write_synthetic(ecg, out)
        page = save_ecg_image(ecg.record, out / f"{ecg.record.record_id}.png")
        settings = AgentSettings(trace_db=out / "traces.sqlite")
        report = interpret(base.with_suffix(".hea"), settings=settings)
    console.print(summary_table(ecg.record.summary()))
    print_report(report)
    files = write_report_files(report, out, ecg.record)
    console.print(f"record: {base}.hea   ground truth: {base}.truth.json   page: {page}")
    console.print(f"report: {', '.join(str(f) for f in files)}")
    console.print(f"trace: gem-agent trace show {report.run_id} --trace-db {out / 'traces.sqlite'}")


trace_app = typer.Typer(help="List, show and export traced runs.", no_args_is_help=True)


def _db(trace_db: Path | None) -> Path:
    return AgentSettings(trace_db=trace_db).trace_path()


@trace_app.command("list")
def trace_list(
    trace_db: TraceDbOpt = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Every traced run, newest first."""
    from agent.tables import PlainTable
    from agent.traces import TraceError, list_runs

    try:
        runs = list_runs(_db(trace_db))
    except TraceError as exc:
        err_console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(code=2) from None
    if as_json:
        typer.echo(json.dumps([r.model_dump() for r in runs], indent=2))
        return
    table = PlainTable(title="Traced runs", title_justify="left")
    for column in ("run id", "status", "checkpoints", "started", "updated", "next"):
        table.add_column(column)
    for r in runs:
        table.add_row(r.run_id, r.status, str(r.checkpoints), r.started_at or "-",
                      r.updated_at or "-", ", ".join(r.next_nodes) or "-")  # fmt: skip
    console.print(table)


@trace_app.command("show")
def trace_show(
    run_id: Annotated[str, typer.Argument(help="Run id (see `gem-agent trace list`).")],
    trace_db: TraceDbOpt = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Each step of a run: node, duration, error, and what it wrote."""
    from agent.tables import PlainTable
    from agent.traces import TraceError, export_json, run_steps

    try:
        if as_json:
            typer.echo(export_json(_db(trace_db), run_id))
            return
        steps = run_steps(_db(trace_db), run_id)
    except TraceError as exc:
        err_console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(code=2) from None
    table = PlainTable(title=f"Trace {run_id}", title_justify="left")
    for column in ("#", "node", "ms", "error", "wrote"):
        table.add_column(column)
    for s in steps:
        wrote = ", ".join(sorted(s.output)) if isinstance(s.output, dict) else str(s.output)[:60]
        duration = "-" if s.duration_ms is None else f"{s.duration_ms:.1f}"
        table.add_row(str(s.index), s.node, duration, s.error or "-", wrote)
    console.print(table)


@trace_app.command("export")
def trace_export(
    run_id: Annotated[str, typer.Argument(help="Run id.")],
    fmt: Annotated[str, typer.Option("--format", help="json or html.")] = "json",
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="File (default stdout).")
    ] = None,
    trace_db: TraceDbOpt = None,
) -> None:
    """Export a run's steps as JSON or a self-contained HTML page."""
    from agent.report_render import render_trace_html
    from agent.traces import TraceError, export_json, run_steps

    if fmt not in ("json", "html"):
        raise typer.BadParameter("choose json or html", param_hint="--format")
    try:
        db = _db(trace_db)
        text = (
            export_json(db, run_id)
            if fmt == "json"
            else render_trace_html(run_id, run_steps(db, run_id))
        )
    except TraceError as exc:
        err_console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(code=2) from None
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"wrote {output}")
