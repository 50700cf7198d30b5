"""Labels of a synthetic record (vocabulary ``"synthetic"``): what it was built with."""

from __future__ import annotations

from tools.record import Label
from tools.synth import constants as c
from tools.synth.spec import SynthSpec
from tools.synth.truth import Intervals

_RHYTHM = {
    "sinus": ("SR", "sinus rhythm"),
    "sinus_arrhythmia": ("SARRH", "sinus arrhythmia"),
    "afib": ("AFIB", "atrial fibrillation"),
    "aflutter": ("AFLT", "atrial flutter"),
}

#: Bundle branch blocks -> the label (fascicular blocks also depend on the axis).
_CONDUCTION = {
    "rbbb": ("RBBB", "complete right bundle branch block"),
    "lbbb": ("LBBB", "complete left bundle branch block"),
    "irbbb": ("IRBBB", "incomplete right bundle branch block"),
}

#: Infarct territory -> the label, coded as PTB-XL's SCP statements.
_INFARCT = {
    "inferior": ("IMI", "inferior myocardial infarction"),
    "lateral": ("LMI", "lateral myocardial infarction"),
    "anteroseptal": ("ASMI", "anteroseptal myocardial infarction"),
    "anterior": ("AMI", "anterior myocardial infarction"),
}


def synthetic_labels(spec: SynthSpec, intervals: Intervals) -> tuple[Label, ...]:
    """Rhythm, conduction, ectopy, axis, voltage, ST-T, QT and signal-quality labels.

    Labels say what the record was built with (``SARRH`` whatever ``respiratory_depth``);
    fascicular blocks are labelled only where the axis meets the block's definition.
    """
    found: list[tuple[str, str]] = [_RHYTHM[spec.rhythm]]
    hr = intervals.hr_bpm
    if spec.rhythm in ("sinus", "sinus_arrhythmia") and hr is not None:
        if hr < c.LABEL_BRADY_BPM:
            found.append(("SBRAD", "sinus bradycardia"))
        elif hr > c.LABEL_TACHY_BPM:
            found.append(("STACH", "sinus tachycardia"))
    if spec.rhythm == "aflutter":
        found.append((f"AFLT{spec.flutter_conduction}", f"{spec.flutter_conduction}:1 conduction"))
    if intervals.pr_ms is not None and intervals.pr_ms > c.LABEL_1AVB_PR_MS:
        found.append(("1AVB", "first-degree AV block"))
    found += _conduction(spec)
    if spec.infarct is not None:
        found.append(_INFARCT[spec.infarct])
    if spec.pac_every or spec.pac_beats:
        found.append(("PAC", "premature atrial contractions"))
    if spec.pvc_every or spec.pvc_beats:
        found.append(("PVC", "premature ventricular contractions"))
    found += _axis_voltage(spec)
    found += _st_t(spec, intervals)
    found += _quality(spec)
    return tuple(Label(code, "synthetic", name) for code, name in found)


def _conduction(spec: SynthSpec) -> list[tuple[str, str]]:
    found = []
    if spec.conduction in _CONDUCTION:
        found.append(_CONDUCTION[spec.conduction])
    axis_range = c.LABEL_FASCICULAR_AXIS_DEG.get(spec.conduction)
    if axis_range is not None and axis_range[0] <= spec.axis_deg <= axis_range[1]:
        side = "anterior" if spec.conduction == "lafb" else "posterior"
        found.append((spec.conduction.upper(), f"left {side} fascicular block"))
    if spec.delta_wave_ms is not None:
        found.append(("WPW", "ventricular pre-excitation (delta wave, WPW pattern)"))
    return found


def _axis_voltage(spec: SynthSpec) -> list[tuple[str, str]]:
    found = []
    if spec.axis_deg < c.LABEL_EAD_DEG:
        found.append(("EAD", "extreme axis deviation"))
    elif spec.axis_deg < c.LABEL_LAD_DEG:
        found.append(("LAD", "left axis deviation"))
    elif spec.axis_deg > c.LABEL_RAD_DEG:
        found.append(("RAD", "right axis deviation"))
    if spec.amplitude_scale >= c.LABEL_HIGH_VOLTAGE_SCALE:
        found.append(("HVOLT", "high QRS voltage"))
    elif spec.amplitude_scale <= c.LABEL_LOW_VOLTAGE_SCALE:
        found.append(("LVOLT", "low QRS voltage"))
    return found


def _st_t(spec: SynthSpec, intervals: Intervals) -> list[tuple[str, str]]:
    found = []
    up = [lead for lead, mv in spec.st_shift_mv.items() if mv >= c.LABEL_ST_MV]
    down = [lead for lead, mv in spec.st_shift_mv.items() if mv <= -c.LABEL_ST_MV]
    if up:
        found.append(("STE", f"ST elevation in {', '.join(up)}"))
    if down:
        found.append(("STD", f"ST depression in {', '.join(down)}"))
    if spec.t_inverted_leads:
        found.append(("TINV", f"T wave inversion in {', '.join(spec.t_inverted_leads)}"))
    if intervals.qtc_bazett_ms > c.LABEL_LONG_QTC_MS:
        found.append(("LQT", "prolonged QTc"))
    return found


def _quality(spec: SynthSpec) -> list[tuple[str, str]]:
    found = []
    if spec.baseline_wander_mv > 0:
        found.append(("BW", "baseline wander"))
    if spec.powerline_mv > 0:
        found.append(("PLI", f"{spec.powerline_hz:g} Hz powerline interference"))
    if spec.muscle_noise_mv > 0:
        found.append(("EMG", "muscle noise"))
    if spec.flat_leads:
        found.append(("FLAT", f"flat lead(s) {', '.join(spec.flat_leads)}"))
    if spec.disconnected_leads:
        mode = "at the rail" if spec.lead_off == "rail" else "floating noise"
        found.append(("LEADOFF", f"lead-off ({mode}) {', '.join(spec.disconnected_leads)}"))
    return found
