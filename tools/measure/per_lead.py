"""Per-lead amplitudes, morphology and ST-T measurements on the median beat."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from tools.delineate import MedianBeat
from tools.delineate.twave import (
    BIPHASIC_NEG_POS,
    BIPHASIC_POS_NEG,
    FLAT_T,
    NEGATIVE_T,
    POSITIVE_T,
)
from tools.measure import thresholds as th
from tools.measure.model import LeadMeasurements, StForm, TPolarity
from tools.measure.waves import baseline_mv, ms_to_samples, take

#: Delineator T morphology code -> the report's T polarity.
T_POLARITY: dict[int, TPolarity] = {
    POSITIVE_T: "positive",
    NEGATIVE_T: "negative",
    BIPHASIC_POS_NEG: "biphasic",
    BIPHASIC_NEG_POS: "biphasic",
    FLAT_T: "flat",
}


def st_form(slope_mv_per_s: float) -> StForm | None:
    """GEM's ST form from the J -> J+80 ms slope (see ``ST_HORIZONTAL_SLOPE_MV_PER_S``)."""
    if not np.isfinite(slope_mv_per_s):
        return None
    if slope_mv_per_s > th.ST_HORIZONTAL_SLOPE_MV_PER_S:
        return "upslope"
    if slope_mv_per_s < -th.ST_HORIZONTAL_SLOPE_MV_PER_S:
        return "declination"
    return "horizontal"


def qrs_morphology(q_mv: float, r_mv: float, s_mv: float, r2_mv: float) -> str | None:
    """Letter label of a QRS complex (``qR``, ``rS``, ``rsR'``, ``QS``, ``R``...).

    Waves present (finite amplitudes) are written in time order, upper case when at least
    ``CAPITAL_WAVE_MV`` in size. A complex with a Q/S nadir and no R is ``QS``.
    """

    def letter(amplitude: float, name: str) -> str:
        return name.upper() if abs(amplitude) >= th.CAPITAL_WAVE_MV else name.lower()

    has_r = np.isfinite(r_mv) and r_mv > 0
    if not has_r:
        depth = np.nanmax(np.abs([q_mv, s_mv])) if np.isfinite([q_mv, s_mv]).any() else np.nan
        return ("QS" if depth >= th.CAPITAL_WAVE_MV else "qs") if np.isfinite(depth) else None
    parts = []
    if np.isfinite(q_mv):
        parts.append(letter(q_mv, "q"))
    parts.append(letter(r_mv, "r"))
    if np.isfinite(s_mv):
        parts.append(letter(s_mv, "s"))
    if np.isfinite(r2_mv) and r2_mv > 0:
        parts.append(letter(r2_mv, "r") + "'")
    return "".join(parts)


def _q_duration_ms(signal: np.ndarray, q_peak: int, qrs_on: int, qrs_off: int, base: float,
                   fs_hz: float) -> float:  # fmt: skip
    """From QRS onset to where the signal returns to baseline after the Q nadir."""
    if q_peak < 0 or qrs_on < 0 or qrs_off <= q_peak:
        return float("nan")
    after = signal[q_peak:qrs_off] - base
    back = np.flatnonzero(after >= 0)
    end = q_peak + (int(back[0]) if back.size else after.size)
    return (end - qrs_on) * 1000.0 / fs_hz


def _opt(value: float, digits: int) -> float | None:
    number = float(value)
    return round(number, digits) if math.isfinite(number) else None


def lead_measurements(
    median: MedianBeat, fs_hz: float, lead_names: Sequence[str], usable: np.ndarray
) -> list[LeadMeasurements]:
    """Per-lead measurements of the median beat, for the usable leads.

    Amplitudes are in mV against the lead's PR-segment level (or the level just before the
    global QRS onset when there is no PR segment); the J point is the global QRS offset (the
    CSE convention for ST measurement); durations use the lead's own boundaries.
    """
    x = median.signal_mv.astype(np.float64)
    pts, gp = median.points, median.global_points
    n_leads = x.shape[0]
    per_ms = 1000.0 / fs_hz

    def span_ms(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.where((a >= 0) & (b >= 0), (b - a) * per_ms, np.nan)

    g_qrs_on = np.full(n_leads, int(gp.qrs_on))
    g_p_off = np.full(n_leads, int(gp.p_off))
    base = baseline_mv(x, g_p_off, g_qrs_on, ms_to_samples(th.BASELINE_WINDOW_MS, fs_hz))
    amp = {name: take(x, getattr(pts, name)) - base
           for name in ("p_peak", "q_peak", "r_peak", "s_peak", "r2_peak", "t_peak")}  # fmt: skip
    j = np.full(n_leads, int(gp.qrs_off)) if int(gp.qrs_off) >= 0 else np.full(n_leads, -1)
    j_ok = j >= 0
    j_level = take(x, j) - base
    st60 = take(x, np.where(j_ok, j + ms_to_samples(th.ST_J60_MS, fs_hz), -1)) - base
    st80 = take(x, np.where(j_ok, j + ms_to_samples(th.ST_J80_MS, fs_hz), -1)) - base
    slope = (st80 - j_level) / (th.ST_J80_MS / 1000.0)
    durations = {
        "p_duration_ms": span_ms(pts.p_on, pts.p_off),
        "pr_ms": span_ms(pts.p_on, pts.qrs_on),
        "qrs_ms": span_ms(pts.qrs_on, pts.qrs_off),
        "qt_ms": span_ms(pts.qrs_on, pts.t_off),
    }
    result = []
    for k in np.flatnonzero(usable):
        q, r, s, r2 = (amp[n][k] for n in ("q_peak", "r_peak", "s_peak", "r2_peak"))
        q_ms = _q_duration_ms(x[k], int(pts.q_peak[k]), int(pts.qrs_on[k]), int(pts.qrs_off[k]),
                              float(base[k]), fs_hz)  # fmt: skip
        result.append(
            LeadMeasurements(
                lead=lead_names[int(k)],
                p_amplitude_mv=_opt(amp["p_peak"][k], 3),
                q_amplitude_mv=_opt(q, 3),
                r_amplitude_mv=_opt(r, 3),
                r_prime_amplitude_mv=_opt(r2, 3),
                s_amplitude_mv=_opt(s, 3),
                t_amplitude_mv=_opt(amp["t_peak"][k], 3),
                qrs_morphology=qrs_morphology(q, r, s, r2),
                q_duration_ms=_opt(q_ms, 1),
                j_level_mv=_opt(j_level[k], 3),
                st_j60_mv=_opt(st60[k], 3),
                st_j80_mv=_opt(st80[k], 3),
                st_slope_mv_per_s=_opt(slope[k], 3),
                st_form=st_form(float(slope[k])),
                t_polarity=T_POLARITY.get(int(pts.t_morphology[k])),
                **{name: _opt(v[k], 1) for name, v in durations.items()},
            )
        )
    return result
