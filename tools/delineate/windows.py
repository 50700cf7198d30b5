"""Window indices and masked arg-extrema over the last axis.

Every step of the delineator works on ``[leads, beats, window]`` blocks cut from the
``[leads, samples]`` channels, so there is no Python loop over beats or samples.
"""

from __future__ import annotations

import numpy as np

#: Sentinel for "no sample" in every index array of the delineator.
ABSENT = -1


def ms_to_samples(ms: float, fs_hz: float) -> int:
    """Round a duration in ms to a whole number of samples at ``fs_hz``."""
    return round(ms * fs_hz / 1000.0)


def window_index(start: np.ndarray, length: int) -> np.ndarray:
    """Sample indices ``start[..., None] + arange(length)`` (not clipped)."""
    return np.asarray(start, dtype=np.int64)[..., None] + np.arange(length, dtype=np.int64)


def masked_argmax(values: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Argmax over the last axis among ``mask``; returns ``(index, found)``.

    ``index`` is 0 where nothing is masked in; ``found`` says where something was.
    """
    filled = np.where(mask, values, -np.inf)
    return np.argmax(filled, axis=-1), np.asarray(mask.any(axis=-1))


def first_true(mask: np.ndarray) -> np.ndarray:
    """Index of the first True along the last axis, ``-1`` where there is none."""
    idx = np.argmax(mask, axis=-1)
    return np.where(mask.any(axis=-1), idx, ABSENT)


def last_true(mask: np.ndarray) -> np.ndarray:
    """Index of the last True along the last axis, ``-1`` where there is none."""
    w = mask.shape[-1]
    idx = w - 1 - np.argmax(mask[..., ::-1], axis=-1)
    return np.where(mask.any(axis=-1), idx, ABSENT)


def take_last(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``values[..., index]`` for an index array shaped like ``values`` minus its last axis."""
    # np.minimum/np.maximum and a flat gather: same values as np.clip + take_along_axis,
    # without their per-call Python overhead (this runs hundreds of times per record).
    safe = np.minimum(np.maximum(index, 0), values.shape[-1] - 1)
    if safe.shape != values.shape[:-1] or values.size == 0:
        return np.take_along_axis(values, safe[..., None], axis=-1)[..., 0]
    flat = values.reshape(-1, values.shape[-1])
    return flat[np.arange(flat.shape[0]), safe.reshape(-1)].reshape(safe.shape)


def local_maxima(x: np.ndarray) -> np.ndarray:
    """bool mask of interior local maxima (plateaus count once, at their first sample)."""
    m = np.zeros(x.shape, dtype=bool)
    m[..., 1:-1] = (x[..., 1:-1] > x[..., :-2]) & (x[..., 1:-1] >= x[..., 2:])
    return m


def local_minima(x: np.ndarray) -> np.ndarray:
    """``local_maxima(-x)`` without negating ``x``: interior local minima (plateaus count
    once, at their first sample)."""
    m = np.zeros(x.shape, dtype=bool)
    m[..., 1:-1] = (x[..., 1:-1] < x[..., :-2]) & (x[..., 1:-1] <= x[..., 2:])
    return m


def nan_median(x: np.ndarray, axis: int) -> np.ndarray:
    """Median over ``axis`` ignoring NaN; NaN where all are NaN (and no warning)."""
    last = np.moveaxis(x, axis, -1)  # sorted along the last axis: the fast one
    s = np.sort(last, axis=-1)
    n = np.sum(~np.isnan(last), axis=-1)
    lo = take_last(s, np.maximum((n - 1) // 2, 0))
    hi = take_last(s, np.maximum(n // 2, 0))
    hi = np.where(n > 1, hi, lo)
    return np.where(n > 0, 0.5 * (lo + hi), np.nan)
