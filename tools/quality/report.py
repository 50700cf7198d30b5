"""The quality report: JSON-serialisable pydantic models with stable field names."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Verdict = Literal["good", "degraded", "unusable"]
Severity = Literal["degraded", "unusable"]

#: Per-lead reason codes.
LeadReasonCode = Literal[
    "flat",
    "clipped",
    "lead_off",
    "baseline_wander",
    "powerline_50hz",
    "powerline_60hz",
    "muscle_noise",
    "nan_run",
    "too_short",
]
#: Record-level finding codes.
FindingCode = Literal[
    "too_short",
    "all_leads_flat",
    "no_usable_leads",
    "limb_lead_reversal_suspected",
    "no_qrs_detected",
]


class QualityReason(BaseModel):
    """One problem with a lead: what was measured, against which threshold."""

    model_config = ConfigDict(frozen=True)

    code: LeadReasonCode
    severity: Severity
    value: float = Field(description="the measured number")
    threshold: float = Field(description="the threshold it crossed")
    unit: str = Field(description="unit of value and threshold: mV, s, fraction, ratio")
    detail: str = Field(description="one sentence for a human reader")


class LeadMetrics(BaseModel):
    """The numbers behind a lead's verdict (None where not measurable)."""

    model_config = ConfigDict(frozen=True)

    ptp_mv: float | None
    qrs_amplitude_mv: float | None
    nan_fraction: float
    longest_nan_run_s: float
    flat_fraction: float
    clipped_fraction: float
    baseline_wander_mv: float | None
    powerline_50hz_mv: float | None
    powerline_60hz_mv: float | None
    muscle_noise_mv: float | None
    qrs_locked_ratio: float | None


class LeadQuality(BaseModel):
    """Verdict of one lead with its reasons and metrics."""

    model_config = ConfigDict(frozen=True)

    lead: str
    verdict: Verdict
    reasons: list[QualityReason]
    metrics: LeadMetrics


class RecordFinding(BaseModel):
    """A record-level finding (duration, all leads flat, electrode reversal)."""

    model_config = ConfigDict(frozen=True)

    code: FindingCode
    severity: Severity
    value: float | None = None
    threshold: float | None = None
    unit: str | None = None
    detail: str


class QualityReport(BaseModel):
    """Signal quality of one record: per lead, and overall.

    ``verdict`` is "unusable" when no lead is usable (or the record is too short), "degraded"
    when any lead is not good or any record finding exists, else "good".
    """

    model_config = ConfigDict(frozen=True)

    record_id: str | None
    fs_hz: float
    duration_s: float
    verdict: Verdict
    usable_leads: list[str]
    leads: list[LeadQuality]
    findings: list[RecordFinding]
    n_beats: int = Field(description="R peaks found on the usable leads")

    def lead(self, name: str) -> LeadQuality:
        """The quality entry of one lead by name."""
        for entry in self.leads:
            if entry.lead == name:
                return entry
        raise KeyError(f"no lead {name!r} in the quality report (leads: {self.lead_names})")

    @property
    def lead_names(self) -> list[str]:
        return [entry.lead for entry in self.leads]

    def has_finding(self, code: str) -> bool:
        """Whether a record-level finding with this code is present."""
        return any(f.code == code for f in self.findings)
