"""Signal-quality gate: per-lead verdicts with measured reasons, usable leads, record findings.

>>> report = assess_quality(signal_mv, fs_hz, lead_names)  # doctest: +SKIP
>>> report.verdict, report.usable_leads  # doctest: +SKIP
"""

from tools.quality.assess import (
    QualityCheck,
    assess_quality,
    assess_record_quality,
    check_quality,
    check_record_quality,
)
from tools.quality.report import (
    FindingCode,
    LeadMetrics,
    LeadQuality,
    LeadReasonCode,
    QualityReason,
    QualityReport,
    RecordFinding,
    Severity,
    Verdict,
)

__all__ = [
    "FindingCode",
    "LeadMetrics",
    "LeadQuality",
    "LeadReasonCode",
    "QualityCheck",
    "QualityReason",
    "QualityReport",
    "RecordFinding",
    "Severity",
    "Verdict",
    "assess_quality",
    "assess_record_quality",
    "check_quality",
    "check_record_quality",
]
