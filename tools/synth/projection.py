"""Lead geometry: project a cardiac dipole onto the 12 leads, Einthoven-consistent by design.

Only eight leads are independent: I, II and V1-V6. The generator works in that eight-channel
space and :func:`expand_to_12` derives III, aVR, aVL and aVF from I and II, so Einthoven's law
(III = II - I) and Goldberger's relations hold to floating-point precision for every
signal that goes through it, noise included.
"""

from __future__ import annotations

import math

import numpy as np

from tools.synth import constants as c

#: The independent channels, in the order of every ``[8, ...]`` array.
INDEPENDENT_LEADS: tuple[str, ...] = ("I", "II", "V1", "V2", "V3", "V4", "V5", "V6")

#: ``[12, 8]``: standard leads (canonical order) from the independent channels.
EXPAND_8_TO_12: np.ndarray = np.array(
    [
        [1.0, 0.0] + [0.0] * 6,  # I
        [0.0, 1.0] + [0.0] * 6,  # II
        [-1.0, 1.0] + [0.0] * 6,  # III = II - I
        [-0.5, -0.5] + [0.0] * 6,  # aVR = -(I + II) / 2
        [1.0, -0.5] + [0.0] * 6,  # aVL = I - II / 2
        [-0.5, 1.0] + [0.0] * 6,  # aVF = II - I / 2
        *[[0.0, 0.0] + [1.0 if j == i else 0.0 for j in range(6)] for i in range(6)],
    ]
)


def _lead_vectors() -> np.ndarray:
    """``[8, 3]`` lead vectors: frontal I and II, transverse V1-V6 with their gains."""
    vectors = np.zeros((8, 3))
    vectors[0] = (1.0, 0.0, 0.0)
    vectors[1] = (math.cos(math.radians(60)), math.sin(math.radians(60)), 0.0)
    angles = np.radians(c.PRECORDIAL_ANGLES_DEG)
    gains = np.asarray(c.PRECORDIAL_GAINS)
    vectors[2:, 0] = gains * np.cos(angles)
    vectors[2:, 2] = gains * np.sin(angles)
    return vectors


#: ``[8, 3]`` projection of the dipole ``(x left, y inferior, z anterior)`` onto I, II, V1-V6.
LEAD_VECTORS_8: np.ndarray = _lead_vectors()


def project(vectors: np.ndarray) -> np.ndarray:
    """Project dipoles ``[..., 3]`` (mV) onto the independent leads: ``[..., 8]``."""
    return np.asarray(vectors, dtype=np.float64) @ LEAD_VECTORS_8.T


def project_atrial(vectors: np.ndarray) -> np.ndarray:
    """Like :func:`project`, with the precordial leads scaled for the atria's distance.

    See :data:`~tools.synth.constants.ATRIAL_PRECORDIAL_GAIN`; limb leads are unchanged.
    """
    channels = project(vectors)
    channels[..., 2:] *= c.ATRIAL_PRECORDIAL_GAIN
    return channels


def expand_to_12(channels: np.ndarray) -> np.ndarray:
    """Standard 12 leads ``[12, n]`` from independent channels ``[8, n]`` (I, II, V1-V6)."""
    return EXPAND_8_TO_12 @ np.asarray(channels, dtype=np.float64)


def electrodes_to_8(electrodes: np.ndarray) -> np.ndarray:
    """Independent lead channels ``[8, n]`` from electrode potentials ``[9, n]``.

    Electrode order RA, LA, LL, V1-V6 (right leg is the reference); precordial leads are
    referred to Wilson's central terminal ``(RA + LA + LL) / 3``.
    """
    e = np.asarray(electrodes, dtype=np.float64)
    ra, la, ll = e[0], e[1], e[2]
    wct = (ra + la + ll) / 3.0
    return np.vstack([la - ra, ll - ra, e[3:] - wct])


def frontal_vector(angle_deg: float, magnitude: float) -> np.ndarray:
    """``(x, y)`` of a frontal-plane vector at a hexaxial angle."""
    a = math.radians(angle_deg)
    return np.array([magnitude * math.cos(a), magnitude * math.sin(a)])


def limb_projection(frontal_xy: np.ndarray) -> np.ndarray:
    """Values in the six limb leads (canonical order) of a frontal vector ``(x, y)``."""
    channels = np.zeros(8)
    channels[:2] = LEAD_VECTORS_8[:2, :2] @ np.asarray(frontal_xy, dtype=np.float64)
    return (EXPAND_8_TO_12 @ channels)[:6]


def limb_matrix() -> np.ndarray:
    """``[6, 2]``: limb-lead values per unit ``(x, y)`` dipole (for least-squares fits)."""
    return np.column_stack(
        [limb_projection(np.array([1.0, 0.0])), limb_projection(np.array([0.0, 1.0]))]
    )


def frontal_axis_deg(area_i: float, area_avf: float) -> float:
    """Frontal axis from net areas in I and aVF on the Einthoven triangle.

    ``atan2(2 * aVF, sqrt(3) * I)``: aVF's lead vector is sqrt(3)/2 as long as lead I's.
    The common approximation ``atan2(aVF, I)`` differs from it by at most 4.1 degrees.
    """
    return math.degrees(math.atan2(2.0 * area_avf, math.sqrt(3.0) * area_i))
