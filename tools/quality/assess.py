"""The quality gate: per-lead verdicts with reasons, usable leads, record findings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tools.beats.rpeaks import FS_RANGE_HZ, detect_r_peaks
from tools.errors import LeadError, SignalValueError
from tools.quality import thresholds as th
from tools.quality.checks import (
    SignalMeasures,
    measure_signal,
    muscle_noise_mv,
    qrs_locked_ratio,
)
from tools.quality.findings import record_findings
from tools.quality.reasons import (
    lead_off_reasons,
    muscle_reasons,
    signal_reasons,
    too_short_reason,
)
from tools.quality.report import (
    LeadMetrics,
    LeadQuality,
    QualityReason,
    QualityReport,
    RecordFinding,
    Verdict,
)
from tools.record import ECGRecord

_RANK: dict[str, int] = {"good": 0, "degraded": 1, "unusable": 2}


@dataclass(frozen=True, eq=False)
class QualityCheck:
    """The quality report and the R peaks the gate found on the usable leads (reused by the
    measurement so the detector runs once per record)."""

    report: QualityReport
    r_peaks: np.ndarray


def assess_quality(
    signal_mv: np.ndarray,
    fs_hz: float,
    lead_names: Sequence[str],
    *,
    record_id: str | None = None,
) -> QualityReport:
    """Assess the signal quality of every lead and of the record (see :func:`check_quality`)."""
    return check_quality(signal_mv, fs_hz, lead_names, record_id=record_id).report


def check_quality(
    signal_mv: np.ndarray,
    fs_hz: float,
    lead_names: Sequence[str],
    *,
    record_id: str | None = None,
) -> QualityCheck:
    """Assess the signal quality of every lead and of the record.

    Parameters
    ----------
    signal_mv
        ``[leads, samples]`` in mV (1-D with one lead name). NaN (or inf) marks missing samples.
    fs_hz
        Sampling rate in Hz.
    lead_names
        One name per row.
    record_id
        Record id or path, used in error messages and copied into the report.

    Returns
    -------
    QualityCheck
        ``report``: per-lead verdicts (good / degraded / unusable) with reasons that carry the
        measured value and the threshold, the usable leads, record-level findings and an overall
        verdict; ``r_peaks``: the R peaks detected on the usable leads.

    Raises
    ------
    SignalValueError
        Not a numeric 2-D array, an empty record, or a sampling rate that is not positive.
    LeadError
        Lead names that do not match the rows, or duplicated names.

    Notes
    -----
    Per-lead checks: flat line, clipping, NaN runs, mains hum at 50/60 Hz, baseline wander,
    muscle noise (spectral measures from one FFT over all leads), and a beat-locked QRS-band
    ratio that finds noisy leads carrying no ECG (signal-quality indices after Li, Mark &
    Clifford 2008 and Clifford et al. 2012). Record checks: duration, all leads flat, no QRS,
    LA/RA limb-lead reversal (Batchvarov et al. 2007; see :mod:`tools.quality.reversal`).
    """
    x, names = _validated(signal_mv, fs_hz, lead_names, record_id)
    duration_s = x.shape[1] / fs_hz
    measures = measure_signal(x, fs_hz)
    reasons = [signal_reasons(measures, k) for k in range(len(names))]
    if duration_s < th.MIN_DURATION_S:
        for found in reasons:
            found.append(too_short_reason(duration_s))
    first_usable = _usable(reasons)
    r_peaks = _beats(measures, fs_hz, first_usable)
    muscle = muscle_noise_mv(measures.muscle_band, r_peaks, fs_hz)
    ratio = qrs_locked_ratio(measures.qrs_band, r_peaks, fs_hz)
    for k, found in enumerate(reasons):
        if measures.ptp_mv[k] >= th.FLAT_PTP_MV:
            found += muscle_reasons(float(muscle[k]), float(measures.qrs_amplitude_mv[k]))
            found += lead_off_reasons(found, float(ratio[k]))
    usable = _usable(reasons)
    if not np.array_equal(usable, first_usable):
        r_peaks = _beats(measures, fs_hz, usable)
    findings = record_findings(measures, names, fs_hz, duration_s, usable, r_peaks)
    leads = [
        LeadQuality(
            lead=name,
            verdict=_worst(reasons[k]),
            reasons=reasons[k],
            metrics=_metrics(measures, k, float(muscle[k]), float(ratio[k])),
        )
        for k, name in enumerate(names)
    ]
    report = QualityReport(
        record_id=record_id,
        fs_hz=float(fs_hz),
        duration_s=round(duration_s, 6),
        verdict=_overall(leads, findings, usable),
        usable_leads=[name for k, name in enumerate(names) if usable[k]],
        leads=leads,
        findings=findings,
        n_beats=int(r_peaks.size),
    )
    return QualityCheck(report, r_peaks)


def assess_record_quality(record: ECGRecord) -> QualityReport:
    """:func:`assess_quality` on an :class:`~tools.record.ECGRecord`."""
    return check_record_quality(record).report


def check_record_quality(record: ECGRecord) -> QualityCheck:
    """:func:`check_quality` on an :class:`~tools.record.ECGRecord`."""
    return check_quality(
        record.signal_mv,
        record.fs_hz,
        record.lead_names,
        record_id=record.source_path or record.record_id,
    )


def _validated(
    signal_mv: np.ndarray, fs_hz: float, lead_names: Sequence[str], source: str | None
) -> tuple[np.ndarray, list[str]]:
    """Check the inputs; return float64 ``[leads, samples]`` (inf as NaN) and the names."""
    names = [str(name) for name in lead_names]
    x = np.asarray(signal_mv)
    if x.ndim == 1 and len(names) == 1:
        x = x[np.newaxis, :]
    if x.ndim != 2 or not np.issubdtype(x.dtype, np.number) or np.iscomplexobj(x):
        raise SignalValueError(
            source, f"signal must be a real [leads, samples] array, got shape {x.shape} ({x.dtype})"
        )
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise SignalValueError(source, f"record is empty (shape {x.shape})")
    if not (np.isfinite(fs_hz) and fs_hz > 0):
        raise SignalValueError(source, f"sampling rate must be > 0 Hz, got {fs_hz}")
    if len(names) != x.shape[0]:
        raise LeadError(source, f"{len(names)} lead names for {x.shape[0]} signal rows")
    if len(set(names)) != len(names):
        raise LeadError(source, f"duplicated lead names {names}")
    x = x.astype(np.float64)
    x[~np.isfinite(x)] = np.nan
    return x, names


def _usable(reasons: list[list[QualityReason]]) -> np.ndarray:
    return np.array([all(r.severity != "unusable" for r in found) for found in reasons])


def _beats(m: SignalMeasures, fs_hz: float, usable: np.ndarray) -> np.ndarray:
    """R peaks on the usable leads (empty when none, or the rate is out of the detector's range)."""
    if not usable.any() or not (FS_RANGE_HZ[0] <= fs_hz <= FS_RANGE_HZ[1]):
        return np.zeros(0, dtype=np.int64)
    return detect_r_peaks(m.highpassed, fs_hz, usable=usable)


def _metrics(m: SignalMeasures, k: int, muscle_mv: float, ratio: float) -> LeadMetrics:
    def opt(value: float) -> float | None:
        return float(value) if np.isfinite(value) else None

    return LeadMetrics(
        ptp_mv=opt(m.ptp_mv[k]),
        qrs_amplitude_mv=opt(m.qrs_amplitude_mv[k]),
        nan_fraction=float(m.nan_fraction[k]),
        longest_nan_run_s=float(m.longest_nan_run_s[k]),
        flat_fraction=float(m.flat_fraction[k]),
        clipped_fraction=float(m.clipped_fraction[k]),
        baseline_wander_mv=opt(m.baseline_wander_mv[k]),
        powerline_50hz_mv=opt(m.powerline_mv[0, k]),
        powerline_60hz_mv=opt(m.powerline_mv[1, k]),
        muscle_noise_mv=opt(muscle_mv),
        qrs_locked_ratio=opt(ratio),
    )


def _worst(reasons: list[QualityReason]) -> Verdict:
    worst: Verdict = "good"
    for reason in reasons:
        if _RANK[reason.severity] > _RANK[worst]:
            worst = reason.severity
    return worst


def _overall(
    leads: list[LeadQuality], findings: list[RecordFinding], usable: np.ndarray
) -> Verdict:
    if not usable.any() or any(f.severity == "unusable" for f in findings):
        return "unusable"
    if findings or any(lead.verdict != "good" for lead in leads):
        return "degraded"
    return "good"
