"""Vectorised helpers that read values out of ``[leads, samples]`` at fiducial points."""

from __future__ import annotations

import numpy as np


def ms_to_samples(ms: float, fs_hz: float) -> int:
    """Duration in ms as a whole number of samples (at least 1)."""
    return max(1, round(ms * fs_hz / 1000.0))


def take(signal_mv: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``signal[lead, index[lead, ...]]`` with NaN where the index is -1 or out of range.

    ``index`` is ``[leads]`` or ``[leads, beats]`` (one row per signal row).
    """
    idx = np.asarray(index, dtype=np.int64)
    n = signal_mv.shape[1]
    ok = (idx >= 0) & (idx < n)
    rows = np.arange(signal_mv.shape[0]).reshape((-1,) + (1,) * (idx.ndim - 1))
    values = signal_mv[rows, np.clip(idx, 0, n - 1)].astype(np.float64)
    return np.where(ok, values, np.nan)


def window_mean(signal_mv: np.ndarray, start: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """Mean of ``signal[lead, start:stop]`` for broadcastable index arrays, NaN when empty.

    Uses one cumulative sum per lead, so it costs O(samples) whatever the number of windows.
    """
    n = signal_mv.shape[1]
    csum = np.concatenate(
        [np.zeros((signal_mv.shape[0], 1)), np.cumsum(signal_mv, axis=1, dtype=np.float64)],
        axis=1,
    )
    a = np.clip(np.asarray(start, dtype=np.int64), 0, n)
    b = np.clip(np.asarray(stop, dtype=np.int64), 0, n)
    ok = (np.asarray(start) >= 0) & (b > a)
    rows = np.arange(signal_mv.shape[0]).reshape((-1,) + (1,) * (a.ndim - 1))
    total = csum[rows, b] - csum[rows, a]
    return np.where(ok, total / np.maximum(b - a, 1), np.nan)


def baseline_mv(
    signal_mv: np.ndarray, p_off: np.ndarray, qrs_on: np.ndarray, window: int
) -> np.ndarray:
    """PR-segment level (P offset to QRS onset) or, without a long enough PR segment, the
    mean of the ``window`` samples before QRS onset. NaN where QRS onset is absent."""
    qrs_on = np.asarray(qrs_on, dtype=np.int64)
    p_off = np.asarray(p_off, dtype=np.int64)
    has_pr = (p_off >= 0) & (qrs_on - p_off >= window)
    start = np.where(has_pr, p_off, qrs_on - window)
    level = window_mean(signal_mv, start, qrs_on)
    return np.where(qrs_on >= 0, level, np.nan)


def extreme_in_window(
    signal_mv: np.ndarray, start: np.ndarray, stop: np.ndarray, baseline: np.ndarray
) -> np.ndarray:
    """Signed largest deflection from ``baseline`` within ``[start, stop]`` (inclusive).

    Arrays are ``[leads, beats]``; NaN where the window is absent. Windows are gathered into
    one padded ``[leads, beats, width]`` block (width = the longest window).
    """
    start = np.asarray(start, dtype=np.int64)
    stop = np.asarray(stop, dtype=np.int64)
    ok = (start >= 0) & (stop >= start)
    if not ok.any():
        return np.full(start.shape, np.nan)
    width = int((stop - start)[ok].max()) + 1
    offsets = np.arange(width)
    idx = np.where(ok, start, 0)[..., None] + offsets
    inside = offsets <= np.where(ok, stop - start, -1)[..., None]
    n = signal_mv.shape[1]
    rows = np.arange(signal_mv.shape[0])[:, None, None]
    values = signal_mv[rows, np.clip(idx, 0, n - 1)] - np.asarray(baseline)[..., None]
    values = np.where(inside & (idx < n), values, 0.0)
    pick = np.argmax(np.abs(values), axis=-1)
    best = np.take_along_axis(values, pick[..., None], axis=-1)[..., 0]
    return np.where(ok, best, np.nan)
