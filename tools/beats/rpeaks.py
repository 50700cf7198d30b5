"""Multi-lead R-peak detection: a Pan-Tompkins energy detector on a fused, lead-normalised envelope.

Array layout: ``signal_mv`` is ``[leads, samples]`` (a 1-D array is one lead).

Outline (each step vectorised over leads; the only Python loops run over a handful of
search-back passes, never over samples or beats):

1. Every lead is band-passed (QRS band), differentiated and decimated to about
   :data:`WORK_FS_HZ` in one real FFT over all leads (zero-phase, like ``filtfilt``).
2. Squared and integrated over a moving window (Pan & Tompkins 1985), then square-rooted (an
   amplitude scale, so small beats beside large ectopics keep a fair share), each lead's
   envelope is divided by its own typical QRS level, so inverted and low-amplitude leads count
   as much as large ones; leads are weighted by their envelope signal-to-noise ratio and
   averaged into one envelope.
3. Peaks of the fused envelope further apart than the refractory period are kept when they
   exceed an adaptive threshold between the local noise and signal levels (Pan & Tompkins
   1985; Hamilton 2002); peaks that follow a larger one within :data:`T_WAVE_WINDOW_S` are
   rejected as T waves unless comparable in size; RR gaps longer than
   :data:`SEARCHBACK_RR_FACTOR` times the local median RR are searched back at a lower
   threshold.
4. Each detection is moved to the largest deflection of the dominant lead (largest weighted
   QRS amplitude) at the original sampling rate.

References
----------
Pan J, Tompkins WJ. A real-time QRS detection algorithm. IEEE Trans Biomed Eng.
1985;32(3):230-236.
Hamilton PS. Open source ECG analysis. Computers in Cardiology. 2002;29:101-104.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.fft as sfft
from scipy.ndimage import median_filter, uniform_filter1d
from scipy.signal import find_peaks

from tools.errors import SignalValueError

# ---- constants (one place; each with its justification) -----------------------------------
#: Rate the envelope is computed at: 125 Hz keeps the QRS band (< 30 Hz) and makes 10 s cheap.
WORK_FS_HZ = 125.0
#: QRS pass band: Pan-Tompkins' 5-15 Hz widened to 22 Hz for narrow complexes at high rates
#: and kept at 5 Hz below so wide (bundle-branch, ventricular) complexes keep their energy.
QRS_BAND_HZ = (5.0, 22.0)
#: Butterworth order of each band edge (magnitude applied twice, zero phase): order 2 is
#: Pan-Tompkins' roll-off; 4 keeps 50/60 Hz mains 60 dB down so hum cannot mimic a QRS.
BAND_ORDER = 4
#: Moving-integration window: 120 ms, about one QRS width (Pan-Tompkins use 150 ms).
MWI_S = 0.12
#: Refractory period: no two ventricular depolarisations closer than 200 ms (Pan-Tompkins).
REFRACTORY_S = 0.2
#: Block length for signal/noise levels: 2.5 s always holds a beat at rates >= 30 bpm.
LEVEL_BLOCK_S = 2.5
#: Blocks in the rolling median of levels (12.5 s): adapts to amplitude trends in Holters.
LEVEL_BLOCKS = 5
#: Detection threshold as a fraction from noise to signal level (Pan-Tompkins use 0.25).
THRESHOLD_FRACTION = 0.3
#: Candidates closer than this to a larger detection are tested as T waves (Pan-Tompkins 360 ms).
T_WAVE_WINDOW_S = 0.36
#: A close candidate smaller than this fraction of its neighbour is a T wave (Pan-Tompkins: half).
T_WAVE_RATIO = 0.5
#: Search back when an RR exceeds this multiple of the local median RR (Pan-Tompkins 166%).
SEARCHBACK_RR_FACTOR = 1.66
#: Search-back threshold as a fraction of the detection threshold (Pan-Tompkins: half).
SEARCHBACK_FRACTION = 0.5
#: A searched-back peak must also stand this many times above the envelope's mean over the
#: surrounding :data:`SEARCHBACK_CONTEXT_S` (a QRS is a spike; noise bursts in pauses are not).
SEARCHBACK_PROMINENCE = 2.0
SEARCHBACK_CONTEXT_S = 0.6
#: Number of RR intervals in the local median RR used by search-back.
SEARCHBACK_RR_SPAN = 9
#: Any RR longer than 1.5 s (rate < 40 bpm) is also searched back: when large ectopic beats
#: set the level, the normal beats between them are missed and the median RR itself is long.
SEARCHBACK_MAX_RR_S = 1.5
#: A searched-back beat must lie at least this fraction of its gap after the beat before it
#: (a T wave sits right after that beat; a missed beat lies well inside the gap). Close to the
#: next beat is allowed: that one may be premature.
SEARCHBACK_MIN_SPLIT = 0.3
#: Lead weighting by the ratio of the typical QRS level to the envelope's median: white,
#: muscle-band and random-walk noise measure 1.5-2, clean narrow-QRS leads 7-30 (LUDB, QTDB),
#: wide-QRS leads with slow T waves about 5; full weight from 20 (log-linear in between).
LEAD_SNR_NOISE = 2.5
LEAD_SNR_GOOD = 20.0
#: Percentile of the envelope taken as a lead's background level (the median).
FLOOR_PERCENTILE = 50
#: Half-width of the window where a detection is moved to the dominant-lead extremum: the
#: envelope peak sits near the QRS centre, within half a wide (160 ms) QRS of the R peak.
REFINE_HALF_WIDTH_S = 0.12
#: Odd-reflection padding at each end before the FFT: longer than the band-pass ringing.
PAD_S = 0.5
#: Envelope zeroed over the first and last 100 ms: an edge artefact there must not set the
#: levels, and a QRS cut by the record edge cannot be placed anyway.
EDGE_S = 0.1
#: Accepted sampling rates (Hz): the QRS band must fit under Nyquist; above 2 kHz is not ECG.
FS_RANGE_HZ = (50.0, 2000.0)

_EPS = 1e-12


def detect_r_peaks(
    signal_mv: np.ndarray,
    fs_hz: float,
    *,
    usable: np.ndarray | None = None,
    source: str | None = None,
) -> np.ndarray:
    """Detect R peaks fused across all usable leads.

    Parameters
    ----------
    signal_mv
        ``[leads, samples]`` in mV (1-D for one lead). NaN/inf samples are replaced by the
        lead's median; all-NaN leads are left out.
    fs_hz
        Sampling rate in Hz (50-2000).
    usable
        Boolean mask ``[leads]`` of leads to use (from the quality gate); all when ``None``.
    source
        Record id or path, for error messages.

    Returns
    -------
    numpy.ndarray
        Sorted int64 sample indices of the R peaks (empty when no QRS is found).

    Raises
    ------
    SignalValueError
        Bad shape, sampling rate out of range, a mask that does not match, or no usable lead.

    Notes
    -----
    Pan-Tompkins (1985) energy detector with Hamilton's (2002) adaptive levels on a multi-lead
    envelope (see the module docstring). Each lead is normalised before fusion, so polarity and
    amplitude do not matter; linear in the record length.

    References
    ----------
    Pan J, Tompkins WJ. IEEE Trans Biomed Eng. 1985;32(3):230-236.
    Hamilton PS. Computers in Cardiology. 2002;29:101-104.
    """
    x = _validated(signal_mv, fs_hz, usable, source)
    if x.shape[1] < round(REFRACTORY_S * fs_hz) * 2:
        return np.zeros(0, dtype=np.int64)
    envelopes, fs_work, origin = _lead_envelopes(x, fs_hz)
    fused, weights, scale = _fuse(envelopes, fs_work)
    if not np.any(fused > 0):
        return np.zeros(0, dtype=np.int64)
    peaks_work = _pick_peaks(fused, fs_work)
    if peaks_work.size == 0:
        return np.zeros(0, dtype=np.int64)
    approx = np.round(origin + peaks_work * (fs_hz / fs_work)).astype(np.int64)
    dominant = x[int(np.argmax(weights * scale))]
    return _refine(dominant, fs_hz, np.minimum(approx, x.shape[1] - 1))


def _validated(
    signal_mv: np.ndarray, fs_hz: float, usable: np.ndarray | None, source: str | None
) -> np.ndarray:
    """Return the usable leads as float32 ``[leads, samples]``, non-finite samples replaced by
    the lead median and all-missing leads dropped."""
    x = np.asarray(signal_mv)
    if x.ndim == 1:
        x = x[np.newaxis, :]
    if x.ndim != 2 or not np.issubdtype(x.dtype, np.number):
        raise SignalValueError(
            source, f"signal must be numeric [leads, samples], got shape {x.shape} ({x.dtype})"
        )
    if not (np.isfinite(fs_hz) and FS_RANGE_HZ[0] <= fs_hz <= FS_RANGE_HZ[1]):
        raise SignalValueError(
            source,
            f"R-peak detection needs a sampling rate in {FS_RANGE_HZ[0]:g}-{FS_RANGE_HZ[1]:g} "
            f"Hz, got {fs_hz}",
        )
    if usable is not None:
        mask = np.asarray(usable, dtype=bool).ravel()
        if mask.size != x.shape[0]:
            raise SignalValueError(
                source, f"usable mask has {mask.size} entries for {x.shape[0]} leads"
            )
        x = x[mask]
    x = np.asarray(x, dtype=np.float32)
    nan = ~np.isfinite(x)
    if nan.any():
        all_nan = nan.all(axis=1)
        x = x[~all_nan]
        nan = nan[~all_nan]
        x = np.where(nan, np.nan, x)
        medians = np.nanmedian(x, axis=1, keepdims=True) if x.size else x
        x = np.where(nan, medians, x)
    if x.shape[0] == 0:
        raise SignalValueError(source, "no usable lead for R-peak detection")
    return x


def _lead_envelopes(x: np.ndarray, fs_hz: float) -> tuple[np.ndarray, float, float]:
    """Pan-Tompkins energy envelope of every lead at about :data:`WORK_FS_HZ`.

    One rFFT over all leads applies the band-pass (squared Butterworth magnitudes, i.e. zero
    phase like ``filtfilt``) and the derivative (multiplication by ``j 2 pi f``), and resamples
    by keeping only the bins below the work-rate Nyquist. The record is extended at both ends
    by odd reflection (:data:`PAD_S`) so the FFT's circular wrap-around stays outside it.

    Returns
    -------
    envelope, fs_work, origin
        ``[leads, work samples]`` root-mean-square slope; its sampling rate; and the original
        sample index of work sample 0 (work sample ``i`` is at ``origin + i * fs_hz / fs_work``).
    """
    n = x.shape[1]
    pad = min(n - 1, round(PAD_S * fs_hz))
    left = 2 * x[:, :1] - x[:, pad:0:-1]
    right = 2 * x[:, -1:] - x[:, -2 : -pad - 2 : -1]
    padded = np.concatenate([left, x, right], axis=1)
    n_fft = sfft.next_fast_len(padded.shape[1], real=True)
    spectrum = sfft.rfft(padded, n=n_fft, axis=1)
    n_work = min(n_fft, max(16, int(np.ceil(n_fft * WORK_FS_HZ / fs_hz))))
    ratio = n_work / n_fft
    n_bins = n_work // 2 + 1
    response = _slope_response(n_fft, n_work, float(fs_hz))
    slope = sfft.irfft(spectrum[:, :n_bins] * response, n=n_work, axis=1) * ratio
    first = int(np.ceil(pad * ratio))
    last = int(np.floor((pad + n - 1) * ratio))
    fs_work = fs_hz * ratio
    width = max(1, round(MWI_S * fs_work))
    # root of the integrated energy: an amplitude scale, so small beats next to large ectopics
    # keep a detectable fraction of the level (energy would square the ratio)
    integrated = uniform_filter1d(slope**2, width, axis=-1, mode="nearest")[:, first : last + 1]
    envelope = np.sqrt(np.maximum(integrated, 0.0))
    edge = round(EDGE_S * fs_hz * ratio)
    envelope[:, :edge] = 0.0
    envelope[:, envelope.shape[1] - edge :] = 0.0
    return envelope, fs_work, first / ratio - pad


@lru_cache(maxsize=16)
def _slope_response(n_fft: int, n_work: int, fs_hz: float) -> np.ndarray:
    """Band-pass times derivative on the first ``n_work // 2 + 1`` bins of an ``n_fft`` rFFT
    (read-only; a pure function of the lengths and the rate, so built once per record shape)."""
    freqs = np.arange(n_work // 2 + 1) * (fs_hz / n_fft)
    low, high = QRS_BAND_HZ
    highpass = 1.0 / (1.0 + (low / np.maximum(freqs, _EPS)) ** (2 * BAND_ORDER))
    lowpass = 1.0 / (1.0 + (freqs / high) ** (2 * BAND_ORDER))
    response = (highpass * lowpass * (2j * np.pi * freqs / high)).astype(np.complex64)
    response[0] = 0.0
    if n_work % 2 == 0:
        response[-1] = 0.0  # the Nyquist bin of the shorter signal has no imaginary part
    response.flags.writeable = False
    return response


def _block_stat(x: np.ndarray, block: int, stat: str) -> np.ndarray:
    """Max or median of consecutive blocks along the last axis (the tail forms its own block)."""
    n = x.shape[-1]
    block = max(1, min(block, n))
    n_blocks = n // block
    body = x[..., : n_blocks * block].reshape(*x.shape[:-1], n_blocks, block)
    func = np.max if stat == "max" else np.median
    stats = func(body, axis=-1)
    tail = x[..., n_blocks * block :]
    if tail.shape[-1] >= block // 2:
        stats = np.concatenate([stats, func(tail, axis=-1)[..., np.newaxis]], axis=-1)
    return np.asarray(stats)


def _fuse(envelopes: np.ndarray, fs_work: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Normalise each lead's envelope by its typical QRS level and average by SNR weight.

    Returns the fused envelope (about 1 at a typical QRS), the per-lead weights and the
    per-lead typical QRS level (slope RMS, proportional to the QRS amplitude in mV).
    """
    block = round(LEVEL_BLOCK_S * fs_work)
    peak = np.median(_block_stat(envelopes, block, "max"), axis=-1)
    # quiet level: a low percentile over every other sample (as robust, half the work)
    sub = envelopes[:, ::2]
    k = int(FLOOR_PERCENTILE / 100 * (sub.shape[1] - 1))
    floor = np.partition(sub, k, axis=-1)[:, k]
    snr = peak / np.maximum(floor, _EPS * np.maximum(peak, _EPS))
    span = np.log(LEAD_SNR_GOOD / LEAD_SNR_NOISE)
    weights = np.clip(np.log(np.maximum(snr, _EPS) / LEAD_SNR_NOISE) / span, 0.0, 1.0)
    weights[peak <= 0] = 0.0
    if not weights.any():
        weights = (peak > 0).astype(np.float64)  # all leads noisy: use them equally
    if not weights.any():
        return np.zeros(envelopes.shape[1]), weights, peak
    fused = (weights / np.maximum(peak, _EPS)) @ envelopes / weights.sum()
    return fused, weights, peak


def _rolling_median(values: np.ndarray, span: int) -> np.ndarray:
    """Centred rolling median over ``span`` values, edges repeated (scipy's median filter)."""
    return np.asarray(median_filter(values, size=max(1, span), mode="nearest"))


def _levels(fused: np.ndarray, fs_work: float) -> tuple[np.ndarray, np.ndarray]:
    """Signal and noise levels (Hamilton 2002) interpolated at every work-rate sample."""
    block = max(1, round(LEVEL_BLOCK_S * fs_work))
    signal = _rolling_median(_block_stat(fused, block, "max"), LEVEL_BLOCKS)
    noise = _rolling_median(_block_stat(fused, block, "median"), LEVEL_BLOCKS)
    centres = (np.arange(signal.size) + 0.5) * block
    at = np.arange(fused.size)
    return np.interp(at, centres, signal), np.interp(at, centres, noise)


def _pick_peaks(fused: np.ndarray, fs_work: float) -> np.ndarray:
    """Adaptive-threshold peak picking with T-wave rejection and search-back."""
    refractory = max(1, round(REFRACTORY_S * fs_work))
    candidates, _ = find_peaks(fused, distance=refractory)
    if candidates.size == 0:
        return candidates.astype(np.int64)
    heights = fused[candidates]
    signal, noise = _levels(fused, fs_work)
    threshold = noise[candidates] + THRESHOLD_FRACTION * (signal[candidates] - noise[candidates])
    accepted = heights >= threshold
    accepted = _reject_t_waves(candidates, heights, accepted, fs_work)
    context = uniform_filter1d(fused, max(1, round(SEARCHBACK_CONTEXT_S * fs_work)), mode="nearest")
    prominent = heights >= SEARCHBACK_PROMINENCE * context[candidates]
    for _ in range(3):
        eligible = prominent & (heights >= SEARCHBACK_FRACTION * threshold)
        added = _search_back(candidates, eligible, heights, accepted, fs_work)
        if not added.any():
            break
        accepted |= added
        accepted = _reject_t_waves(candidates, heights, accepted, fs_work)
    return candidates[accepted].astype(np.int64)


def _reject_t_waves(
    candidates: np.ndarray, heights: np.ndarray, accepted: np.ndarray, fs_work: float
) -> np.ndarray:
    """Drop the smaller of two detections closer than the T-wave window when much smaller."""
    accepted = accepted.copy()
    idx = np.flatnonzero(accepted)
    if idx.size < 2:
        return accepted
    close = np.diff(candidates[idx]) < T_WAVE_WINDOW_S * fs_work
    first, second = heights[idx[:-1]], heights[idx[1:]]
    accepted[idx[1:][close & (second < T_WAVE_RATIO * first)]] = False
    accepted[idx[:-1][close & (first < T_WAVE_RATIO * second)]] = False
    return accepted


def _search_back(
    candidates: np.ndarray,
    eligible: np.ndarray,
    heights: np.ndarray,
    accepted: np.ndarray,
    fs_work: float,
) -> np.ndarray:
    """Highest eligible rejected candidate in each over-long RR gap.

    The record edges count as gaps too: a virtual beat two local RR intervals before the first
    detection (and after the last) lets beats missed at the edges be searched back.
    """
    added = np.zeros_like(accepted)
    real = candidates[accepted].astype(np.float64)
    if real.size < 2 or not np.any(eligible & ~accepted):
        return added
    rr_real = np.diff(real)
    rr_local = _rolling_median(rr_real, SEARCHBACK_RR_SPAN)
    beats = np.concatenate(([real[0] - 2 * rr_local[0]], real, [real[-1] + 2 * rr_local[-1]]))
    rr = np.diff(beats)
    long_gap = np.concatenate(([True], rr_real > SEARCHBACK_RR_FACTOR * rr_local, [True]))
    long_gap |= rr > SEARCHBACK_MAX_RR_S * fs_work
    gap = np.clip(np.searchsorted(beats, candidates) - 1, 0, rr.size - 1)
    after_previous = candidates - beats[gap]
    inside = eligible & ~accepted & long_gap[gap]
    inside &= after_previous >= SEARCHBACK_MIN_SPLIT * rr[gap]
    pick = np.flatnonzero(inside)
    if pick.size == 0:
        return added
    # keep the highest candidate per gap: sort by (gap, -height), first of each gap
    order = np.lexsort((-heights[pick], gap[pick]))
    pick = pick[order]
    first = np.concatenate(([True], gap[pick][1:] != gap[pick][:-1]))
    added[pick[first]] = True
    return added


def _refine(lead: np.ndarray, fs_hz: float, approx: np.ndarray) -> np.ndarray:
    """Move each detection to the largest deflection of the dominant lead (original rate)."""
    half = max(1, round(REFINE_HALF_WIDTH_S * fs_hz))
    offsets = np.arange(-half, half + 1)
    windows_idx = np.clip(approx[:, np.newaxis] + offsets, 0, lead.size - 1)
    windows = lead[windows_idx]  # [beats, window]
    centred = windows - np.median(windows, axis=-1, keepdims=True)
    best = np.argmax(np.abs(centred), axis=-1)
    refined = np.unique(windows_idx[np.arange(approx.size), best])
    # two detections refined onto one complex collapse to one; enforce the refractory period
    if refined.size > 1:
        keep = np.r_[True, np.diff(refined) >= round(REFRACTORY_S * fs_hz * 0.5)]
        refined = refined[keep]
    return refined.astype(np.int64)
