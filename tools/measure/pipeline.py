"""Measure one record: quality -> beats -> delineation -> measurements -> criteria statements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tools.beats import BeatClasses, classify_beats, detect_r_peaks
from tools.delineate import Delineation, MedianBeat, delineate
from tools.measure import thresholds as th
from tools.measure.atrial import atrial_periodicity, tq_windows
from tools.measure.axes import frontal_axis_deg
from tools.measure.features import beat_features
from tools.measure.model import (
    Beats,
    BeatType,
    GlobalMeasurements,
    LeadMeasurements,
    Measurements,
)
from tools.measure.per_lead import lead_measurements
from tools.measure.qtc import qtc_bazett_ms, qtc_framingham_ms, qtc_fridericia_ms, qtc_hodges_ms
from tools.measure.rhythm import rr_stats
from tools.measure.waves import baseline_mv, ms_to_samples
from tools.quality import QualityReport, check_quality
from tools.record import ECGRecord, Sex
from tools.statements import evaluate_criteria

#: AAMI beat class code (tools.beats) -> the measurement set's beat type.
BEAT_TYPES: dict[str, BeatType] = {
    "N": "normal",
    "S": "supraventricular_premature",
    "V": "ventricular_premature",
    "Q": "unclassified",
}

#: Fewest beats for rate, rhythm and delineation to mean anything.
MIN_BEATS = 2


@dataclass(frozen=True, eq=False)
class MeasurementRun:
    """Everything the measurement produced for one record (arrays stay out of ``measurements``)."""

    quality: QualityReport
    measurements: Measurements
    delineation: Delineation | None
    beat_classes: BeatClasses | None


def measure_record(
    record: ECGRecord,
    *,
    quality: QualityReport | None = None,
    r_peaks: np.ndarray | None = None,
    per_beat: bool = True,
) -> MeasurementRun:
    """Measure an :class:`~tools.record.ECGRecord` (see :func:`measure_signal`)."""
    return measure_signal(
        record.signal_mv,
        record.fs_hz,
        record.lead_names,
        record_id=record.record_id,
        sex=record.sex,
        age_years=record.age_years,
        quality=quality,
        r_peaks=r_peaks,
        per_beat=per_beat,
    )


def measure_signal(
    signal_mv: np.ndarray,
    fs_hz: float,
    lead_names: Sequence[str],
    *,
    record_id: str = "signal",
    sex: Sex | None = None,
    age_years: float | None = None,
    quality: QualityReport | None = None,
    r_peaks: np.ndarray | None = None,
    per_beat: bool = True,
) -> MeasurementRun:
    """Quality gate, R peaks, beat classes, delineation, measurements and criteria statements.

    Parameters
    ----------
    signal_mv
        ``[leads, samples]`` in mV.
    fs_hz
        Sampling rate in Hz.
    lead_names
        Names of the rows (canonical names for the 12-lead measurements and criteria).
    record_id, sex, age_years
        Identify the record and choose sex/age-specific thresholds.
    quality, r_peaks
        The quality report and the R peaks it found (``tools.quality.check_quality``), when
        already computed for this signal; the gate runs here when ``quality`` is omitted, and
        the detector when ``r_peaks`` is.
    per_beat
        Also compute GEM's 14 per-beat features for every lead.

    Returns
    -------
    MeasurementRun
        The quality report, the :class:`Measurements`, and the arrays behind them.
    """
    names = tuple(lead_names)
    x = np.asarray(signal_mv, dtype=np.float64)
    if quality is None:
        check = check_quality(x, fs_hz, names, record_id=record_id)
        quality, r_peaks = check.report, check.r_peaks
    usable = np.array([name in quality.usable_leads for name in names], dtype=bool)
    empty = Measurements(
        record_id=record_id,
        fs_hz=fs_hz,
        lead_names=list(names),
        usable_leads=list(quality.usable_leads),
        global_=GlobalMeasurements(),
    )
    if not usable.any():
        return MeasurementRun(quality, empty, None, None)
    if r_peaks is None:
        r_peaks = detect_r_peaks(x, fs_hz, usable=usable, source=record_id)
    if r_peaks.size < MIN_BEATS:
        counted = empty.model_copy(update={"global_": GlobalMeasurements(n_beats=r_peaks.size)})
        return MeasurementRun(quality, counted, None, None)
    classes = classify_beats(x[usable], fs_hz, r_peaks, source=record_id)
    masked = np.where(usable[:, np.newaxis], x, np.nan)
    delineation = delineate(
        masked, fs_hz, r_peaks, names, beat_mask=classes.labels == "N", record_id=record_id
    )
    leads: list[LeadMeasurements] = []
    if delineation.median is not None:
        leads = lead_measurements(delineation.median, fs_hz, names, usable)
    measurements = Measurements(
        record_id=record_id,
        fs_hz=fs_hz,
        lead_names=list(names),
        usable_leads=list(quality.usable_leads),
        global_=_global(delineation, classes, names, usable, x),
        leads=leads,
        beats=Beats(
            r_peak_samples=[int(r) for r in r_peaks],
            beat_types=[BEAT_TYPES[str(code)] for code in classes.labels],
            features=beat_features(masked, delineation, usable) if per_beat else [],
        ),
    )
    statements = evaluate_criteria(measurements, sex=sex, age_years=age_years)
    return MeasurementRun(
        quality, measurements.model_copy(update={"statements": statements}), delineation, classes
    )


def _global(
    delineation: Delineation,
    classes: BeatClasses,
    names: tuple[str, ...],
    usable: np.ndarray,
    signal_mv: np.ndarray,
) -> GlobalMeasurements:
    """Rate, RR statistics, CSE global intervals of the median beat, QTc, axes, beat counts,
    and the atrial (flutter-wave) periodicity of the TQ intervals."""
    fs = delineation.fs_hz
    rr = rr_stats(delineation.r_peaks, fs)
    median = delineation.median
    if median is not None:
        intervals = {k: float(v) for k, v in median.global_points.intervals_ms(fs).items()}
    else:
        per_beat = delineation.intervals_ms()
        intervals = {
            k: float(np.nanmedian(v)) if np.isfinite(v).any() else float("nan")
            for k, v in per_beat.items()
        }
    qt, rr_mean = intervals["qt_ms"], rr.rr_mean_ms
    axes = _axes(median, fs, names, usable) if median is not None else (None, None, None)
    counts: dict[BeatType, int] = {}
    for code, n in classes.counts().items():
        counts[BEAT_TYPES[code]] = n
    return GlobalMeasurements(
        heart_rate_bpm=_opt(rr.heart_rate_bpm, 1),
        rr_mean_ms=_opt(rr.rr_mean_ms, 1),
        rr_sd_ms=_opt(rr.rr_sd_ms, 1),
        rr_min_ms=_opt(rr.rr_min_ms, 1),
        rr_max_ms=_opt(rr.rr_max_ms, 1),
        rr_irregularity=_opt(rr.rr_irregularity, 4),
        p_duration_ms=_opt(intervals["p_ms"], 1),
        pr_ms=_opt(intervals["pr_ms"], 1),
        qrs_ms=_opt(intervals["qrs_ms"], 1),
        qt_ms=_opt(qt, 1),
        qtc_bazett_ms=_opt(float(qtc_bazett_ms(qt, rr_mean)), 1),
        qtc_fridericia_ms=_opt(float(qtc_fridericia_ms(qt, rr_mean)), 1),
        qtc_framingham_ms=_opt(float(qtc_framingham_ms(qt, rr_mean)), 1),
        qtc_hodges_ms=_opt(float(qtc_hodges_ms(qt, rr_mean)), 1),
        p_axis_deg=axes[0],
        qrs_axis_deg=axes[1],
        t_axis_deg=axes[2],
        p_wave_fraction=_p_wave_fraction(delineation),
        **_atrial(signal_mv, delineation, names),
        n_beats=int(delineation.r_peaks.size),
        beat_counts=counts,
    )


def _axes(
    median: MedianBeat, fs_hz: float, names: tuple[str, ...], usable: np.ndarray
) -> tuple[float | None, float | None, float | None]:
    """P, QRS and T frontal axes of the median beat (global wave windows)."""
    x = median.signal_mv.astype(np.float64)
    gp = median.global_points
    n = x.shape[0]
    base = baseline_mv(
        x,
        np.full(n, int(gp.p_off)),
        np.full(n, int(gp.qrs_on)),
        ms_to_samples(th.BASELINE_WINDOW_MS, fs_hz),
    )
    ok = usable & np.isfinite(base)
    p_on, p_off, q_on, q_off, t_off = (
        int(gp.p_on), int(gp.p_off), int(gp.qrs_on), int(gp.qrs_off), int(gp.t_off)
    )  # fmt: skip
    t_on = q_off
    valid_t = t_off > t_on >= 0
    return (
        _round(frontal_axis_deg(x, names, p_on, p_off + 1, base, ok)) if p_on >= 0 else None,
        _round(frontal_axis_deg(x, names, q_on, q_off + 1, base, ok)),
        _round(frontal_axis_deg(x, names, t_on, t_off + 1, base, ok)) if valid_t else None,
    )


def _atrial(
    x: np.ndarray, delineation: Delineation, names: tuple[str, ...]
) -> dict[str, float | None]:
    """Flutter-wave periodicity of the TQ intervals, its correlation and atrial rate."""
    gp = delineation.global_points
    starts, ends = tq_windows(gp.t_off, gp.qrs_on, delineation.fs_hz)
    found = atrial_periodicity(x, delineation.fs_hz, names, delineation.usable_leads, starts, ends)
    if found is None:
        return {}
    rate = None if found.cycle_ms is None else round(60_000.0 / found.cycle_ms, 1)
    return {
        "atrial_periodicity": round(max(found.periodicity, 0.0), 3),
        "atrial_correlation": _opt(found.correlation, 3),
        "atrial_rate_bpm": rate,
    }


def _p_wave_fraction(delineation: Delineation) -> float | None:
    """Fraction of beats with a P wave, over the beats with room for one before the record's
    start (a first beat whose P would lie before sample 0 says nothing about the rhythm)."""
    room = ms_to_samples(th.P_SEARCH_ROOM_MS, delineation.fs_hz)
    whole = delineation.r_peaks >= room
    if not whole.any():
        return None
    return round(float(np.mean(delineation.global_points.p_on[whole] >= 0)), 3)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _opt(value: float, digits: int) -> float | None:
    return round(float(value), digits) if np.isfinite(value) else None
