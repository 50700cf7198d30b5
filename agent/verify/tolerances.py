"""The verifier's tolerances and limits: the one table, each entry with its reason.

A numeric claim is contradicted only when it is wrong by more than its feature's tolerance,
so a tolerance is the largest disagreement we put down to reading and rounding rather than to
a wrong statement. Durations follow the spread between careful delineators (onsets/offsets
disagree by 5-15 ms on the CSE and LUDB references, and GEM quotes values rounded to 10 ms or
to 0.01 s); amplitudes allow both an absolute and a relative slack because a 1 mm reading error
on paper is 0.1 mV whatever the wave's size; angles follow the usual +-15 deg agreement of
frontal axis readings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from tools.statements import thresholds as th


@dataclass(frozen=True)
class Tolerance:
    """Allowed disagreement: ``max(absolute, relative * |measured|)`` in the feature's unit."""

    absolute: float
    relative: float
    reason: str

    def allowed(self, measured: float) -> float:
        """The slack around one measured value."""
        return max(self.absolute, self.relative * abs(measured))

    def describe(self, unit: str) -> str:
        """``"±10 ms"`` or ``"±0.1 mV or 20%"``."""
        text = f"±{self.absolute:g} {unit}" if unit != "deg" else f"±{self.absolute:g}°"
        return text + (f" or {self.relative:.0%}" if self.relative else "")


def _t(absolute: float, reason: str, relative: float = 0.0) -> Tolerance:
    return Tolerance(absolute, relative, reason)


_RATE = _t(5.0, "GEM rounds rates; resting beat-to-beat rate varies by a few bpm")
_AXIS = _t(15.0, "frontal axis readings agree to about +-15 deg between methods and readers")
_ST = _t(0.05, "half a millimetre at 10 mm/mV, the resolution of a paper ST reading")
_WAVE = _t(0.1, "1 mm reading error at 10 mm/mV, or 20% of a large wave", relative=0.2)

#: Feature -> tolerance (units as in :mod:`agent.verify.features`).
TOLERANCES: Mapping[str, Tolerance] = MappingProxyType(
    {
        "heart_rate_bpm": _RATE,
        "rr_ms": _t(40.0, "5 bpm at 75 bpm is about 40 ms of RR", relative=0.05),
        "pr_ms": _t(20.0, "P onset is the least certain fiducial point; GEM quotes 0.01 s steps"),
        "qrs_ms": _t(10.0, "QRS onset/offset agree to about 10 ms between good delineators"),
        "qt_ms": _t(20.0, "T offset is uncertain by 10-20 ms even for experts"),
        "qtc_ms": _t(20.0, "QT's uncertainty, scaled by the rate correction"),
        "qtc_fridericia_ms": _t(20.0, "QT's uncertainty, scaled by the rate correction"),
        "p_duration_ms": _t(20.0, "P onset and offset are both gradual"),
        "t_duration_ms": _t(40.0, "T onset (end of ST) is poorly defined"),
        "st_duration_ms": _t(40.0, "ST ends where T starts, which is poorly defined"),
        "q_duration_ms": _t(10.0, "as QRS onset: about 10 ms"),
        "p_amplitude_mv": _t(0.05, "P waves are small: half a millimetre, or 20%", relative=0.2),
        "qrs_amplitude_mv": _WAVE,
        "r_amplitude_mv": _WAVE,
        "s_amplitude_mv": _WAVE,
        "q_amplitude_mv": _WAVE,
        "t_amplitude_mv": _WAVE,
        "st_elevation_mv": _ST,
        "st_depression_mv": _ST,
        "st_level_mv": _ST,
        "qrs_axis_deg": _AXIS,
        "p_axis_deg": _AXIS,
        "t_axis_deg": _AXIS,
    }
)

# --- Lead findings: when a lead shows a finding, and when it clearly does not ---------------
# Between "present" and "clearly absent" lies a borderline band one tolerance wide: a lead in
# it counts for neither side (a claim is not contradicted by a borderline reading).

#: ST elevation: J or J+60 >= 0.1 mV (1 mm, the UDMI limit outside V2-V3, Thygesen 2018).
ST_ELEVATION_MV: Final = th.STE_MIN_MV
#: ... clearly absent below 0.05 mV (one ST tolerance under the limit).
ST_ELEVATION_MARGIN_MV: Final = TOLERANCES["st_elevation_mv"].absolute
#: ST depression: J or J+60 <= -0.05 mV (the UDMI depression limit, Thygesen 2018) ...
ST_DEPRESSION_MV: Final = th.STD_MIN_MV
#: ... clearly absent when shallower than 0.025 mV: half the limit, since a full tolerance
#: below a 0.05 mV limit would make a level baseline (0 mV) borderline.
ST_DEPRESSION_MARGIN_MV: Final = th.STD_MIN_MV / 2
#: A T wave whose amplitude is at least this is clearly not flat (flat: < 0.05 mV, the
#: delineator's limit, plus the 0.05 mV ST/T reading tolerance).
T_NOT_FLAT_MV: Final = 0.1
#: Pathological Q: >= 30 ms and >= 0.1 mV deep, > 20 ms in V2-V3, or QS (Thygesen 2018).
Q_PATHOLOGICAL_MS: Final = th.Q_MIN_MS
Q_PATHOLOGICAL_V2V3_MS: Final = th.Q_V2V3_ABOVE_MS
Q_PATHOLOGICAL_DEPTH_MV: Final = th.Q_MIN_DEPTH_MV
#: A Q wave this much shorter than the limit is clearly not pathological.
Q_MARGIN_MS: Final = TOLERANCES["q_duration_ms"].absolute
#: ST form of a lead: the form of at least this fraction of its beats (else the median beat's).
ST_FORM_MAJORITY: Final = 0.5

# --- Multi-lead claims ------------------------------------------------------------------------

#: A claim about several leads is judged only when at least this fraction of the named leads
#: could be assessed (usable, measured, not borderline); else it is unverifiable.
MIN_ASSESSED_FRACTION: Final = 0.5

# --- Qualitative interval words ("narrow QRS", "normal PR") ----------------------------------

#: Complete bundle branch block starts at QRS >= 120 ms (Surawicz 2009): "wide" / "narrow".
QRS_WIDE_MS: Final = th.BBB_QRS_MIN_MS
#: A normal QRS duration is at most 110 ms in adults (Surawicz 2009: IVCD above 110 ms).
QRS_NORMAL_MAX_MS: Final = th.IVCD_QRS_ABOVE_MS
#: Normal PR: 120-200 ms (Mason 2007; short below, first-degree AV block above).
PR_NORMAL_MIN_MS: Final = th.WPW_PR_BELOW_MS
PR_NORMAL_MAX_MS: Final = th.PR_LONG_ABOVE_MS
#: Normal QTc (Bazett): below the prolonged limit; the women's 460 ms (the lenient one).
QTC_NORMAL_MAX_MS: Final = th.QTC_LONG_WOMEN_MIN_MS
#: Normal resting rate: 60-100 bpm (Mason 2007).
RATE_NORMAL_MIN_BPM: Final = th.SINUS_BRADY_BELOW_BPM
RATE_NORMAL_MAX_BPM: Final = th.SINUS_TACHY_ABOVE_BPM
