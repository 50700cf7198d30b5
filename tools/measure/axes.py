"""Frontal-plane electrical axes from the net areas of a wave in the limb leads."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Hexaxial reference frame: lead direction (degrees, +x = leftward, +y = inferior) and gain
#: relative to lead I (the augmented leads see sqrt(3)/2 of the frontal vector).
LEAD_FRAME: dict[str, tuple[float, float]] = {
    "I": (0.0, 1.0),
    "II": (60.0, 1.0),
    "III": (120.0, 1.0),
    "aVR": (-150.0, np.sqrt(3) / 2),
    "aVL": (-30.0, np.sqrt(3) / 2),
    "aVF": (90.0, np.sqrt(3) / 2),
}


def frontal_axis_deg(
    signal_mv: np.ndarray,
    lead_names: Sequence[str],
    onset: int,
    offset: int,
    baseline_mv: np.ndarray,
    usable: np.ndarray,
) -> float | None:
    """Frontal axis of the wave in ``[onset, offset)`` from its net area in the limb leads.

    The frontal vector (Hx, Hy) is the least-squares fit of ``area_lead = gain * (Hx cos a +
    Hy sin a)`` over the usable limb leads (two or more independent leads needed), then
    ``atan2(Hy, Hx)``; with I and aVF alone this is the classic hexaxial construction
    (Einthoven 1913; AHA/ACCF/HRS 2009 part I).

    Parameters
    ----------
    signal_mv
        ``[leads, samples]`` (a median beat).
    lead_names
        Names of the rows.
    onset, offset
        Wave window in samples; ``None`` is returned for an empty or invalid window.
    baseline_mv
        ``[leads]`` baseline of each row, subtracted before integrating.
    usable
        ``[leads]`` bool mask.

    Returns
    -------
    float or None
        Axis in degrees, in (-180, 180].
    """
    if onset < 0 or offset <= onset:
        return None
    rows, angles, gains = [], [], []
    for k, name in enumerate(lead_names):
        if name in LEAD_FRAME and usable[k]:
            rows.append(k)
            angle, gain = LEAD_FRAME[name]
            angles.append(np.deg2rad(angle))
            gains.append(gain)
    if len(rows) < 2:
        return None
    window = signal_mv[rows, onset:offset] - baseline_mv[rows, np.newaxis]
    area = window.sum(axis=1)
    design = np.column_stack([np.cos(angles), np.sin(angles)]) * np.asarray(gains)[:, None]
    (hx, hy), *_ = np.linalg.lstsq(design, area, rcond=None)
    if not np.isfinite(hx) or not np.isfinite(hy) or (hx == 0 and hy == 0):
        return None
    return float(np.rad2deg(np.arctan2(hy, hx)))
