"""Turn quality measurements into named reasons: each carries the value, threshold and unit."""

from __future__ import annotations

import numpy as np

from tools.quality import thresholds as th
from tools.quality.checks import SignalMeasures
from tools.quality.report import LeadReasonCode, QualityReason, Severity

#: Reasons that mark a lead as noisy (a noisy lead with no beat-locked QRS is "lead off").
NOISE_CODES: frozenset[str] = frozenset(
    {"muscle_noise", "powerline_50hz", "powerline_60hz", "baseline_wander"}
)


def _graded(
    code: LeadReasonCode,
    value: float,
    degraded_at: float,
    unusable_at: float,
    unit: str,
    detail: str,
) -> list[QualityReason]:
    """One reason when ``value`` reaches a threshold (``>=``), at the severity reached."""
    if value < degraded_at and value < unusable_at:
        return []
    severity: Severity = "unusable" if value >= unusable_at else "degraded"
    threshold = unusable_at if severity == "unusable" else degraded_at
    return [
        QualityReason(
            code=code, severity=severity, value=value, threshold=threshold, unit=unit, detail=detail
        )
    ]


def signal_reasons(m: SignalMeasures, k: int) -> list[QualityReason]:
    """Reasons of lead ``k`` from the signal alone: NaN runs, flat line, clipping, mains, wander."""
    flat = _flat_reasons(m, k)
    if flat:  # a flat lead is neither clipped nor noisy
        return [*_nan_reasons(m, k), *flat]
    return [*_nan_reasons(m, k), *_clip_reasons(m, k), *_hum_wander(m, k)]


def _nan_reasons(m: SignalMeasures, k: int) -> list[QualityReason]:
    fraction = float(m.nan_fraction[k])
    if fraction <= th.NAN_DEGRADED_FRACTION:
        return []
    return _graded(
        "nan_run",
        fraction,
        np.nextafter(th.NAN_DEGRADED_FRACTION, 1.0),
        th.NAN_UNUSABLE_FRACTION,
        "fraction",
        f"{fraction:.1%} of samples missing (longest run {m.longest_nan_run_s[k]:.2f} s)",
    )


def _flat_reasons(m: SignalMeasures, k: int) -> list[QualityReason]:
    ptp = float(m.ptp_mv[k])
    if ptp >= th.FLAT_PTP_MV:
        fraction = float(m.flat_fraction[k])
        return _graded(
            "flat",
            fraction,
            th.FLAT_DEGRADED_FRACTION,
            th.FLAT_UNUSABLE_FRACTION,
            "fraction",
            f"flat line for {fraction:.0%} of the record",
        )
    found = [
        QualityReason(
            code="flat",
            severity="unusable",
            value=ptp,
            threshold=th.FLAT_PTP_MV,
            unit="mV",
            detail=f"flat line: peak-to-peak {ptp * 1000:.1f} uV over the whole lead",
        )
    ]
    level = float(m.level_mv[k])
    if abs(level) >= th.RAIL_OFFSET_MV:
        found.append(
            QualityReason(
                code="lead_off",
                severity="unusable",
                value=abs(level),
                threshold=th.RAIL_OFFSET_MV,
                unit="mV",
                detail=f"held flat at {level:+.2f} mV: amplifier at a rail, electrode off",
            )
        )
    return found


def _clip_reasons(m: SignalMeasures, k: int) -> list[QualityReason]:
    fraction = float(m.clipped_fraction[k])
    if fraction < th.CLIP_UNUSABLE_FRACTION and m.clipped_runs[k] < th.CLIP_MIN_RUNS:
        return []
    return _graded(
        "clipped",
        fraction,
        th.CLIP_DEGRADED_FRACTION,
        th.CLIP_UNUSABLE_FRACTION,
        "fraction",
        f"{fraction:.1%} of samples held at the lead's maximum or minimum "
        f"({m.clipped_runs[k]} stretches)",
    )


def _hum_wander(m: SignalMeasures, k: int) -> list[QualityReason]:
    found: list[QualityReason] = []
    for j, mains in enumerate(th.POWERLINE_HZ):
        amplitude = float(m.powerline_mv[j, k])
        if np.isfinite(amplitude):
            code: LeadReasonCode = "powerline_50hz" if mains == 50.0 else "powerline_60hz"
            found += _graded(
                code,
                amplitude,
                th.POWERLINE_DEGRADED_MV,
                np.inf,
                "mV",
                f"{mains:.0f} Hz mains hum of {amplitude:.3f} mV amplitude",
            )
    wander = float(m.baseline_wander_mv[k])
    found += _graded(
        "baseline_wander",
        wander,
        th.BASELINE_DEGRADED_MV,
        np.inf,
        "mV",
        f"baseline moves {wander:.2f} mV peak-to-peak below {th.BASELINE_CUTOFF_HZ} Hz",
    )
    return found


def muscle_reasons(rms_mv: float, qrs_amplitude_mv: float) -> list[QualityReason]:
    """Muscle noise: degraded from an absolute RMS, unusable when it rivals the QRS."""
    if rms_mv < th.MUSCLE_DEGRADED_MV:
        return []
    snr = qrs_amplitude_mv / rms_mv
    if snr < th.MUSCLE_UNUSABLE_SNR:
        return [
            QualityReason(
                code="muscle_noise",
                severity="unusable",
                value=snr,
                threshold=th.MUSCLE_UNUSABLE_SNR,
                unit="ratio",
                detail=f"muscle-band noise {rms_mv:.3f} mV RMS buries the QRS "
                f"({qrs_amplitude_mv:.2f} mV): amplitude/noise ratio {snr:.1f}",
            )
        ]
    return _graded(
        "muscle_noise",
        rms_mv,
        th.MUSCLE_DEGRADED_MV,
        np.inf,
        "mV",
        f"muscle-band ({th.MUSCLE_BAND_HZ[0]:.0f} Hz+) noise {rms_mv:.3f} mV RMS",
    )


def lead_off_reasons(found: list[QualityReason], ratio: float) -> list[QualityReason]:
    """``lead_off`` for a noisy lead whose QRS-band activity is not locked to the beats.

    A clean lead with little QRS (perpendicular to the QRS axis) gets nothing: only a lead that
    also shows noise (muscle, mains, wander) is declared off.
    """
    if not (ratio < th.LEAD_OFF_QRS_RATIO and NOISE_CODES & {r.code for r in found}):
        return []
    return [
        QualityReason(
            code="lead_off",
            severity="unusable",
            value=ratio,
            threshold=th.LEAD_OFF_QRS_RATIO,
            unit="ratio",
            detail="no ECG visible on this noisy lead: its QRS-band activity is not locked to "
            f"the beats of the other leads (ratio {ratio:.2f}); electrode off, or ECG buried "
            "in noise",
        )
    ]


def too_short_reason(duration_s: float) -> QualityReason:
    return QualityReason(
        code="too_short",
        severity="unusable",
        value=duration_s,
        threshold=th.MIN_DURATION_S,
        unit="s",
        detail=f"record lasts {duration_s:.2f} s, under the {th.MIN_DURATION_S:g} s minimum",
    )
