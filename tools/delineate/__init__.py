"""ECG wave delineation: per-lead P, QRS and T boundaries, CSE global boundaries, median beat.

Public surface::

    from tools.delineate import delineate
    d = delineate(signal_mv, fs_hz, r_peaks, lead_names)
    d.points.qrs_on          # int64 [leads, beats], -1 when absent
    d.global_points.qrs_on   # int64 [beats]
    d.intervals_ms()["qrs_ms"]
    d.median.points.t_off    # int64 [leads], in the median beat's own samples

Method: multi-scale Gaussian-derivative slopes (a continuous wavelet transform in the spirit
of Martínez et al. 2004); a multi-lead QRS core on the spatial slope envelope; per-lead
onsets/offsets placed by small linear scorers over local slope/level/envelope features,
fitted on half of LUDB (:mod:`tools.delineate.train`, weights in ``weights.npz``, 5 kB);
T waves by a multi-lead, rate-aware peak consensus; P presence by a fitted multi-lead vote
(AF gives no P); CSE global boundaries as the 2nd earliest onset / 2nd latest offset of 12
leads (:mod:`tools.delineate.fusion`); the median beat is delineated in the same pass.
"""

from tools.delineate.core import delineate
from tools.delineate.result import Delineation, GlobalPoints, MedianBeat, WavePoints
from tools.delineate.twave import T_MORPHOLOGIES

__all__ = [
    "T_MORPHOLOGIES",
    "Delineation",
    "GlobalPoints",
    "MedianBeat",
    "WavePoints",
    "delineate",
]
