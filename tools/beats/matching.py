"""Beat-by-beat comparison of detections with reference annotations (sensitivity, PPV, F1).

Follows the ANSI/AAMI EC57 beat-by-beat protocol as implemented by WFDB's ``bxb``: a detection
matches a reference beat when it lies within the match window of it, each detection matches
at most one reference and vice versa.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Rounds of mutual-nearest matching; a second round settles the rare detection that was the
#: nearest of two reference beats. More rounds never change results at physiological rates.
MATCH_ROUNDS = 3


@dataclass(frozen=True)
class BeatMatch:
    """Counts of a beat-by-beat comparison.

    Attributes
    ----------
    tp, fn, fp
        Matched reference beats, unmatched reference beats, unmatched detections.
    matched_ref, matched_det
        Index pairs of the matches (into the reference and detection arrays).
    """

    tp: int
    fn: int
    fp: int
    matched_ref: np.ndarray
    matched_det: np.ndarray

    @property
    def sensitivity(self) -> float:
        """TP / (TP + FN); NaN without reference beats."""
        total = self.tp + self.fn
        return self.tp / total if total else float("nan")

    @property
    def ppv(self) -> float:
        """TP / (TP + FP); NaN without detections."""
        total = self.tp + self.fp
        return self.tp / total if total else float("nan")

    @property
    def f1(self) -> float:
        """2 TP / (2 TP + FN + FP); NaN when both sets are empty."""
        total = 2 * self.tp + self.fn + self.fp
        return 2 * self.tp / total if total else float("nan")


def match_beats(
    reference: np.ndarray,
    detected: np.ndarray,
    tolerance: float,
    *,
    reference_end: np.ndarray | None = None,
    span: tuple[float, float] | None = None,
) -> BeatMatch:
    """Match detections to reference beats one-to-one within a tolerance (in samples).

    Parameters
    ----------
    reference
        Sorted sample indices of the reference beats (or the start of each beat's span).
    detected
        Sorted sample indices of the detections.
    tolerance
        Largest distance (samples) between a matched detection and its reference.
    reference_end
        Optional end of each reference beat's span (same length as ``reference``): the
        distance to a span is zero inside it. Used when several annotators or leads place
        the same beat at different samples (LUDB's lead-wise annotations).
    span
        ``(first, last)`` samples that are scored: reference beats outside are ignored, and
        so are detections outside unless they match a scored reference.

    Returns
    -------
    BeatMatch
        TP/FN/FP counts and the matched index pairs.

    Notes
    -----
    Matching is mutual-nearest-neighbour, repeated on the unmatched beats
    (:data:`MATCH_ROUNDS`), which equals the greedy closest-first pairing of ``bxb`` whenever
    reference beats are more than two tolerances apart.
    """
    lo = np.asarray(reference, dtype=np.float64).ravel()
    hi = lo if reference_end is None else np.asarray(reference_end, dtype=np.float64).ravel()
    det = np.asarray(detected, dtype=np.float64).ravel()
    ref_free = np.ones(lo.size, dtype=bool)
    det_free = np.ones(det.size, dtype=bool)
    pairs_ref: list[np.ndarray] = []
    pairs_det: list[np.ndarray] = []
    for _ in range(MATCH_ROUNDS):
        r_idx, d_idx = np.flatnonzero(ref_free), np.flatnonzero(det_free)
        if r_idx.size == 0 or d_idx.size == 0:
            break
        ref_pick, ref_dist = _nearest_detection(lo[r_idx], hi[r_idx], det[d_idx])
        det_pick, _ = _nearest_reference(lo[r_idx], hi[r_idx], det[d_idx])
        mutual = (det_pick[ref_pick] == np.arange(r_idx.size)) & (ref_dist <= tolerance)
        if not mutual.any():
            break
        new_ref, new_det = r_idx[mutual], d_idx[ref_pick[mutual]]
        ref_free[new_ref] = False
        det_free[new_det] = False
        pairs_ref.append(new_ref)
        pairs_det.append(new_det)
    matched_ref = np.concatenate(pairs_ref) if pairs_ref else np.zeros(0, dtype=np.int64)
    matched_det = np.concatenate(pairs_det) if pairs_det else np.zeros(0, dtype=np.int64)
    order = np.argsort(matched_ref)
    matched_ref, matched_det = matched_ref[order], matched_det[order]
    if span is None:
        ref_in = np.ones(lo.size, dtype=bool)
        det_in = np.ones(det.size, dtype=bool)
    else:
        ref_in = (hi >= span[0]) & (lo <= span[1])
        det_in = (det >= span[0]) & (det <= span[1])
    tp = int(np.count_nonzero(ref_in[matched_ref]))
    return BeatMatch(
        tp=tp,
        fn=int(np.count_nonzero(ref_in)) - tp,
        fp=int(np.count_nonzero(det_in & det_free)),
        matched_ref=matched_ref,
        matched_det=matched_det,
    )


def _interval_distance(lo: np.ndarray, hi: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Distance of points ``x`` to intervals ``[lo, hi]`` (zero inside)."""
    return np.maximum(np.maximum(lo - x, x - hi), 0.0)


def _nearest_detection(
    lo: np.ndarray, hi: np.ndarray, det: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each reference span, the nearest detection (ties: nearest to the span centre)."""
    centre = (lo + hi) / 2
    right = np.clip(np.searchsorted(det, centre), 0, det.size - 1)
    left = np.clip(right - 1, 0, det.size - 1)
    tie = 1e-6 * np.abs(det[[left, right]] - centre)
    dist = _interval_distance(lo, hi, det[[left, right]]) + tie
    choice = np.argmin(dist, axis=0)
    pick = np.where(choice == 0, left, right)
    return pick, _interval_distance(lo, hi, det[pick])


def _nearest_reference(
    lo: np.ndarray, hi: np.ndarray, det: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each detection, the nearest reference span (ties: nearest span centre)."""
    centre = (lo + hi) / 2
    right = np.clip(np.searchsorted(centre, det), 0, centre.size - 1)
    left = np.clip(right - 1, 0, centre.size - 1)
    tie = 1e-6 * np.abs(centre[[left, right]] - det)
    dist = _interval_distance(lo[[left, right]], hi[[left, right]], det) + tie
    choice = np.argmin(dist, axis=0)
    pick = np.where(choice == 0, left, right)
    return pick, dist[choice, np.arange(det.size)]


def beat_spans(samples: np.ndarray, max_gap: float) -> tuple[np.ndarray, np.ndarray]:
    """Group annotations of the same beats from several leads into ``(first, last)`` spans.

    Parameters
    ----------
    samples
        Sample indices of per-lead annotations of the beats (e.g. LUDB's QRS peaks ``N`` from
        all twelve lead files), in any order.
    max_gap
        Consecutive sorted annotations further apart than this (samples) start a new beat.

    Returns
    -------
    first, last
        int64 arrays ``[beats]``: earliest and latest annotation of each beat, usable as
        ``reference`` and ``reference_end`` of :func:`match_beats`.
    """
    ordered = np.sort(np.asarray(samples, dtype=np.int64).ravel())
    if ordered.size == 0:
        return ordered, ordered
    breaks = np.flatnonzero(np.diff(ordered) > max_gap) + 1
    first = ordered[np.r_[0, breaks]]
    last = ordered[np.r_[breaks - 1, ordered.size - 1]]
    return first, last
