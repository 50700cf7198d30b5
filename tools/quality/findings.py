"""Record-level quality findings: duration, all leads flat, no usable lead, no QRS, LA/RA."""

from __future__ import annotations

import numpy as np

from tools.quality import thresholds as th
from tools.quality.checks import SignalMeasures
from tools.quality.report import RecordFinding
from tools.quality.reversal import la_ra_reversal


def record_findings(
    m: SignalMeasures,
    names: list[str],
    fs_hz: float,
    duration_s: float,
    usable: np.ndarray,
    r_peaks: np.ndarray,
) -> list[RecordFinding]:
    """Every record-level finding that applies, in a fixed order."""
    long_enough = duration_s >= th.MIN_DURATION_S
    found = [] if long_enough else [_too_short(duration_s)]
    flat = (m.ptp_mv < th.FLAT_PTP_MV) | (m.flat_fraction >= th.FLAT_UNUSABLE_FRACTION)
    if flat.all():
        found.append(
            RecordFinding(code="all_leads_flat", severity="unusable", detail="every lead is flat")
        )
    elif not usable.any() and long_enough:
        found.append(
            RecordFinding(
                code="no_usable_leads",
                severity="unusable",
                detail="every lead is unusable (see the lead reasons)",
            )
        )
    if usable.any() and long_enough and r_peaks.size < th.MIN_QRS_COMPLEXES:
        found.append(_no_qrs(r_peaks.size))
    reversal = la_ra_reversal(m.highpassed, names, r_peaks, fs_hz, usable)
    if reversal is not None and reversal[0]:
        found.append(
            RecordFinding(
                code="limb_lead_reversal_suspected", severity="degraded", detail=reversal[1]
            )
        )
    return found


def _too_short(duration_s: float) -> RecordFinding:
    return RecordFinding(
        code="too_short",
        severity="unusable",
        value=duration_s,
        threshold=th.MIN_DURATION_S,
        unit="s",
        detail=f"record lasts {duration_s:.2f} s; at least {th.MIN_DURATION_S:g} s are "
        "needed to measure rate and rhythm",
    )


def _no_qrs(n_beats: int) -> RecordFinding:
    return RecordFinding(
        code="no_qrs_detected",
        severity="degraded",
        value=float(n_beats),
        threshold=float(th.MIN_QRS_COMPLEXES),
        unit="beats",
        detail=f"{n_beats} QRS complex(es) found on the usable leads, fewer than "
        f"{th.MIN_QRS_COMPLEXES}",
    )
