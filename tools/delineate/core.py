"""Public entry point: :func:`delineate` a multi-lead ECG around given R fiducials."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tools.delineate.filters import compute_channels, fill_missing
from tools.delineate.median_beat import median_beat
from tools.delineate.pipeline import delineate_channels, scorer_placer
from tools.delineate.pwave import logistic_presence, rr_irregularity
from tools.delineate.result import Delineation, GlobalPoints, MedianBeat, WavePoints
from tools.delineate.scorer import load_weights
from tools.delineate.windows import ms_to_samples
from tools.errors import SignalValueError

#: Flat gap between the record and the appended median beat: longer than the widest search
#: window (P search, T search) so neither sees the other.
JOIN_GAP_MS = 700.0


def _check_inputs(
    signal_mv: np.ndarray,
    fs_hz: float,
    r_peaks: np.ndarray,
    lead_names: Sequence[str],
    beat_mask: np.ndarray | None,
    source: str | None,
) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(signal_mv)
    if x.ndim != 2:
        raise SignalValueError(source, f"expected signal [leads, samples], got shape {x.shape}")
    if len(lead_names) != x.shape[0]:
        raise SignalValueError(source, f"{len(lead_names)} lead names for {x.shape[0]} signal rows")
    if not (np.isfinite(fs_hz) and fs_hz > 0):
        raise SignalValueError(source, f"sampling rate must be > 0 Hz, got {fs_hz}")
    r_in = np.asarray(r_peaks)
    if r_in.ndim != 1 or (r_in.size and not np.issubdtype(r_in.dtype, np.integer)):
        raise SignalValueError(source, "r_peaks must be a 1-D array of integer sample indices")
    r = r_in.astype(np.int64)
    if r.size and (r.min() < 0 or r.max() >= x.shape[1]):
        raise SignalValueError(
            source, f"r_peaks outside the signal: [{r.min()}, {r.max()}] vs {x.shape[1]} samples"
        )
    if r.size > 1 and np.any(np.diff(r) <= 0):
        raise SignalValueError(source, "r_peaks must be strictly increasing")
    if beat_mask is not None and np.shape(beat_mask) != r.shape:
        raise SignalValueError(
            source, f"beat_mask has shape {np.shape(beat_mask)}, expected {r.shape}"
        )
    return x, r


def delineate(
    signal_mv: np.ndarray,
    fs_hz: float,
    r_peaks: np.ndarray,
    lead_names: Sequence[str],
    *,
    beat_mask: np.ndarray | None = None,
    record_id: str | None = None,
) -> Delineation:
    """Delineate P, QRS and T waves in every lead and beat, globally and on the median beat.

    Parameters
    ----------
    signal_mv
        ``[leads, samples]`` in mV; NaN samples are allowed (beats touching them are -1 in
        that lead).
    fs_hz
        Sampling rate in Hz (the method is rate-independent; fitted at 500 Hz).
    r_peaks
        int ``[beats]`` strictly increasing R fiducials (anywhere inside each QRS).
    lead_names
        Names of the signal rows.
    beat_mask
        Optional bool ``[beats]``: beats to build the median beat from (e.g. those
        classified normal); all beats when None.
    record_id
        Named in error messages.

    Returns
    -------
    Delineation
        Per-lead, per-beat points; CSE global boundaries per beat; the median beat.

    Raises
    ------
    SignalValueError
        On a malformed signal, rate, fiducial array or mask.

    Notes
    -----
    Multi-lead QRS core on the spatial slope envelope; per-lead boundaries by fitted linear
    scorers over multi-scale Gaussian-derivative (wavelet) features (Martínez et al. 2004,
    IEEE TBME 51(4):570-581; area indicator of Zhang et al. 2006); P presence by a multi-lead
    timing vote; global boundaries by the CSE rule with outlier protection (CSE Working
    Party, Willems et al. 1985).
    """
    x, r = _check_inputs(signal_mv, fs_hz, r_peaks, lead_names, beat_mask, record_id)
    weights = load_weights()
    if r.size == 0:
        ch = compute_channels(x, fs_hz)
        return Delineation(
            fs_hz=float(fs_hz),
            lead_names=tuple(lead_names),
            r_peaks=r,
            usable_leads=ch.usable.copy(),
            points=WavePoints.empty(x.shape[0]),
            global_points=GlobalPoints.empty(),
            median=None,
        )
    filled, missing = fill_missing(x)
    med, r_index, n_used = median_beat(filled, r, fs_hz, beat_mask)
    n = x.shape[1]
    rr = np.diff(r)
    typical_rr = int(np.median(rr)) if rr.size else round(fs_hz)
    rr_next = np.concatenate([rr, [typical_rr]]) if r.size else rr

    # The median beat is appended after the record (across a flat gap) and delineated in the
    # same pass as the beats: one set of numpy calls instead of two.
    signal = x
    fiducials = r
    follow = None
    offset = 0
    if n_used:
        gap = ms_to_samples(JOIN_GAP_MS, fs_hz)
        offset = n + 2 * gap
        hold_a = np.repeat(filled[:, -1:], gap, axis=1) if n else np.zeros((x.shape[0], gap))
        hold_b = np.repeat(med[:, :1], gap, axis=1)
        tail = np.repeat(med[:, -1:], gap, axis=1)
        signal = np.concatenate([x, hold_a, hold_b, med, tail], axis=1)
        fiducials = np.concatenate([r, [offset + r_index]])
        rr_next = np.concatenate([rr_next, [typical_rr]])
        voters = np.ones(r.size, bool) if beat_mask is None else np.asarray(beat_mask, bool)
        follow = (r.size, np.concatenate([voters, [False]]))
    ch = compute_channels(signal, fs_hz)
    points, gpoints = delineate_channels(
        ch,
        fiducials,
        fs_hz,
        scorer_placer(weights, fs_hz),
        logistic_presence(weights["p_presence"]),
        rr_next=rr_next,
        irregularity=rr_irregularity(r),
        p_follow_majority=follow,
    )
    usable = ch.usable & ~missing.all(axis=1) if n else ch.usable
    median = None
    if n_used:
        mpoints = points.beat(r.size).shifted(-offset)
        mglobal = gpoints.beat(r.size).shifted(-offset)
        median = MedianBeat(med, r_index, n_used, mpoints, mglobal)
        points = points.beats(slice(0, r.size))
        gpoints = gpoints.beats(slice(0, r.size))
    return Delineation(
        fs_hz=float(fs_hz),
        lead_names=tuple(lead_names),
        r_peaks=r,
        usable_leads=usable,
        points=points,
        global_points=gpoints,
        median=median,
    )
