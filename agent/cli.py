"""The ``gem-agent`` command line: one app, commands defined in small modules."""

from __future__ import annotations

import typer

from agent.cli_agent import demo, run, trace_app
from agent.cli_batch import batch
from agent.cli_records import inspect, measure, render, synth
from agent.cli_serve import serve

app = typer.Typer(
    name="gem-agent",
    help="Evidence-checked 12-lead ECG interpretation with the GEM model.",
    no_args_is_help=True,
    add_completion=False,
)
app.command()(demo)
app.command()(run)
app.command()(batch)
app.command()(inspect)
app.command()(measure)
app.command()(render)
app.command()(synth)
app.command()(serve)
app.add_typer(trace_app, name="trace")


def _mount_index() -> None:
    from agent.cli_index import index_app

    app.add_typer(index_app, name="index", help="Build, inspect and search case bases.")


_mount_index()

if __name__ == "__main__":  # pragma: no cover
    app()
