"""The ECG record: one type for every dataset the readers understand.

Array layout, stated once: ``signal_mv`` is float32 ``[leads, samples]`` in millivolts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from tools.errors import LeadError, SignalValueError
from tools.leads import STANDARD_LEADS, is_canonical_order

LeadSystem = Literal["standard", "as-recorded"]
Sex = Literal["M", "F"]

#: Label vocabularies the readers produce.
Vocabulary = Literal["SCP-ECG", "SNOMED-CT", "LUDB", "CODE-15", "CPSC2018", "synthetic"]


@dataclass(frozen=True)
class Label:
    """One diagnostic or rhythm label as its dataset states it.

    Attributes
    ----------
    code
        The code in its vocabulary (``"NORM"``, ``"426783006"``, ``"1dAVb"``).
    vocabulary
        Which code system: SCP-ECG (PTB-XL), SNOMED-CT (CinC), LUDB, CODE-15, CPSC2018.
    name
        Human-readable name when known.
    likelihood
        PTB-XL's statement likelihood in percent (0-100), when given.
    """

    code: str
    vocabulary: Vocabulary
    name: str | None = None
    likelihood: float | None = None


@dataclass(frozen=True, eq=False)
class ECGRecord:
    """A multi-lead ECG in millivolts with its metadata.

    Attributes
    ----------
    record_id
        Identifier unique within its dataset (PTB-XL ``ecg_id``, file stem, exam id).
    signal_mv
        float32 ``[leads, samples]`` in mV. NaN marks missing samples; they are counted in
        :attr:`nan_counts`, never silently zeroed.
    fs_hz
        Sampling rate in Hz.
    lead_names
        One name per row. With ``lead_system="standard"`` these are canonical names in the
        canonical order (fewer than 12 allowed); with ``"as-recorded"`` the file's own names.
    source_path
        File the samples came from (``None`` for in-memory arrays).
    dataset
        Reader or dataset name (``"ptbxl"``, ``"wfdb"``, ``"synthetic"``).
    original_lead_names
        The file's spelling of each kept lead, row by row.
    dropped_leads
        Channels the file had that the record does not keep (PTB's Frank leads).
    age_years, sex
        Demographics when known.
    labels
        Dataset labels with their vocabulary.
    report
        Free-text report (PTB-XL ``report``, MIMIC ``report_0..17`` joined) when present.
    patient_id
        Patient identifier when the dataset has one (used to exclude same-patient neighbours).
    metadata
        Dataset-specific extras (PTB-XL ``strat_fold``, MIMIC machine measurements).
    """

    record_id: str
    signal_mv: np.ndarray
    fs_hz: float
    lead_names: tuple[str, ...]
    source_path: str | None = None
    dataset: str | None = None
    lead_system: LeadSystem = "standard"
    original_lead_names: tuple[str, ...] = ()
    dropped_leads: tuple[str, ...] = ()
    age_years: float | None = None
    sex: Sex | None = None
    labels: tuple[Label, ...] = ()
    report: str | None = None
    patient_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        source = self.source_path or self.record_id
        signal = np.asarray(self.signal_mv)
        if signal.ndim != 2:
            raise SignalValueError(
                source, f"signal must be 2-D [leads, samples], got shape {signal.shape}"
            )
        if not np.issubdtype(signal.dtype, np.number):
            raise SignalValueError(source, f"signal must be numeric, got dtype {signal.dtype}")
        signal = np.ascontiguousarray(signal, dtype=np.float32)
        signal.setflags(write=False)
        object.__setattr__(self, "signal_mv", signal)
        object.__setattr__(self, "lead_names", tuple(self.lead_names))
        object.__setattr__(self, "fs_hz", float(self.fs_hz))
        if not np.isfinite(self.fs_hz) or self.fs_hz <= 0:
            raise SignalValueError(source, f"sampling rate must be > 0 Hz, got {self.fs_hz}")
        n_leads, n_samples = signal.shape
        if n_leads == 0 or n_samples == 0:
            raise SignalValueError(source, f"record is empty (shape {signal.shape})")
        if len(self.lead_names) != n_leads:
            raise LeadError(source, f"{len(self.lead_names)} lead names for {n_leads} signal rows")
        if len(set(self.lead_names)) != n_leads:
            raise LeadError(source, f"duplicated lead names {self.lead_names}")
        if self.lead_system == "standard" and not is_canonical_order(self.lead_names):
            raise LeadError(
                source,
                f"lead names {self.lead_names} are not canonical names in the order "
                f"{', '.join(STANDARD_LEADS)}; build records through a reader or map_leads()",
            )
        if not self.original_lead_names:
            object.__setattr__(self, "original_lead_names", self.lead_names)
        all_nan = np.isnan(signal).all(axis=1)
        if all_nan.any():
            bad = [self.lead_names[i] for i in np.flatnonzero(all_nan)]
            raise SignalValueError(
                source, f"lead(s) {', '.join(bad)} contain only NaN; drop them explicitly"
            )

    # ---- derived facts -------------------------------------------------------------------
    @property
    def n_leads(self) -> int:
        return int(self.signal_mv.shape[0])

    @property
    def n_samples(self) -> int:
        return int(self.signal_mv.shape[1])

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.fs_hz

    @property
    def nan_counts(self) -> dict[str, int]:
        """NaN samples per lead (leads without NaN omitted)."""
        counts = np.isnan(self.signal_mv).sum(axis=1)
        return {self.lead_names[i]: int(c) for i, c in enumerate(counts) if c}

    def lead(self, name: str) -> np.ndarray:
        """Samples of one lead by name (canonical or as recorded)."""
        if name in self.lead_names:
            return self.signal_mv[self.lead_names.index(name)]
        raise LeadError(self.source_path or self.record_id, f"record has no lead {name!r}")

    def with_signal(self, signal_mv: np.ndarray, fs_hz: float | None = None) -> ECGRecord:
        """Copy of this record with new samples (same leads), e.g. after resampling."""
        return replace(self, signal_mv=signal_mv, fs_hz=self.fs_hz if fs_hz is None else fs_hz)

    def summary(self) -> RecordSummary:
        """JSON-ready description (no samples) for CLIs, reports and the agent state."""
        return RecordSummary(
            record_id=self.record_id,
            dataset=self.dataset,
            source_path=self.source_path,
            fs_hz=self.fs_hz,
            n_samples=self.n_samples,
            duration_s=round(self.duration_s, 6),
            lead_system=self.lead_system,
            lead_names=list(self.lead_names),
            original_lead_names=list(self.original_lead_names),
            dropped_leads=list(self.dropped_leads),
            units="mV",
            age_years=self.age_years,
            sex=self.sex,
            patient_id=self.patient_id,
            labels=[LabelModel(**label.__dict__) for label in self.labels],
            report=self.report,
            nan_counts=self.nan_counts,
            metadata={k: _jsonable(v) for k, v in self.metadata.items()},
        )


class LabelModel(BaseModel):
    """JSON form of :class:`Label`."""

    model_config = ConfigDict(frozen=True)

    code: str
    vocabulary: str
    name: str | None = None
    likelihood: float | None = None


class RecordSummary(BaseModel):
    """Everything about a record except its samples; stable field names."""

    record_id: str
    dataset: str | None
    source_path: str | None
    fs_hz: float
    n_samples: int
    duration_s: float
    lead_system: str
    lead_names: list[str]
    original_lead_names: list[str]
    dropped_leads: list[str]
    units: str
    age_years: float | None
    sex: str | None
    patient_id: str | None
    labels: list[LabelModel]
    report: str | None
    nan_counts: dict[str, int]
    metadata: dict[str, Any]


def _jsonable(value: Any) -> Any:
    """Make numpy scalars and paths JSON-native."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
