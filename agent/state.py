"""The graph's state: JSON-native and small. Samples never enter it (see ``context.py``)."""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal, TypedDict


class RecordRef(TypedDict, total=False):
    """How to (re)load the record: a file path, a dataset id, or a key into the run's cache.

    A run resumed in a new process reloads from ``path``/``dataset``+``root``; an in-memory
    record (``kind == "memory"``) can be resumed only in the process that holds it.
    """

    kind: Literal["path", "dataset", "memory"]
    path: str
    dataset: str
    root: str
    record_id: str
    key: str
    options: dict[str, Any]


class Step(TypedDict):
    """One node execution: which node and how long it took (ms)."""

    node: str
    ms: float


class InputState(TypedDict):
    """What a caller passes to start a run."""

    record_ref: RecordRef


class State(TypedDict, total=False):
    """Everything a run knows, node by node (all JSON: dicts of the pydantic models)."""

    record_ref: RecordRef
    record: dict[str, Any]  # RecordSummary
    quality: dict[str, Any]  # QualityReport
    measurements: dict[str, Any] | None  # Measurements (by alias)
    cases: list[dict[str, Any]]  # SimilarCase
    drafts: Annotated[list[dict[str, Any]], operator.add]  # Draft, one per round
    verifications: Annotated[list[dict[str, Any]], operator.add]  # Verification, per draft
    revision: int
    exit_reason: str | None
    report: dict[str, Any]  # Report
    steps: Annotated[list[Step], operator.add]
