"""CSE global boundaries: earliest onset and latest offset over the leads, outlier-protected.

The Common Standards for Quantitative Electrocardiography (CSE Working Party, Willems et al.
1985, J Am Coll Cardiol 5(6):1261-1275) define a global wave onset as the earliest onset in
any lead and the global offset as the latest offset. Taken literally one misplaced lead sets
the answer, so the k-th earliest onset (k-th latest offset) is used, with
``k = ceil(GLOBAL_ORDER_FRACTION * leads with the wave)``: 2 of 12 leads, 1 of 2 or 3.

A fitted variant (:mod:`tools.delineate.train`) chooses the fraction per boundary and adds a
shift so that the result matches the LUDB experts' CSE boundaries (the earliest/latest of
their 12 independently placed per-lead marks) on the training half. That reference is
widened by the noise of the marks (its median QRS on LUDB is 120 ms against 92 ms per lead),
so the shifts (about -11 ms on the QRS onset, +14 ms on its offset, +31 ms on the T offset)
widen intervals beyond what a consistent multi-lead reading gives (QRS 90 ms synthetic
beats come out at 124 ms). The default is therefore the unshifted rule; the fitted table is
kept for benchmarking against LUDB. With fewer than 12 leads the fitted shift is scaled by
the expected maximum of that many standard normal variables relative to 12.
"""

from __future__ import annotations

import numpy as np

from tools.delineate.params import GLOBAL_ORDER_FRACTION
from tools.delineate.result import GlobalPoints, WavePoints
from tools.delineate.twave import FLAT_T
from tools.delineate.windows import ABSENT

#: The fused boundaries, in the row order of a fusion table ``[5, 2]`` (fraction, shift ms).
FUSED_BOUNDARIES: tuple[str, ...] = ("p_on", "p_off", "qrs_on", "qrs_off", "t_off")
#: Expected maximum of n independent standard normal variables, n = 0..12 (Tippett 1925;
#: Harter 1961 tables), used to scale the 12-lead shift to n leads.
EXPECTED_MAX_NORMAL: tuple[float, ...] = (
    0.0,
    0.0,
    0.5642,
    0.8463,
    1.0294,
    1.1630,
    1.2672,
    1.3522,
    1.4236,
    1.4850,
    1.5388,
    1.5864,
    1.6292,
)
#: The global T offset ignores leads with a flat T wave when this many leads have a clear one.
MIN_CLEAR_T_LEADS = 3
#: Candidate order fractions tried when fitting (1st, ~10 %, 1/6, 1/4, 1/3, 1/2 of leads).
ORDER_FRACTIONS: tuple[float, ...] = (0.01, 0.1, 0.17, 0.25, 0.34, 0.5)


#: Sort key of an absent value: after every present one.
_NOT_PRESENT = np.iinfo(np.int64).max


def kth_extreme(
    values: np.ndarray, latest: bool, fraction: float = GLOBAL_ORDER_FRACTION
) -> np.ndarray:
    """The k-th earliest (or latest) non-absent value over leads, per beat.

    Parameters
    ----------
    values
        int ``[leads, beats]`` with -1 for absent.
    latest
        False for onsets (k-th smallest), True for offsets (k-th largest).
    fraction
        ``k = max(1, ceil(fraction * n))`` where ``n`` is the number of leads with a value.

    Returns
    -------
    numpy.ndarray
        int64 ``[beats]``, -1 where no lead has a value.
    """
    v = np.asarray(values, dtype=np.int64)
    if v.shape[0] == 0:
        return np.full(v.shape[1:], ABSENT, dtype=np.int64)
    present = v >= 0
    n = present.sum(axis=0)
    # Sorted per beat along the last axis ([beats, leads]): faster than along the lead axis.
    ordered = np.sort(np.where(present, -v if latest else v, _NOT_PRESENT).T, axis=-1)
    k = np.maximum(np.ceil(fraction * n).astype(np.int64), 1)
    pick = ordered[np.arange(ordered.shape[0]), np.minimum(k - 1, v.shape[0] - 1)]
    pick = -pick if latest else pick
    return np.where(n > 0, pick, ABSENT).astype(np.int64)


def _clear_t_ends(t_off: np.ndarray, morphology: np.ndarray) -> np.ndarray:
    """T offsets of leads with a non-flat T wave, where a beat has at least
    :data:`MIN_CLEAR_T_LEADS` of them: the end of a flat T wave is a guess."""
    clear = (t_off >= 0) & (morphology != FLAT_T)
    enough = clear.sum(axis=0) >= MIN_CLEAR_T_LEADS
    return np.where(enough[None, :] & ~clear, ABSENT, t_off)


def default_fusion() -> np.ndarray:
    """Fusion table ``[5, 2]`` without fitting: the default fraction, no shift."""
    table = np.zeros((len(FUSED_BOUNDARIES), 2))
    table[:, 0] = GLOBAL_ORDER_FRACTION
    return table


def global_points(
    points: WavePoints, fs_hz: float, fusion: np.ndarray | None = None
) -> GlobalPoints:
    """Global P on/off, QRS on/off and T off of every beat from the per-lead points.

    Parameters
    ----------
    points
        Per-lead points ``[leads, beats]``.
    fs_hz
        Sampling rate in Hz.
    fusion
        ``[5, 2]`` table (order fraction, shift in ms) per boundary of
        :data:`FUSED_BOUNDARIES`; :func:`default_fusion` when None.
    """
    table = default_fusion() if fusion is None else np.asarray(fusion, dtype=np.float64)
    expected = np.asarray(EXPECTED_MAX_NORMAL)
    out = {}
    for (fraction, shift_ms), name in zip(table, FUSED_BOUNDARIES, strict=True):
        values = getattr(points, name)
        if name == "t_off":
            values = _clear_t_ends(values, points.t_morphology)
        value = kth_extreme(values, name.endswith("off"), float(fraction))
        n = np.minimum((values >= 0).sum(axis=0), expected.size - 1)
        shift = np.rint(shift_ms * fs_hz / 1000.0 * expected[n] / expected[-1]).astype(np.int64)
        out[name] = np.where(value >= 0, np.maximum(value + shift, 0), ABSENT)
    return GlobalPoints(**out)
