"""Builders of :class:`Measurements` for criteria tests: a normal adult ECG plus overrides.

``measurements()`` gives a plausible normal 12-lead measurement set (sinus rhythm at 70 bpm,
PR 160 ms, QRS 90 ms, QTc 410 ms, axis +45, normal R progression) on which no abnormal
criterion fires. Tests change only what a criterion reads:

>>> m = measurements(global_={"pr_ms": 201.0})
>>> m = measurements(leads={"V1": {"qrs_morphology": "rsR'"}}, unusable=["V2"])

A field set to ``None`` in an override is removed (not measured); ``drop`` removes a lead's
entry altogether. Synthetic-ECG tests can build their expectations the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tools.leads import STANDARD_LEADS
from tools.measure.model import GlobalMeasurements, LeadMeasurements, Measurements

NORMAL_GLOBAL: dict[str, Any] = {
    "heart_rate_bpm": 70.0,
    "rr_mean_ms": 857.0,
    "rr_sd_ms": 15.0,
    "rr_min_ms": 830.0,
    "rr_max_ms": 885.0,
    "rr_irregularity": 0.02,
    "p_duration_ms": 100.0,
    "pr_ms": 160.0,
    "qrs_ms": 90.0,
    "qt_ms": 380.0,
    "qtc_bazett_ms": 410.0,
    "qtc_fridericia_ms": 400.0,
    "p_axis_deg": 50.0,
    "qrs_axis_deg": 45.0,
    "t_axis_deg": 40.0,
    "p_wave_fraction": 1.0,
    "n_beats": 12,
    "beat_counts": {"normal": 12},
}


def _lead(
    morph: str,
    r: float,
    s: float | None,
    t: float,
    *,
    q: float | None = None,
    q_ms: float | None = None,
    p: float = 0.1,
    j: float = 0.02,
) -> dict[str, Any]:
    tpol = "negative" if t < 0 else "positive"
    return {
        "p_amplitude_mv": p, "q_amplitude_mv": q, "q_duration_ms": q_ms, "r_amplitude_mv": r,
        "s_amplitude_mv": s, "t_amplitude_mv": t, "qrs_morphology": morph, "j_level_mv": j,
        "st_j60_mv": j + 0.02, "st_j80_mv": j + 0.03, "st_form": "upslope", "t_polarity": tpol,
        "qrs_ms": 88.0,
    }  # fmt: skip


#: Per-lead values of a normal adult ECG (negative waves stored with a negative sign).
NORMAL_LEADS: dict[str, dict[str, Any]] = {
    "I": _lead("qRs", 0.8, -0.1, 0.25, q=-0.05, q_ms=15.0),
    "II": _lead("qRs", 1.2, -0.1, 0.3, q=-0.05, q_ms=15.0, p=0.15),
    "III": _lead("Rs", 0.6, -0.2, 0.1),
    "aVR": _lead("rS", 0.1, -0.9, -0.2, p=-0.1, j=0.0),
    "aVL": _lead("Rs", 0.4, -0.2, 0.1),
    "aVF": _lead("qR", 0.9, None, 0.2, q=-0.04, q_ms=15.0),
    "V1": _lead("rS", 0.2, -0.8, -0.1),
    "V2": _lead("rS", 0.4, -1.2, 0.5, j=0.05),
    "V3": _lead("RS", 0.8, -0.8, 0.45, j=0.05),
    "V4": _lead("Rs", 1.2, -0.5, 0.4),
    "V5": _lead("qRs", 1.4, -0.3, 0.35, q=-0.06, q_ms=15.0),
    "V6": _lead("qRs", 1.1, -0.1, 0.3, q=-0.05, q_ms=15.0),
}


def lead(name: str, **overrides: Any) -> LeadMeasurements:
    """One lead of the normal ECG with ``overrides`` applied."""
    values = {**NORMAL_LEADS[name], **overrides}
    return LeadMeasurements(lead=name, **values)


def measurements(
    *,
    global_: Mapping[str, Any] | None = None,
    leads: Mapping[str, Mapping[str, Any]] | None = None,
    unusable: Iterable[str] = (),
    drop: Iterable[str] = (),
    record_id: str = "builder-test",
) -> Measurements:
    """A normal measurement set with global and per-lead overrides.

    Parameters
    ----------
    global_
        Overrides of :data:`NORMAL_GLOBAL` (``None`` values mean "not measured").
    leads
        Lead -> overrides of that lead's :data:`NORMAL_LEADS` values.
    unusable
        Leads kept in the set but left out of ``usable_leads``.
    drop
        Leads removed from the set entirely (absent).
    record_id
        Record id of the set.
    """
    overrides = leads or {}
    gone = set(drop)
    names = [n for n in STANDARD_LEADS if n not in gone]
    bad = set(unusable)
    return Measurements(
        record_id=record_id,
        fs_hz=500.0,
        lead_names=names,
        usable_leads=[n for n in names if n not in bad],
        global_=GlobalMeasurements(**{**NORMAL_GLOBAL, **(global_ or {})}),
        leads=[lead(n, **overrides.get(n, {})) for n in names],
    )


def st_leads(j_level_mv: float, names: Iterable[str], **extra: Any) -> dict[str, dict[str, Any]]:
    """Per-lead overrides setting the J level (and ``extra`` fields) of ``names``."""
    return {n: {"j_level_mv": j_level_mv, **extra} for n in names}


def fired(m: Measurements, **demographics: Any) -> dict[str, Any]:
    """Code -> Statement of every criterion the set meets (``sex=``, ``age_years=`` passed on)."""
    from tools.statements import evaluate_criteria

    return {s.code: s for s in evaluate_criteria(m, **demographics)}
