"""Isoelectric level of each beat, from the PR segment just before the global QRS onset."""

from __future__ import annotations

import numpy as np

from tools.delineate.filters import FINE_MV, Channels
from tools.delineate.windows import ms_to_samples

#: The isoelectric level is the mean of the QRS-scale signal over this window before the
#: global QRS onset (the PR segment's last part, past the P wave and before any Q wave).
ISO_WINDOW_MS = (-24.0, -6.0)


def isoelectric_level(ch: Channels, qrs_onset: np.ndarray, fs_hz: float) -> np.ndarray:
    """Mean level ``[leads, beats]`` in mV over :data:`ISO_WINDOW_MS` before each onset."""
    start = ms_to_samples(ISO_WINDOW_MS[0], fs_hz)
    stop = ms_to_samples(ISO_WINDOW_MS[1], fs_hz)
    return ch.window(FINE_MV, np.asarray(qrs_onset) + start, max(stop - start, 1)).mean(axis=-1)


def baseline_between(
    level: np.ndarray,
    onset: np.ndarray,
    next_level: np.ndarray,
    next_onset: np.ndarray,
    positions: np.ndarray,
) -> np.ndarray:
    """Linear baseline through each beat's isoelectric level and the next beat's.

    Parameters
    ----------
    level, next_level
        ``[leads, beats]`` isoelectric levels at this beat's global QRS onset ``onset`` and
        at the next beat's, ``next_onset`` (``[beats]``).
    positions
        int ``[leads, beats, W]`` samples where the baseline is wanted (``[1, beats, W]``
        when they are the same in every lead: the result broadcasts to ``[leads, ...]``).

    Returns
    -------
    numpy.ndarray
        ``[leads, beats, W]``: the level interpolated between the two onsets, which removes
        baseline wander under the T wave.
    """
    if level.shape[1] == 0:
        return np.zeros(positions.shape)
    nxt_level = next_level
    on = np.asarray(onset, dtype=np.float64)
    nxt_on = np.asarray(next_onset, dtype=np.float64)
    span = np.maximum(nxt_on - on, 1.0)
    frac = np.clip((positions - on[None, :, None]) / span[None, :, None], 0.0, 1.0)
    return level[..., None] + (nxt_level - level)[..., None] * frac
