"""Isoelectric level of each beat, from the PR segment just before the global QRS onset."""

from __future__ import annotations

import numpy as np

from tools.delineate.filters import COARSE_MV, FINE_MV, Channels, edge_pad, strided_windows
from tools.delineate.windows import ms_to_samples

#: The isoelectric level is the mean of the QRS-scale signal over this window before the
#: global QRS onset (the PR segment's last part, past the P wave and before any Q wave).
ISO_WINDOW_MS = (-24.0, -6.0)
#: The flattest-window level is searched this far before the QRS core onset: past a
#: pre-excitation delta wave (up to ~80 ms of slurred QRS before the steep core) to the PR
#: segment ...
FLAT_SEARCH_MS = (-130.0, -6.0)
#: ... when the usual window is active: its mean multi-lead slope is above this fraction of
#: the QRS maximum (a PR segment's is a few %, a delta wave's 10-20 %) ...
ISO_ACTIVE_FRACTION = 0.07
#: ... and the flattest window is at most this fraction as active ...
ISO_FLATTER_RATIO = 0.5
#: ... and, in a lead, the P/T-scale signal runs from it to the usual window as a steady ramp
#: (a delta wave): moving by at least the IEC minimum wave (30 uV) ...
ISO_RAMP_MIN_MV = 0.03
#: ... and never turning back by more than 20 uV (a dip or P wave before the QRS turns back).
ISO_RAMP_TURN_MV = 0.02


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


def flattest_level(
    ch: Channels, envelope: np.ndarray, anchor: np.ndarray, peak: np.ndarray, fs_hz: float
) -> np.ndarray:
    """Isoelectric level ``[leads, beats]`` (mV) before each QRS core, off any slurred start.

    Parameters
    ----------
    ch
        Channels of the record.
    envelope
        float ``[samples]`` multi-lead slope envelope (:attr:`QrsCore.envelope`).
    anchor, peak
        int ``[beats]`` QRS core onsets and envelope maxima.
    fs_hz
        Sampling rate in Hz.

    Notes
    -----
    The level of :func:`isoelectric_level` (the window just before the core onset), except
    where that window is itself active, its mean envelope above :data:`ISO_ACTIVE_FRACTION`
    of the QRS maximum, as on a slurred pre-excitation delta wave whose late part would pass
    for baseline; there the level is read where the multi-lead slope is smallest in
    :data:`FLAT_SEARCH_MS` (the flattest part of the PR segment, as the isoelectric point of
    Laguna et al. 1994, Comput Biomed Res 27:45-60), when that is at most
    :data:`ISO_FLATTER_RATIO` times as active, in the leads where the signal runs from there
    into the QRS as a steady ramp (see :func:`_ramp`).
    """
    r = np.asarray(anchor, dtype=np.int64)
    width = max(ms_to_samples(ISO_WINDOW_MS[1] - ISO_WINDOW_MS[0], fs_hz), 1)
    first = ms_to_samples(FLAT_SEARCH_MS[0], fs_hz)
    last = ms_to_samples(FLAT_SEARCH_MS[1], fs_hz) - width
    n_starts = max(last - first + 1, 1)
    padded = edge_pad(envelope, ch.pad)
    env = strided_windows(padded, ch.pad, r + first, n_starts + width - 1)
    sums = np.cumsum(np.pad(env, [(0, 0), (1, 0)]), axis=-1)
    activity = (sums[:, width:] - sums[:, :-width]) / width  # [beats, n_starts]
    best = np.argmin(activity, axis=-1)
    default_start = ms_to_samples(ISO_WINDOW_MS[0], fs_hz)
    default = strided_windows(padded, ch.pad, r + default_start, width).mean(axis=-1)
    top = strided_windows(padded, ch.pad, np.asarray(peak, dtype=np.int64), 1)[:, 0]
    flattest = np.take_along_axis(activity, best[:, None], axis=-1)[:, 0]
    move = (default >= ISO_ACTIVE_FRACTION * top) & (flattest <= ISO_FLATTER_RATIO * default)
    flat_start = r + first + best
    level = isoelectric_level(ch, r, fs_hz)
    if not move.any():
        return level
    span = int(np.max(default_start - first - best[move])) + width
    length = np.minimum(r + default_start + width - flat_start, span)
    ramp = _ramp(ch.window(COARSE_MV, flat_start, span), length)
    moved = ch.window(FINE_MV, flat_start, width).mean(axis=-1)
    return np.where(move[None, :] & ramp, moved, level)


def _ramp(seg: np.ndarray, length: np.ndarray) -> np.ndarray:
    """bool ``[leads, beats]``: the first ``length`` samples rise or fall steadily.

    A steady ramp moves by at least :data:`ISO_RAMP_MIN_MV` end to end and never turns back
    by more than :data:`ISO_RAMP_TURN_MV` (a P wave or a dip before the QRS turns back).
    """
    inside = np.arange(seg.shape[-1]) < length[None, :, None]
    last = np.take_along_axis(seg, np.maximum(length - 1, 0)[None, :, None], axis=-1)[..., 0]
    rise = last - seg[..., 0]
    up = np.where(inside, seg, -np.inf)
    down = np.where(inside, seg, np.inf)
    turn_up = (np.maximum.accumulate(up, axis=-1) - seg).max(axis=-1, where=inside, initial=0.0)
    turn_down = (seg - np.minimum.accumulate(down, axis=-1)).max(axis=-1, where=inside, initial=0.0)
    turn = np.where(rise > 0, turn_up, turn_down)
    return np.asarray((np.abs(rise) >= ISO_RAMP_MIN_MV) & (turn <= ISO_RAMP_TURN_MV))
