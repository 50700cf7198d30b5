"""What each numeric feature is, where it is measured, and the words that name it.

One :class:`FeatureDef` per feature a numeric claim can be about: its unit and dimension,
the global field, the per-lead (median-beat) fields and the per-beat field of the measurement
set (:mod:`tools.measure.model`) it is checked against. :data:`KEYWORDS` maps the phrases GEM
writes ("QRS durations", "PR interval", "ST elevation") onto features, by the dimension of
the unit that follows ("QRS ... ms" is a duration, "QRS ... mV" an amplitude).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

Dimension = Literal["time", "rate", "voltage", "angle"]

#: The unit every value of a dimension is converted to.
DIMENSION_UNITS: Mapping[Dimension, str] = MappingProxyType(
    {"time": "ms", "rate": "bpm", "voltage": "mV", "angle": "deg"}
)


@dataclass(frozen=True)
class FeatureDef:
    """One numeric feature and its sources in the measurement set.

    Attributes
    ----------
    name, label, dimension
        Feature name (unit in the name), readable label, dimension of its unit.
    global_field
        Field of ``GlobalMeasurements`` (``None``: no record-level value).
    lead_fields
        ``(field, sign)`` pairs of ``LeadMeasurements``; any of them may match (ST is read at
        J and J+60). ``sign`` -1 turns a level into a depth (ST depression).
    beat_field
        Field of ``LeadBeatFeatures`` (GEM's per-beat sequences), or ``None``.
    lead_independent
        The same value in every lead (rate, RR): the global value counts for a lead claim.
    magnitude
        Compared by magnitude unless the claim has an explicit sign (amplitudes, ST shifts).
    """

    name: str
    label: str
    dimension: Dimension
    global_field: str | None = None
    lead_fields: tuple[tuple[str, int], ...] = ()
    beat_field: str | None = None
    lead_independent: bool = False
    magnitude: bool = False

    @property
    def unit(self) -> str:
        """The unit values are held in."""
        return DIMENSION_UNITS[self.dimension]


_F = FeatureDef
_ST = (("j_level_mv", 1), ("st_j60_mv", 1))

#: Feature name -> definition.
FEATURES: Mapping[str, FeatureDef] = MappingProxyType(
    {
        f.name: f
        for f in (
            _F("heart_rate_bpm", "heart rate", "rate", global_field="heart_rate_bpm",
               beat_field="heart_rate_bpm", lead_independent=True),
            _F("atrial_rate_bpm", "atrial rate", "rate"),
            _F("rr_ms", "RR interval", "time", global_field="rr_mean_ms", beat_field="rr1_ms",
               lead_independent=True),
            _F("pr_ms", "PR interval", "time", global_field="pr_ms", lead_fields=(("pr_ms", 1),),
               beat_field="pr_ms"),
            _F("qrs_ms", "QRS duration", "time", global_field="qrs_ms",
               lead_fields=(("qrs_ms", 1),), beat_field="qrs_duration_ms"),
            _F("qt_ms", "QT interval", "time", global_field="qt_ms", lead_fields=(("qt_ms", 1),),
               beat_field="qt_ms"),
            _F("qtc_ms", "QTc (Bazett)", "time", global_field="qtc_bazett_ms", beat_field="qtc_ms"),
            _F("qtc_fridericia_ms", "QTc (Fridericia)", "time",
               global_field="qtc_fridericia_ms"),
            _F("p_duration_ms", "P-wave duration", "time", global_field="p_duration_ms",
               lead_fields=(("p_duration_ms", 1),), beat_field="p_duration_ms"),
            _F("t_duration_ms", "T-wave duration", "time", beat_field="t_duration_ms"),
            _F("st_duration_ms", "ST duration", "time", beat_field="st_duration_ms"),
            _F("q_duration_ms", "Q-wave duration", "time", lead_fields=(("q_duration_ms", 1),)),
            _F("p_amplitude_mv", "P-wave amplitude", "voltage",
               lead_fields=(("p_amplitude_mv", 1),), beat_field="p_amplitude_mv", magnitude=True),
            _F("qrs_amplitude_mv", "QRS amplitude", "voltage", beat_field="qrs_amplitude_mv",
               magnitude=True),
            _F("r_amplitude_mv", "R-wave amplitude", "voltage",
               lead_fields=(("r_amplitude_mv", 1),), magnitude=True),
            _F("s_amplitude_mv", "S-wave depth", "voltage", lead_fields=(("s_amplitude_mv", 1),),
               magnitude=True),
            _F("q_amplitude_mv", "Q-wave depth", "voltage", lead_fields=(("q_amplitude_mv", 1),),
               magnitude=True),
            _F("t_amplitude_mv", "T-wave amplitude", "voltage",
               lead_fields=(("t_amplitude_mv", 1),), beat_field="t_amplitude_mv", magnitude=True),
            _F("st_elevation_mv", "ST elevation", "voltage", lead_fields=_ST),
            _F("st_depression_mv", "ST depression", "voltage",
               lead_fields=(("j_level_mv", -1), ("st_j60_mv", -1))),
            _F("st_level_mv", "ST level", "voltage", lead_fields=_ST),
            _F("qrs_axis_deg", "QRS axis", "angle", global_field="qrs_axis_deg"),
            _F("p_axis_deg", "P axis", "angle", global_field="p_axis_deg"),
            _F("t_axis_deg", "T axis", "angle", global_field="t_axis_deg"),
        )
    }
)  # fmt: skip

_WAVE_SUFFIX = r"(?:[-\s]?waves?)"
_MEASURE = r"(?:\s+(?:durations?|amplitudes?|heights?))?"
_T = {"time": "t_duration_ms", "voltage": "t_amplitude_mv", "angle": "t_axis_deg"}
_P = {"time": "p_duration_ms", "voltage": "p_amplitude_mv", "angle": "p_axis_deg"}
_QRS = {"time": "qrs_ms", "voltage": "qrs_amplitude_mv", "angle": "qrs_axis_deg"}

#: Keyword pattern -> feature by dimension. Order matters: at one position the first pattern
#: that matches wins, so specific phrases come before their prefixes.
KEYWORDS: tuple[tuple[str, Mapping[str, str]], ...] = (
    (r"atrial\s+rates?", {"rate": "atrial_rate_bpm"}),
    (r"(?:heart|ventricular|pulse)\s+rates?|rates?|HR|pulse", {"rate": "heart_rate_bpm"}),
    (r"R[-\s]?R(?:\s+intervals?)?", {"time": "rr_ms"}),
    (r"QTc\s*F|QTc\s*\(\s*Fridericia\s*\)|Fridericia(?:-corrected)?\s+QTc?",
     {"time": "qtc_fridericia_ms"}),
    (r"QTc(?:\s*B)?(?:\s+intervals?)?|corrected\s+QT(?:\s+intervals?)?|QT\s+corrected",
     {"time": "qtc_ms"}),
    (r"Q[-\s]?T(?:\s+intervals?)?", {"time": "qt_ms"}),
    (r"P[-\s]?R(?:\s+intervals?)?|P[-\s]?Q\s+intervals?", {"time": "pr_ms"}),
    (r"(?:P[-\s]?waves?\s+axis|P\s+axis)", {"angle": "p_axis_deg"}),
    (r"(?:T[-\s]?waves?\s+axis|T\s+axis)", {"angle": "t_axis_deg"}),
    (r"QRS\s+axis|(?:(?:electrical|frontal(?:\s+plane)?|cardiac|mean)\s+)?axis",
     {"angle": "qrs_axis_deg"}),
    (r"QRS(?:\s+(?:complex(?:es)?|durations?|widths?|intervals?|amplitudes?|voltages?))?", _QRS),
    (r"ST[-\s]?(?:segments?\s+)?elevations?|elevat(?:ed|ion\s+of\s+the)\s+ST(?:[-\s]segments?)?",
     {"voltage": "st_elevation_mv"}),
    (r"ST[-\s]?(?:segments?\s+)?depressions?|depress(?:ed|ion\s+of\s+the)\s+ST(?:[-\s]segments?)?",
     {"voltage": "st_depression_mv"}),
    (r"J[-\s]?points?(?:\s+(?:elevation|level))?", {"voltage": "st_level_mv"}),
    (r"ST[-\s]?(?:segments?|durations?|levels?|deviations?)|ST",
     {"time": "st_duration_ms", "voltage": "st_level_mv"}),
    (rf"P{_WAVE_SUFFIX}{_MEASURE}|P\s+(?:durations?|amplitudes?)",
     _P),
    (rf"T{_WAVE_SUFFIX}{_MEASURE}|T\s+(?:durations?|amplitudes?)",
     _T),
    (r"R" + _WAVE_SUFFIX + r"(?:\s+(?:amplitudes?|heights?|voltages?))?|R\s+amplitudes?",
     {"voltage": "r_amplitude_mv"}),
    (r"S" + _WAVE_SUFFIX + r"(?:\s+(?:amplitudes?|depths?|voltages?))?|S\s+amplitudes?",
     {"voltage": "s_amplitude_mv"}),
    (r"Q" + _WAVE_SUFFIX + r"(?:\s+(?:durations?|amplitudes?|depths?))?",
     {"time": "q_duration_ms", "voltage": "q_amplitude_mv"}),
)  # fmt: skip

_BOUNDARY_BEFORE = r"(?<![A-Za-z0-9])"
_BOUNDARY_AFTER = r"(?![A-Za-z0-9])"

#: One regex over all keywords; group ``k<i>`` is keyword ``i``. Case-insensitive, word-bounded.
KEYWORD_RE = re.compile(
    _BOUNDARY_BEFORE  # once, before the alternation: most positions fail here, fast
    + "(?:"
    + "|".join(
        f"(?P<k{i}>(?:{pattern}){_BOUNDARY_AFTER})" for i, (pattern, _) in enumerate(KEYWORDS)
    )
    + ")",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Keyword:
    """A feature keyword found in the text."""

    start: int
    end: int
    features: Mapping[str, str]


def find_keywords(text: str) -> list[Keyword]:
    """Every feature keyword in ``text``, in order (leftmost, first listed pattern wins)."""
    found = []
    for match in KEYWORD_RE.finditer(text):
        index = int(str(match.lastgroup)[1:])
        found.append(Keyword(match.start(), match.end(), KEYWORDS[index][1]))
    return found
