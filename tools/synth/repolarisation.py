"""ST segment and T wave: the repolarisation dipole, with requested inversions and ST shifts.

Limb leads stay a projection of one frontal vector, so Einthoven's and Goldberger's laws
hold for the ST-T too: a requested set of limb-lead T inversions picks the T vector that
inverts exactly those leads, and limb-lead ST shifts are fitted by one frontal injury vector
(an inferior elevation brings its reciprocal depression in aVL and aVR, as in a real
inferior infarct). Precordial leads are semi-direct leads that see local injury and
repolarisation; requested precordial ST shifts and T inversions are applied lead by lead,
and a limb-lead T inversion rotates the frontal T vector only (the precordial T pattern stays).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from tools.leads import LIMB_LEADS
from tools.synth import constants as c
from tools.synth.projection import INDEPENDENT_LEADS, limb_matrix, limb_projection, project
from tools.synth.qrs import QrsKind
from tools.synth.waves import Component, bump_kernel, plateau_kernel

#: Candidate frontal T angles searched for a set of limb-lead inversions.
_T_ANGLE_GRID_DEG = np.arange(-180.0, 180.0, 0.5)


def t_skew() -> float:
    """Kernel skew that puts the T peak at :data:`~tools.synth.constants.T_PEAK_FRACTION`."""
    return math.log(0.5) / math.log(c.T_PEAK_FRACTION)


def t_onset(qrs_samples: int, qt_samples: int) -> int:
    """Relative T onset: after a flat ST segment of a third of the JT interval."""
    return qrs_samples + round(c.ST_SEGMENT_FRACTION * (qt_samples - qrs_samples))


def limb_t_angle_deg(inverted: Sequence[str]) -> float:
    """Frontal T angle whose negative limb leads are exactly ``inverted`` (aVR ignored).

    Raises
    ------
    SynthSpecError
        When no single frontal vector inverts exactly that set (Einthoven ties the limb
        leads: I negative with II positive forces aVL negative).
    """
    from tools.synth.spec import SynthSpecError

    unit = np.stack([np.cos(np.radians(_T_ANGLE_GRID_DEG)), np.sin(np.radians(_T_ANGLE_GRID_DEG))])
    values = limb_matrix() @ unit  # [6, angles]
    wanted = np.array([-1.0 if lead in inverted else 1.0 for lead in LIMB_LEADS])
    constrained = np.array([lead != "aVR" for lead in LIMB_LEADS])
    score = (wanted[constrained, None] * values[constrained]).min(axis=0)
    best = int(np.argmax(score))
    if score[best] < c.T_SIGN_MARGIN:
        raise SynthSpecError(
            f"t_inverted_leads: no single T vector inverts exactly {sorted(inverted)} among "
            "the limb leads (Einthoven's law ties them, e.g. I negative with II positive "
            "makes aVL negative too); add or remove limb leads"
        )
    return float(_T_ANGLE_GRID_DEG[best])


def design_t(
    kind: QrsKind,
    qrs_samples: int,
    qt_samples: int,
    axis_deg: float,
    inverted: Sequence[str],
    main_vector: np.ndarray,
) -> Component:
    """The T wave component: from the T onset to QT (relative to QRS onset)."""
    start = t_onset(qrs_samples, qt_samples)
    kernel = bump_kernel(qt_samples - start, c.T_POWER, t_skew())
    if kind == "pvc":
        vector = -c.T_MV * 1.2 * main_vector / np.linalg.norm(main_vector)
        return Component("t", start, kernel, project(vector))
    normal_beta = float(np.clip(axis_deg, *c.T_AXIS_LIMITS_DEG))
    beta = axis_deg + 180.0 if kind == "lbbb" else normal_beta  # LBBB: discordant T
    amps = project(_t_vector(beta, kind))
    limb_inverted = [lead for lead in inverted if lead in LIMB_LEADS]
    if limb_inverted:
        # Rotate the frontal T only: the precordial leads keep their own pattern.
        amps[:2] = project(_t_vector(limb_t_angle_deg(limb_inverted), kind))[:2]
    for lead in inverted:
        if lead.startswith("V"):
            k = INDEPENDENT_LEADS.index(lead)
            amps[k] = -max(abs(amps[k]), c.T_INVERTED_MIN_MV)
    return Component("t", start, kernel, amps)


def _t_vector(frontal_deg: float, kind: QrsKind) -> np.ndarray:
    b = math.radians(frontal_deg)
    return c.T_MV * np.array([math.cos(b), math.sin(b), c.T_ANTERIOR_FRACTION[kind]])


def fit_limb_st(shifts: Mapping[str, float]) -> np.ndarray:
    """Frontal injury vector ``(x, y)`` whose limb-lead ST values match ``shifts``.

    Least squares over the requested limb leads (minimum norm when fewer than two are
    given). Raises ``SynthSpecError`` when the request breaks Einthoven's law.
    """
    from tools.synth.spec import SynthSpecError

    rows = [i for i, lead in enumerate(LIMB_LEADS) if lead in shifts]
    if not rows:
        return np.zeros(2)
    matrix = limb_matrix()[rows]
    wanted = np.array([shifts[LIMB_LEADS[i]] for i in rows])
    xy = np.linalg.lstsq(matrix, wanted, rcond=None)[0]
    if np.abs(matrix @ xy - wanted).max() > 1e-6 * max(1.0, float(np.abs(wanted).max())):
        fitted = dict(zip([LIMB_LEADS[i] for i in rows], np.round(matrix @ xy, 3), strict=True))
        raise SynthSpecError(
            f"st_shift_mv on the limb leads {dict(shifts)} breaks Einthoven's law "
            f"(III = II - I); the closest consistent shifts are {fitted}"
        )
    return np.asarray(xy)


def design_st(
    kind: QrsKind,
    qrs_samples: int,
    qt_samples: int,
    t_peak: int,
    shifts: Mapping[str, float],
    main_vector: np.ndarray,
    fs_hz: float,
) -> list[Component]:
    """The ST deviations, each merging into the T wave's downstroke (none: empty list).

    A requested shift (an injury current) builds up over the last
    :data:`~tools.synth.constants.ST_RISE_MS` of the QRS, so the J point itself is displaced
    (the level the Fourth Universal Definition of MI reads). The secondary ST deviation of
    LBBB and PVCs starts at J, leaving J on the baseline (the QRS ends there), and slopes
    into the discordant T wave, reaching its level
    :data:`~tools.synth.constants.SECONDARY_ST_RISE_FRACTION` of the way to the T peak: a
    fast rise from J would continue the terminal QRS slope (the discordant deviation moves
    the same way) and leave no visible end of the QRS.
    """
    rise = min(round(c.ST_RISE_MS * fs_hz / 1000.0), max(qrs_samples // 2, 1))
    out = []
    injury = _injury_amps(shifts) if kind != "pvc" else np.zeros(8)
    if injury.any():
        start = qrs_samples - rise
        kernel = plateau_kernel(qt_samples - start, rise, t_peak - start)
        out.append(Component("st", start, kernel, injury))
    if kind in ("lbbb", "pvc"):
        rise = max(round(c.SECONDARY_ST_RISE_FRACTION * (t_peak - qrs_samples)), 1)
        kernel = plateau_kernel(qt_samples - qrs_samples, rise, t_peak - qrs_samples)
        secondary = project(-c.SECONDARY_ST_FRACTION * main_vector)
        out.append(Component("st", qrs_samples, kernel, secondary))
    return out


def _injury_amps(shifts: Mapping[str, float]) -> np.ndarray:
    """Per-channel ST shifts: limb leads by one fitted frontal vector, precordial as given."""
    amps = np.zeros(8)
    limb = {lead: v for lead, v in shifts.items() if lead in LIMB_LEADS}
    amps[:2] = limb_projection(fit_limb_st(limb))[:2]
    for lead, value in shifts.items():
        if lead.startswith("V"):
            amps[INDEPENDENT_LEADS.index(lead)] = value
    return amps
