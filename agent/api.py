"""The Python API: ``interpret(record) -> Report`` and ``resume(run_id)``."""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver

from agent.context import Context, RecordCache
from agent.graph import compiled_graph
from agent.report import Report
from agent.settings import AgentSettings
from agent.state import InputState, RecordRef
from tools.record import ECGRecord

if TYPE_CHECKING:
    from gem_core.backends.base import Backend
    from tools.cases import CaseBase

RecordInput = str | Path | ECGRecord | np.ndarray


class AgentRunError(RuntimeError):
    """A run failed in a node; the trace keeps every step up to the failure.

    Attributes
    ----------
    run_id
        The run's thread id (``gem-agent trace show RUN_ID``; ``resume(run_id)`` retries).
    node
        The node that failed.
    """

    def __init__(self, run_id: str, node: str | None, cause: BaseException) -> None:
        self.run_id, self.node, self.cause = run_id, node, cause
        where = f"in node {node!r}" if node else "before any node ran"
        super().__init__(f"run {run_id} failed {where}: {type(cause).__name__}: {cause}")


def make_context(
    settings: AgentSettings,
    *,
    backend: Backend | None = None,
    case_base: CaseBase | None = None,
    cache: RecordCache | None = None,
) -> Context:
    """The run context for these settings (backend and case base built unless given)."""
    if backend is None:
        from gem_core.backends import get_backend

        backend = get_backend(settings.backend)
    if case_base is None and settings.case_base != "none" and settings.k_cases > 0:
        from tools.cases import CaseBase, builtin_case_base

        case_base = (
            builtin_case_base()
            if settings.case_base == "builtin"
            else CaseBase.open(settings.case_base)
        )
    return Context(
        settings=settings, backend=backend, case_base=case_base, cache=cache or RecordCache()
    )


def record_ref(
    record: RecordInput,
    cache: RecordCache,
    *,
    fs_hz: float | None = None,
    lead_names: Sequence[str] | None = None,
    **options: Any,
) -> RecordRef:
    """The state's reference for a path, a record object, or an array with its rate and leads."""
    if isinstance(record, ECGRecord):
        return cache.put(record)
    if isinstance(record, np.ndarray):
        from tools.readers.arrays import record_from_array

        if fs_hz is None or lead_names is None:
            raise ValueError("an array needs fs_hz and lead_names")
        return cache.put(record_from_array(record, fs_hz, lead_names, record_id="array"))
    return {"kind": "path", "path": str(Path(record)), "options": options}


@contextmanager
def open_checkpointer(settings: AgentSettings) -> Iterator[BaseCheckpointSaver[Any] | None]:
    """SQLite checkpointer at ``settings.trace_path()`` (or none when tracing is off)."""
    if not settings.trace:
        yield None
        return
    from langgraph.checkpoint.sqlite import SqliteSaver

    path = settings.trace_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, check_same_thread=False)
    # WAL (SqliteSaver sets it too) with synchronous=NORMAL: a commit survives a crash of
    # the process (a killed run resumes from its last step) without an fsync per step.
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    try:
        yield SqliteSaver(conn)
    finally:
        conn.close()


def interpret(
    record: RecordInput,
    *,
    fs_hz: float | None = None,
    lead_names: Sequence[str] | None = None,
    settings: AgentSettings | None = None,
    backend: Backend | str | None = None,
    case_base: CaseBase | str | None = None,
    run_id: str | None = None,
    **settings_overrides: Any,
) -> Report:
    """Interpret one ECG: measure, retrieve, ask the backend, verify every claim, revise.

    Parameters
    ----------
    record
        A record file path, an :class:`~tools.record.ECGRecord`, or an array
        ``[leads, samples]`` in mV with ``fs_hz`` and ``lead_names``.
    settings
        Run settings (defaults from ``GEM_AGENT_*`` environment variables);
        ``settings_overrides`` replace single fields, e.g. ``backend="endpoint"``.
    backend
        A backend name (``"criteria"``, ``"endpoint"``) or a ready-made backend object.
    case_base
        ``"builtin"``, ``"none"``, a case-base folder, or a ready-made case base.
    run_id
        Thread id of the trace (default: record id + random suffix).

    Returns
    -------
    Report
        The report; ``report.run_id`` names its trace.

    Raises
    ------
    tools.errors.RecordError
        The record cannot be read (nothing is traced for a record that never loads).
    AgentRunError
        A node failed (e.g. the model endpoint); the trace holds the steps before it.
    """
    if isinstance(backend, str):
        settings_overrides["backend"], backend = backend, None
    if isinstance(case_base, str):
        settings_overrides["case_base"], case_base = case_base, None
    settings = _settings(settings, settings_overrides)
    ctx = make_context(settings, backend=backend, case_base=case_base)
    ref = record_ref(record, ctx.cache, fs_hz=fs_hz, lead_names=lead_names)
    record_id = ctx.cache.record(ref).record_id
    run_id = run_id or f"{record_id}-{uuid.uuid4().hex[:8]}"
    return _run(settings, ctx, {"record_ref": ref}, run_id)


def resume(
    run_id: str,
    *,
    settings: AgentSettings | None = None,
    backend: Backend | None = None,
    case_base: CaseBase | None = None,
    **settings_overrides: Any,
) -> Report:
    """Continue a failed run from its last good step (same trace database)."""
    settings = _settings(settings, settings_overrides)
    ctx = make_context(settings, backend=backend, case_base=case_base)
    return _run(settings, ctx, None, run_id)


def _settings(settings: AgentSettings | None, overrides: dict[str, Any]) -> AgentSettings:
    """``settings`` (or the environment's) with ``overrides`` applied; arguments win."""
    if settings is None:
        return AgentSettings(**overrides)
    if not overrides:
        return settings
    return AgentSettings.model_validate({**settings.model_dump(), **overrides})


def _run(
    settings: AgentSettings, ctx: Context, graph_input: dict[str, Any] | None, run_id: str
) -> Report:
    config: RunnableConfig = {
        "configurable": {"thread_id": run_id},
        "recursion_limit": settings.recursion_limit,
    }
    with open_checkpointer(settings) as saver:
        graph = compiled_graph(saver)
        try:
            state = graph.invoke(
                cast(InputState | None, graph_input),
                config=config,
                context=ctx,
                durability="sync" if saver else None,
            )
        except Exception as exc:
            raise AgentRunError(run_id, _failed_node(exc), exc) from exc
    if "report" not in state:
        raise AgentRunError(run_id, None, RuntimeError("the run ended without a report"))
    return Report.model_validate(state["report"])


def _failed_node(exc: BaseException) -> str | None:
    """The node LangGraph was running when ``exc`` was raised (from its exception note)."""
    for note in getattr(exc, "__notes__", []):
        match = re.search(r"task with name '([^']+)'", note)
        if match:
            return match.group(1)
    return None
