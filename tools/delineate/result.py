"""The delineation result: per-lead wave points, CSE global boundaries and the median beat.

Layout, stated once: per-beat arrays are int64 ``[leads, beats]`` (global ones ``[beats]``),
sample indices into the record (the median beat's into its own window), -1 when absent.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from tools.delineate.twave import T_MORPHOLOGIES
from tools.delineate.windows import ABSENT


@dataclass(frozen=True)
class WavePoints:
    """Fiducial points of every lead and beat (int64, -1 when absent).

    Attributes
    ----------
    p_on, p_peak, p_off
        P wave onset, peak (largest phase) and offset; all -1 when the beat has no P wave.
    qrs_on, qrs_off
        QRS onset and offset (J point).
    q_peak, r_peak, s_peak, r2_peak
        Q, R, S and R' peaks (a QS complex reports its nadir as Q and no R).
    t_on, t_peak, t_off
        T wave onset, peak (largest phase) and offset.
    t_morphology
        int8 codes into :data:`~tools.delineate.twave.T_MORPHOLOGIES`
        (see :meth:`t_labels`).
    """

    p_on: np.ndarray
    p_peak: np.ndarray
    p_off: np.ndarray
    qrs_on: np.ndarray
    q_peak: np.ndarray
    r_peak: np.ndarray
    s_peak: np.ndarray
    r2_peak: np.ndarray
    qrs_off: np.ndarray
    t_on: np.ndarray
    t_peak: np.ndarray
    t_off: np.ndarray
    t_morphology: np.ndarray

    @classmethod
    def empty(cls, n_leads: int, n_beats: int = 0) -> WavePoints:
        """All points absent, ``[n_leads, n_beats]``."""
        values = {f.name: np.full((n_leads, n_beats), ABSENT, dtype=np.int64) for f in fields(cls)}
        values["t_morphology"] = np.zeros((n_leads, n_beats), dtype=np.int8)
        return cls(**values)

    def t_labels(self) -> np.ndarray:
        """T morphology names (``"positive"``, ``"negative"``, ``"biphasic+/-"``, ...)."""
        return np.asarray(T_MORPHOLOGIES)[self.t_morphology]

    def masked(self, keep: np.ndarray) -> WavePoints:
        """A copy with every point set to -1 (and T to absent) where ``keep`` is False."""
        values = {}
        for f in fields(self):
            arr = getattr(self, f.name)
            fill = 0 if f.name == "t_morphology" else ABSENT
            values[f.name] = np.where(keep, arr, fill).astype(arr.dtype)
        return WavePoints(**values)

    def beats(self, which: slice) -> WavePoints:
        """The points of a slice of beats."""
        return WavePoints(**{f.name: getattr(self, f.name)[:, which] for f in fields(self)})

    def beat(self, index: int) -> WavePoints:
        """The points of one beat, ``[leads]`` arrays."""
        return WavePoints(**{f.name: getattr(self, f.name)[:, index] for f in fields(self)})

    def beats_axis(self) -> WavePoints:
        """``[leads]`` arrays (the median beat's) as ``[leads, 1]``."""
        return WavePoints(**{f.name: getattr(self, f.name)[:, None] for f in fields(self)})

    def shifted(self, samples: int) -> WavePoints:
        """Every present point moved by ``samples`` (absent points stay -1)."""
        values = {}
        for f in fields(self):
            arr = getattr(self, f.name)
            values[f.name] = (
                arr if f.name == "t_morphology" else np.where(arr >= 0, arr + samples, arr)
            )
        return WavePoints(**values)


@dataclass(frozen=True)
class GlobalPoints:
    """CSE global boundaries per beat (int64 ``[beats]``; 0-d for the median beat), -1 if absent.

    Global onsets are the earliest and offsets the latest over the leads, with outlier
    protection (see :func:`tools.delineate.fusion.global_points`).
    """

    p_on: np.ndarray
    p_off: np.ndarray
    qrs_on: np.ndarray
    qrs_off: np.ndarray
    t_off: np.ndarray

    @classmethod
    def empty(cls, n_beats: int = 0) -> GlobalPoints:
        """All boundaries absent, ``[n_beats]``."""
        return cls(**{f.name: np.full(n_beats, ABSENT, dtype=np.int64) for f in fields(cls)})

    def intervals_ms(self, fs_hz: float) -> dict[str, np.ndarray]:
        """P duration, PR, QRS and QT in ms (NaN where a boundary is absent)."""

        def span(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            ok = (a >= 0) & (b >= 0)
            return np.where(ok, (b - a) * (1000.0 / fs_hz), np.nan)

        return {
            "p_ms": span(self.p_on, self.p_off),
            "pr_ms": span(self.p_on, self.qrs_on),
            "qrs_ms": span(self.qrs_on, self.qrs_off),
            "qt_ms": span(self.qrs_on, self.t_off),
        }

    def beats(self, which: slice) -> GlobalPoints:
        """The boundaries of a slice of beats."""
        return GlobalPoints(**{f.name: getattr(self, f.name)[which] for f in fields(self)})

    def beat(self, index: int) -> GlobalPoints:
        """The boundaries of one beat, as 0-d arrays."""
        return GlobalPoints(
            **{f.name: np.asarray(getattr(self, f.name)[index]) for f in fields(self)}
        )

    def shifted(self, samples: int) -> GlobalPoints:
        """Every present boundary moved by ``samples`` (absent ones stay -1)."""
        return GlobalPoints(
            **{
                f.name: np.where(getattr(self, f.name) >= 0, getattr(self, f.name) + samples, -1)
                for f in fields(self)
            }
        )


@dataclass(frozen=True)
class MedianBeat:
    """Median beat of every lead, aligned on the R fiducials, and its delineation.

    Attributes
    ----------
    signal_mv
        float32 ``[leads, samples]``: sample-wise median over the beats used.
    r_index
        Sample of the R fiducial within the window.
    n_beats
        Number of beats the median was taken over.
    points
        Per-lead points, int64 ``[leads]``, indices into ``signal_mv``.
    global_points
        Global boundaries, 0-d int64 arrays.
    """

    signal_mv: np.ndarray
    r_index: int
    n_beats: int
    points: WavePoints
    global_points: GlobalPoints


@dataclass(frozen=True)
class Delineation:
    """Delineation of one record.

    Attributes
    ----------
    fs_hz
        Sampling rate in Hz.
    lead_names
        Names of the rows of every ``[leads, ...]`` array.
    r_peaks
        int64 ``[beats]``: the fiducials the beats were delineated around.
    usable_leads
        bool ``[leads]``: False for flat or all-missing leads (all their points are -1).
    points
        Per-lead, per-beat points.
    global_points
        Per-beat CSE global boundaries.
    median
        The median beat, or None when no beat lies wholly inside the record.
    """

    fs_hz: float
    lead_names: tuple[str, ...]
    r_peaks: np.ndarray
    usable_leads: np.ndarray
    points: WavePoints
    global_points: GlobalPoints
    median: MedianBeat | None

    def intervals_ms(self) -> dict[str, np.ndarray]:
        """Per-beat global P duration, PR, QRS and QT in ms (NaN where absent)."""
        return self.global_points.intervals_ms(self.fs_hz)
