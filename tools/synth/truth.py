"""Ground truth of a synthetic ECG: per-beat fiducials, per-lead fiducials, realised intervals.

Layout, stated once: fiducials are int64 sample indices into the record; ``fiducials[name]``
is ``[beats]`` (global, CSE-style: earliest onset / latest offset over the 12 leads),
``lead_fiducials[name]`` is ``[beats, 12]`` in canonical lead order; ``-1`` means absent
(no P wave in AF, flutter and PVCs; a wave that is isoelectric in a lead; every wave of a
flat or disconnected lead). Onsets are the last baseline sample before the wave (it is
exactly zero there and non-zero on the next sample), offsets the first baseline sample
after it, so ``qrs_off - qrs_on`` is the QRS duration in samples.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from tools.synth.templates import FIDUCIALS

TRUTH_SCHEMA_VERSION = 1


class Intervals(BaseModel):
    """Global measurements as the spec realised them (noise-free, from the normal beat).

    ``hr_bpm``/``rr_ms`` are over all beats (premature ones included); PR, P, QRS, QT are
    the normal beat's global (CSE) intervals; ``qtc_bazett_ms = qt / sqrt(RR in s)``;
    ``axis_deg`` is the frontal QRS axis from the net QRS areas of I and aVF
    (``atan2(2 aVF, sqrt(3) I)``); ``transition_lead`` the first precordial lead whose net
    QRS area is >= 0 with all later ones (``None`` if not one clean crossing); ST values at
    J+60/J+80 ms (J = global QRS offset) and the signed T peak amplitude per lead.
    """

    model_config = ConfigDict(frozen=True)

    hr_bpm: float | None
    rr_ms: float | None
    rr_sd_ms: float | None
    pr_ms: float | None
    p_ms: float | None
    qrs_ms: float
    qt_ms: float
    qtc_bazett_ms: float
    qt_clamped: bool
    axis_deg: float
    transition_lead: str | None
    atrial_rate_bpm: float | None
    st_j60_mv: dict[str, float]
    st_j80_mv: dict[str, float]
    t_amplitude_mv: dict[str, float]


class GroundTruthModel(BaseModel):
    """JSON form of :class:`GroundTruth` (lists instead of arrays)."""

    schema_version: int = TRUTH_SCHEMA_VERSION
    record_id: str
    fs_hz: float
    n_samples: int
    lead_names: list[str]
    beat_types: list[str]
    fiducials: dict[str, list[int]]
    lead_fiducials: dict[str, list[list[int]]]
    atrial_wave_onsets: list[int]
    intervals: Intervals
    flat_leads: list[str]
    disconnected_leads: list[str]
    labels: list[str]
    spec: dict[str, Any]


@dataclass(frozen=True, eq=False)
class GroundTruth:
    """Exact ground truth of one synthetic record (see the module docstring for layout).

    ``beat_types`` holds ``"normal"``, ``"pac"`` or ``"pvc"`` per beat;
    ``atrial_wave_onsets`` the onset sample of every flutter wave (empty in other rhythms);
    ``labels`` the codes of the record's ``"synthetic"`` labels; ``spec`` the full spec
    (``SynthSpec.from_dict(truth.spec)`` rebuilds the record).
    """

    record_id: str
    fs_hz: float
    n_samples: int
    lead_names: tuple[str, ...]
    beat_types: tuple[str, ...]
    fiducials: dict[str, np.ndarray]
    lead_fiducials: dict[str, np.ndarray]
    atrial_wave_onsets: np.ndarray
    intervals: Intervals
    flat_leads: tuple[str, ...]
    disconnected_leads: tuple[str, ...]
    labels: tuple[str, ...]
    spec: dict[str, Any]

    @property
    def n_beats(self) -> int:
        return len(self.beat_types)

    @property
    def r_peaks(self) -> np.ndarray:
        """Global R-peak sample of every beat (12-lead QRS energy maximum)."""
        return self.fiducials["r_peak"]

    @property
    def rr_ms(self) -> np.ndarray:
        """RR intervals between consecutive QRS onsets, in ms (``[beats - 1]``)."""
        return np.diff(self.fiducials["qrs_on"]) * 1000.0 / self.fs_hz

    def lead(self, name: str) -> dict[str, np.ndarray]:
        """Fiducials ``[beats]`` of one lead, by canonical name."""
        k = self.lead_names.index(name)
        return {fid: values[:, k] for fid, values in self.lead_fiducials.items()}

    def to_model(self) -> GroundTruthModel:
        return GroundTruthModel(
            record_id=self.record_id,
            fs_hz=self.fs_hz,
            n_samples=self.n_samples,
            lead_names=list(self.lead_names),
            beat_types=list(self.beat_types),
            fiducials={k: v.tolist() for k, v in self.fiducials.items()},
            lead_fiducials={k: v.tolist() for k, v in self.lead_fiducials.items()},
            atrial_wave_onsets=self.atrial_wave_onsets.tolist(),
            intervals=self.intervals,
            flat_leads=list(self.flat_leads),
            disconnected_leads=list(self.disconnected_leads),
            labels=list(self.labels),
            spec=self.spec,
        )

    def to_json(self, indent: int | None = None) -> str:
        """The truth as JSON text (see :class:`GroundTruthModel`)."""
        return self.to_model().model_dump_json(indent=indent)

    @classmethod
    def from_model(cls, model: GroundTruthModel) -> GroundTruth:
        n_leads = len(model.lead_names)
        return cls(
            record_id=model.record_id,
            fs_hz=model.fs_hz,
            n_samples=model.n_samples,
            lead_names=tuple(model.lead_names),
            beat_types=tuple(model.beat_types),
            fiducials={k: np.asarray(model.fiducials[k], dtype=np.int64) for k in FIDUCIALS},
            lead_fiducials={
                k: np.asarray(model.lead_fiducials[k], dtype=np.int64).reshape(-1, n_leads)
                for k in FIDUCIALS
            },
            atrial_wave_onsets=np.asarray(model.atrial_wave_onsets, dtype=np.int64),
            intervals=model.intervals,
            flat_leads=tuple(model.flat_leads),
            disconnected_leads=tuple(model.disconnected_leads),
            labels=tuple(model.labels),
            spec=model.spec,
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> GroundTruth:
        """Inverse of :meth:`to_json`; raises ``pydantic.ValidationError`` on bad JSON."""
        return cls.from_model(GroundTruthModel.model_validate_json(text))
