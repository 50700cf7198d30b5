"""Scoring a delineation against expert marks: boundary errors and wave detection counts.

Matching rule (used by the tests and benchmarks): in a given lead and beat, a detected wave
matches the annotated wave of the same type when the detected peak lies inside the annotated
onset-offset span, or within :data:`MATCH_WINDOW_MS` of the annotated peak. Only waves inside
the lead's annotated span count (LUDB leaves the first and last beats unannotated): an
annotated wave always counts, a detected one when its peak lies between the lead's first and
last mark. A detected wave without a match is a false positive, an annotated wave without one
a false negative; boundary errors (detected minus annotated, ms) are taken on matches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: A detected peak this close to the annotated peak matches even outside the annotated span.
MATCH_WINDOW_MS = 150.0


def wave_matches(
    det_peak: np.ndarray,
    ref_on: np.ndarray,
    ref_peak: np.ndarray,
    ref_off: np.ndarray,
    fs_hz: float,
) -> np.ndarray:
    """bool ``[leads, beats]``: detected and annotated wave both present and matching."""
    both = (det_peak >= 0) & (ref_peak >= 0)
    in_span = (ref_on >= 0) & (ref_off >= 0) & (det_peak >= ref_on) & (det_peak <= ref_off)
    near = np.abs(det_peak - ref_peak) <= MATCH_WINDOW_MS * fs_hz / 1000.0
    return both & (in_span | near)


@dataclass(frozen=True)
class DetectionCounts:
    """True positives, false positives and false negatives (summed, or per lead)."""

    tp: np.ndarray
    fp: np.ndarray
    fn: np.ndarray

    def sensitivity(self) -> float:
        tp, fn = float(np.sum(self.tp)), float(np.sum(self.fn))
        return tp / (tp + fn) if tp + fn else float("nan")

    def ppv(self) -> float:
        tp, fp = float(np.sum(self.tp)), float(np.sum(self.fp))
        return tp / (tp + fp) if tp + fp else float("nan")

    def f1(self) -> float:
        tp, fp, fn = (float(np.sum(a)) for a in (self.tp, self.fp, self.fn))
        return 2 * tp / (2 * tp + fp + fn) if tp else float("nan")


def detection_counts(
    det_peak: np.ndarray,
    ref_on: np.ndarray,
    ref_peak: np.ndarray,
    ref_off: np.ndarray,
    span: tuple[np.ndarray, np.ndarray],
    fs_hz: float,
    unassigned_ref: np.ndarray | None = None,
) -> DetectionCounts:
    """Per-lead TP/FP/FN counts under the matching rule.

    Parameters
    ----------
    det_peak
        int ``[leads, beats]`` detected peaks (-1 when absent).
    ref_on, ref_peak, ref_off
        int ``[leads, beats]`` annotated marks aligned on the same beats.
    span
        int ``[leads]`` first and last annotated sample of each lead.
    fs_hz
        Sampling rate in Hz.
    unassigned_ref
        Optional int ``[leads]``: annotated waves that no beat was aligned to (missed beats
        of an R-peak detector), added to the false negatives.
    """
    first, last = (np.asarray(a)[:, None] for a in span)
    det = (det_peak >= first) & (det_peak <= last) & (det_peak >= 0)
    ref = ref_peak >= 0
    match = wave_matches(det_peak, ref_on, ref_peak, ref_off, fs_hz) & (det | ref)
    fn = (ref & ~match).sum(axis=1)
    if unassigned_ref is not None:
        fn = fn + unassigned_ref
    return DetectionCounts(tp=match.sum(axis=1), fp=(det & ~match).sum(axis=1), fn=fn)


def boundary_errors_ms(
    detected: np.ndarray, reference: np.ndarray, matched: np.ndarray, fs_hz: float
) -> np.ndarray:
    """Errors (detected - reference) in ms on matched pairs with both marks, as float
    ``[leads, beats]`` with NaN elsewhere."""
    ok = matched & (detected >= 0) & (reference >= 0)
    return np.where(ok, (detected - reference) * (1000.0 / fs_hz), np.nan)
