"""Heart-rate corrections of the QT interval (vectorised; NaN in, NaN out)."""

from __future__ import annotations

import numpy as np

from tools.measure.thresholds import FRAMINGHAM_SLOPE_MS, HODGES_SLOPE_MS_PER_BPM


def qtc_bazett_ms(qt_ms: np.ndarray | float, rr_ms: np.ndarray | float) -> np.ndarray:
    """QT / sqrt(RR in s) (Bazett, Heart 1920;7:353-370)."""
    return np.asarray(qt_ms, dtype=float) / np.sqrt(np.asarray(rr_ms, dtype=float) / 1000.0)


def qtc_fridericia_ms(qt_ms: np.ndarray | float, rr_ms: np.ndarray | float) -> np.ndarray:
    """QT / cbrt(RR in s) (Fridericia, Acta Med Scand 1920;53:469-486)."""
    return np.asarray(qt_ms, dtype=float) / np.cbrt(np.asarray(rr_ms, dtype=float) / 1000.0)


def qtc_framingham_ms(qt_ms: np.ndarray | float, rr_ms: np.ndarray | float) -> np.ndarray:
    """QT + 154 (1 - RR in s) (Sagie et al., Am J Cardiol 1992;70:797-801)."""
    rr_s = np.asarray(rr_ms, dtype=float) / 1000.0
    return np.asarray(qt_ms, dtype=float) + FRAMINGHAM_SLOPE_MS * (1.0 - rr_s)


def qtc_hodges_ms(qt_ms: np.ndarray | float, rr_ms: np.ndarray | float) -> np.ndarray:
    """QT + 1.75 (HR - 60) (Hodges et al., J Am Coll Cardiol 1983;1:694)."""
    hr_bpm = 60_000.0 / np.asarray(rr_ms, dtype=float)
    return np.asarray(qt_ms, dtype=float) + HODGES_SLOPE_MS_PER_BPM * (hr_bpm - 60.0)
