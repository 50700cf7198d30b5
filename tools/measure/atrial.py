"""Atrial flutter waves: periodicity of the atrial activity between the T wave and the QRS.

Flutter waves repeat at one cycle length (typical flutter 240-340/min, cycle 176-250 ms) with
no isoelectric baseline between them (Mason, Hancock & Gettes 2007, AHA/ACC/HRS
recommendations for the standardization and interpretation of the ECG, part II: atrial
flutter is "regular atrial activity ... at rates 240-340/min"). Because the AV conduction
ratio is usually fixed, the F waves are phase-locked to the QRS: template subtraction (QRST
cancellation) removes them with the QRS. They are therefore measured where the ventricles are
quiet: in every T-offset -> next-QRS-onset window (the TQ interval), the leads where flutter
waves are largest (II, III, aVF, V1) are linearly detrended and the normalised
autocorrelation at each lag in the flutter range is pooled over windows and leads
(numerator and energies summed separately). A sawtooth gives a pooled correlation near 1 at
its cycle; a TQ interval holding one P wave and a flat baseline gives little; a T wave is
excluded by construction.

The windows need room for two F waves: with 2:1 conduction (ventricular rate ~150/min) the
second F wave lies inside the T wave and the measurement reports ``None`` (not assessable).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.signal import butter, sosfiltfilt

from tools.measure import thresholds as th
from tools.measure.waves import ms_to_samples


@dataclass(frozen=True)
class AtrialPeriodicity:
    """Pooled TQ-window autocorrelation at its best flutter-range lag.

    Attributes
    ----------
    periodicity
        Half the difference of the pooled normalised autocorrelation at ``cycle_ms`` and at
        half of it (-1..1; 1 for a pure oscillation at that cycle).
    correlation
        The pooled normalised autocorrelation at ``cycle_ms`` (-1..1).
    cycle_ms
        The lag of the maximum, in ms (the atrial cycle when the activity is periodic);
        ``None`` with periodicity 0 when the correlation has no peak inside the range.
    paired_s
        Seconds of signal paired at that lag (summed over windows, one lead).
    """

    periodicity: float
    correlation: float
    cycle_ms: float | None
    paired_s: float


def tq_windows(
    t_off: np.ndarray, qrs_on: np.ndarray, fs_hz: float
) -> tuple[np.ndarray, np.ndarray]:
    """Start and end samples of the TQ windows: previous beat's T offset -> QRS onset.

    Parameters
    ----------
    t_off, qrs_on
        Global T offset and QRS onset per beat (int ``[beats]``, -1 when absent).
    fs_hz
        Sampling rate in Hz.

    Returns
    -------
    tuple of numpy.ndarray
        int64 ``starts``, ``ends`` (end exclusive, :data:`~tools.measure.thresholds.
        TQ_GUARD_MS` before the QRS onset) of the windows where both boundaries exist.
    """
    starts = np.asarray(t_off, dtype=np.int64)[:-1]
    ends = np.asarray(qrs_on, dtype=np.int64)[1:] - ms_to_samples(th.TQ_GUARD_MS, fs_hz)
    keep = (starts >= 0) & (ends > starts)
    return starts[keep], ends[keep]


def atrial_periodicity(
    signal_mv: np.ndarray,
    fs_hz: float,
    lead_names: Sequence[str],
    usable: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
) -> AtrialPeriodicity | None:
    """Periodicity of the atrial activity in the TQ windows, over the flutter cycle range.

    Parameters
    ----------
    signal_mv
        ``[leads, samples]`` in mV.
    fs_hz
        Sampling rate in Hz.
    lead_names
        Canonical names of the rows; :data:`~tools.measure.thresholds.ATRIAL_LEADS` are used.
    usable
        bool ``[leads]``.
    starts, ends
        TQ windows (:func:`tq_windows`).

    Returns
    -------
    AtrialPeriodicity or None
        ``None`` when no atrial lead is usable or the windows pair less than
        :data:`~tools.measure.thresholds.ATRIAL_MIN_PAIRED_S` of signal at every lag in
        the range (too little TQ interval: fast rates, 2:1 conduction).
    """
    rows = [i for i, name in enumerate(lead_names) if name in th.ATRIAL_LEADS and usable[i]]
    lag_lo = ms_to_samples(th.ATRIAL_CYCLE_MIN_MS, fs_hz)
    lag_hi = ms_to_samples(th.ATRIAL_CYCLE_MAX_MS, fs_hz)
    lengths = np.asarray(ends, dtype=np.int64) - np.asarray(starts, dtype=np.int64)
    long_enough = lengths > lag_lo
    if not rows or not long_enough.any():
        return None
    segments, valid = _segments(
        _band_passed(np.asarray(signal_mv, dtype=np.float64)[rows], fs_hz),
        np.asarray(starts)[long_enough],
        lengths[long_enough],
    )
    lags = np.arange(lag_lo // 2, lag_hi + 1)
    numerator, energy_late, energy_early, pairs = _lagged_sums(
        segments, valid, lags, ms_to_samples(th.ATRIAL_MIN_OVERLAP_MS, fs_hz)
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        correlation = numerator / np.sqrt(energy_late * energy_early)
    cycles = np.arange(lag_lo, lag_hi + 1)
    at_cycle = correlation[cycles - lags[0]]
    at_half = correlation[cycles // 2 - lags[0]]
    # a periodic wave is correlated at its cycle and anti-correlated at half of it; a slow
    # drift or a lone wave is correlated (or not) at both alike
    contrast = (at_cycle - at_half) / 2.0
    paired_s = pairs[cycles - lags[0]] / fs_hz
    assessable = (paired_s >= th.ATRIAL_MIN_PAIRED_S) & np.isfinite(contrast)
    if not assessable.any():
        return None
    peak = np.zeros_like(assessable)
    peak[1:-1] = (at_cycle[1:-1] >= at_cycle[:-2]) & (at_cycle[1:-1] >= at_cycle[2:])
    # only a peak of the correlation inside the range is a cycle; a maximum on the range's
    # edge is the flank of something slower or faster
    eligible = assessable & peak
    if not eligible.any():
        return AtrialPeriodicity(0.0, float(np.max(at_cycle[assessable])), None, 0.0)
    best = int(np.argmax(np.where(eligible, contrast, -np.inf)))
    return AtrialPeriodicity(
        periodicity=float(contrast[best]),
        correlation=float(at_cycle[best]),
        cycle_ms=float(cycles[best] * 1000.0 / fs_hz),
        paired_s=float(paired_s[best]),
    )


@lru_cache(maxsize=8)
def _band_pass(fs_hz: float) -> np.ndarray:
    return np.asarray(
        butter(th.ATRIAL_FILTER_ORDER, th.ATRIAL_BAND_HZ, btype="bandpass", fs=fs_hz, output="sos")
    )


def _band_passed(x: np.ndarray, fs_hz: float) -> np.ndarray:
    """Zero-phase band-pass: no baseline wander, no offset on the flat TQ segments."""
    return np.asarray(sosfiltfilt(_band_pass(float(fs_hz)), np.nan_to_num(x), axis=-1))


def _segments(
    x: np.ndarray, starts: np.ndarray, lengths: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Windows ``[windows, leads, longest]`` of the band-passed leads, zero past each
    window's end, and the validity mask ``[windows, longest]``.

    No per-window mean or trend is removed: a removed mean or line leaves a constant or a ramp
    on the flat part of the window, and those correlate with themselves at every lag.
    """
    longest = int(lengths.max())
    offsets = np.arange(longest)
    valid = offsets[np.newaxis, :] < lengths[:, np.newaxis]
    index = np.where(valid, starts[:, np.newaxis] + offsets, 0)
    seg = np.where(valid[:, np.newaxis, :], x[:, index].transpose(1, 0, 2), 0.0)
    return seg, valid


def _lagged_sums(
    seg: np.ndarray, valid: np.ndarray, lags: np.ndarray, min_overlap: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pooled sums over windows and leads, per lag: sum x(t) x(t - lag), the energies of the
    late and early members of the pairs, and the number of pairs (one lead). A window
    counts at a lag only when it pairs at least ``min_overlap`` samples there: a few pairs from
    the window's two ends say nothing about periodicity.

    The products come from one batched FFT autocorrelation (segments are zero past their
    end, so no pair straddles two windows); the energies from cumulative sums of squares.
    """
    longest = seg.shape[-1]
    size = 1 << int(np.ceil(np.log2(2 * longest)))
    spectrum = np.fft.rfft(seg, n=size, axis=-1)
    auto = np.fft.irfft(spectrum * np.conj(spectrum), n=size, axis=-1)  # no wrap: size >= 2n
    per_window = auto.sum(axis=1)[:, np.clip(lags, 0, size - 1)]  # [windows, lags]
    energy = np.cumsum(seg * seg, axis=-1).sum(axis=1)  # [windows, longest]
    lengths = valid.sum(axis=1)
    total = energy[np.arange(len(lengths)), lengths - 1]
    pairs_per_window = lengths[:, np.newaxis] - lags[np.newaxis, :]
    has_pairs = pairs_per_window >= min_overlap
    pairs_per_window = np.where(has_pairs, pairs_per_window, 0)
    numerator = np.where(has_pairs, per_window, 0.0).sum(axis=0)
    # early member x(0 .. n - lag - 1); late member x(lag .. n - 1)
    early_idx = np.clip(lengths[:, np.newaxis] - lags - 1, 0, None)
    late_idx = np.clip(lags - 1, 0, longest - 1)[np.newaxis, :].repeat(len(lengths), axis=0)
    early = np.where(has_pairs, np.take_along_axis(energy, early_idx, axis=1), 0.0)
    late_energy = total[:, np.newaxis] - np.take_along_axis(energy, late_idx, axis=1)
    late = np.where(has_pairs, late_energy, 0.0)
    return numerator, late.sum(axis=0), early.sum(axis=0), pairs_per_window.sum(axis=0)
