"""Measurement sets for the verifier's tests: the criteria builder plus GEM's per-beat features.

``verify_measurements()`` is :func:`tests.measurement_builders.measurements` (a normal adult ECG,
sinus rhythm at 70 bpm) with ten beats of per-beat features for every usable lead. The
per-beat QRS durations of every lead are :data:`QRS_BEATS_MS` (86-96 ms) unless overridden:

>>> m = verify_measurements(beats={"I": {"qrs_duration_ms": [120.0] * 10}})
>>> m = verify_measurements(beat_types={4: "ventricular_premature"})
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tests.measurement_builders import NORMAL_GLOBAL, NORMAL_LEADS, measurements
from tools.measure.model import Beats, BeatType, LeadBeatFeatures, Measurements

N_BEATS = 10
#: Per-beat QRS durations of every lead (min 86, max 96, third beat 90).
QRS_BEATS_MS: list[float | None] = [86.0, 88.0, 90.0, 92.0, 94.0, 90.0, 88.0, 92.0, 90.0, 96.0]
RR_MS = 857.0


def _series(value: float | None, n: int = N_BEATS) -> list[float | None]:
    return [value] * n


def lead_beats(name: str, lead_values: Mapping[str, Any], **overrides: Any) -> LeadBeatFeatures:
    """Ten beats of one lead, consistent with its median-beat values, with ``overrides``."""
    values: dict[str, Any] = {
        "heart_rate_bpm": _series(NORMAL_GLOBAL["heart_rate_bpm"]),
        "rr1_ms": [None, *_series(RR_MS, N_BEATS - 1)],
        "rr2_ms": [*_series(RR_MS, N_BEATS - 1), None],
        "p_amplitude_mv": _series(lead_values.get("p_amplitude_mv")),
        "p_duration_ms": _series(NORMAL_GLOBAL["p_duration_ms"]),
        "pr_ms": _series(NORMAL_GLOBAL["pr_ms"]),
        "qrs_amplitude_mv": _series(lead_values.get("r_amplitude_mv")),
        "qrs_duration_ms": list(QRS_BEATS_MS),
        "t_amplitude_mv": _series(lead_values.get("t_amplitude_mv")),
        "t_duration_ms": _series(180.0),
        "st_duration_ms": _series(100.0),
        "st_form": _series(lead_values.get("st_form", "upslope")),
        "qt_ms": _series(NORMAL_GLOBAL["qt_ms"]),
        "qtc_ms": _series(NORMAL_GLOBAL["qtc_bazett_ms"]),
    }
    values.update(overrides)
    return LeadBeatFeatures(lead=name, **values)


def verify_measurements(
    *,
    global_: Mapping[str, Any] | None = None,
    leads: Mapping[str, Mapping[str, Any]] | None = None,
    unusable: Iterable[str] = (),
    drop: Iterable[str] = (),
    beats: Mapping[str, Mapping[str, Any]] | None = None,
    beat_types: Mapping[int, BeatType] | None = None,
) -> Measurements:
    """A normal measurement set with per-beat features (see the module docstring).

    Parameters
    ----------
    global_, leads, unusable, drop
        As :func:`tests.measurement_builders.measurements`.
    beats
        Lead -> per-beat field overrides (lists of ten values).
    beat_types
        1-based beat index -> beat type (others "normal").
    """
    leads = leads or {}
    base = measurements(global_=global_, leads=leads, unusable=unusable, drop=drop)
    features = [
        lead_beats(
            name,
            {**NORMAL_LEADS[name], **leads.get(name, {})},
            **(beats or {}).get(name, {}),
        )
        for name in base.usable_leads
    ]
    types: list[BeatType] = ["normal"] * N_BEATS
    for index, kind in (beat_types or {}).items():
        types[index - 1] = kind
    r_peaks = [250 + round(i * RR_MS / 2) for i in range(N_BEATS)]
    return base.model_copy(
        update={"beats": Beats(r_peak_samples=r_peaks, beat_types=types, features=features)}
    )
