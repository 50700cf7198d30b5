"""P wave: presence by a fitted multi-lead vote, peak per lead, and scorer inputs.

In each lead the P candidate is the largest interior extremum of the P/T-scale signal (against
the PR-segment level) between the previous T wave and the QRS onset. Whether it is a P wave is
scored by a logistic model (:func:`p_presence_features`) of six candidate features (size
relative to the QRS and to the window's high-frequency noise, isolation from other activity in
the window, timing agreement with the lead's other beats and with the beat's other leads,
correlation with the lead's median P waveform) and four record features (RR irregularity, the
lead's typical template correlation, the typical timing deviations); a beat has a P wave when
the mean probability over usable leads is at least one half. A record whose candidates rise
from no isoelectric TP segment (:func:`no_isoelectric_baseline`: fibrillation) has
none. The beat's P time is the candidate most leads agree with; every usable lead then reports
the P wave near it, and leads where it is nearly isoelectric take their onset and peak from the
others (:func:`borrow_weak_leads`). Fibrillation and flutter waves are reported absent rather
than invented as P waves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tools.delineate.filters import ABS_COARSE, ABS_FINE, COARSE_MV, FINE_MV, Channels
from tools.delineate.params import (
    P_AGREE_MS,
    P_BASELINE_ACTIVITY_MAX,
    P_BASELINE_FLAT_MS,
    P_BASELINE_MS,
    P_GAP_MS,
    P_ISOLATION_MS,
    P_SEARCH_MS,
    P_TIMING_TOLERANCE_MS,
    P_WEAK_FRACTION,
)
from tools.delineate.scorer import BoundaryInputs
from tools.delineate.windows import (
    ABSENT,
    local_maxima,
    masked_argmax,
    ms_to_samples,
    nan_median,
    take_last,
    window_index,
)

#: Floor of amplitudes inside logarithms and of the level-feature normaliser (mV).
_EPS_MV = 1e-3
_MIN_AMPLITUDE_MV = 0.01
#: Timing deviations are capped at this many tolerances (a miss is a miss).
_MAX_TIMING_DEVIATION = 4.0

#: Maps presence features ``[leads, beats, F]`` to probabilities ``[leads, beats]``.
PresenceModel = Callable[[np.ndarray], np.ndarray]


def logistic_presence(weights: np.ndarray) -> PresenceModel:
    """Presence model from fitted logistic weights (features..., intercept)."""
    w = np.asarray(weights, dtype=np.float64)

    def model(features: np.ndarray) -> np.ndarray:
        z = features @ w[:-1] + w[-1]
        return 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))

    return model


@dataclass(frozen=True)
class PWave:
    """P wave findings ``[leads, beats]`` and the inputs of its boundary scorers."""

    peak: np.ndarray
    amplitude_mv: np.ndarray
    beat_has_p: np.ndarray
    onset_inputs: BoundaryInputs
    offset_inputs: BoundaryInputs


@dataclass(frozen=True)
class PCandidates:
    """Each lead's P candidate (window index ``cand``) in its window ``[leads, beats, W]``.

    ``noise_mv`` ``[leads, beats]`` is the SD of the window's high-frequency residual (QRS-scale
    minus P/T-scale signal): muscle noise, pacing artefact, fibrillatory ripple.
    """

    start: np.ndarray
    idx: np.ndarray
    inside: np.ndarray
    dev: np.ndarray
    cand: np.ndarray
    amp: np.ndarray
    found: np.ndarray
    noise_mv: np.ndarray

    @property
    def peak(self) -> np.ndarray:
        return self.start + self.cand


def _largest_extremum(
    dev: np.ndarray, mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Largest interior extremum of ``dev`` (either sign): index, signed value, found."""
    inner = mask.copy()
    inner[..., 0] = False
    inner[..., -1] = False
    mag = np.abs(dev)
    idx, found = masked_argmax(mag, local_maxima(mag) & inner)
    return idx, np.where(found, take_last(dev, idx), 0.0), found


def p_candidates(
    ch: Channels,
    global_on: np.ndarray,
    prev_t_off: np.ndarray,
    iso_level: np.ndarray,
    fs_hz: float,
) -> PCandidates:
    """Largest deflection from the PR level between the previous T and the QRS onset."""
    g_on = np.asarray(global_on, dtype=np.int64)
    stop = g_on - ms_to_samples(P_GAP_MS, fs_hz)
    start = np.maximum(g_on[None, :] - ms_to_samples(P_SEARCH_MS, fs_hz), prev_t_off)
    start = np.maximum(start, 0)
    valid = (stop[None, :] > start + 2) & ch.usable[:, None]
    length = int(np.max(np.where(valid, stop[None, :] - start, 0), initial=0)) + 1
    idx = window_index(start, length)
    inside = (idx <= stop[None, :, None]) & valid[..., None]
    fine, coarse = ch.window([FINE_MV, COARSE_MV], start, length)
    dev = coarse - iso_level[..., None]
    cand, amp, found = _largest_extremum(dev, inside)
    n_inside = np.maximum(inside.sum(axis=-1), 1)
    resid = np.where(inside, fine - coarse, 0.0)
    mean = resid.sum(axis=-1) / n_inside
    noise = np.sqrt(np.maximum((resid**2).sum(axis=-1) / n_inside - mean**2, 0.0))
    return PCandidates(start, idx, inside, dev, cand, amp, found, noise)


def rr_irregularity(r_peaks: np.ndarray) -> float:
    """Median absolute successive RR difference over the median RR (0 for < 3 beats).

    Robust to isolated premature beats; high in atrial fibrillation.
    """
    rr = np.diff(np.asarray(r_peaks, dtype=np.float64))
    if rr.size < 2:
        return 0.0
    return float(np.median(np.abs(np.diff(rr))) / max(float(np.median(rr)), 1.0))


def _template_correlation(
    c: PCandidates, lead_typical_ms: np.ndarray, global_on: np.ndarray, fs_hz: float
) -> np.ndarray:
    """Correlation of each beat's waveform around the lead's usual P time with the median."""
    half = ms_to_samples(P_ISOLATION_MS, fs_hz)
    typical = np.where(np.isfinite(lead_typical_ms), lead_typical_ms, -P_SEARCH_MS / 2)
    centre = global_on[None, :] + np.round(typical * fs_hz / 1000.0).astype(np.int64)
    rel = centre - c.start
    w = np.clip(rel[..., None] + np.arange(-half, half + 1), 0, c.dev.shape[-1] - 1)
    seg = np.take_along_axis(np.where(c.inside, c.dev, 0.0), w, axis=-1)
    seg = seg - seg.mean(axis=-1, keepdims=True)
    template = np.median(seg, axis=1, keepdims=True)
    num = (seg * template).sum(axis=-1)
    den = np.sqrt((seg**2).sum(axis=-1) * (template**2).sum(axis=-1)) + 1e-12
    return num / den


def baseline_activity(ch: Channels, c: PCandidates, fs_hz: float) -> np.ndarray:
    """Log activity ``[leads, beats]`` of the flattest TP stretch before each P candidate.

    The least mean absolute P/T-scale slope over :data:`P_BASELINE_FLAT_MS` within
    :data:`P_BASELINE_MS` before the candidate peak and after the previous T wave (the start
    of the P search), over the candidate's own steepest slope; NaN where no such stretch fits
    (the T wave runs into the P wave at fast rates). A sinus P wave rises from an isoelectric
    TP segment; fibrillation and flutter waves leave no flat stretch (the atrial-activity
    criterion of AF detectors, e.g. the TQ-segment analysis of Ladavich & Ghoraani 2015).
    """
    far, near = (ms_to_samples(v, fs_hz) for v in P_BASELINE_MS)
    width = max(ms_to_samples(P_BASELINE_FLAT_MS, fs_hz), 1)
    peak = np.where(c.found, c.peak, 0)
    before = ch.window(ABS_COARSE, peak - far, far - near)
    run = np.cumsum(before, axis=-1, dtype=np.float64)
    mean = (run[..., width:] - run[..., :-width]) / width
    first = (peak - far + 1)[..., None] + np.arange(mean.shape[-1])  # each stretch's start
    in_tp = first >= c.start[..., None]
    flattest = np.where(in_tp, mean, np.inf).min(axis=-1, initial=np.inf)
    own = ch.window(ABS_COARSE, peak - width, 2 * width + 1).max(axis=-1)
    ratio = np.log(flattest + 1e-9) - np.log(own + 1e-9)
    return np.where(c.found & np.isfinite(ratio), ratio, np.nan)


def no_isoelectric_baseline(activity: np.ndarray, voters: np.ndarray) -> bool:
    """Whether the record's P candidates rise from no flat baseline (fibrillation, flutter).

    True when most voting leads and beats have a TP stretch to judge (:func:`baseline_activity`
    finite) and its median exceeds :data:`P_BASELINE_ACTIVITY_MAX`; the P presence vote is
    then overruled. Records whose T waves run into the P waves give no verdict.
    """
    judged = activity[voters]
    judged = judged[np.isfinite(judged)]
    if judged.size == 0 or judged.size < 0.5 * int(voters.sum()):
        return False
    return float(np.median(judged)) > P_BASELINE_ACTIVITY_MAX


def _lower_quartile(values: np.ndarray) -> float:
    """25th percentile of the finite values (the cap :data:`_MAX_TIMING_DEVIATION` if none).

    A record's typical timing deviation over its beats: the lower quartile still shows the
    locked P waves of a record where a third of the beats are ectopic (no P to lock).
    """
    v = values[np.isfinite(values)]
    return float(np.percentile(v, 25.0)) if v.size else _MAX_TIMING_DEVIATION


def p_presence_features(
    c: PCandidates,
    qrs_ptp: np.ndarray,
    global_on: np.ndarray,
    usable: np.ndarray,
    irregularity: float,
    fs_hz: float,
) -> np.ndarray:
    """Features ``[leads, beats, N_PRESENCE_FEATURES]`` of "this lead shows a P wave here".

    Per lead and beat: log size relative to the QRS peak-to-peak; log isolation (P over the
    largest deflection farther than :data:`P_ISOLATION_MS` from it); timing deviation from
    the lead's median and from the beat's median over leads (in :data:`P_TIMING_TOLERANCE_MS`
    units); correlation with the lead's median P-region waveform; log size over the window's
    high-frequency noise. Per record: log RR irregularity; the lead's median correlation over
    beats; the median timing deviations over leads and beats (a sinus P wave keeps its PR
    interval and its morphology in every beat and lead, fibrillation and flutter waves and
    dissociated P waves do not; cf. the P-wave criteria of atrial fibrillation detectors,
    Ladavich & Ghoraani 2015, Biomed. Signal Process. Control 18:274-281).
    """
    size = np.log(np.abs(c.amp) + _EPS_MV) - np.log(qrs_ptp + _EPS_MV)
    far = c.inside & (np.abs(c.idx - c.peak[..., None]) > ms_to_samples(P_ISOLATION_MS, fs_hz))
    other = np.where(far, np.abs(c.dev), 0.0).max(axis=-1, initial=0.0)
    isolation = np.log(np.abs(c.amp) + _EPS_MV) - np.log(other + _EPS_MV)
    peak_ms = np.where(c.found, (c.peak - global_on[None, :]) * (1000.0 / fs_hz), np.nan)
    lead_typical = nan_median(peak_ms, axis=1)[:, None]
    beat_typical = nan_median(np.where(usable[:, None], peak_ms, np.nan), axis=0)[None, :]
    tol = P_TIMING_TOLERANCE_MS
    lead_dev = np.minimum(np.abs(peak_ms - lead_typical) / tol, _MAX_TIMING_DEVIATION)
    beat_dev = np.minimum(np.abs(peak_ms - beat_typical) / tol, _MAX_TIMING_DEVIATION)
    corr = _template_correlation(c, lead_typical, global_on, fs_hz)
    snr = np.log(np.abs(c.amp) + _EPS_MV) - np.log(c.noise_mv + _EPS_MV)
    voted = c.found & usable[:, None]
    lead_corr = nan_median(np.where(voted, corr, np.nan), axis=1)[:, None]
    record_lead_dev = _lower_quartile(lead_dev[voted])
    record_beat_dev = _lower_quartile(beat_dev[voted])
    per_record = [np.log(irregularity + 0.01), lead_corr, record_lead_dev, record_beat_dev]
    feats = np.stack(
        [size, isolation, lead_dev, beat_dev, corr, snr]
        + [np.broadcast_to(v, size.shape) for v in per_record],
        axis=-1,
    )
    feats = np.where(np.isfinite(feats), feats, _MAX_TIMING_DEVIATION)
    return np.where(c.found[..., None], feats, 0.0)


def _p_consensus(
    c: PCandidates, likely: np.ndarray, voters: np.ndarray, fs_hz: float
) -> np.ndarray:
    """The beat's P time ``[beats]``: the likely candidate most other likely ones agree with.

    Each likely candidate counts the likely candidates within :data:`P_AGREE_MS` of it; the
    best supported wins, and between equally supported ones the latest: a T-wave tail or a
    U wave at the start of the window precedes the P wave, never the reverse (with two
    leads that disagree, a median would fall between the two waves). Beats without a likely
    candidate take the median over the voting leads.
    """
    tol = ms_to_samples(P_AGREE_MS, fs_hz)
    close = np.abs(c.peak[:, None, :] - c.peak[None, :, :]) <= tol
    support = (close & likely[None, :, :]).sum(axis=1)
    rank = np.where(likely, support * (c.idx.shape[-1] + 1) + (c.peak - c.start), -1)
    best = np.take_along_axis(c.peak, np.argmax(rank, axis=0)[None, :], axis=0)[0]
    fallback = nan_median(np.where(voters, c.peak, np.nan), axis=0)
    return np.where(likely.any(axis=0), best, fallback)


def _place_p_peaks(
    c: PCandidates, likely: np.ndarray, voters: np.ndarray, fs_hz: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each lead's P peak of a beat with P: ``(peak, amplitude, placed)`` ``[leads, beats]``.

    A likely candidate within :data:`P_AGREE_MS` of the beat's P time is kept; other leads
    take their largest extremum within that distance of it, and a lead without one (its P
    wave is flat or merely a slope there) the largest deflection within
    :data:`P_TIMING_TOLERANCE_MS` of it, so a beat's P wave is reported in every usable lead
    as the experts mark it.
    """
    consensus = _p_consensus(c, likely, voters, fs_hz)
    agree_tol = ms_to_samples(P_AGREE_MS, fs_hz)
    agree = likely & (np.abs(c.peak - consensus[None, :]) <= agree_tol)
    offset = np.abs(c.idx - consensus[None, :, None])
    alt, alt_amp, alt_found = _largest_extremum(c.dev, c.inside & (offset <= agree_tol))
    near = c.inside & (offset <= ms_to_samples(P_TIMING_TOLERANCE_MS, fs_hz))
    near_idx, near_found = masked_argmax(np.abs(c.dev), near)
    use_alt = ~agree & alt_found
    use_near = ~agree & ~alt_found & near_found
    peak = np.where(use_alt, c.start + alt, np.where(use_near, c.start + near_idx, c.peak))
    amp = np.where(use_alt, alt_amp, np.where(use_near, take_last(c.dev, near_idx), c.amp))
    return peak, amp, agree | alt_found | near_found


def find_p_waves(
    ch: Channels,
    c: PCandidates,
    probability: np.ndarray,
    global_on: np.ndarray,
    qrs_on: np.ndarray,
    iso_level: np.ndarray,
    fs_hz: float,
    follow_majority: tuple[int, np.ndarray] | None = None,
) -> PWave:
    """Decide P presence per beat and prepare the P onset/offset scorer inputs.

    Parameters
    ----------
    ch
        Channels of the record.
    c
        P candidates (:func:`p_candidates`).
    probability
        ``[leads, beats]`` presence probability of each candidate.
    global_on
        int ``[beats]`` global QRS onsets.
    qrs_on
        int ``[leads, beats]`` per-lead QRS onsets (-1 when absent).
    iso_level
        ``[leads, beats]`` PR-segment levels.
    fs_hz
        Sampling rate in Hz.
    follow_majority
        Optional ``(beat, voters)``: that beat (the median beat) has a P wave when most of
        the ``voters`` (bool ``[beats]``, the beats it was built from) have one.

    Returns
    -------
    PWave
    """
    g_on = np.asarray(global_on, dtype=np.int64)
    voters = c.found & ch.usable[:, None]
    prob = np.where(voters, probability, 0.0)
    n_voters = np.maximum(ch.usable.sum(), 1)
    has_p = prob.sum(axis=0) / n_voters >= 0.5
    if follow_majority is not None:
        beat, voting = follow_majority
        votes = has_p[np.asarray(voting, dtype=bool)]
        has_p[beat] = votes.size > 0 and votes.mean() >= 0.5
    likely = voters & (prob >= 0.5)
    peak, amp, placed = _place_p_peaks(c, likely, voters, fs_hz)
    present = has_p[None, :] & ch.usable[:, None] & placed
    peak = np.where(present, peak, ABSENT).astype(np.int64)

    slopes = ch.window([ABS_FINE, ABS_COARSE], c.start, c.idx.shape[-1])
    abs_fine = np.where(c.inside, slopes[0], 0.0)
    abs_coarse = np.where(c.inside, slopes[1], 0.0)
    lead_on = np.where(qrs_on >= 0, qrs_on, g_on[None, :])
    common = {
        "fine_scale": np.maximum(abs_fine.max(axis=-1, initial=0.0), 1e-9),
        "coarse_scale": np.maximum(abs_coarse.max(axis=-1, initial=0.0), 1e-9),
        "amplitude": np.maximum(np.abs(amp), _MIN_AMPLITUDE_MV),
        "polarity": np.where(amp >= 0, 1.0, -1.0),
        "baseline_mv": iso_level,
    }
    onset = BoundaryInputs(anchor=peak, lo=c.start, hi=peak - 1, **common)
    offset = BoundaryInputs(
        anchor=peak, lo=peak + 1, hi=np.minimum(lead_on, g_on[None, :]) - 1, **common
    )
    return PWave(peak, np.where(present, amp, 0.0), has_p, onset, offset)


def borrow_weak_leads(
    on: np.ndarray, peak: np.ndarray, off: np.ndarray, amplitude_mv: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """P onset, peak and offset ``[leads, beats]`` with weak leads following the strong ones.

    A lead whose P amplitude is under :data:`P_WEAK_FRACTION` of the beat's largest shows an
    almost isoelectric P wave, whose onset its scorer cannot place (it drifts back into the
    flat TP segment); it takes the median onset and peak of the beat's other leads (as the
    experts mark a P wave seen in other leads). It keeps its own offset, which its scorer
    places as well as in the strong leads, unless that would end the wave before its peak.
    """
    size = np.where((peak >= 0) & (on >= 0) & (off >= 0), np.abs(amplitude_mv), 0.0)
    strong = size >= P_WEAK_FRACTION * size.max(axis=0, initial=0.0)[None, :]
    strong &= size > 0
    weak = (peak >= 0) & ~strong & strong.any(axis=0)[None, :]

    def typical(x: np.ndarray) -> np.ndarray:
        t = nan_median(np.where(strong, x, np.nan), axis=0)
        return np.round(np.where(np.isfinite(t), t, ABSENT)).astype(np.int64)[None, :]

    new_peak = np.where(weak, typical(peak), peak)
    new_off = np.where(weak & (off <= new_peak), typical(off), off)
    return np.where(weak, typical(on), on), new_peak, new_off
