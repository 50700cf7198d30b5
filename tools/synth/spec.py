"""The synthetic ECG specification: what to build, validated on construction."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from tools.errors import SignalValueError, UnknownLeadError
from tools.leads import STANDARD_LEADS, canonical_lead
from tools.synth import constants as c

Rhythm = Literal["sinus", "sinus_arrhythmia", "afib", "aflutter"]
Conduction = Literal["normal", "rbbb", "lbbb", "irbbb", "lafb", "lpfb"]
LeadOffMode = Literal["rail", "noise"]
Infarct = Literal["inferior", "lateral", "anteroseptal", "anterior"]

RHYTHMS: tuple[str, ...] = ("sinus", "sinus_arrhythmia", "afib", "aflutter")
CONDUCTIONS: tuple[str, ...] = ("normal", "rbbb", "lbbb", "irbbb", "lafb", "lpfb")
LEAD_OFF_MODES: tuple[str, ...] = ("rail", "noise")
INFARCTS: tuple[str, ...] = ("inferior", "lateral", "anteroseptal", "anterior")
#: V6 cannot be a transition lead: V5 and V6 both face the lateral wall in the transverse plane.
TRANSITION_LEADS: tuple[str, ...] = ("V1", "V2", "V3", "V4", "V5")

#: Lead groups accepted wherever a spec takes lead names.
LEAD_GROUPS: dict[str, tuple[str, ...]] = {
    "inferior": ("II", "III", "aVF"),
    "lateral": ("I", "aVL", "V5", "V6"),
    "high_lateral": ("I", "aVL"),
    "low_lateral": ("V5", "V6"),
    "anterior": ("V1", "V2", "V3", "V4"),
    "anteroseptal": ("V1", "V2", "V3", "V4"),
    "septal": ("V1", "V2"),
}

SPEC_SOURCE = "SynthSpec"


class SynthSpecError(SignalValueError):
    """A synthetic ECG specification is out of range or cannot be realised."""

    def __init__(self, problem: str) -> None:
        super().__init__(SPEC_SOURCE, problem)


@dataclass(frozen=True)
class SynthSpec:
    """What a synthetic 12-lead ECG is built with; every field is checked on construction.

    ``None`` means "derive a physiological default": ``hr_bpm`` 72 (flutter: flutter rate /
    conduction ratio), ``pr_ms`` shortening from 160 ms at <= 80 bpm to 100 ms at 220 bpm,
    ``p_ms`` 100 ms (or PR - 40 ms), ``qrs_ms`` 90 ms (140 ms with a bundle branch block),
    ``qt_ms`` from ``qtc_ms`` by Bazett, shortened so the T wave ends before the next beat,
    ``transition_lead`` V3 (LBBB: V4). ``conduction``: ``"rbbb"``/``"lbbb"`` complete bundle
    branch block (QRS >= 120 ms), ``"irbbb"`` incomplete RBBB (the RBBB pattern at 100-119 ms,
    default 110), ``"lafb"``/``"lpfb"`` left anterior/posterior fascicular block (a larger
    initial force, inferior-rightward or superior-leftward, with a left axis -90..-30 or a
    right axis +90..+180 that ``axis_deg`` must give). ``delta_wave_ms`` pre-excites the
    ventricles (WPW pattern): a slurred delta wave of that length starts the QRS, which it
    widens (default QRS 90 ms + delta) while the PR shortens (default PR - delta).
    ``respiratory_depth`` sets the peak RR modulation of ``"sinus_arrhythmia"`` (default
    0.1: RR +-10%). Lead names take any spelling, and the group names of
    :data:`LEAD_GROUPS`. ``disconnected_leads`` are drawn as lead-off channels: ``lead_off``
    ``"rail"`` holds them flat at +5 mV (a saturated amplifier), ``"noise"`` fills them with
    floating-input noise (hum and drift, no ECG). ``flat_leads`` are exactly 0 mV.
    Premature beats: ``pac_every``/``pvc_every`` make every N-th beat ectopic (N >= 2), or
    list beat indices (>= 1) in ``pac_beats``/``pvc_beats``. ``amplitude_scale`` scales the
    QRS only (LVH voltage, low voltage). Noise amplitudes: wander and powerline are peak
    amplitudes, muscle noise an RMS, each averaged over the 12 leads. ``infarct`` adds an old
    Q-wave infarction of that territory (inferior: II, III, aVF; lateral: I, aVL, V5, V6;
    anteroseptal: V1-V3; anterior: V2-V4): the initial QRS force turns away from it.
    """

    hr_bpm: float | None = None
    rhythm: Rhythm = "sinus"
    respiratory_depth: float | None = None
    pr_ms: float | None = None
    p_ms: float | None = None
    qrs_ms: float | None = None
    conduction: Conduction = "normal"
    delta_wave_ms: float | None = None
    infarct: Infarct | None = None
    qt_ms: float | None = None
    qtc_ms: float = c.DEFAULT_QTC_MS
    axis_deg: float = 60.0
    transition_lead: str | None = None
    amplitude_scale: float = 1.0
    st_shift_mv: Mapping[str, float] = field(default_factory=dict)
    t_inverted_leads: tuple[str, ...] = ()
    pac_every: int | None = None
    pvc_every: int | None = None
    pac_beats: tuple[int, ...] = ()
    pvc_beats: tuple[int, ...] = ()
    flutter_rate_bpm: float | None = None
    flutter_conduction: int = 2
    duration_s: float = 10.0
    fs_hz: float = 500.0
    baseline_wander_mv: float = 0.0
    powerline_mv: float = 0.0
    powerline_hz: float = 50.0
    muscle_noise_mv: float = 0.0
    flat_leads: tuple[str, ...] = ()
    disconnected_leads: tuple[str, ...] = ()
    lead_off: LeadOffMode = "rail"
    seed: int = 0

    def __post_init__(self) -> None:
        self._check_choices()
        self._check_ranges()
        self._check_transition()
        self._check_conduction()
        self._normalise_leads()
        self._check_premature()
        # Deferred imports: these modules read the spec type.
        from tools.synth.repolarisation import fit_limb_st, limb_t_angle_deg
        from tools.synth.timing import resolve_timing

        resolve_timing(self)
        fit_limb_st({k: v for k, v in self.st_shift_mv.items() if not k.startswith("V")})
        limb_inverted = [lead for lead in self.t_inverted_leads if not lead.startswith("V")]
        if limb_inverted:
            limb_t_angle_deg(limb_inverted)

    # ---- validation ------------------------------------------------------------------------
    def _check_choices(self) -> None:
        _choice("rhythm", self.rhythm, RHYTHMS)
        _choice("conduction", self.conduction, CONDUCTIONS)
        _choice("lead_off", self.lead_off, LEAD_OFF_MODES)
        if self.infarct is not None:
            _choice("infarct", self.infarct, INFARCTS)
        _choice("flutter_conduction", self.flutter_conduction, c.FLUTTER_RATIOS)
        _choice("powerline_hz", float(self.powerline_hz), c.POWERLINE_FREQS_HZ)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise SynthSpecError(f"seed must be a non-negative integer, got {self.seed!r}")

    def _check_ranges(self) -> None:
        _range("hr_bpm", self.hr_bpm, c.HR_RANGE_BPM, "bpm")
        _range("pr_ms", self.pr_ms, c.PR_RANGE_MS, "ms")
        _range("p_ms", self.p_ms, c.P_RANGE_MS, "ms")
        _range("qrs_ms", self.qrs_ms, c.QRS_RANGE_MS, "ms")
        _range("qt_ms", self.qt_ms, c.QT_RANGE_MS, "ms")
        _range("qtc_ms", self.qtc_ms, c.QTC_RANGE_MS, "ms")
        _range("axis_deg", self.axis_deg, c.AXIS_RANGE_DEG, "deg")
        _range("delta_wave_ms", self.delta_wave_ms, c.DELTA_WAVE_RANGE_MS, "ms")
        _range("respiratory_depth", self.respiratory_depth, c.RESPIRATORY_DEPTH_RANGE, "")
        _range("amplitude_scale", self.amplitude_scale, c.AMPLITUDE_SCALE_RANGE, "")
        _range("flutter_rate_bpm", self.flutter_rate_bpm, c.FLUTTER_RATE_RANGE_BPM, "/min")
        _range("duration_s", self.duration_s, c.DURATION_RANGE_S, "s")
        _range("fs_hz", self.fs_hz, c.FS_RANGE_HZ, "Hz")
        for name in ("baseline_wander_mv", "powerline_mv", "muscle_noise_mv"):
            _range(name, getattr(self, name), (0.0, c.NOISE_MAX_MV), "mV")
        if self.powerline_mv > 0 and self.powerline_hz >= self.fs_hz / 2:
            raise SynthSpecError(
                f"powerline_hz={self.powerline_hz} is at or above the Nyquist frequency of "
                f"fs_hz={self.fs_hz}; raise fs_hz"
            )

    def _check_transition(self) -> None:
        if self.transition_lead is None:
            return
        lead = _lead(self.transition_lead, "transition_lead")
        if lead not in TRANSITION_LEADS:
            raise SynthSpecError(
                f"transition_lead must be one of {', '.join(TRANSITION_LEADS)}, got {lead!r}"
            )
        if math.cos(math.radians(self.axis_deg)) < c.LEFTWARD_FLOOR:
            raise SynthSpecError(
                f"transition_lead={lead} needs a leftward QRS force: axis_deg must lie within "
                f"+-{math.degrees(math.acos(c.LEFTWARD_FLOOR)):.0f} deg, got {self.axis_deg:g} "
                "(leave transition_lead unset to let the axis decide)"
            )
        object.__setattr__(self, "transition_lead", lead)

    def _check_conduction(self) -> None:
        axis_range = c.FASCICULAR_AXIS_DEG.get(self.conduction)
        if axis_range is not None and not axis_range[0] <= self.axis_deg <= axis_range[1]:
            lo, hi = axis_range
            raise SynthSpecError(
                f"conduction={self.conduction!r} is built with a frontal axis of {lo:g} to "
                f"{hi:g} deg, got axis_deg={self.axis_deg:g}; set axis_deg in that range"
            )
        if self.delta_wave_ms is not None and self.conduction != "normal":
            raise SynthSpecError(
                f"delta_wave_ms needs conduction='normal' (pre-excitation with "
                f"{self.conduction!r} is not modelled)"
            )
        if self.respiratory_depth is not None and self.rhythm != "sinus_arrhythmia":
            raise SynthSpecError(
                f"respiratory_depth needs rhythm='sinus_arrhythmia', got {self.rhythm!r}"
            )

    def _normalise_leads(self) -> None:
        shifts: dict[str, float] = {}
        for key, value in dict(self.st_shift_mv).items():
            _range(f"st_shift_mv[{key!r}]", value, (-c.ST_SHIFT_MAX_MV, c.ST_SHIFT_MAX_MV), "mV")
            for lead in expand_leads([key], "st_shift_mv"):
                if lead in shifts:
                    raise SynthSpecError(f"st_shift_mv gives lead {lead} more than once")
                shifts[lead] = float(value)
        ordered = {lead: shifts[lead] for lead in STANDARD_LEADS if lead in shifts}
        object.__setattr__(self, "st_shift_mv", ordered)
        for name in ("t_inverted_leads", "flat_leads", "disconnected_leads"):
            object.__setattr__(self, name, expand_leads(getattr(self, name), name))
        if "aVR" in self.t_inverted_leads:
            raise SynthSpecError("t_inverted_leads: the T wave in aVR is normally negative")
        both = set(self.flat_leads) & set(self.disconnected_leads)
        if both:
            raise SynthSpecError(f"leads {sorted(both)} are both flat and disconnected")

    def _check_premature(self) -> None:
        for name in ("pac_every", "pvc_every"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 2):
                raise SynthSpecError(f"{name} must be an integer >= 2, got {value!r}")
        for name in ("pac_beats", "pvc_beats"):
            beats = tuple(getattr(self, name))
            if any(not isinstance(b, int) or isinstance(b, bool) or b < 1 for b in beats):
                raise SynthSpecError(f"{name} must hold beat indices >= 1, got {beats}")
            object.__setattr__(self, name, tuple(sorted(set(beats))))
        has_pac = self.pac_every is not None or bool(self.pac_beats)
        has_pvc = self.pvc_every is not None or bool(self.pvc_beats)
        if has_pac and self.rhythm in ("afib", "aflutter"):
            raise SynthSpecError(f"PACs need an organised sinus rhythm, not {self.rhythm}")
        if has_pvc and self.rhythm == "aflutter":
            raise SynthSpecError("PVCs are not modelled in flutter (they break the F-wave lock)")
        clash = set(self.pac_beats) & set(self.pvc_beats)
        if clash:
            raise SynthSpecError(f"beats {sorted(clash)} are listed as both PAC and PVC")

    # ---- identity --------------------------------------------------------------------------
    def __hash__(self) -> int:
        return hash(self.digest())

    def to_dict(self) -> dict[str, Any]:
        """JSON-native dict of every field (lists for tuples)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["st_shift_mv"] = dict(self.st_shift_mv)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SynthSpec:
        """Inverse of :meth:`to_dict`; unknown keys are an error."""
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise SynthSpecError(f"unknown spec fields {sorted(unknown)}")
        tuples = {"t_inverted_leads", "pac_beats", "pvc_beats", "flat_leads", "disconnected_leads"}
        kwargs: dict[str, Any] = {k: tuple(v) if k in tuples else v for k, v in data.items()}
        return cls(**kwargs)

    def digest(self) -> str:
        """Short stable hash of the spec (seed included): the record id's suffix."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def expand_leads(names: Iterable[str], what: str) -> tuple[str, ...]:
    """Canonical leads for names or group names, in canonical order, without duplicates."""
    if isinstance(names, str):
        names = [names]
    leads: set[str] = set()
    for name in names:
        group = LEAD_GROUPS.get(str(name).strip().lower())
        leads.update(group if group else (_lead(name, what),))
    return tuple(lead for lead in STANDARD_LEADS if lead in leads)


def _lead(name: str, what: str) -> str:
    try:
        return canonical_lead(str(name))
    except UnknownLeadError:
        raise SynthSpecError(
            f"{what}: {name!r} is neither a lead name nor a group ({', '.join(LEAD_GROUPS)})"
        ) from None


def _choice(name: str, value: Any, allowed: Iterable[Any]) -> None:
    allowed = tuple(allowed)
    if value not in allowed:
        raise SynthSpecError(f"{name}={value!r} is not one of {', '.join(map(str, allowed))}")


def _range(name: str, value: float | None, bounds: tuple[float, float], unit: str) -> None:
    if value is None:
        return
    lo, hi = bounds
    bad_type = isinstance(value, bool) or not isinstance(value, int | float)
    if bad_type or not math.isfinite(value) or not lo <= value <= hi:
        raise SynthSpecError(f"{name}={value!r} is outside {lo:g}-{hi:g} {unit}".rstrip())
