"""The measurement set: one pydantic model, JSON-serialisable, stable field names.

Everything the verifier trusts lives here, in clinical units with the unit in the field name.
``None`` means "not measurable on this record" (e.g. PR in atrial fibrillation), never zero.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

#: Version of the measurement schema and methods; bump when a definition changes.
MEASUREMENT_VERSION = "4"

StForm = Literal["horizontal", "upslope", "declination"]
TPolarity = Literal["positive", "negative", "biphasic", "flat"]
BeatType = Literal["normal", "supraventricular_premature", "ventricular_premature", "unclassified"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GlobalMeasurements(_Model):
    """Record-level rate, rhythm regularity, intervals (CSE global boundaries) and axes."""

    heart_rate_bpm: float | None = None
    rr_mean_ms: float | None = None
    rr_sd_ms: float | None = None
    rr_min_ms: float | None = None
    rr_max_ms: float | None = None
    #: RMSSD of successive RR intervals divided by the mean RR (dimensionless).
    rr_irregularity: float | None = None
    p_duration_ms: float | None = None
    pr_ms: float | None = None
    qrs_ms: float | None = None
    qt_ms: float | None = None
    qtc_bazett_ms: float | None = None
    qtc_fridericia_ms: float | None = None
    qtc_framingham_ms: float | None = None
    qtc_hodges_ms: float | None = None
    p_axis_deg: float | None = None
    qrs_axis_deg: float | None = None
    t_axis_deg: float | None = None
    #: Fraction of beats with a detected P wave (0 in atrial fibrillation).
    p_wave_fraction: float | None = None
    n_beats: int = 0
    beat_counts: dict[BeatType, int] = Field(default_factory=dict)


class LeadMeasurements(_Model):
    """Per-lead amplitudes and morphology of the median beat (mV against the PR baseline)."""

    lead: str
    p_amplitude_mv: float | None = None
    q_amplitude_mv: float | None = None
    r_amplitude_mv: float | None = None
    r_prime_amplitude_mv: float | None = None
    s_amplitude_mv: float | None = None
    t_amplitude_mv: float | None = None
    #: QRS morphology label by the usual letter convention: ``qR``, ``rS``, ``rsR'``, ``QS``, ``R``.
    qrs_morphology: str | None = None
    q_duration_ms: float | None = None
    p_duration_ms: float | None = None
    pr_ms: float | None = None
    qrs_ms: float | None = None
    qt_ms: float | None = None
    j_level_mv: float | None = None
    st_j60_mv: float | None = None
    st_j80_mv: float | None = None
    st_slope_mv_per_s: float | None = None
    st_form: StForm | None = None
    t_polarity: TPolarity | None = None


class LeadBeatFeatures(_Model):
    """GEM's 14 FeatureDB features for every beat of one lead, in time order.

    Each list has one entry per beat (``None`` where the beat has no such value).
    """

    lead: str
    heart_rate_bpm: list[float | None]
    rr1_ms: list[float | None]
    rr2_ms: list[float | None]
    p_amplitude_mv: list[float | None]
    p_duration_ms: list[float | None]
    pr_ms: list[float | None]
    qrs_amplitude_mv: list[float | None]
    qrs_duration_ms: list[float | None]
    t_amplitude_mv: list[float | None]
    t_duration_ms: list[float | None]
    st_duration_ms: list[float | None]
    st_form: list[StForm | None]
    qt_ms: list[float | None]
    qtc_ms: list[float | None]


class Beats(_Model):
    """Detected beats: R-peak samples, types, and per-lead per-beat features."""

    r_peak_samples: list[int]
    beat_types: list[BeatType]
    features: list[LeadBeatFeatures] = Field(default_factory=list)


class Evidence(_Model):
    """One measurement that made a criterion fire (or not), with the rule it was held to."""

    measure: str
    value: float | str | None
    unit: str | None = None
    lead: str | None = None
    threshold: str
    met: bool


class Statement(_Model):
    """A criteria statement computed from the measurements.

    Attributes
    ----------
    code
        Statement code from :mod:`tools.statements` vocabulary (SCP-ECG where one exists).
    name
        Human-readable name.
    leads
        Leads the finding is localised to (empty for global findings).
    evidence
        The measurements, leads and thresholds that fired.
    rule
        Short name of the criterion (e.g. ``"Sokolow-Lyon"``).
    citation
        Source of the threshold.
    """

    code: str
    name: str
    leads: list[str] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    rule: str
    citation: str


class Measurements(_Model):
    """The whole measurement set of one record."""

    version: str = MEASUREMENT_VERSION
    record_id: str
    fs_hz: float
    lead_names: list[str]
    usable_leads: list[str]
    global_: GlobalMeasurements = Field(alias="global")
    leads: list[LeadMeasurements] = Field(default_factory=list)
    beats: Beats | None = None
    statements: list[Statement] = Field(default_factory=list)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def lead(self, name: str) -> LeadMeasurements | None:
        """Measurements of one lead, or ``None`` when the lead has none (absent from the set)."""
        return next((lm for lm in self.leads if lm.lead == name), None)
