"""Beat classification: normal, supraventricular premature, ventricular (AAMI N / S / V / Q).

Array layout: ``signal_mv`` is ``[leads, samples]`` (1-D for one lead); ``r_peaks`` are sample
indices. Everything is vectorised over beats: the QRS windows of all beats and leads are cut
with one fancy index ``[leads, beats, window]``.

Rules (AAMI EC57 classes; criteria after de Chazal et al. 2004 and the template matching of
Hamilton 2002):

- **ventricular (V)**: the QRS differs from the median beat: its multi-lead correlation with the
  template is below :data:`V_CORRELATION`, or it is wider than the template by
  :data:`V_WIDTH_EXCESS_MS` with a correlation below :data:`V_WIDE_CORRELATION`;
- **supraventricular premature (S)**: template-like QRS arriving early and abruptly: the RR
  before it is under :data:`PREMATURE_RATIO` times the local median RR, and at least
  :data:`ABRUPT_RATIO` times shorter than the RR preceding it or the RR following it (the
  pause after a premature beat). Sinus arrhythmia shortens RR gradually (successive RR differ by
  under 10% at +-10% modulation) and leaves no pause, so its shortest cycles are not premature;
- **normal (N)**: the rest; **unclassifiable (Q)**: beats whose QRS window is cut by the edge.

References
----------
ANSI/AAMI EC57:2012, Testing and reporting performance results of cardiac rhythm and ST
segment measurement algorithms (beat classes N, S, V, F, Q).
de Chazal P, O'Dwyer M, Reilly RB. Automatic classification of heartbeats using ECG morphology
and heartbeat interval features. IEEE Trans Biomed Eng. 2004;51(7):1196-1206.
Hamilton PS. Open source ECG analysis. Computers in Cardiology. 2002;29:101-104.
Tsipouras MG, Fotiadis DI, Sideris D. An arrhythmia classification system based on the
RR-interval signal. Artif Intell Med. 2005;33(3):237-250 (premature beat: 1.15 RR2 < RR1 and
1.15 RR2 < RR3; here either side suffices, so the first and last beats of a run still count).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.fft as sfft
from scipy.ndimage import median_filter

from tools.errors import SignalValueError
from tools.medians import sorted_median

# ---- constants (one place; each with its justification) -----------------------------------
#: Beat class codes (AAMI EC57): normal, supraventricular ectopic, ventricular, unclassifiable.
NORMAL, SUPRAVENTRICULAR, VENTRICULAR, UNCLASSIFIED = "N", "S", "V", "Q"
CLASS_NAMES: dict[str, str] = {
    NORMAL: "normal",
    SUPRAVENTRICULAR: "supraventricular premature",
    VENTRICULAR: "ventricular",
    UNCLASSIFIED: "unclassifiable",
}
#: QRS window around the R peak (s): covers a 200 ms ventricular complex whichever part of
#: it the R peak marks.
QRS_WINDOW_S = (-0.1, 0.14)
#: Band for morphology (Hz): removes baseline and mains, keeps the QRS shape.
MORPHOLOGY_BAND_HZ = (1.0, 40.0)
#: RR intervals in the local median that defines the expected RR (about 10 s at 60 bpm).
RR_REFERENCE_SPAN = 9
#: A beat is premature when its RR is under 88% of the local median RR: sinus arrhythmia
#: changes successive RR by under 10% at rest; APCs in MIT-BIH arrive 15-40% early.
PREMATURE_RATIO = 0.88
#: ... and when the RR before it is 15% shorter than the RR preceding or following it: the
#: abrupt shortening (or pause after) of Tsipouras et al. 2005; respiratory sinus arrhythmia
#: of +-10% changes neighbouring RR by under 10%.
ABRUPT_RATIO = 1.15
#: Multi-lead correlation with the median beat below which a QRS is ventricular (aberrant
#: morphology): repeated sinus beats correlate above 0.9 even with moderate noise.
V_CORRELATION = 0.75
#: A QRS wider than the median beat by 40 ms (a bundle-branch-like widening) ...
V_WIDTH_EXCESS_MS = 40.0
#: ... with a correlation below 0.9 is ventricular too.
V_WIDE_CORRELATION = 0.9
#: The QRS width is where the summed absolute slope exceeds this fraction of its peak.
WIDTH_SLOPE_FRACTION = 0.2


@dataclass(frozen=True, eq=False)
class BeatClasses:
    """Per-beat classes and the features behind them (all arrays ``[beats]``).

    Attributes
    ----------
    r_peaks
        int64 sample indices of the beats.
    labels
        AAMI class code of each beat: ``"N"``, ``"S"``, ``"V"`` or ``"Q"``.
    premature
        Whether the beat arrived early (RR before under :data:`PREMATURE_RATIO` of the local
        median RR) and abruptly (see :data:`ABRUPT_RATIO`); False for the first beat.
    rr_before_ms, rr_after_ms
        RR interval before and after each beat (NaN for the first / last beat).
    rr_reference_ms
        Local median RR the prematurity is judged against.
    template_corr
        Multi-lead Pearson correlation of the QRS with the median beat (NaN when cut by the edge).
    qrs_width_ms
        Width of the QRS slope envelope (NaN when cut by the edge).
    template_width_ms
        The same width measured on the median beat.
    """

    r_peaks: np.ndarray
    labels: np.ndarray
    premature: np.ndarray
    rr_before_ms: np.ndarray
    rr_after_ms: np.ndarray
    rr_reference_ms: np.ndarray
    template_corr: np.ndarray
    qrs_width_ms: np.ndarray
    template_width_ms: float

    def __len__(self) -> int:
        return int(self.r_peaks.size)

    def counts(self) -> dict[str, int]:
        """Number of beats per class code (every code present, zeros included)."""
        return {code: int(np.count_nonzero(self.labels == code)) for code in CLASS_NAMES}

    def indices(self, code: str) -> np.ndarray:
        """Positions (into ``r_peaks``) of the beats of one class."""
        return np.flatnonzero(self.labels == code)


def classify_beats(
    signal_mv: np.ndarray, fs_hz: float, r_peaks: np.ndarray, *, source: str | None = None
) -> BeatClasses:
    """Classify every beat as normal, supraventricular premature or ventricular.

    Parameters
    ----------
    signal_mv
        ``[leads, samples]`` in mV (1-D for one lead); NaN samples are treated as 0 mV after
        band-pass filtering.
    fs_hz
        Sampling rate in Hz.
    r_peaks
        Sorted R-peak sample indices (e.g. from :func:`tools.beats.detect_r_peaks`).
    source
        Record id or path, for error messages.

    Returns
    -------
    BeatClasses
        Class codes with the RR intervals, template correlation and QRS widths behind them.

    Raises
    ------
    SignalValueError
        Bad shape or sampling rate, or R peaks that are not sorted indices inside the record.

    Notes
    -----
    RR prematurity against a local median RR, and QRS morphology against the median beat by
    multi-lead correlation and width (de Chazal et al. 2004; Hamilton 2002); see the module
    docstring for the exact rules.
    """
    x, peaks = _validated(signal_mv, fs_hz, r_peaks, source)
    rr_before, rr_after, reference = _rr_features(peaks, fs_hz)
    premature = _premature(rr_before, rr_after, reference)
    windows, complete = _qrs_windows(_bandpassed(x, fs_hz), peaks, fs_hz)
    corr = np.full(peaks.size, np.nan)
    width = np.full(peaks.size, np.nan)
    template_width = float("nan")
    if complete.any():
        template = sorted_median(windows[:, complete], axis=1)  # [leads, window]
        corr[complete] = _correlation(windows[:, complete], template)
        width[complete] = _qrs_width_ms(windows[:, complete], fs_hz)
        template_width = float(_qrs_width_ms(template[:, np.newaxis], fs_hz)[0])
    ventricular = (corr < V_CORRELATION) | (
        (corr < V_WIDE_CORRELATION) & (width - template_width > V_WIDTH_EXCESS_MS)
    )
    labels = np.full(peaks.size, NORMAL, dtype="<U1")
    labels[premature & ~ventricular] = SUPRAVENTRICULAR
    labels[ventricular] = VENTRICULAR
    labels[~complete] = UNCLASSIFIED
    return BeatClasses(
        r_peaks=peaks,
        labels=labels,
        premature=premature,
        rr_before_ms=rr_before,
        rr_after_ms=rr_after,
        rr_reference_ms=reference,
        template_corr=corr,
        qrs_width_ms=width,
        template_width_ms=template_width,
    )


def _validated(
    signal_mv: np.ndarray, fs_hz: float, r_peaks: np.ndarray, source: str | None
) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(signal_mv)
    if x.ndim == 1:
        x = x[np.newaxis, :]
    if x.ndim != 2 or x.size == 0 or not np.issubdtype(x.dtype, np.number):
        raise SignalValueError(
            source, f"signal must be a numeric [leads, samples] array, got shape {x.shape}"
        )
    if not (np.isfinite(fs_hz) and fs_hz > 0):
        raise SignalValueError(source, f"sampling rate must be > 0 Hz, got {fs_hz}")
    peaks = np.asarray(r_peaks)
    fractional = peaks.size and not np.issubdtype(peaks.dtype, np.integer)
    if fractional and (not np.all(np.isfinite(peaks)) or np.any(peaks != np.round(peaks))):
        raise SignalValueError(source, "R peaks must be integer sample indices")
    peaks = peaks.astype(np.int64).ravel()
    if peaks.size and (peaks.min() < 0 or peaks.max() >= x.shape[1]):
        raise SignalValueError(
            source,
            f"R peaks must lie in 0..{x.shape[1] - 1}, got {peaks.min()}..{peaks.max()}",
        )
    if np.any(np.diff(peaks) <= 0):
        raise SignalValueError(source, "R peaks must be strictly increasing sample indices")
    return np.nan_to_num(x.astype(np.float64)), peaks


def _rr_features(peaks: np.ndarray, fs_hz: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """RR before/after each beat and the local median RR (ms), NaN where undefined."""
    n = peaks.size
    rr = np.diff(peaks) * (1000.0 / fs_hz)
    before = np.full(n, np.nan)
    after = np.full(n, np.nan)
    before[1:] = rr
    after[:-1] = rr
    reference = np.full(n, np.nan)
    if rr.size:
        local = median_filter(rr, size=min(RR_REFERENCE_SPAN, rr.size), mode="nearest")
        reference[1:] = local
    return before, after, reference


def _premature(rr_before: np.ndarray, rr_after: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Early against the local median RR and abrupt against a neighbouring RR (either side)."""
    rr_prior = np.full_like(rr_before, np.nan)
    rr_prior[1:] = rr_before[:-1]
    with np.errstate(invalid="ignore"):
        neighbour = np.fmax(rr_prior, rr_after)  # NaN only where both are undefined
        early = rr_before < PREMATURE_RATIO * reference
        abrupt = neighbour >= ABRUPT_RATIO * rr_before
    return np.asarray(early & abrupt)


def _bandpassed(x: np.ndarray, fs_hz: float) -> np.ndarray:
    """Zero-phase band-pass by one rFFT over all leads (fourth-order Butterworth edges)."""
    n = x.shape[1]
    n_fft = sfft.next_fast_len(n, real=True)
    freqs = sfft.rfftfreq(n_fft, 1.0 / fs_hz)
    low, high = MORPHOLOGY_BAND_HZ
    high = min(high, 0.45 * fs_hz)
    response = 1.0 / (1.0 + (low / np.maximum(freqs, 1e-12)) ** 8) / (1.0 + (freqs / high) ** 8)
    spectrum = sfft.rfft(x - x.mean(axis=1, keepdims=True), n=n_fft, axis=1)
    return np.asarray(sfft.irfft(spectrum * response, n=n_fft, axis=1)[:, :n])


def _qrs_windows(x: np.ndarray, peaks: np.ndarray, fs_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """QRS windows ``[leads, beats, window]`` (edges clipped) and which beats fit entirely."""
    start, stop = (round(t * fs_hz) for t in QRS_WINDOW_S)
    offsets = np.arange(start, stop + 1)
    complete = (peaks + start >= 0) & (peaks + stop < x.shape[1])
    idx = np.clip(peaks[:, np.newaxis] + offsets, 0, x.shape[1] - 1)
    windows = x[:, idx]
    return windows - windows.mean(axis=2, keepdims=True), complete


def _correlation(windows: np.ndarray, template: np.ndarray) -> np.ndarray:
    """Pearson correlation of each beat (all leads concatenated) with the template."""
    beats = np.moveaxis(windows, 1, 0).reshape(windows.shape[1], -1)
    ref = template.ravel()
    beats = beats - beats.mean(axis=1, keepdims=True)
    ref = ref - ref.mean()
    denom = np.linalg.norm(beats, axis=1) * np.linalg.norm(ref)
    return np.asarray(np.where(denom > 0, beats @ ref / np.maximum(denom, 1e-30), 0.0))


def _qrs_width_ms(windows: np.ndarray, fs_hz: float) -> np.ndarray:
    """Span (ms) where the lead-summed absolute slope exceeds a fraction of its peak."""
    slope = np.abs(np.diff(windows, axis=2)).sum(axis=0)  # [beats, window - 1]
    above = slope >= WIDTH_SLOPE_FRACTION * slope.max(axis=1, keepdims=True)
    first = np.argmax(above, axis=1)
    last = above.shape[1] - 1 - np.argmax(above[:, ::-1], axis=1)
    return np.asarray((last - first + 1) * (1000.0 / fs_hz))
