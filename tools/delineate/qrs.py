"""QRS complex: the multi-lead QRS core of each beat and the Q, R, S, R' peaks of each lead.

The core is found on a spatial slope envelope (sum over leads of normalised absolute slopes),
the multi-lead analogue of the spatial velocity used by the CSE programs; per-lead onsets and
offsets are then placed by the boundary scorers (:mod:`tools.delineate.scorer`) inside
windows anchored on the core.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d, minimum_filter1d

from tools.delineate.filters import ABS_FINE, FINE_MV, Channels, edge_pad, strided_windows
from tools.delineate.params import (
    ACTIVITY_MARGIN_MS,
    CORE_FRACTION,
    ENVELOPE_SIGMA_MS,
    QRS_HALF_WIDTH_MS,
    QRS_SEARCH_HALF_MS,
    QRS_WAVE_MIN_MS,
    QRS_WAVE_MIN_MV,
)
from tools.delineate.windows import (
    ABSENT,
    first_true,
    last_true,
    masked_argmax,
    ms_to_samples,
    take_last,
    window_index,
)
from tools.medians import sorted_median


@dataclass(frozen=True)
class QrsCore:
    """Per-beat QRS core from the multi-lead slope envelope (sample indices ``[beats]``).

    Attributes
    ----------
    onset, offset, peak
        First and last sample above the envelope threshold, and the envelope maximum.
    before, after
        Limits for the per-lead boundaries: the last sample of earlier activity above the
        threshold (a steep P wave) and the first of later activity (a T wave that follows
        the QRS closely at fast rates), else the midpoints to the neighbouring fiducials.
    lead_slope
        float ``[leads]``: each lead's typical QRS maximum absolute slope (mV/sample).
    beat_slope
        float ``[leads, beats]``: maximum absolute fine slope around each beat's QRS.
    envelope
        float ``[samples]``: the normalised multi-lead slope envelope of the whole record.
    """

    onset: np.ndarray
    offset: np.ndarray
    peak: np.ndarray
    before: np.ndarray
    after: np.ndarray
    lead_slope: np.ndarray
    beat_slope: np.ndarray
    envelope: np.ndarray


def neighbour_limits(r_peaks: np.ndarray, n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """Midpoints to the previous and next fiducials (signal ends for the first/last beat)."""
    r = np.asarray(r_peaks, dtype=np.int64)
    left = np.empty_like(r)
    right = np.empty_like(r)
    if r.size:
        left[0] = 0
        right[-1] = n_samples - 1
        mid = (r[:-1] + r[1:]) // 2
        left[1:] = mid
        right[:-1] = mid
    return left, right


def find_qrs_core(ch: Channels, r_peaks: np.ndarray, fs_hz: float) -> QrsCore:
    """Locate each beat's QRS core on the spatial slope envelope.

    Parameters
    ----------
    ch
        Channels of the record.
    r_peaks
        int ``[beats]`` R fiducials (anywhere inside the QRS).
    fs_hz
        Sampling rate in Hz.

    Returns
    -------
    QrsCore

    Notes
    -----
    Each lead's absolute slope is divided by its median per-beat QRS maximum so every lead
    counts equally, summed over usable leads (spatial velocity, cf. the CSE multi-lead
    programs, Willems et al. 1987), smoothed, and thresholded at
    :data:`CORE_FRACTION` of its maximum near the fiducial.
    """
    n_leads, n = ch.fine_slope.shape
    half = ms_to_samples(QRS_HALF_WIDTH_MS, fs_hz)
    search = ms_to_samples(QRS_SEARCH_HALF_MS, fs_hz)
    r = np.asarray(r_peaks, dtype=np.int64)
    idx = window_index(r - half, 2 * half + 1)
    beat_slope = ch.window(ABS_FINE, r - half, 2 * half + 1).max(axis=-1)
    lead_slope = sorted_median(beat_slope, axis=1) if r.size else np.zeros(n_leads)
    weights = np.where(ch.usable & (lead_slope > 0), 1.0 / np.maximum(lead_slope, 1e-12), 0.0)
    n_usable = max(int(np.count_nonzero(weights)), 1)
    envelope = (weights @ ch.row(ABS_FINE)) / n_usable
    envelope = gaussian_filter1d(envelope, ENVELOPE_SIGMA_MS * fs_hz / 1000.0, mode="nearest")

    env = strided_windows(edge_pad(envelope, ch.pad), ch.pad, r - half, 2 * half + 1)
    left, right = neighbour_limits(r, n)
    inside = (idx >= left[:, None]) & (idx <= right[:, None]) & (idx >= 0) & (idx < n)
    near = np.abs(np.arange(2 * half + 1) - half) <= search
    m, _ = masked_argmax(env, inside & near[None, :])
    thr = CORE_FRACTION * take_last(env, m)
    w = np.arange(2 * half + 1)
    below = (env < thr[:, None]) | ~inside
    on = last_true(below & (w[None, :] < m[:, None]))
    off = first_true(below & (w[None, :] > m[:, None]))
    on = np.where(on == ABSENT, 0, on + 1)
    off = np.where(off == ABSENT, 2 * half, off - 1)
    above = (env >= thr[:, None]) & inside
    margin = ms_to_samples(ACTIVITY_MARGIN_MS, fs_hz)
    earlier = last_true(above & (w[None, :] < on[:, None]))
    later = first_true(above & (w[None, :] > off[:, None]))
    start = r - half
    return QrsCore(
        onset=start + on,
        offset=start + off,
        peak=start + m,
        before=np.where(earlier == ABSENT, left, start + earlier - margin),
        after=np.where(later == ABSENT, right, start + later + margin),
        lead_slope=lead_slope,
        beat_slope=beat_slope,
        envelope=envelope,
    )


@dataclass(frozen=True)
class QrsPeaks:
    """Q, R, S and R' peak samples ``[leads, beats]`` (-1 when the wave is absent)."""

    q: np.ndarray
    r: np.ndarray
    s: np.ndarray
    r2: np.ndarray


def _extreme_between(
    x: np.ndarray, lo: np.ndarray, hi: np.ndarray, sign: float, allowed: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Index and value of the largest ``sign * x`` with window index in ``[lo, hi]``.

    ``allowed`` (same shape as ``x``) leaves out the samples where it is False.
    """
    w = np.arange(x.shape[-1])
    mask = (w >= lo[..., None]) & (w <= hi[..., None])
    if allowed is not None:
        mask &= allowed
    idx, found = masked_argmax(sign * x, mask)
    val = np.where(found, sign * take_last(x, idx), -np.inf)
    return np.where(found, idx, ABSENT), val


def _returns_from(seg: np.ndarray, span: np.ndarray, thr: float) -> tuple[np.ndarray, np.ndarray]:
    """Samples the signal comes back from by ``thr`` before the window's end ``span``.

    ``(down, up)``: where a later sample (up to ``span``) lies at least ``thr`` below
    (a positive wave there falls back) or above (a negative wave rises back).
    """
    inside = np.arange(seg.shape[-1]) <= span[..., None]
    low_after = np.minimum.accumulate(np.where(inside, seg, np.inf)[..., ::-1], axis=-1)[..., ::-1]
    high_after = np.maximum.accumulate(np.where(inside, seg, -np.inf)[..., ::-1], axis=-1)
    return seg - low_after >= thr, high_after[..., ::-1] - seg >= thr


Waves = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _name_waves(
    seg: np.ndarray,
    held: tuple[np.ndarray, np.ndarray],
    span: np.ndarray,
    back: tuple[np.ndarray, np.ndarray],
) -> Waves:
    """Q, R, S, R' window indices (-1: absent) of QRS windows ``seg`` (see find_qrs_peaks).

    ``held`` are the eroded levels of positive and negative deflections; ``back`` the samples
    that positive and negative waves must turn back from (all True: no such condition).
    """
    falls, rises = back
    zero = np.zeros_like(span)
    w = np.arange(seg.shape[-1])
    flipped = -seg

    def wave(lo: np.ndarray, hi: np.ndarray, sign: float) -> tuple[np.ndarray, np.ndarray]:
        """The most extreme ``sign`` sample in ``[lo, hi]`` (-1: none), and whether the
        largest held deflection there reaches the minimum wave (one mask for both)."""
        mask = (w >= lo[..., None]) & (w <= hi[..., None])
        mask &= falls if sign > 0 else rises
        levels = held[0] if sign > 0 else held[1]
        found = mask.any(axis=-1)
        idx = np.argmax(np.where(mask, seg if sign > 0 else flipped, -np.inf), axis=-1)
        level_idx = np.argmax(np.where(mask, levels, -np.inf), axis=-1)
        size = np.where(found, take_last(levels, level_idx), -np.inf)
        return np.where(found, idx, ABSENT), size >= QRS_WAVE_MIN_MV

    top, has_top = wave(zero, span, 1.0)
    n_before, n_before_ok = wave(zero, top - 1, -1.0)
    early, early_ok = wave(zero, n_before - 1, 1.0)
    rsr = has_top & n_before_ok & early_ok
    r = np.where(rsr, early, top)
    r2 = np.where(rsr, top, ABSENT)
    q, q_ok = wave(zero, r - 1, -1.0)
    s_hi = np.where(rsr, top - 1, span)
    s, s_ok = wave(r + 1, s_hi, -1.0)
    late, late_ok = wave(s + 1, span, 1.0)
    plain_r2 = has_top & ~rsr & s_ok & late_ok
    r2 = np.where(plain_r2, late, r2)

    qs, _ = _extreme_between(seg, zero, span, -1.0)
    return (
        np.where(has_top, np.where(q_ok, q, ABSENT), qs),
        np.where(has_top, r, ABSENT),
        np.where(has_top & s_ok, s, ABSENT),
        np.where(has_top, r2, ABSENT),
    )


def find_qrs_peaks(
    ch: Channels,
    onset: np.ndarray,
    offset: np.ndarray,
    fs_hz: float,
    global_offset: np.ndarray | None = None,
) -> QrsPeaks:
    """Name the QRS deflections of each lead between its onset and offset.

    Amplitudes are taken against the level at QRS onset. A deflection counts as a wave when
    it stays beyond :data:`QRS_WAVE_MIN_MV` for :data:`QRS_WAVE_MIN_MS` (the IEC 60601-2-51
    minimum wave), tested on the signal eroded by a running minimum of that length. R is the
    largest positive wave; when another positive wave precedes it across a negative one,
    that earlier wave is R and the largest is R' (rsR' pattern). Q is the negative wave
    before R, S the one after R (before R'). With no positive wave the complex is QS: its
    minimum is reported as Q. A two-wave complex (``Qr``, ``Rs``) whose second wave never
    turns back by the minimum wave before the global QRS offset (or the lead's, if later)
    is one monophasic wave running into a displaced ST segment seen through a late offset
    (the QS of LBBB in V1 with its discordant ST elevation): it is named without that wave.

    Parameters
    ----------
    ch
        Channels of the record.
    onset, offset
        int ``[leads, beats]`` per-lead QRS boundaries (-1 when absent).
    fs_hz
        Sampling rate in Hz.
    global_offset
        int ``[beats]`` global (CSE) QRS offsets; ``None``: each lead's own offset.

    Returns
    -------
    QrsPeaks
    """
    valid = (onset >= 0) & (offset > onset)
    settle = offset if global_offset is None else np.maximum(offset, global_offset[None, :])
    length = int(np.max(np.where(valid, settle - onset, 0), initial=0)) + 1
    seg = ch.window(FINE_MV, np.where(valid, onset, 0), length)
    seg = seg - seg[..., :1]
    span = np.where(valid, offset - onset, -1)
    width = max(1, round(QRS_WAVE_MIN_MS * fs_hz / 1000.0))
    # Sustained level of each deflection: the running minimum of +seg (positive waves) and of
    # -seg (negative waves) over the minimum wave duration, centred.
    held_pos = minimum_filter1d(seg, width, axis=-1, mode="nearest")
    held_neg = minimum_filter1d(-seg, width, axis=-1, mode="nearest")

    falls, rises = _returns_from(seg, np.where(valid, settle - onset, -1), QRS_WAVE_MIN_MV)
    # Both readings (free, and waves that must turn back) in one stacked pass.
    free_mask = np.ones(seg.shape, dtype=bool)
    both = _name_waves(
        np.stack([seg, seg]),
        (np.stack([held_pos, held_pos]), np.stack([held_neg, held_neg])),
        np.stack([span, span]),
        (np.stack([free_mask, falls]), np.stack([free_mask, rises])),
    )
    free = tuple(wave[0] for wave in both)
    back = tuple(wave[1] for wave in both)
    # A two-wave complex (qR/QS-like "Qr", or "Rs") whose second wave never turns back is one
    # monophasic wave running into a displaced ST segment: keep the turning-back reading.
    two_wave = (free[1] >= 0) & (free[3] < 0) & ((free[0] >= 0) != (free[2] >= 0))
    q, r, s, r2 = (np.where(two_wave, b, f) for f, b in zip(free, back, strict=True))
    base = np.where(valid, onset, 0)

    def to_samples(i: np.ndarray) -> np.ndarray:
        return np.where(valid & (i >= 0), base + i, ABSENT).astype(np.int64)

    return QrsPeaks(q=to_samples(q), r=to_samples(r), s=to_samples(s), r2=to_samples(r2))
