"""Median beat per lead: beats aligned on their R fiducials, sample-wise median.

The median of aligned beats keeps every time-locked wave and suppresses noise and waves that
are not locked to the QRS (e.g. atrial fibrillation waves, a non-conducted P).
"""

from __future__ import annotations

import numpy as np

from tools.delineate.params import MEDIAN_POST_MS, MEDIAN_PRE_MS
from tools.delineate.windows import ms_to_samples, window_index
from tools.medians import sorted_median


def median_beat(
    signal_mv: np.ndarray, r_peaks: np.ndarray, fs_hz: float, beat_mask: np.ndarray | None = None
) -> tuple[np.ndarray, int, int]:
    """Median over the selected beats of windows ``[R - pre, R + post]`` of every lead.

    Parameters
    ----------
    signal_mv
        ``[leads, samples]`` (NaN-free; fill missing samples first).
    r_peaks
        int ``[beats]`` fiducials.
    fs_hz
        Sampling rate in Hz.
    beat_mask
        Optional bool ``[beats]``: beats to use (e.g. those classified normal).

    Returns
    -------
    tuple
        ``(median [leads, window] float32, r_index, n_beats)``; ``n_beats`` is 0 (and the
        median empty) when no selected beat's window lies wholly inside the record.
    """
    pre = ms_to_samples(MEDIAN_PRE_MS, fs_hz)
    post = ms_to_samples(MEDIAN_POST_MS, fs_hz)
    r = np.asarray(r_peaks, dtype=np.int64)
    keep = (r - pre >= 0) & (r + post < signal_mv.shape[1])
    if beat_mask is not None:
        keep &= np.asarray(beat_mask, dtype=bool)
    if not keep.any():
        return np.zeros((signal_mv.shape[0], 0), dtype=np.float32), pre, 0
    idx = window_index(r[keep] - pre, pre + post + 1)
    windows = signal_mv[:, idx]
    return sorted_median(windows, axis=1).astype(np.float32), pre, int(keep.sum())
