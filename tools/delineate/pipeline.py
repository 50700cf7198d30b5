"""The delineation steps in order, on precomputed channels: QRS, T, P, peaks, fusion.

Each boundary is placed by a callable ``place(name, inputs) -> [leads, beats]``: the fitted
scorers in normal use, a recorder during training (:mod:`tools.delineate.train`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from tools.delineate.baseline import flattest_level, isoelectric_level
from tools.delineate.filters import ABS_COARSE, FINE_MV, Channels, edge_pad
from tools.delineate.fusion import global_points, kth_extreme
from tools.delineate.params import P_SEARCH_MS, T_END_BEFORE_P_MS, T_SEARCH_MAX_MS
from tools.delineate.pwave import (
    PresenceModel,
    baseline_activity,
    borrow_weak_leads,
    find_p_waves,
    no_isoelectric_baseline,
    p_candidates,
    p_presence_features,
    rr_irregularity,
)
from tools.delineate.qrs import QrsCore, find_qrs_core, find_qrs_peaks
from tools.delineate.result import GlobalPoints, WavePoints
from tools.delineate.scorer import BoundaryInputs, Envelopes, place_boundary
from tools.delineate.twave import FLAT_T, find_t_waves
from tools.delineate.windows import ABSENT, ms_to_samples, nan_median, window_index
from tools.medians import sorted_median

Placer = Callable[[str, BoundaryInputs], np.ndarray]
PlacerFactory = Callable[[Channels, Envelopes], Placer]


def scorer_placer(weights: dict[str, np.ndarray], fs_hz: float) -> PlacerFactory:
    """A placer factory that runs the fitted scorers."""

    def factory(ch: Channels, env: Envelopes) -> Placer:
        def place(name: str, inp: BoundaryInputs) -> np.ndarray:
            return place_boundary(name, weights[name], ch, env, inp, fs_hz)

        return place

    return factory


def envelopes(ch: Channels, core: QrsCore, r_peaks: np.ndarray, fs_hz: float) -> Envelopes:
    """Multi-lead slope envelopes at both scales, each lead scaled by its QRS slope."""
    half = ms_to_samples(60.0, fs_hz)
    coarse_beat = ch.window(ABS_COARSE, np.asarray(r_peaks) - half, 2 * half + 1).max(axis=-1)
    coarse_lead = (
        sorted_median(coarse_beat, axis=1) if coarse_beat.size else np.zeros(ch.usable.size)
    )
    ok = ch.usable & (coarse_lead > 0)
    n = max(int(ok.sum()), 1)
    w = np.where(ok, 1.0 / np.maximum(coarse_lead, 1e-12), 0.0)
    coarse = (w @ ch.row(ABS_COARSE)) / n
    stack = edge_pad(np.stack([core.envelope, coarse]).astype(np.float32), ch.pad)
    return Envelopes(stack=stack, pad=ch.pad)


def beat_window_ok(ch: Channels, r_peaks: np.ndarray, fs_hz: float) -> np.ndarray:
    """bool ``[leads, beats]``: usable lead and no missing sample around the beat."""
    r = np.asarray(r_peaks, dtype=np.int64)
    ok = np.broadcast_to(ch.usable[:, None], (ch.usable.size, r.size))
    if not ch.missing.any() or r.size == 0:
        return ok.copy()
    counts = np.concatenate(
        [np.zeros((ch.missing.shape[0], 1)), np.cumsum(ch.missing, axis=1)], axis=1
    )
    n = ch.n_samples
    a = np.clip(r - ms_to_samples(P_SEARCH_MS + 100.0, fs_hz), 0, n)
    b = np.clip(r + ms_to_samples(T_SEARCH_MAX_MS, fs_hz), 0, n)
    return ok & ((counts[:, b] - counts[:, a]) == 0)


@dataclass(frozen=True)
class QrsStage:
    """QRS results the later steps need."""

    on: np.ndarray
    off: np.ndarray
    global_on: np.ndarray
    ptp_mv: np.ndarray


def _qrs_stage(
    ch: Channels, core: QrsCore, r: np.ndarray, ok: np.ndarray, fs_hz: float, place: Placer
) -> QrsStage:
    shape = ok.shape
    length = int(np.max(core.offset - core.onset, initial=0)) + 1
    inside = window_index(core.onset, length) <= core.offset[:, None]
    seg = ch.window([FINE_MV, ABS_COARSE], core.onset, length)
    ptp = np.where(inside, seg[0], -np.inf).max(-1) - np.where(inside, seg[0], np.inf).min(-1)
    ptp = np.where(np.isfinite(ptp), ptp, 0.0)
    coarse = np.where(inside, seg[1], 0.0).max(-1, initial=0.0)
    common = {
        "fine_scale": np.maximum(core.beat_slope, 1e-9),
        "coarse_scale": np.maximum(coarse, 1e-9),
        "amplitude": np.maximum(ptp, 1e-3),
        "polarity": np.ones(shape),
        "baseline_mv": flattest_level(ch, core.envelope, core.onset, core.peak, fs_hz),
    }

    def lead_beat(v: np.ndarray) -> np.ndarray:
        return np.where(ok, np.broadcast_to(v[None, :], shape), ABSENT)

    on = place(
        "qrs_on",
        BoundaryInputs(
            anchor=lead_beat(core.onset),
            lo=lead_beat(core.before),
            hi=lead_beat(core.peak),
            **common,
        ),
    )
    off = place(
        "qrs_off",
        BoundaryInputs(
            anchor=lead_beat(core.offset),
            lo=lead_beat(core.peak),
            hi=lead_beat(core.after),
            **common,
        ),
    )
    bad = (on < 0) | (off <= on)
    on = np.where(bad, ABSENT, on)
    off = np.where(bad, ABSENT, off)
    g_on = kth_extreme(on, latest=False)
    g_on = np.where(g_on >= 0, g_on, core.onset)
    return QrsStage(on=on, off=off, global_on=g_on, ptp_mv=ptp)


def _previous_t_off(t_off: np.ndarray, r: np.ndarray, rr_next: np.ndarray) -> np.ndarray:
    """The previous beat's T offset per lead and beat (where the P search starts).

    Where the previous fiducial is missing or more than 1.5 RR away (first beat, median beat),
    the beat's own T offset one RR earlier stands in for it.
    """
    prev = np.concatenate([np.full((t_off.shape[0], 1), ABSENT), t_off[:, :-1]], axis=1)
    gap = np.concatenate([[np.iinfo(np.int64).max], np.diff(r)]) if r.size else r
    rr_prev = np.concatenate([rr_next[:1], rr_next[:-1]]) if r.size else r
    far = gap > 1.5 * rr_prev
    own = np.where(t_off >= 0, t_off - rr_next[None, :], ABSENT)
    return np.where(far[None, :], own, prev)


def _flat_t_bound(
    prev_t_off: np.ndarray, morphology: np.ndarray, r: np.ndarray, rr_next: np.ndarray
) -> np.ndarray:
    """Where the previous T wave of a lead is flat, its offset is a guess that may run past
    the P wave: that lead's P search starts no later than the leads' median previous T offset.
    """
    flat = morphology == FLAT_T
    prev = np.concatenate([np.zeros((flat.shape[0], 1), bool), flat[:, :-1]], axis=1)
    gap = np.concatenate([[np.iinfo(np.int64).max], np.diff(r)]) if r.size else r
    rr_prev = np.concatenate([rr_next[:1], rr_next[:-1]]) if r.size else r
    prev_flat = np.where((gap > 1.5 * rr_prev)[None, :], flat, prev)
    typical = nan_median(np.where(prev_t_off >= 0, prev_t_off, np.nan), axis=0)
    late = prev_flat & np.isfinite(typical)[None, :] & (prev_t_off > typical[None, :])
    return np.where(late, np.nan_to_num(typical)[None, :], prev_t_off).astype(np.int64)


def _next_beat(p_on: np.ndarray, r: np.ndarray, rr_next: np.ndarray) -> np.ndarray:
    """Each lead's P point (onset, peak) in the next beat ``[leads, beats]``, -1 if none.

    Where the next fiducial is missing or more than 1.5 RR away (last beat, median beat), the
    beat's own P point one RR later stands in for it.
    """
    if r.size == 0:
        return p_on
    nxt = np.concatenate([p_on[:, 1:], np.full((p_on.shape[0], 1), ABSENT)], axis=1)
    gap = np.concatenate([np.diff(r), [np.iinfo(np.int64).max]])
    far = gap > 1.5 * rr_next
    shifted = np.where(p_on >= 0, p_on + rr_next[None, :], ABSENT)
    return np.where(far[None, :], shifted, nxt)


def _t_off_before_p(
    place: Placer,
    inputs: BoundaryInputs,
    t_off: np.ndarray,
    next_p_on: np.ndarray,
    next_p_peak: np.ndarray,
    fs_hz: float,
) -> np.ndarray:
    """Re-place the T offsets that lie past the lead's next P peak with the candidate window
    ending at that P wave's onset (less a margin); the others stand.

    Only a T offset past the P peak is taken as wrong: at fast rates T and P meet, and the
    experts end T at the P onset, which our P onset may precede by a few samples.
    """
    limit = next_p_on - ms_to_samples(T_END_BEFORE_P_MS, fs_hz)
    late = (next_p_on >= 0) & (next_p_peak >= 0) & (t_off > next_p_peak)
    if not late.any():
        return t_off
    again = place(
        "t_off",
        replace(
            inputs,
            anchor=np.where(late, inputs.anchor, ABSENT),
            hi=np.where(late, np.minimum(inputs.hi, limit), inputs.hi),
        ),
    )
    return np.where(late & (again >= 0), again, t_off)


def delineate_channels(
    ch: Channels,
    r_peaks: np.ndarray,
    fs_hz: float,
    make_placer: PlacerFactory,
    presence: PresenceModel,
    rr_next: np.ndarray | None = None,
    irregularity: float | None = None,
    p_follow_majority: tuple[int, np.ndarray] | None = None,
    fusion: np.ndarray | None = None,
) -> tuple[WavePoints, GlobalPoints]:
    """Run every step on one set of channels.

    Parameters
    ----------
    ch
        Channels of the record (or of the median beat).
    r_peaks
        int ``[beats]`` fiducials, sorted.
    fs_hz
        Sampling rate in Hz.
    make_placer
        Builds the boundary placer for these channels (:func:`scorer_placer` normally).
    presence
        P presence model (:func:`tools.delineate.pwave.logistic_presence` normally).
    rr_next
        int ``[beats]`` samples to the next beat; default from the fiducials (the median RR
        for the last beat).
    irregularity
        RR irregularity for the P presence model; default from the fiducials.
    p_follow_majority
        Optional ``(beat, voters)``: that beat's P presence is the majority verdict of the
        voting beats (used for the median beat).
    fusion
        Global-boundary fusion table (:func:`tools.delineate.fusion.global_points`).

    Returns
    -------
    tuple
        ``(WavePoints, GlobalPoints)``.
    """
    r = np.asarray(r_peaks, dtype=np.int64)
    core = find_qrs_core(ch, r, fs_hz)
    env = envelopes(ch, core, r, fs_hz)
    place = make_placer(ch, env)
    ok = beat_window_ok(ch, r, fs_hz)
    if rr_next is None:
        rr = np.diff(r)
        typical = int(np.median(rr)) if rr.size else round(fs_hz)
        rr_next = np.concatenate([rr, [typical]]) if r.size else rr
    qrs = _qrs_stage(ch, core, r, ok, fs_hz, place)
    iso = isoelectric_level(ch, qrs.global_on, fs_hz)
    tw = find_t_waves(ch, r, qrs.off, qrs.global_on, iso, qrs.ptp_mv, rr_next, fs_hz)
    t_on = place("t_on", tw.onset_inputs)
    t_off = place("t_off", tw.offset_inputs)
    prev_t_off = _previous_t_off(t_off, r, rr_next)
    prev_t_off = _flat_t_bound(prev_t_off, tw.morphology, r, rr_next)
    if irregularity is None:
        irregularity = rr_irregularity(r)
    cands = p_candidates(ch, qrs.global_on, prev_t_off, iso, fs_hz)
    feats = p_presence_features(cands, qrs.ptp_mv, qrs.global_on, ch.usable, irregularity, fs_hz)
    prob = presence(feats)
    if no_isoelectric_baseline(
        baseline_activity(ch, cands, fs_hz), cands.found & ch.usable[:, None]
    ):
        prob = np.zeros_like(prob)
    pw = find_p_waves(ch, cands, prob, qrs.global_on, qrs.on, iso, fs_hz, p_follow_majority)
    p_on = place("p_on", pw.onset_inputs)
    p_off = place("p_off", pw.offset_inputs)
    p_on, p_peak, p_off = borrow_weak_leads(p_on, pw.peak, p_off, pw.amplitude_mv)
    peaks = find_qrs_peaks(ch, qrs.on, qrs.off, fs_hz, kth_extreme(qrs.off, latest=True))
    has_p = (p_peak >= 0) & (p_on >= 0) & (p_off >= 0)
    next_p_on = _next_beat(np.where(has_p, p_on, ABSENT), r, rr_next)
    next_p_peak = _next_beat(np.where(has_p, p_peak, ABSENT), r, rr_next)
    t_off = _t_off_before_p(place, tw.offset_inputs, t_off, next_p_on, next_p_peak, fs_hz)
    has_t = tw.peak >= 0
    points = WavePoints(
        p_on=np.where(has_p, p_on, ABSENT),
        p_peak=np.where(has_p, p_peak, ABSENT),
        p_off=np.where(has_p, p_off, ABSENT),
        qrs_on=qrs.on,
        q_peak=peaks.q,
        r_peak=peaks.r,
        s_peak=peaks.s,
        r2_peak=peaks.r2,
        qrs_off=qrs.off,
        t_on=np.where(has_t, t_on, ABSENT),
        t_peak=tw.peak,
        t_off=np.where(has_t, t_off, ABSENT),
        t_morphology=tw.morphology,
    ).masked(ok & (qrs.on >= 0))
    return points, global_points(points, fs_hz, fusion)
