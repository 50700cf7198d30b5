"""T wave: peak, morphology (positive, negative, biphasic, flat) and scorer inputs.

The T wave is searched between the lead's J point (plus a short ST segment) and a fraction of
the RR interval, on the P/T-scale signal measured against a baseline drawn through this and
the next beat's isoelectric levels. Its phases are the largest interior local maximum and
minimum of that deviation (a peak is a zero crossing of the smoothed slope, as in Martínez et
al. 2004); their sizes and order give the morphology.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tools.delineate.baseline import baseline_between, isoelectric_level
from tools.delineate.filters import ABS_COARSE, ABS_FINE, COARSE_MV, Channels
from tools.delineate.params import (
    T_BIPHASIC_RATIO,
    T_CONSENSUS_MIN_QRS_MV,
    T_CONSENSUS_SIGMA_MS,
    T_FLAT_FRACTION,
    T_FLAT_MV,
    T_PEAK_RR_COEF,
    T_PEAK_RR_SPREAD,
    T_PHASE_MS,
    T_PHASE_RETURN,
    T_SEARCH_MAX_MS,
    T_SEARCH_RR_FRACTION,
    T_SEARCH_START_MS,
)
from tools.delineate.scorer import BoundaryInputs
from tools.delineate.windows import (
    ABSENT,
    local_maxima,
    local_minima,
    masked_argmax,
    ms_to_samples,
    take_last,
    window_index,
)

#: T morphology labels, indexed by the codes in :attr:`TWave.morphology`.
T_MORPHOLOGIES: tuple[str, ...] = (
    "absent",
    "positive",
    "negative",
    "biphasic+/-",
    "biphasic-/+",
    "flat",
)
ABSENT_T, POSITIVE_T, NEGATIVE_T, BIPHASIC_POS_NEG, BIPHASIC_NEG_POS, FLAT_T = range(6)

#: Smallest amplitude used to normalise the level feature (avoids dividing by ~0 on flat T).
_MIN_AMPLITUDE_MV = 0.01


@dataclass(frozen=True)
class TWave:
    """T wave findings ``[leads, beats]`` and the inputs of its boundary scorers."""

    peak: np.ndarray
    morphology: np.ndarray
    amplitude_mv: np.ndarray
    onset_inputs: BoundaryInputs
    offset_inputs: BoundaryInputs


def _consensus(
    dev: np.ndarray,
    inside: np.ndarray,
    qrs_ptp: np.ndarray,
    usable: np.ndarray,
    expected: np.ndarray,
    spread: np.ndarray,
) -> np.ndarray:
    """Window index ``[beats]`` of the multi-lead T maximum.

    The sum over leads of |T| / QRS amplitude, weighted by a Gaussian around the expected T
    peak time (``expected``, ``spread``: window indices ``[beats]``), so that at fast rates a
    larger P wave of the next beat does not pass for the T wave.
    """
    weight = np.where(usable[:, None], 1.0 / np.maximum(qrs_ptp, T_CONSENSUS_MIN_QRS_MV), 0.0)
    energy = (np.where(inside, np.abs(dev), 0.0) * weight[..., None]).sum(axis=0)
    w = np.arange(dev.shape[-1])
    prior = np.exp(-0.5 * ((w - expected[:, None]) / spread[:, None]) ** 2)
    return np.argmax(energy * prior, axis=-1)


def _phases(
    dev: np.ndarray, inside: np.ndarray, centre: np.ndarray, fs_hz: float
) -> tuple[np.ndarray, ...]:
    """Main phase (largest |T| weighted by closeness to the multi-lead T time) and the
    largest opposite phase near it: (main index, main positive?, opposite index, found?)."""
    inner = inside.copy()
    inner[..., 0] = False
    inner[..., -1] = False
    peaks_pos = local_maxima(dev) & inner
    peaks_neg = local_minima(dev) & inner
    w = np.arange(dev.shape[-1])
    sigma = T_CONSENSUS_SIGMA_MS * fs_hz / 1000.0
    closeness = np.exp(-0.5 * ((w - centre[:, None]) / sigma) ** 2)
    main, found = masked_argmax(np.abs(dev) * closeness, peaks_pos | peaks_neg)
    main_pos = take_last(dev, main) >= 0
    span = T_PHASE_MS * fs_hz / 1000.0
    near = _within(w, main, span)
    opposite = np.where(main_pos[..., None], peaks_neg, peaks_pos) & near
    toward = np.where(main_pos[..., None], -dev, dev)  # the opposite phase's direction
    opp, has_opp = masked_argmax(toward, opposite)
    # A real opposite phase comes back towards the baseline on its far side (by at least
    # T_PHASE_RETURN of its height); a step in the level after the T wave does not.
    phase = _closer_to_first(w, main, opp)
    far_side = inside & ~phase & _within(w, opp, span)
    back = np.where(far_side, toward, np.inf).min(axis=-1, initial=np.inf)
    height = take_last(toward, opp)
    returns = np.isfinite(back) & (height - back >= T_PHASE_RETURN * np.maximum(height, 0.0))
    # ... and lies across the baseline: a notch in a dome T, or a U wave after a negative T
    # that stays below the baseline, is a local extremum on the same side, not a phase.
    return main, main_pos, found, opp, has_opp & returns & (height > 0)


def _within(w: np.ndarray, centre: np.ndarray, span: float) -> np.ndarray:
    """``|w - centre[..., None]| <= span`` as two comparisons (no ``[..., W]`` temporaries)."""
    c = centre[..., None]
    return (w >= c - span) & (w <= c + span)


def _closer_to_first(w: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``|w - a| <= |w - b|`` for integer samples ``w [W]`` and ``a, b [...]``: the half-line
    on ``a``'s side of the midpoint (all of it when ``a == b``)."""
    twice = 2 * w
    mid = (a + b)[..., None]
    side = np.where((a < b)[..., None], twice <= mid, twice >= mid)
    return np.asarray(side | (a == b)[..., None])


def _morphology(
    pos: np.ndarray, neg: np.ndarray, pos_first: np.ndarray, qrs_ptp: np.ndarray
) -> np.ndarray:
    big = np.maximum(pos, neg)
    small = np.minimum(pos, neg)
    flat_thr = np.maximum(T_FLAT_MV, T_FLAT_FRACTION * qrs_ptp)
    code = np.where(pos >= neg, POSITIVE_T, NEGATIVE_T)
    biphasic = small >= np.maximum(T_BIPHASIC_RATIO * big, flat_thr)
    code = np.where(biphasic, np.where(pos_first, BIPHASIC_POS_NEG, BIPHASIC_NEG_POS), code)
    return np.where(big < flat_thr, FLAT_T, code).astype(np.int8)


def find_t_waves(
    ch: Channels,
    r_peaks: np.ndarray,
    qrs_off: np.ndarray,
    global_on: np.ndarray,
    iso_level: np.ndarray,
    qrs_ptp: np.ndarray,
    rr_next: np.ndarray,
    fs_hz: float,
) -> TWave:
    """Find each lead's T wave and prepare its onset/offset scorer inputs.

    Parameters
    ----------
    ch
        Channels of the record.
    r_peaks
        int ``[beats]`` fiducials.
    qrs_off
        int ``[leads, beats]`` QRS offsets (J points), -1 when absent.
    global_on
        int ``[beats]`` global QRS onsets (baseline anchors).
    iso_level
        ``[leads, beats]`` isoelectric levels at ``global_on``.
    qrs_ptp
        ``[leads, beats]`` QRS peak-to-peak amplitudes in mV.
    rr_next
        int ``[beats]`` samples to the next fiducial (a typical RR for the last beat).
    fs_hz
        Sampling rate in Hz.

    Returns
    -------
    TWave
    """
    r = np.asarray(r_peaks, dtype=np.int64)
    lead_start = qrs_off + ms_to_samples(T_SEARCH_START_MS, fs_hz)
    reach = np.minimum(T_SEARCH_RR_FRACTION * rr_next, T_SEARCH_MAX_MS * fs_hz / 1000.0)
    stop = r + reach.astype(np.int64)
    valid = (qrs_off >= 0) & (stop[None, :] > lead_start + 2)
    lead_start = np.where(valid, lead_start, stop[None, :])
    start = lead_start.min(axis=0, initial=np.iinfo(np.int64).max) if r.size else stop
    start = np.minimum(start, stop)
    length = int(np.max(stop - start, initial=0)) + 1
    idx = window_index(start, length)
    inside = (idx[None] >= lead_start[..., None]) & (idx[None] <= stop[None, :, None])
    inside &= valid[..., None] & (idx[None] < ch.n_samples)
    src = ch.window([COARSE_MV, ABS_FINE, ABS_COARSE], start, length)
    # Baseline through this PR level and the next one, one RR later (the next beat's onset;
    # for the median beat, the next complex inside its window).
    next_on = global_on + rr_next
    next_iso = isoelectric_level(ch, next_on, fs_hz)

    def baseline(positions: np.ndarray) -> np.ndarray:
        return baseline_between(iso_level, global_on, next_iso, next_on, positions)

    dev = src[0] - baseline(idx[None])  # the same sample grid in every lead: broadcast
    root_rr = np.sqrt(np.maximum(rr_next, 1) / fs_hz)
    expected = r + T_PEAK_RR_COEF * root_rr * fs_hz - start
    spread = np.maximum(T_PEAK_RR_SPREAD * root_rr * fs_hz, 1.0)
    centre = _consensus(dev, inside, qrs_ptp, ch.usable, expected, spread)
    main, main_pos, found, opp, has_opp = _phases(dev, inside, centre, fs_hz)
    main_amp = np.abs(take_last(dev, main))
    opp_amp = np.where(has_opp, np.abs(take_last(dev, opp)), 0.0)
    pos = np.where(main_pos, main_amp, opp_amp)
    neg = np.where(main_pos, opp_amp, main_amp)
    hi = np.where(main_pos, main, opp)
    lo = np.where(main_pos, opp, main)
    pos_first = hi < lo
    morph = _morphology(pos, neg, pos_first, qrs_ptp)
    present = valid & found
    morph = np.where(present, morph, ABSENT_T).astype(np.int8)
    biphasic = (morph == BIPHASIC_POS_NEG) | (morph == BIPHASIC_NEG_POS)
    use_pos = np.where(biphasic, pos >= neg, main_pos)
    peak_i = np.where(biphasic, np.where(pos >= neg, hi, lo), main)
    first_i = np.where(biphasic, np.minimum(hi, lo), main)
    last_i = np.where(biphasic, np.maximum(hi, lo), main)
    first_pos = np.where(biphasic, pos_first, main_pos)
    last_pos = np.where(biphasic, ~pos_first, main_pos)

    fine_scale = np.maximum(np.where(inside, src[1], 0).max(axis=-1, initial=0.0), 1e-9)
    coarse_scale = np.maximum(np.where(inside, src[2], 0).max(axis=-1, initial=0.0), 1e-9)

    def sample(i: np.ndarray) -> np.ndarray:
        return np.where(present, start[None, :] + i, ABSENT).astype(np.int64)

    peak = sample(peak_i)
    amp_first = np.maximum(np.where(first_pos, pos, neg), _MIN_AMPLITUDE_MV)
    amp_last = np.maximum(np.where(last_pos, pos, neg), _MIN_AMPLITUDE_MV)
    # The T wave ends before the next QRS: the next fiducial's onset, or one RR after this
    # onset where the next beat is not a fiducial (the median beat, the last beat).
    nxt = np.concatenate([global_on[1:], [ch.n_samples]]) if r.size else global_on
    nxt = np.minimum(nxt, global_on + rr_next)
    onset_inputs = BoundaryInputs(
        anchor=sample(first_i),
        lo=np.where(valid, qrs_off + 1, 0),
        hi=sample(first_i) - 1,
        fine_scale=fine_scale,
        coarse_scale=coarse_scale,
        amplitude=amp_first,
        polarity=np.where(first_pos, 1.0, -1.0),
        baseline_mv=iso_level,
    )
    offset_inputs = BoundaryInputs(
        anchor=sample(last_i),
        lo=sample(last_i) + 1,
        hi=np.broadcast_to(nxt[None, :] - 1, peak.shape),
        fine_scale=fine_scale,
        coarse_scale=coarse_scale,
        amplitude=amp_last,
        polarity=np.where(last_pos, 1.0, -1.0),
        baseline_mv=baseline(sample(last_i)[..., None])[..., 0],
    )
    amplitude = np.where(use_pos, pos, -neg)
    return TWave(peak, morph, np.where(present, amplitude, 0.0), onset_inputs, offset_inputs)
