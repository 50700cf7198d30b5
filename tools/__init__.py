"""Deterministic ECG signal tools: records, readers, synthesis, rendering.

Pure functions over numpy arrays: no LangGraph, no network, no global state.
Array layout everywhere: ``[leads, samples]``, millivolts, with ``fs_hz`` beside it.
"""

from tools.errors import (
    CorruptFileError,
    DatasetError,
    DuplicateLeadError,
    HeaderMismatchError,
    LeadError,
    MissingFileError,
    RecordError,
    SignalValueError,
    UnknownLeadError,
)
from tools.leads import MIMIC_LEADS, STANDARD_LEADS, canonical_lead, map_leads
from tools.record import ECGRecord, Label, RecordSummary
from tools.signal import crop, pad_or_crop, resample, resample_record

__all__ = [
    "MIMIC_LEADS",
    "STANDARD_LEADS",
    "CorruptFileError",
    "DatasetError",
    "DuplicateLeadError",
    "ECGRecord",
    "HeaderMismatchError",
    "Label",
    "LeadError",
    "MissingFileError",
    "RecordError",
    "RecordSummary",
    "SignalValueError",
    "UnknownLeadError",
    "canonical_lead",
    "crop",
    "map_leads",
    "pad_or_crop",
    "resample",
    "resample_record",
]
