"""Traced runs: list them, and replay each step (node, input, output, error, duration)
from the SQLite checkpoint history."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from agent.graph import compiled_graph


class TraceError(LookupError):
    """The trace database or the run does not exist."""


class RunInfo(BaseModel):
    """One traced run."""

    run_id: str
    checkpoints: int
    started_at: str | None
    updated_at: str | None
    status: str  # "complete" | "failed" | "running/interrupted"
    next_nodes: list[str]


class TraceStep(BaseModel):
    """One node execution reconstructed from the checkpoints."""

    index: int
    node: str
    started_at: str | None
    duration_ms: float | None
    input: dict[str, Any]
    output: Any
    error: str | None


def _connect(db: Path) -> sqlite3.Connection:
    if not Path(db).is_file():
        raise TraceError(f"{db}: no trace database (runs write one with trace enabled)")
    return sqlite3.connect(db, check_same_thread=False)


def _graph(conn: sqlite3.Connection) -> Any:
    from langgraph.checkpoint.sqlite import SqliteSaver

    return compiled_graph(SqliteSaver(conn))


def list_runs(db: Path) -> list[RunInfo]:
    """Every run in the trace database, newest first."""
    conn = _connect(db)
    try:
        rows = conn.execute(
            "SELECT thread_id, COUNT(*) FROM checkpoints GROUP BY thread_id"
        ).fetchall()
        graph = _graph(conn)
        runs = [_run_info(graph, str(tid), int(n)) for tid, n in rows]
    finally:
        conn.close()
    return sorted(runs, key=lambda r: r.updated_at or "", reverse=True)


def _run_info(graph: Any, run_id: str, n: int) -> RunInfo:
    config = {"configurable": {"thread_id": run_id}}
    history = list(graph.get_state_history(config))
    latest = history[0] if history else None
    failed = any(task.error for snap in history[:1] for task in snap.tasks)
    if latest is not None and "report" in latest.values and not latest.next:
        status = "complete"
    elif failed:
        status = "failed"
    else:
        status = "interrupted"
    return RunInfo(
        run_id=run_id,
        checkpoints=n,
        started_at=history[-1].created_at if history else None,
        updated_at=latest.created_at if latest else None,
        status=status,
        next_nodes=list(latest.next) if latest else [],
    )


def run_steps(db: Path, run_id: str) -> list[TraceStep]:
    """The run's node executions in order, with the state each one saw and what it wrote."""
    conn = _connect(db)
    try:
        history = list(_graph(conn).get_state_history({"configurable": {"thread_id": run_id}}))
    finally:
        conn.close()
    if not history:
        raise TraceError(f"{db}: no run {run_id!r} (see `gem-agent trace list`)")
    history.reverse()
    steps: list[TraceStep] = []
    for i, snap in enumerate(history):
        following = history[i + 1].created_at if i + 1 < len(history) else None
        for task in snap.tasks:
            if task.name.startswith("__"):
                continue
            steps.append(
                TraceStep(
                    index=len(steps),
                    node=task.name,
                    started_at=snap.created_at,
                    duration_ms=_elapsed_ms(snap.created_at, following),
                    input=dict(snap.values),
                    output=task.result,
                    error=str(task.error) if task.error else None,
                )
            )
    return steps


def _elapsed_ms(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    delta = datetime.fromisoformat(end) - datetime.fromisoformat(start)
    return round(delta.total_seconds() * 1000, 3)


def export_json(db: Path, run_id: str) -> str:
    """The run's steps as JSON."""
    steps = run_steps(db, run_id)
    payload = {"run_id": run_id, "steps": [s.model_dump(mode="json") for s in steps]}
    return json.dumps(payload, indent=2, default=str)
