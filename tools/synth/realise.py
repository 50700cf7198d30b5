"""Turn templates and a beat schedule into the ground truth tables and realised intervals."""

from __future__ import annotations

import math

import numpy as np

from tools.leads import STANDARD_LEADS
from tools.synth.projection import EXPAND_8_TO_12, frontal_axis_deg
from tools.synth.qrs import PRECORDIAL
from tools.synth.rhythm import BeatSchedule
from tools.synth.spec import SynthSpec
from tools.synth.templates import BEAT_KINDS, FIDUCIALS, BeatTemplate, samples
from tools.synth.timing import Timing
from tools.synth.truth import Intervals

#: ST is read at J+60 and J+80 ms (the two conventional ST measurement points).
ST_POINTS_MS = (60.0, 80.0)


def fiducial_tables(
    spec: SynthSpec, templates: dict[str, BeatTemplate], schedule: BeatSchedule
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Global ``[beats]`` and per-lead ``[beats, 12]`` fiducial samples (-1 when absent)."""
    absent_glob, absent_lead = (
        np.full(len(FIDUCIALS), np.nan),
        np.full((len(FIDUCIALS), 12), np.nan),
    )
    rel_glob = np.stack(
        [
            np.array([templates[k].fiducials[f] for f in FIDUCIALS])
            if k in templates
            else absent_glob
            for k in BEAT_KINDS
        ]
    )[schedule.kinds]
    rel_lead = np.stack(
        [
            np.stack([templates[k].lead_fiducials[f] for f in FIDUCIALS])
            if k in templates
            else absent_lead
            for k in BEAT_KINDS
        ]
    )[schedule.kinds]
    glob = _absolute(schedule.qrs_on[:, None], rel_glob)  # [beats, fiducials]
    lead = _absolute(schedule.qrs_on[:, None, None], rel_lead)  # [beats, fiducials, 12]
    faulty = [STANDARD_LEADS.index(x) for x in (*spec.flat_leads, *spec.disconnected_leads)]
    lead[:, :, faulty] = -1
    return (
        {f: glob[:, i].copy() for i, f in enumerate(FIDUCIALS)},
        {f: lead[:, i, :].copy() for i, f in enumerate(FIDUCIALS)},
    )


def _absolute(origin: np.ndarray, relative: np.ndarray) -> np.ndarray:
    """Relative offsets (NaN: absent) to absolute int64 samples (-1: absent)."""
    return np.where(np.isnan(relative), -1, origin + np.nan_to_num(relative)).astype(np.int64)


def realised_intervals(
    spec: SynthSpec,
    timing: Timing,
    normal: BeatTemplate,
    schedule: BeatSchedule,
) -> Intervals:
    """Intervals, axis, transition, ST and T amplitudes as the normal beat realises them."""
    fs = spec.fs_hz
    fid = normal.fiducials
    ms = 1000.0 / fs
    rr = np.diff(schedule.qrs_on) * ms
    rr_mean = float(rr.mean()) if len(rr) else None
    qt_ms = (fid["t_off"] - fid["qrs_on"]) * ms
    has_p = not math.isnan(fid["p_on"])
    qrs = normal.waves12["qrs"]
    areas = qrs.sum(axis=1)
    total12 = EXPAND_8_TO_12 @ normal.signal8
    st = {
        point: _values_at(total12, normal.lead_in + int(fid["qrs_off"]) + samples(point, fs))
        for point in ST_POINTS_MS
    }
    t_peak = normal.lead_in + int(fid["t_peak"])
    atrial = np.diff(schedule.atrial_onsets)
    return Intervals(
        hr_bpm=60_000.0 / rr_mean if rr_mean else None,
        rr_ms=rr_mean,
        rr_sd_ms=float(rr.std()) if len(rr) else None,
        pr_ms=(fid["qrs_on"] - fid["p_on"]) * ms if has_p else None,
        p_ms=(fid["p_off"] - fid["p_on"]) * ms if has_p else None,
        qrs_ms=(fid["qrs_off"] - fid["qrs_on"]) * ms,
        qt_ms=qt_ms,
        qtc_bazett_ms=qt_ms / math.sqrt((rr_mean or timing.rr_ms) / 1000.0),
        qt_clamped=timing.qt_clamped,
        axis_deg=frontal_axis_deg(float(areas[0]), float(areas[5])),
        transition_lead=_transition(areas[6:]),
        atrial_rate_bpm=60_000.0 / float(atrial.mean() * ms) if len(atrial) else None,
        st_j60_mv=st[ST_POINTS_MS[0]],
        st_j80_mv=st[ST_POINTS_MS[1]],
        t_amplitude_mv=dict(
            zip(STANDARD_LEADS, normal.waves12["t"][:, t_peak].round(6).tolist(), strict=True)
        ),
    )


def _values_at(signal12: np.ndarray, index: int) -> dict[str, float]:
    """Per-lead value at a template index (0 past the template's end: baseline)."""
    values = signal12[:, index] if index < signal12.shape[1] else np.zeros(12)
    return dict(zip(STANDARD_LEADS, values.round(6).tolist(), strict=True))


def _transition(precordial_areas: np.ndarray) -> str | None:
    positive = precordial_areas >= 0
    if not positive.any():
        return None
    k = int(np.argmax(positive))
    return PRECORDIAL[k] if positive[k:].all() else None
