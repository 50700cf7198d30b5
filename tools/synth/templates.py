"""One template per beat kind (normal, PAC, PVC): its waveform and its exact fiducials.

All beats of a kind share a template, placed by index arithmetic; the fiducials are read
from the components' supports, never measured from the signal:

* a component is part of a lead's wave when its projected peak reaches
  :data:`~tools.synth.constants.VISIBLE_MV` in that lead;
* a wave's onset in a lead is the first sample of its earliest visible component (the last
  baseline sample: the wave is exactly zero there and non-zero right after); its offset the
  last sample of its latest visible component (zero again);
* P and T peaks are the sample of largest absolute deflection, the R peak the largest
  positive QRS deflection (absent when the lead has none: a QS complex);
* the global (CSE) boundaries are the earliest onset and latest offset over the 12 leads,
  global peaks the maximum of the 12-lead energy (sum of squares) of the wave.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from tools.synth import constants as c
from tools.synth.projection import EXPAND_8_TO_12, project_atrial
from tools.synth.qrs import QrsKind, design_qrs
from tools.synth.repolarisation import design_st, design_t
from tools.synth.spec import SynthSpec
from tools.synth.timing import Timing
from tools.synth.waves import Component, bump_kernel, render

BeatKind = Literal["normal", "pac", "pvc"]
BEAT_KINDS: tuple[BeatKind, ...] = ("normal", "pac", "pvc")

#: Fiducial names, in the order of every fiducial table.
FIDUCIALS: tuple[str, ...] = (
    "p_on", "p_peak", "p_off", "qrs_on", "r_peak", "qrs_off", "t_on", "t_peak", "t_off",
)  # fmt: skip


def samples(ms: float, fs_hz: float) -> int:
    """Milliseconds to a whole number of samples (rounded)."""
    return round(ms * fs_hz / 1000.0)


@dataclass(frozen=True)
class BeatTemplate:
    """A beat of one kind: waveform from its first wave's onset to its T offset.

    Attributes
    ----------
    kind
        ``"normal"``, ``"pac"`` or ``"pvc"``.
    lead_in
        Samples from the template's first sample to the QRS onset (the PR, or 0).
    signal8
        ``[8, length]`` independent channels (I, II, V1-V6), mV.
    waves12
        Per wave (``"p"``, ``"qrs"``, ``"st"``, ``"t"``): ``[12, length]`` in mV.
    lead_fiducials
        Per fiducial: float ``[12]`` offsets from the QRS onset, NaN when absent.
    fiducials
        Per fiducial: the global (CSE) offset from the QRS onset, NaN when absent.
    """

    kind: BeatKind
    lead_in: int
    signal8: np.ndarray
    waves12: dict[str, np.ndarray]
    lead_fiducials: dict[str, np.ndarray]
    fiducials: dict[str, float]

    @property
    def length(self) -> int:
        return int(self.signal8.shape[1])

    @property
    def tail(self) -> int:
        """Samples from the QRS onset to the T offset (the template's last sample)."""
        return self.length - 1 - self.lead_in


def build_template(kind: BeatKind, spec: SynthSpec, timing: Timing) -> BeatTemplate:
    """Build the template of one beat kind for a spec and its resolved timing."""
    components = beat_components(kind, spec, timing)
    origin = min(comp.start for comp in components)
    stop = max(comp.stop for comp in components)
    signal8 = render(components, origin, stop - origin + 1)
    n = stop - origin + 1
    waves12 = {
        wave: EXPAND_8_TO_12 @ render([x for x in components if x.wave == wave], origin, n)
        for wave in ("p", "qrs", "st", "t")
    }
    lead_fid, global_fid = _fiducials(components, waves12, origin)
    return BeatTemplate(kind, -origin, signal8, waves12, lead_fid, global_fid)


def beat_components(kind: BeatKind, spec: SynthSpec, timing: Timing) -> list[Component]:
    """Every component of one beat, with starts relative to its QRS onset."""
    fs = spec.fs_hz
    if kind == "pvc":
        qrs_kind: QrsKind = "pvc"
        qrs_n, qt_n = samples(timing.pvc_qrs_ms, fs), samples(timing.pvc_qt_ms, fs)
        axis, transition = c.PVC_AXIS_DEG, c.PVC_TRANSITION
    else:
        qrs_kind = spec.conduction
        qrs_n, qt_n = samples(timing.qrs_ms, fs), samples(timing.qt_ms, fs)
        axis = spec.axis_deg
        transition = spec.transition_lead or c.DEFAULT_TRANSITION[spec.conduction]
    scale = 1.0 if kind == "pvc" else spec.amplitude_scale
    infarct = None if kind == "pvc" else spec.infarct
    delta_n = samples(spec.delta_wave_ms, fs) if spec.delta_wave_ms and kind != "pvc" else 0
    qrs = design_qrs(qrs_kind, qrs_n, axis, transition, scale, infarct, delta_n)
    inverted = () if kind == "pvc" else spec.t_inverted_leads
    t_wave = design_t(qrs_kind, qrs_n, qt_n, axis, inverted, qrs.main_vector)
    t_peak = t_wave.start + int(np.argmax(t_wave.kernel))
    shifts = {} if kind == "pvc" else spec.st_shift_mv
    st = design_st(qrs_kind, qrs_n, qt_n, t_peak, shifts, qrs.main_vector, fs)
    return [*_p_components(kind, timing, fs), *qrs.components, t_wave, *st]


def _p_components(kind: BeatKind, timing: Timing, fs: float) -> list[Component]:
    """Sinus P (right then left atrium) or an ectopic PAC P; none without a P wave."""
    if kind == "pvc" or timing.pr_ms is None or timing.p_ms is None:
        return []
    pr_n, p_n = samples(timing.pr_ms, fs), samples(timing.p_ms, fs)
    if kind == "pac":
        vector = _polar(c.PAC_P_AXIS_DEG, c.PAC_P_MV, 0.0)
        return [Component("p", -pr_n, bump_kernel(p_n, c.P_POWER), project_atrial(vector))]
    ra_end, la_start = round(0.6 * p_n), round(0.35 * p_n)
    ra = _polar(c.P_RA_AXIS_DEG, c.P_RA_MV, c.P_RA_ANTERIOR * c.P_RA_MV)
    la = _polar(c.P_LA_AXIS_DEG, c.P_LA_MV, c.P_LA_ANTERIOR * c.P_LA_MV)
    la_kernel = bump_kernel(p_n - la_start, c.P_POWER)
    return [
        Component("p", -pr_n, bump_kernel(ra_end, c.P_POWER), project_atrial(ra)),
        Component("p", -pr_n + la_start, la_kernel, project_atrial(la)),
    ]


def _polar(angle_deg: float, magnitude: float, anterior: float) -> np.ndarray:
    a = np.radians(angle_deg)
    return np.array([magnitude * np.cos(a), magnitude * np.sin(a), anterior])


def _fiducials(
    components: list[Component], waves12: dict[str, np.ndarray], origin: int
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Per-lead and global fiducials (offsets from QRS onset, NaN when absent)."""
    lead: dict[str, np.ndarray] = {}
    glob: dict[str, float] = {}
    for wave, prefix in (("p", "p"), ("qrs", "qrs"), ("t", "t")):
        comps = [x for x in components if x.wave == wave]
        on, off = _bounds(comps)
        lead[f"{prefix}_on"], lead[f"{prefix}_off"] = on, off
        seen = bool(np.isfinite(on).any())
        glob[f"{prefix}_on"] = float(np.nanmin(on)) if seen else np.nan
        glob[f"{prefix}_off"] = float(np.nanmax(off)) if seen else np.nan
        signal = waves12[wave]
        energy = (signal**2).sum(axis=0)
        glob_peak = float(np.argmax(energy) + origin) if seen else np.nan
        if wave == "qrs":
            peak_idx = np.argmax(signal, axis=1).astype(float)
            peak_idx[signal.max(axis=1) < c.VISIBLE_MV] = np.nan
            lead["r_peak"], glob["r_peak"] = peak_idx + origin, glob_peak
        else:
            peak_idx = np.argmax(np.abs(signal), axis=1).astype(float)
            peak_idx[np.isnan(on)] = np.nan
            lead[f"{prefix}_peak"], glob[f"{prefix}_peak"] = peak_idx + origin, glob_peak
    return lead, glob


def _bounds(comps: list[Component]) -> tuple[np.ndarray, np.ndarray]:
    """Per-lead onset/offset over the components visible in each lead."""
    if not comps:
        return np.full(12, np.nan), np.full(12, np.nan)
    amps12 = EXPAND_8_TO_12 @ np.stack([x.amps8 for x in comps], axis=1)  # [12, comps]
    peaks = np.array([x.kernel.max() for x in comps])
    visible = np.abs(amps12) * peaks[None, :] >= c.VISIBLE_MV
    starts = np.array([x.start for x in comps], dtype=float)
    stops = np.array([x.stop for x in comps], dtype=float)
    on = np.where(visible, starts[None, :], np.inf).min(axis=1)
    off = np.where(visible, stops[None, :], -np.inf).max(axis=1)
    on[~visible.any(axis=1)] = np.nan
    off[~visible.any(axis=1)] = np.nan
    return on, off
