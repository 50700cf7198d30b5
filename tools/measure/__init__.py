"""Measurements: global intervals and axes, per-lead amplitudes, per-beat GEM features."""

from tools.measure.model import (
    MEASUREMENT_VERSION,
    Beats,
    Evidence,
    GlobalMeasurements,
    LeadBeatFeatures,
    LeadMeasurements,
    Measurements,
    Statement,
)

__all__ = [
    "MEASUREMENT_VERSION",
    "Beats",
    "Evidence",
    "GlobalMeasurements",
    "LeadBeatFeatures",
    "LeadMeasurements",
    "Measurements",
    "Statement",
]
