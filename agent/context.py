"""The run context: settings, the backend, the case base, and the record cache.

The signal never enters the graph's state; nodes get it (and the measurement arrays behind
the JSON measurements) from :class:`RecordCache`, which reloads from the state's record
reference when a run is resumed in a fresh process.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from agent.settings import AgentSettings
from agent.state import RecordRef
from tools.errors import RecordError
from tools.measure.pipeline import MeasurementRun, measure_record
from tools.quality import QualityReport, check_record_quality
from tools.record import ECGRecord

if TYPE_CHECKING:
    from gem_core.backends.base import Backend
    from tools.cases import CaseBase


class RecordCache:
    """Records and their measurement runs, keyed by the record reference."""

    def __init__(self) -> None:
        self._records: dict[str, ECGRecord] = {}
        self._runs: dict[str, MeasurementRun] = {}
        self._beats: dict[str, np.ndarray] = {}

    @staticmethod
    def key(ref: RecordRef) -> str:
        if ref.get("kind") == "memory":
            return str(ref["key"])
        text = repr(sorted((k, repr(v)) for k, v in ref.items()))
        return hashlib.sha1(text.encode()).hexdigest()

    def put(self, record: ECGRecord) -> RecordRef:
        """Hold an in-memory record; returns the reference to put in the state."""
        digest = hashlib.sha1(record.signal_mv.tobytes()).hexdigest()[:16]
        key = f"memory:{record.record_id}:{digest}"
        self._records[key] = record
        return {"kind": "memory", "key": key, "record_id": record.record_id}

    def record(self, ref: RecordRef) -> ECGRecord:
        """The record of ``ref``, read once per process."""
        key = self.key(ref)
        if key not in self._records:
            self._records[key] = _open(ref)
        return self._records[key]

    def quality(self, ref: RecordRef) -> QualityReport:
        """The quality gate's report; its R peaks are kept for the measurement."""
        check = check_record_quality(self.record(ref))
        self._beats[self.key(ref)] = check.r_peaks
        return check.report

    def measurement(self, ref: RecordRef, quality: QualityReport | None = None) -> MeasurementRun:
        """The record's measurement run (quality report and its R peaks reused when known)."""
        key = self.key(ref)
        if key not in self._runs:
            beats = self._beats.get(key) if quality is not None else None
            self._runs[key] = measure_record(self.record(ref), quality=quality, r_peaks=beats)
        return self._runs[key]


def _open(ref: RecordRef) -> ECGRecord:
    from tools.readers import open_record

    options: dict[str, Any] = dict(ref.get("options", {}))
    kind = ref.get("kind")
    if kind == "path":
        return open_record(ref["path"], **options)
    if kind == "dataset":
        return open_record(ref["record_id"], dataset=ref["dataset"], root=ref["root"], **options)
    raise RecordError(
        ref.get("record_id"),
        "in-memory record is not in this process's cache (a run on an array can only be "
        "resumed in the process that started it; pass a file path to resume anywhere)",
    )


@dataclass(kw_only=True)
class Context:
    """Run-scoped dependencies handed to every node by LangGraph's runtime."""

    settings: AgentSettings = field(default_factory=AgentSettings)
    backend: Backend
    case_base: CaseBase | None = None
    cache: RecordCache = field(default_factory=RecordCache)
