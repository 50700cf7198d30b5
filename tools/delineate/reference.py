"""Expert wave marks as delineation arrays: the reference for tests, benchmarks and training.

PhysioNet wave annotations (LUDB per-lead files, QTDB ``.q1c``) write each wave as an
optional ``(`` onset, a peak symbol (``p`` P wave, ``t`` T wave, ``u`` U wave, any other
beat symbol such as ``N`` a QRS complex) and an optional ``)`` offset. This module turns
them into ``[leads, beats]`` arrays aligned on R fiducials, and into CSE global boundaries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tools.delineate.windows import ABSENT

#: QRS peaks of different leads closer than this belong to the same beat.
BEAT_CLUSTER_MS = 100.0


@dataclass(frozen=True)
class Waves:
    """Annotated waves of one lead: int64 ``[n, 3]`` (onset, peak, offset), -1 when unmarked."""

    p: np.ndarray
    qrs: np.ndarray
    t: np.ndarray

    @property
    def span(self) -> tuple[int, int]:
        """First and last annotated sample (``(-1, -1)`` when the lead has no marks)."""
        marks = np.concatenate([self.p.ravel(), self.qrs.ravel(), self.t.ravel()])
        marks = marks[marks >= 0]
        return (int(marks.min()), int(marks.max())) if marks.size else (ABSENT, ABSENT)


def parse_waves(samples: Sequence[int] | np.ndarray, symbols: Sequence[str]) -> Waves:
    """Group a wave annotation stream into (onset, peak, offset) triples per wave type.

    Any beat symbol (``N``, ``A``, ``V``, ...) is a QRS complex; consecutive ``p`` or ``t``
    marks form one wave whose peak is the first mark.

    Parameters
    ----------
    samples, symbols
        The annotation's sample indices and symbols, in file order.

    Returns
    -------
    Waves
    """
    s = np.asarray(samples, dtype=np.int64)
    sym = [str(x) for x in symbols]
    out: dict[str, list[tuple[int, int, int]]] = {"p": [], "qrs": [], "t": []}
    i = 0
    while i < len(sym):
        name = sym[i]
        if name in ("(", ")", "u"):
            i += 1
            continue
        last = i
        while last + 1 < len(sym) and sym[last + 1] == name and name in ("p", "t"):
            last += 1  # a biphasic wave marked with two peaks is one wave
        on = int(s[i - 1]) if i > 0 and sym[i - 1] == "(" else ABSENT
        off = int(s[last + 1]) if last + 1 < len(sym) and sym[last + 1] == ")" else ABSENT
        key = name if name in ("p", "t") else "qrs"
        out[key].append((on, int(s[i]), off))
        i = last + 1
    return Waves(*(np.asarray(out[k], dtype=np.int64).reshape(-1, 3) for k in ("p", "qrs", "t")))


def reference_r_peaks(waves: Sequence[Waves], fs_hz: float) -> np.ndarray:
    """One fiducial per beat: the median of the leads' annotated QRS peaks, clustered in time."""
    peaks = np.sort(np.concatenate([w.qrs[:, 1] for w in waves])) if waves else np.array([])
    if peaks.size == 0:
        return np.zeros(0, dtype=np.int64)
    gap = BEAT_CLUSTER_MS * fs_hz / 1000.0
    cluster = np.concatenate([[0], np.cumsum(np.diff(peaks) > gap)])
    return np.array(
        [int(np.median(peaks[cluster == c])) for c in range(cluster[-1] + 1)], dtype=np.int64
    )


@dataclass(frozen=True)
class Reference:
    """Expert marks aligned on fiducials: every array int64 ``[leads, beats]``, -1 if absent.

    ``counted`` marks the lead/beat pairs whose fiducial lies inside the lead's annotated
    span ``[span_first, span_last]`` (``[leads]``; LUDB leaves the first and last beats
    unannotated: those are neither hits nor misses).
    """

    p_on: np.ndarray
    p_peak: np.ndarray
    p_off: np.ndarray
    qrs_on: np.ndarray
    qrs_peak: np.ndarray
    qrs_off: np.ndarray
    t_on: np.ndarray
    t_peak: np.ndarray
    t_off: np.ndarray
    counted: np.ndarray
    span_first: np.ndarray
    span_last: np.ndarray


def _assign(triples: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """For each beat, the triple whose peak lies in ``[lo, hi)`` (the first one), else -1s."""
    out = np.full((lo.size, 3), ABSENT, dtype=np.int64)
    if triples.size == 0 or lo.size == 0:
        return out
    peak = triples[:, 1]
    inside = (peak[None, :] >= lo[:, None]) & (peak[None, :] < hi[:, None])
    has = inside.any(axis=1)
    out[has] = triples[np.argmax(inside, axis=1)[has]]
    return out


def align_reference(waves: Sequence[Waves], r_peaks: np.ndarray, fs_hz: float) -> Reference:
    """Assign each lead's annotated waves to the beats given by ``r_peaks``.

    A QRS belongs to the beat whose fiducial is nearest to its peak (within
    :data:`BEAT_CLUSTER_MS`); a P wave to the beat whose fiducial follows its peak; a T wave
    to the beat whose fiducial precedes its peak.
    """
    r = np.asarray(r_peaks, dtype=np.int64)
    big = np.iinfo(np.int64).max // 4
    prev_r = np.concatenate([[-big], r[:-1]]) if r.size else r
    next_r = np.concatenate([r[1:], [big]]) if r.size else r
    tol = round(BEAT_CLUSTER_MS * fs_hz / 1000.0)
    fields: dict[str, list[np.ndarray]] = {k: [] for k in ("p", "qrs", "t")}
    counted = []
    spans = []
    for w in waves:
        fields["qrs"].append(_assign(w.qrs, r - tol, r + tol + 1))
        fields["p"].append(_assign(w.p, np.maximum(prev_r + tol, r - 10 * tol), r))
        fields["t"].append(_assign(w.t, r, np.minimum(next_r - tol, r + 10 * tol)))
        first, last = w.span
        spans.append((first, last))
        counted.append((r >= first) & (r <= last) if first >= 0 else np.zeros(r.size, bool))
    stack = {k: np.stack(v) if v else np.zeros((0, r.size, 3), np.int64) for k, v in fields.items()}
    return Reference(
        p_on=stack["p"][..., 0],
        p_peak=stack["p"][..., 1],
        p_off=stack["p"][..., 2],
        qrs_on=stack["qrs"][..., 0],
        qrs_peak=stack["qrs"][..., 1],
        qrs_off=stack["qrs"][..., 2],
        t_on=stack["t"][..., 0],
        t_peak=stack["t"][..., 1],
        t_off=stack["t"][..., 2],
        counted=np.stack(counted) if counted else np.zeros((0, r.size), bool),
        span_first=np.array([a for a, _ in spans], dtype=np.int64),
        span_last=np.array([b for _, b in spans], dtype=np.int64),
    )


def cse_global(onsets: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CSE global boundaries of expert marks: earliest onset and latest offset over leads.

    Parameters
    ----------
    onsets, offsets
        int ``[leads, beats]`` with -1 for unmarked.

    Returns
    -------
    tuple of numpy.ndarray
        ``[beats]`` global onset and offset, -1 where no lead is marked.
    """
    big = np.iinfo(np.int64).max
    on = np.where(onsets >= 0, onsets, big).min(axis=0, initial=big)
    off = np.where(offsets >= 0, offsets, ABSENT).max(axis=0, initial=ABSENT)
    return np.where(on == big, ABSENT, on), off
