"""Sample-rate conversion, cropping and padding on ``[leads, samples]`` arrays.

Every function takes and returns ``[leads, samples]`` float arrays with explicit sample counts
or rates; the record-level helpers wrap them and keep the metadata.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from scipy.signal import resample_poly

from tools.errors import SignalValueError
from tools.record import ECGRecord

#: Largest up/down factor accepted for a rational rate ratio (keeps filters short and exact).
MAX_RATIONAL_DENOMINATOR = 10_000


def rational_ratio(fs_in_hz: float, fs_out_hz: float) -> tuple[int, int]:
    """Return ``(up, down)`` integers with ``fs_out / fs_in == up / down`` exactly.

    Raises
    ------
    SignalValueError
        When a rate is not positive, or the ratio is not a ratio of small integers
        (e.g. 257 Hz -> 500 Hz is 500/257, accepted; an irrational-looking 499.7313 is not).
    """
    if not (fs_in_hz > 0 and fs_out_hz > 0):
        raise SignalValueError(None, f"rates must be > 0 Hz, got {fs_in_hz} -> {fs_out_hz}")
    ratio = Fraction(fs_out_hz).limit_denominator(MAX_RATIONAL_DENOMINATOR) / Fraction(
        fs_in_hz
    ).limit_denominator(MAX_RATIONAL_DENOMINATOR)
    if abs(float(ratio) - fs_out_hz / fs_in_hz) > 1e-9 * fs_out_hz / fs_in_hz:
        raise SignalValueError(None, f"cannot resample {fs_in_hz} Hz -> {fs_out_hz} Hz exactly")
    return ratio.numerator, ratio.denominator


def resampled_length(n_samples: int, fs_in_hz: float, fs_out_hz: float) -> int:
    """Number of output samples :func:`resample` returns: ``ceil(n * up / down)``."""
    up, down = rational_ratio(fs_in_hz, fs_out_hz)
    return -(-n_samples * up // down)


def resample(signal: np.ndarray, fs_in_hz: float, fs_out_hz: float) -> np.ndarray:
    """Resample ``[leads, samples]`` with a polyphase anti-aliasing filter.

    Uses scipy's :func:`~scipy.signal.resample_poly` with the exact rational ratio
    (e.g. 360 -> 500 Hz is up 25, down 18). NaN samples stay NaN: every output sample whose
    filter support touches a NaN input is NaN.

    Parameters
    ----------
    signal
        ``[leads, samples]`` array.
    fs_in_hz, fs_out_hz
        Input and output rates in Hz.

    Returns
    -------
    numpy.ndarray
        float32 ``[leads, resampled_length(samples)]``.
    """
    x = np.asarray(signal, dtype=np.float64)
    if x.ndim != 2:
        raise SignalValueError(None, f"expected [leads, samples], got shape {x.shape}")
    up, down = rational_ratio(fs_in_hz, fs_out_hz)
    if up == down:
        return x.astype(np.float32)
    nan_mask = np.isnan(x)
    y = resample_poly(np.where(nan_mask, 0.0, x), up, down, axis=1)
    if nan_mask.any():
        spread = resample_poly(nan_mask.astype(np.float64), up, down, axis=1)
        y[np.abs(spread) > 1e-6] = np.nan
    return y.astype(np.float32)


def crop(signal: np.ndarray, start_sample: int, n_samples: int) -> np.ndarray:
    """Samples ``[start_sample, start_sample + n_samples)`` of every lead.

    Raises
    ------
    SignalValueError
        When the window does not lie inside the signal.
    """
    x = np.asarray(signal)
    if start_sample < 0 or n_samples <= 0 or start_sample + n_samples > x.shape[-1]:
        raise SignalValueError(
            None,
            f"crop window [{start_sample}, {start_sample + n_samples}) is outside the "
            f"{x.shape[-1]} samples",
        )
    return x[..., start_sample : start_sample + n_samples]


def pad_or_crop(signal: np.ndarray, n_samples: int, fill_value: float = 0.0) -> np.ndarray:
    """Right-pad with ``fill_value`` or cut to exactly ``n_samples`` (GEM's input rule)."""
    x = np.asarray(signal)
    if n_samples <= 0:
        raise SignalValueError(None, f"n_samples must be > 0, got {n_samples}")
    if x.shape[-1] >= n_samples:
        return x[..., :n_samples]
    pad = [(0, 0)] * (x.ndim - 1) + [(0, n_samples - x.shape[-1])]
    return np.pad(x, pad, constant_values=fill_value)


def resample_record(record: ECGRecord, fs_out_hz: float) -> ECGRecord:
    """The record at ``fs_out_hz`` (same leads and metadata)."""
    if record.fs_hz == fs_out_hz:
        return record
    return record.with_signal(resample(record.signal_mv, record.fs_hz, fs_out_hz), fs_out_hz)


def crop_record(record: ECGRecord, start_s: float, duration_s: float) -> ECGRecord:
    """The record cut to ``[start_s, start_s + duration_s)``, in seconds."""
    start = round(start_s * record.fs_hz)
    n = round(duration_s * record.fs_hz)
    return record.with_signal(crop(record.signal_mv, start, n))
