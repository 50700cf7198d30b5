"""Per-lead signal-quality measurements, vectorised over leads.

Array layout: ``[leads, samples]`` in mV. The spectral measures (mains amplitude, baseline
wander, muscle-band noise, QRS amplitude) all come from one real FFT over all leads.

References
----------
Li Q, Mark RG, Clifford GD. Robust heart rate estimation from multiple asynchronous noisy
sources using signal quality indices and a Kalman filter. Physiol Meas. 2008;29(1):15-32
(spectral and beat-locked signal-quality indices).
Clifford GD, Behar J, Li Q, Rezek I. Signal quality indices and data fusion for determining
clinical acceptability of electrocardiograms. Physiol Meas. 2012;33(9):1419-1433.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.fft as sfft

from tools.medians import sorted_median
from tools.quality import thresholds as th


@dataclass(frozen=True)
class SignalMeasures:
    """Per-lead measurements (arrays ``[leads]``) and the filtered signals later checks use.

    ``powerline_mv`` is ``[len(POWERLINE_HZ), leads]`` (NaN where the line is above Nyquist);
    ``highpassed`` is the NaN-filled signal without its baseline; ``qrs_band`` and
    ``muscle_band`` the band-passed signals of the beat-locked and muscle-noise checks.
    """

    ptp_mv: np.ndarray
    level_mv: np.ndarray
    nan_fraction: np.ndarray
    longest_nan_run_s: np.ndarray
    flat_fraction: np.ndarray
    clipped_fraction: np.ndarray
    clipped_runs: np.ndarray
    baseline_wander_mv: np.ndarray
    powerline_mv: np.ndarray
    muscle_band: np.ndarray
    qrs_amplitude_mv: np.ndarray
    highpassed: np.ndarray
    qrs_band: np.ndarray


def measure_signal(signal_mv: np.ndarray, fs_hz: float) -> SignalMeasures:
    """Measure every per-lead quality index of ``[leads, samples]`` at ``fs_hz``.

    Parameters
    ----------
    signal_mv
        ``[leads, samples]`` float array in mV; NaN marks missing samples.
    fs_hz
        Sampling rate in Hz.

    Returns
    -------
    SignalMeasures
        See the class docstring; all lead arrays are float64 ``[leads]``.
    """
    x = np.asarray(signal_mv, dtype=np.float64)
    nan = np.isnan(x)
    nan_fraction, longest_run = nan_runs(nan, fs_hz)
    filled = fill_nan(x, nan)
    valid = ~nan.all(axis=1)
    ptp = np.where(valid, np.ptp(filled, axis=1), 0.0)
    spectral = _spectral(filled, fs_hz)
    level = np.median(filled, axis=1)
    clipped, runs = clipped_fraction(filled, nan, fs_hz, baseline_mv=level)
    not_flat = ptp >= th.FLAT_PTP_MV
    return SignalMeasures(
        ptp_mv=ptp,
        level_mv=level,
        nan_fraction=nan_fraction,
        longest_nan_run_s=longest_run,
        flat_fraction=flat_fraction(filled, nan, fs_hz),
        clipped_fraction=np.where(not_flat, clipped, 0.0),
        clipped_runs=np.where(not_flat, runs, 0),
        **spectral,
    )


def nan_runs(nan: np.ndarray, fs_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """Fraction of NaN samples and the longest NaN run (s) of each lead."""
    n_leads, n = nan.shape
    fraction = nan.mean(axis=1) if n else np.zeros(n_leads)
    if not nan.any():
        return fraction, np.zeros(n_leads)
    padded = np.zeros((n_leads, n + 2), dtype=np.int8)
    padded[:, 1:-1] = nan
    edges = np.diff(padded, axis=1)
    start_lead, start_idx = _nonzero_2d(edges == 1)
    _, stop_idx = _nonzero_2d(edges == -1)  # row-major order: starts and stops pair up
    longest = np.zeros(n_leads)
    np.maximum.at(longest, start_lead, (stop_idx - start_idx) / fs_hz)
    return fraction, longest


def _nonzero_2d(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.nonzero`` of a 2-D mask (same row-major order), via the much faster 1-D search."""
    rows, cols = np.divmod(np.flatnonzero(mask), mask.shape[1])
    return rows, cols


def fill_nan(x: np.ndarray, nan: np.ndarray) -> np.ndarray:
    """Linear interpolation over NaN runs, lead by lead (edges take the nearest value).

    Vectorised: the leads are laid end to end with one sentinel sample either side, so one
    :func:`numpy.interp` call fills every lead without bleeding into its neighbour. A lead with
    no valid sample becomes zeros.
    """
    if not nan.any():
        return x.copy()
    n_leads, n = x.shape
    has_valid = ~nan.all(axis=1)
    first = np.where(has_valid, np.argmax(~nan, axis=1), 0)
    last = np.where(has_valid, n - 1 - np.argmax(~nan[:, ::-1], axis=1), 0)
    rows = np.arange(n_leads)
    ext = np.zeros((n_leads, n + 2))
    ext[:, 1:-1] = np.where(nan, 0.0, x)
    ext[:, 0] = np.where(has_valid, x[rows, first], 0.0)
    ext[:, -1] = np.where(has_valid, x[rows, last], 0.0)
    known = np.ones((n_leads, n + 2), dtype=bool)
    known[:, 1:-1] = ~nan
    known[~has_valid, 1:-1] = True  # all-NaN leads: zeros, as set above
    position = np.arange(n_leads * (n + 2), dtype=np.float64)
    flat_known = known.ravel()
    filled = np.interp(position, position[flat_known], ext.ravel()[flat_known])
    return filled.reshape(n_leads, n + 2)[:, 1:-1]


def long_runs(mask: np.ndarray, min_length: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row: elements of ``mask`` inside True-runs of at least ``min_length``, and such runs."""
    n_rows, n = mask.shape
    padded = np.zeros((n_rows, n + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    edges = np.diff(padded, axis=1)
    row, start = _nonzero_2d(edges == 1)
    _, stop = _nonzero_2d(edges == -1)
    length = stop - start
    keep = length >= min_length
    covered = np.zeros(n_rows, dtype=np.int64)
    count = np.zeros(n_rows, dtype=np.int64)
    np.add.at(covered, row[keep], length[keep])
    np.add.at(count, row[keep], 1)
    return covered, count


def flat_fraction(filled: np.ndarray, nan: np.ndarray, fs_hz: float) -> np.ndarray:
    """Fraction of the lead in flat stretches of at least :data:`FLAT_MIN_RUN_S`.

    The lead is cut into :data:`FLAT_WINDOW_S` windows; a window is flat when its peak-to-peak
    is under :data:`FLAT_WINDOW_PTP_MV`. Windows holding a NaN are not flat (missing samples
    are reported as ``nan_run``).
    """
    n_leads, n = filled.shape
    width = max(2, round(th.FLAT_WINDOW_S * fs_hz))
    n_win = n // width
    if n_win == 0:
        return np.where(np.ptp(filled, axis=1) < th.FLAT_WINDOW_PTP_MV, 1.0, 0.0)
    body = filled[:, : n_win * width].reshape(n_leads, n_win, width)
    has_nan = nan[:, : n_win * width].reshape(n_leads, n_win, width).any(axis=2)
    flat = (np.ptp(body, axis=2) < th.FLAT_WINDOW_PTP_MV) & ~has_nan
    min_windows = min(n_win, max(1, round(th.FLAT_MIN_RUN_S / th.FLAT_WINDOW_S)))
    covered, _ = long_runs(flat, min_windows)
    return np.asarray(covered / n_win)


def clipped_fraction(
    filled: np.ndarray, nan: np.ndarray, fs_hz: float, *, baseline_mv: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Fraction of valid samples held at the lead's maximum or minimum, and how many holds.

    A saturated amplifier or ADC holds its rail value for many consecutive samples on beat
    after beat; a real peak touches its extreme for one or two samples. Samples within
    :data:`CLIP_TOLERANCE_FRACTION` of the range from the maximum or minimum count when they
    form runs of at least :data:`CLIP_MIN_RUN_S`. An extreme at the lead's baseline (its
    median) is no rail: a noise-free lead whose waves all point one way rests on its minimum
    or maximum between beats (:data:`CLIP_RAIL_FROM_BASELINE_FRACTION`). ``baseline_mv``
    ``[leads]`` is each lead's median when the caller has it already.
    """
    hi = filled.max(axis=1, keepdims=True)
    lo = filled.min(axis=1, keepdims=True)
    span = hi - lo
    tol = th.CLIP_TOLERANCE_FRACTION * span
    if baseline_mv is None:
        baseline_mv = np.median(filled, axis=1)
    baseline = np.asarray(baseline_mv)[:, np.newaxis]
    away = th.CLIP_RAIL_FROM_BASELINE_FRACTION * span
    top_rail = (hi - baseline > away)[:, 0]
    bottom_rail = (baseline - lo > away)[:, 0]
    min_run = max(2, round(th.CLIP_MIN_RUN_S * fs_hz))
    top, n_top = long_runs((filled >= hi - tol) & ~nan & top_rail[:, None], min_run)
    bottom, n_bottom = long_runs((filled <= lo + tol) & ~nan & bottom_rail[:, None], min_run)
    n_valid = np.maximum((~nan).sum(axis=1), 1)
    return np.asarray((top + bottom) / n_valid), n_top + n_bottom


def _spectral(filled: np.ndarray, fs_hz: float) -> dict[str, np.ndarray]:
    """Mains amplitude, baseline, muscle-band RMS and QRS amplitude from one rFFT."""
    n = filled.shape[1]
    edge = max(1, min(n // 4, round(0.05 * fs_hz)))
    start = filled[:, :edge].mean(axis=1, keepdims=True)
    end = filled[:, -edge:].mean(axis=1, keepdims=True)
    line = start + (end - start) * np.linspace(0.0, 1.0, n)
    detrended = filled - line
    n_fft = sfft.next_fast_len(n, real=True)
    spectrum = sfft.rfft(detrended, n=n_fft, axis=1)
    freqs, lowpass, qrs_gain, muscle_gain = _spectral_gains(n_fft, float(fs_hz))
    baseline = sfft.irfft(spectrum * lowpass, n=n_fft, axis=1)[:, :n] + line
    highpassed = filled - baseline
    qrs_band = sfft.irfft(spectrum * qrs_gain, n=n_fft, axis=1)[:, :n]
    muscle = sfft.irfft(spectrum * muscle_gain, n=n_fft, axis=1)[:, :n]
    return {
        "baseline_wander_mv": np.ptp(baseline, axis=1),
        "powerline_mv": _powerline(spectrum, freqs, fs_hz, n, n_fft),
        "muscle_band": muscle,
        "qrs_amplitude_mv": _typical_ptp(highpassed, fs_hz),
        "highpassed": highpassed,
        "qrs_band": qrs_band,
    }


@lru_cache(maxsize=8)
def _spectral_gains(
    n_fft: int, fs_hz: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Read-only ``(freqs, baseline low-pass, QRS band, muscle band)`` of an ``n_fft`` rFFT
    (pure functions of the transform length and the rate, so built once per pair)."""
    freqs = sfft.rfftfreq(n_fft, 1.0 / fs_hz)
    lowpass = 1.0 / (1.0 + (freqs / th.BASELINE_CUTOFF_HZ) ** 8)
    qrs_gain = _band(freqs, (th.QRS_BAND_HZ[0], min(th.QRS_BAND_HZ[1], 0.45 * fs_hz)))
    gains = (freqs, lowpass, qrs_gain, _muscle_mask(freqs, fs_hz))
    for gain in gains:
        gain.flags.writeable = False
    return gains


def _band(freqs: np.ndarray, band_hz: tuple[float, float]) -> np.ndarray:
    """Zero-phase band-pass magnitude (fourth-order Butterworth edges)."""
    low, high = band_hz
    highpass = 1.0 / (1.0 + (low / np.maximum(freqs, 1e-12)) ** 8)
    return np.asarray(highpass / (1.0 + (freqs / high) ** 8))


def _muscle_mask(freqs: np.ndarray, fs_hz: float) -> np.ndarray:
    """EMG band (smooth Butterworth edges, so the QRS's own high frequencies do not ring into
    the gaps between beats) with every mains line and harmonic (50/60 Hz multiples) notched."""
    low, high = th.MUSCLE_BAND_HZ
    mask = _band(freqs, (low, min(high, 0.45 * fs_hz)))
    for mains in th.POWERLINE_HZ:
        harmonics = mains * np.arange(1, int(fs_hz / 2 // mains) + 1)
        if harmonics.size == 0:
            continue
        distance = np.abs(freqs[:, np.newaxis] - harmonics[np.newaxis, :]).min(axis=1)
        mask = mask * (distance > 1.5 * th.POWERLINE_HALF_BAND_HZ)
    return np.asarray(mask)


def _powerline(
    spectrum: np.ndarray, freqs: np.ndarray, fs_hz: float, n: int, n_fft: int
) -> np.ndarray:
    """Peak amplitude (mV) of a sinusoid at each mains frequency above the local background.

    For ``A cos(2 pi f0 t)`` sampled ``n`` times and zero-padded to ``n_fft``, the positive-
    frequency power near ``f0`` sums to ``A^2 n n_fft / 4`` (Parseval), so
    ``A = 2 sqrt(P / (n n_fft))``; the background is the mean power 2-6 Hz either side.
    """
    out = np.full((len(th.POWERLINE_HZ), spectrum.shape[0]), np.nan)
    bg_lo, bg_hi = th.POWERLINE_BACKGROUND_HZ
    for k, mains in enumerate(th.POWERLINE_HZ):
        if mains + bg_hi >= fs_hz / 2:
            continue
        offset = np.abs(freqs - mains)
        band = offset <= th.POWERLINE_HALF_BAND_HZ
        background = (offset >= bg_lo) & (offset <= bg_hi)
        line_power = np.abs(spectrum[:, band]) ** 2
        background_power = np.abs(spectrum[:, background]) ** 2
        excess = line_power.sum(axis=1) - background_power.mean(axis=1) * band.sum()
        out[k] = 2.0 * np.sqrt(np.maximum(excess, 0.0) / (n * n_fft))
    return out


def muscle_noise_mv(muscle_band: np.ndarray, r_peaks: np.ndarray, fs_hz: float) -> np.ndarray:
    """RMS (mV) of the muscle band between the QRS complexes, per lead.

    The band is cut into :data:`MUSCLE_WINDOW_S` windows; windows within
    :data:`MUSCLE_QRS_GUARD_S` of an R peak are skipped (the QRS has high-frequency content of
    its own), and the median RMS of the rest is the noise level. Without enough beat-free
    windows (no R peaks, very high rates) the :data:`MUSCLE_PERCENTILE` of all windows is used.
    """
    n_leads, n = muscle_band.shape
    width = min(n, max(2, round(th.MUSCLE_WINDOW_S * fs_hz)))
    n_win = max(1, n // width)
    body = muscle_band[:, : n_win * width].reshape(n_leads, n_win, width)
    rms = np.sqrt((body**2).mean(axis=2))
    centres = (np.arange(n_win) + 0.5) * width
    if r_peaks.size:
        right = np.clip(np.searchsorted(r_peaks, centres), 0, r_peaks.size - 1)
        left = np.clip(right - 1, 0, r_peaks.size - 1)
        nearest = np.minimum(np.abs(centres - r_peaks[left]), np.abs(centres - r_peaks[right]))
        quiet = nearest > (th.MUSCLE_QRS_GUARD_S * fs_hz + width / 2)
        if quiet.sum() >= th.MUSCLE_MIN_WINDOWS:
            return sorted_median(rms[:, quiet], axis=1)
    return np.asarray(np.percentile(rms, th.MUSCLE_PERCENTILE, axis=1))


def _typical_ptp(x: np.ndarray, fs_hz: float) -> np.ndarray:
    """Median over :data:`AMPLITUDE_BLOCK_S` blocks of the block peak-to-peak (QRS size)."""
    n_leads, n = x.shape
    width = min(n, max(2, round(th.AMPLITUDE_BLOCK_S * fs_hz)))
    n_blocks = max(1, n // width)
    body = x[:, : n_blocks * width].reshape(n_leads, n_blocks, width)
    return sorted_median(np.ptp(body, axis=2), axis=1)


def qrs_locked_ratio(qrs_band: np.ndarray, r_peaks: np.ndarray, fs_hz: float) -> np.ndarray:
    """Mean |QRS-band signal| inside the QRS windows over its mean outside them, per lead.

    About 1 for a lead carrying no ECG (its activity is not locked to the beats found on the
    other leads), well above for a real lead: a beat-locked signal-quality index in the spirit
    of Li et al. (2008). Returns NaN per lead when fewer than :data:`MIN_BEATS` beats are given
    or the windows leave less than ``1 - QRS_MAX_COVERAGE`` of the record outside.
    """
    n_leads, n = qrs_band.shape
    nan = np.full(n_leads, np.nan)
    if r_peaks.size < th.MIN_BEATS:
        return nan
    half = max(1, round(th.QRS_HALF_WINDOW_S * fs_hz))
    inside = np.zeros(n, dtype=bool)
    inside[np.clip(r_peaks[:, np.newaxis] + np.arange(-half, half + 1), 0, n - 1)] = True
    if inside.mean() > th.QRS_MAX_COVERAGE:
        return nan
    magnitude = np.abs(qrs_band)
    outside = magnitude[:, ~inside].mean(axis=1)
    locked = magnitude[:, inside].mean(axis=1)
    return np.asarray(np.where(outside > 0, locked / np.maximum(outside, 1e-30), np.nan))
