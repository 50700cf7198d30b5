"""GEM's 14 FeatureDB features for every beat of every lead, vectorised over [leads, beats]."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

import numpy as np

from tools.delineate import Delineation
from tools.measure import thresholds as th
from tools.measure.model import LeadBeatFeatures
from tools.measure.qtc import qtc_bazett_ms
from tools.measure.rhythm import rr_before_after_ms
from tools.measure.waves import baseline_mv, extreme_in_window, ms_to_samples, take

_ST_FORMS = np.array(["declination", "horizontal", "upslope"], dtype=object)


def beat_features(
    signal_mv: np.ndarray, delineation: Delineation, usable: np.ndarray
) -> list[LeadBeatFeatures]:
    """Per-lead, per-beat heart rate, RR 1/2, P/QRS/T amplitudes and durations, PR, ST
    duration and form, QT and QTc (Bazett), as GEM's ECG-Grounding features define them.

    Amplitudes are in mV against the level just before the beat's global QRS onset (GEM's
    QRS-onset baseline, or the PR segment when there is one); QRS amplitude is the signed
    largest deflection within the lead's QRS; heart rate is 60000 / RR 1 (RR 2 for the first
    beat); QTc uses the same RR. Unusable leads are left out.
    """
    fs = delineation.fs_hz
    per_ms = 1000.0 / fs
    x = np.nan_to_num(np.asarray(signal_mv, dtype=np.float64))
    p, g = delineation.points, delineation.global_points

    def span(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.where((a >= 0) & (b >= 0) & (b >= a), (b - a) * per_ms, np.nan)

    g_on = np.broadcast_to(g.qrs_on, p.qrs_on.shape)
    base = baseline_mv(x, p.p_off, g_on, ms_to_samples(th.BASELINE_WINDOW_MS, fs))
    rr1, rr2 = rr_before_after_ms(delineation.r_peaks, fs)
    rate_rr = np.where(np.isfinite(rr1), rr1, rr2)
    j80 = np.where(p.qrs_off >= 0, p.qrs_off + ms_to_samples(th.ST_J80_MS, fs), -1)
    slope = (take(x, j80) - take(x, p.qrs_off)) / (th.ST_J80_MS / 1000.0)
    form_code = np.where(slope > th.ST_HORIZONTAL_SLOPE_MV_PER_S, 2, 1)
    form_code = np.where(slope < -th.ST_HORIZONTAL_SLOPE_MV_PER_S, 0, form_code)
    qt = span(p.qrs_on, p.t_off)
    table = {
        "p_amplitude_mv": take(x, p.p_peak) - base,
        "p_duration_ms": span(p.p_on, p.p_off),
        "pr_ms": span(p.p_on, p.qrs_on),
        "qrs_amplitude_mv": extreme_in_window(x, p.qrs_on, p.qrs_off, base),
        "qrs_duration_ms": span(p.qrs_on, p.qrs_off),
        "t_amplitude_mv": take(x, p.t_peak) - base,
        "t_duration_ms": span(p.t_on, p.t_off),
        "st_duration_ms": span(p.qrs_off, p.t_on),
        "qt_ms": qt,
        "qtc_ms": qtc_bazett_ms(qt, rate_rr[np.newaxis, :]),
    }
    names = list(table)
    # Round every feature of every lead and beat in two numpy calls, then split per lead.
    mv = np.array([name.endswith("_mv") for name in names])
    stacked = np.stack([np.broadcast_to(table[name], p.qrs_on.shape) for name in names])
    rounded = np.where(mv[:, None, None], np.round(stacked, 3), np.round(stacked, 1))
    shared = {
        "heart_rate_bpm": _values(60_000.0 / rate_rr, 1),
        "rr1_ms": _values(rr1, 1),
        "rr2_ms": _values(rr2, 1),
    }
    form_names = _ST_FORMS[form_code]
    form_names[~np.isfinite(slope)] = None
    # Python floats with None where not finite, for every feature, lead and beat at once.
    values = rounded.astype(object)
    values[~np.isfinite(rounded)] = None
    result = []
    for k in np.flatnonzero(usable):
        result.append(
            LeadBeatFeatures(
                lead=delineation.lead_names[int(k)],
                st_form=form_names[k].tolist(),
                **shared,
                **{name: values[i, k].tolist() for i, name in enumerate(names)},
            )
        )
    return result


def _values(values: np.ndarray, digits: int) -> list[float | None]:
    rounded = np.round(np.asarray(values, dtype=np.float64), digits)
    as_list: list[float] = rounded.tolist()
    if np.isfinite(rounded).all():
        return list(as_list)
    return [v if math.isfinite(v) else None for v in as_list]


#: GEM's per-lead serialisation keys, in FeatureDB's order (``QRS_durations`` and ``ST_form``
#: are quoted in the GEM paper; the others follow the same pattern).
GEM_FEATURE_KEYS: dict[str, str] = {
    "heart_rate_bpm": "heart_rate",
    "rr1_ms": "RR_interval_1",
    "rr2_ms": "RR_interval_2",
    "p_amplitude_mv": "P_amplitudes",
    "p_duration_ms": "P_durations",
    "pr_ms": "PR_intervals",
    "qrs_amplitude_mv": "QRS_amplitudes",
    "qrs_duration_ms": "QRS_durations",
    "t_amplitude_mv": "T_amplitudes",
    "t_duration_ms": "T_durations",
    "st_duration_ms": "ST_durations",
    "st_form": "ST_form",
    "qt_ms": "QT_intervals",
    "qtc_ms": "QTc_intervals",
}

#: How a missing per-beat value is written in the serialisation.
GEM_MISSING = "NA"


def gem_feature_text(features: Sequence[LeadBeatFeatures]) -> str:
    """GEM's per-lead serialisation, one line per lead.

    ``Lead I: {"heart_rate": "75, 74, ...", ..., "QRS_durations": "92, 104, ...", "ST_form":
    "declination, upslope, ..."}``; durations and rates are whole numbers, amplitudes have two
    decimals (mV), a missing value is ``NA``.
    """
    lines = []
    for lead in features:
        entry: dict[str, str] = {}
        for field_name, key in GEM_FEATURE_KEYS.items():
            values = getattr(lead, field_name)
            entry[key] = ", ".join(_format(v, field_name) for v in values)
        lines.append(f"Lead {lead.lead}: {json.dumps(entry)}")
    return "\n".join(lines)


def _format(value: float | str | None, field_name: str) -> str:
    if value is None:
        return GEM_MISSING
    if isinstance(value, str):
        return value
    return f"{value:.2f}" if field_name.endswith("_mv") else f"{value:.0f}"
