"""Builders for the batch tests: folders of synthetic WFDB records with known good, unusable
and unreadable members, and helpers to read a batch folder back."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import typer

from agent.batch.jsonl import iter_lines
from agent.batch.lines import line_id, normalised_line
from tests.loopback_openai import ScriptedChatServer
from tests.synth_builders import VARIED_SPECS
from tools.leads import STANDARD_LEADS
from tools.synth import SynthSpec, synthesize, write_synthetic

SPECS = VARIED_SPECS
#: A model answer with no checkable claim: no revision round, one request per record.
ANSWER = "Interpretation pending clinical correlation."
#: Longest a gathering server holds a request.
GATHER_TIMEOUT_S = 20.0
FLAT_ID = "s-flat"
CORRUPT_ID = "zz-corrupt"


class CountingServer(ScriptedChatServer):
    """The scripted server, also counting requests in flight (and the most at once).

    With ``gather``, each request is held until ``gather`` requests are in flight (or
    ``expected`` have arrived, or :data:`GATHER_TIMEOUT_S` passed), so a client that can
    overlap that many calls is seen doing so whatever the machine's load.
    """

    def __init__(
        self,
        script: list[Any],
        gather: int = 0,
        expected: int = 0,
        gather_timeout_s: float = GATHER_TIMEOUT_S,
    ) -> None:
        super().__init__(script)
        self.gather, self.expected, self.gather_timeout_s = gather, expected, gather_timeout_s
        self.in_flight = self.most_in_flight = self.received = 0
        self._cond = threading.Condition()

    def _answer(self, handler: Any, entry: Any) -> None:
        with self._cond:
            self.in_flight += 1
            self.received += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self._cond.notify_all()
            self._cond.wait_for(
                lambda: self.in_flight >= self.gather or self.received >= self.expected,
                self.gather_timeout_s,
            )
        try:
            super()._answer(handler, entry)
        finally:
            with self._cond:
                self.in_flight -= 1


def write_record(folder: Path, record_id: str, spec: SynthSpec, seed: int) -> Path:
    """A synthetic record written as WFDB under ``record_id``; returns the header path."""
    ecg = synthesize(spec, seed=seed)
    base = write_synthetic(replace(ecg, record=replace(ecg.record, record_id=record_id)), folder)
    return base.with_suffix(".hea")


def good_ids(n: int) -> list[str]:
    return [f"r{i:02d}" for i in range(n)]


def write_dataset(folder: Path, n_good: int, *, flat: bool = True, corrupt: bool = True) -> Path:
    """``n_good`` good records (``r00``...), a flat one and a corrupt header (when asked)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, record_id in enumerate(good_ids(n_good)):
        write_record(folder, record_id, SPECS[i % len(SPECS)], seed=i)
    if flat:
        write_record(folder, FLAT_ID, SynthSpec(duration_s=6.0, flat_leads=STANDARD_LEADS), 0)
    if corrupt:
        (folder / f"{CORRUPT_ID}.hea").write_text("garbage header\n")
    return folder


def report_keys(out: Path) -> list[str]:
    """Keys of the complete lines of ``out/reports.jsonl``, in file order."""
    return [line_id(line) for _, line in iter_lines(out / "reports.jsonl")]


def normalised_reports(out: Path) -> dict[str, str]:
    """Key -> normalised line (without timings and run ids) of a batch folder."""
    return {line_id(line): normalised_line(line) for _, line in iter_lines(out / "reports.jsonl")}


def failure_events(out: Path) -> list[dict[str, Any]]:
    """Every event of ``out/failures.jsonl``."""
    path = out / "failures.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def summary(out: Path) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((out / "summary.json").read_text())
    return value


def batch_app() -> typer.Typer:
    """A Typer app with only ``gem-agent batch``, for CliRunner tests."""
    from agent.cli_batch import batch

    app = typer.Typer()
    app.command("batch")(batch)

    @app.callback()
    def _main() -> None:
        """gem-agent (test app: only the batch command)."""

    return app
