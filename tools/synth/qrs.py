"""QRS complexes as a few dipole components whose sum has the requested axis and transition.

A ventricular depolarisation is modelled as 2-3 time-shifted dipole forces (septal, main
free-wall, terminal basal; plus the late right-ventricular force of RBBB, the two-hump
left-ventricular activation of LBBB, the displaced initial force of a fascicular block or
the delta wave of pre-excitation), the classic decomposition of the QRS loop (Selvester
et al. 1965; the dipole-per-wave model of McSharry et al. 2003). The main force is solved so
that the net QRS area points exactly at ``axis_deg`` in the frontal plane and its
transverse part puts the R = S transition at the requested precordial lead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from tools.synth import constants as c
from tools.synth.projection import project
from tools.synth.waves import Component, bump_kernel

QrsKind = Literal["normal", "rbbb", "lbbb", "irbbb", "lafb", "lpfb", "pvc"]
PRECORDIAL = ("V1", "V2", "V3", "V4", "V5", "V6")


@dataclass(frozen=True)
class _Part:
    """A QRS force: start and length as fractions of the QRS, kernel power, 3-D vector (mV).

    ``vector=None`` marks the main force, solved for the axis and transition;
    ``transverse=False`` leaves a force out of the transition solve (RBBB's late right
    ventricular force: the transition describes the left ventricle's progression).
    """

    start: float
    length: float
    power: float
    vector: tuple[float, float, float] | None
    transverse: bool = True


@dataclass(frozen=True)
class QrsDesign:
    """The solved QRS: its components and the main force's dipole (mV, amplitude-scaled)."""

    components: tuple[Component, ...]
    main_vector: np.ndarray


def _frontal(angle_deg: float, magnitude: float, anterior: float) -> tuple[float, float, float]:
    a = math.radians(angle_deg)
    return (magnitude * math.cos(a), magnitude * math.sin(a), anterior)


def _parts(kind: QrsKind, axis_deg: float) -> list[_Part]:
    """The forces of each conduction pattern (start, length: fractions of the QRS duration)."""
    # Septum, left to right and anterior: r in V1, septal q in the leads along the axis.
    septal = _frontal(axis_deg + 180, 0.6 * c.SEPTAL_MV, 0.8 * c.SEPTAL_MV)
    if kind == "normal":
        # Basal terminal force, rightward-superior-posterior: s in I and V6, r in aVR.
        terminal = _frontal(axis_deg + 150, 0.8 * c.TERMINAL_MV, -0.6 * c.TERMINAL_MV)
        return [
            _Part(0.0, 0.32, c.QRS_POWER, septal),
            _Part(0.15, 0.6, c.MAIN_QRS_POWER, None),  # LV free wall: the R wave
            _Part(0.55, 0.45, c.QRS_POWER, terminal),
        ]
    if kind in ("lafb", "lpfb"):
        # The blocked fascicle's region activates last: the first force comes from the other
        # fascicle's region (LAFB inferior-rightward, LPFB superior-leftward) and the main
        # force, towards the late region, gives the axis.
        initial = _frontal(c.FASCICULAR_INITIAL_DEG[kind], c.FASCICULAR_INITIAL_MV,
                           0.8 * c.SEPTAL_MV)  # fmt: skip
        return [
            _Part(0.0, c.FASCICULAR_INITIAL_LENGTH, c.QRS_POWER, initial),
            _Part(0.15, 0.85, c.MAIN_QRS_POWER, None),
        ]
    if kind in ("rbbb", "irbbb"):
        # Late, slow right-ventricular force, rightward and anterior: R' in V1, wide S in I/V6.
        rv = (-0.55 * c.RBBB_RV_MV, 0.05 * c.RBBB_RV_MV, 0.8 * c.RBBB_RV_MV)
        return [
            _Part(0.0, 0.22, c.QRS_POWER, septal),
            _Part(0.1, 0.38, c.MAIN_QRS_POWER, None),
            _Part(0.4, 0.6, 1.2, rv, transverse=False),
        ]
    if kind == "lbbb":
        # Septum activated right to left, then the free wall: no septal q, notched broad R.
        initial = _frontal(axis_deg, c.LBBB_INITIAL_MV, -0.3 * c.LBBB_INITIAL_MV)
        return [_Part(0.0, 0.5, 2.0, initial), _Part(0.35, 0.65, 2.0, None)]
    # PVC: slow cell-to-cell spread from one focus: one broad, slurred force.
    initial = _frontal(axis_deg, 0.4 * c.PVC_MV, -0.2 * c.PVC_MV)
    return [_Part(0.0, 0.6, 1.3, initial), _Part(0.3, 0.7, 2.0, None)]


def transverse_angle_deg(transition: str) -> float:
    """Transverse angle of the net QRS force that puts R = S at ``transition``.

    The zero-crossing direction sits :data:`~tools.synth.constants.TRANSITION_FRACTION` of
    the way from the transition lead towards the lead before it, so the transition lead is
    just positive and the one before it negative; the force is 90 degrees clockwise of it.
    """
    angles = c.PRECORDIAL_ANGLES_DEG
    k = PRECORDIAL.index(transition)
    before = angles[k - 1] if k > 0 else angles[0] + (angles[0] - angles[1])
    crossing = angles[k] + c.TRANSITION_FRACTION * (before - angles[k])
    return float(np.clip(crossing - 90.0, -c.TRANSVERSE_MAX_DEG, c.TRANSVERSE_MAX_DEG))


def _late_main(parts: list[_Part]) -> list[_Part]:
    """The main force starting later (same end): the dead wall gives no early force."""
    out = []
    for p in parts:
        if p.vector is None and p.start < c.INFARCT_MAIN_START:
            end = p.start + p.length
            p = _Part(c.INFARCT_MAIN_START, end - c.INFARCT_MAIN_START, p.power, None, p.transverse)
        out.append(p)
    return out


def _infarct_part(territory: str) -> _Part:
    """The initial force of a Q-wave infarction: away from the dead wall."""
    direction = np.asarray(c.INFARCT_DIRECTIONS[territory], dtype=np.float64)
    vector = c.INFARCT_MV * direction / np.linalg.norm(direction)
    return _Part(0.0, c.INFARCT_LENGTH, c.QRS_POWER, (vector[0], vector[1], vector[2]))


def _preexcited(parts: list[_Part], delta_fraction: float, axis_deg: float) -> list[_Part]:
    """Parts of a pre-excited QRS: a delta force first, the normal activation after it.

    The normal parts are compressed into the QRS's last ``1 - delta_fraction``, without the
    septal force (the septum is reached from the pathway's side: no septal q). The delta
    force starts the QRS at an angle and grows slowly (the slurred upstroke) until about the
    R peak of the normal activation, into which it merges.
    """
    keep = 1.0 - delta_fraction
    moved = [
        _Part(delta_fraction + p.start * keep, p.length * keep, p.power, p.vector, p.transverse)
        for p in parts[1:]
    ]
    peak = delta_fraction + c.DELTA_PEAK * keep
    delta = _frontal(axis_deg, c.DELTA_MV, c.DELTA_ANTERIOR * c.DELTA_MV)
    return [_Part(0.0, min(2.0 * peak, 1.0), c.DELTA_POWER, delta), *moved]


def design_qrs(
    kind: QrsKind,
    qrs_samples: int,
    axis_deg: float,
    transition: str,
    scale: float,
    infarct: str | None = None,
    delta_samples: int = 0,
) -> QrsDesign:
    """Components of one QRS of ``qrs_samples`` starting at relative sample 0.

    Parameters
    ----------
    kind
        Conduction pattern (``"pvc"``: ventricular ectopic beat).
    qrs_samples
        QRS duration in samples; the first force starts at 0 and the last ends here.
    axis_deg
        Frontal axis the net QRS area must point at.
    transition
        Precordial lead where the net QRS area turns positive (V1-V5).
    scale
        Amplitude scale of every force.
    infarct
        Territory of a Q-wave infarction (a key of ``INFARCT_DIRECTIONS``), or ``None``.
    delta_samples
        Length of a pre-excitation delta wave at the start of the QRS (0: none).
    """
    parts = _parts(kind, axis_deg)
    if delta_samples > 0:
        parts = _preexcited(parts, delta_samples / qrs_samples, axis_deg)
    if infarct is not None:
        parts = [*_late_main(parts), _infarct_part(infarct)]
    starts = [round(p.start * qrs_samples) for p in parts]
    ends = [round((p.start + p.length) * qrs_samples) for p in parts]
    kernels = [
        bump_kernel(max(e - s, 2), p.power) for s, e, p in zip(starts, ends, parts, strict=True)
    ]
    main = next(i for i, p in enumerate(parts) if p.vector is None)
    areas = np.array([k.sum() for k in kernels])
    known = np.zeros(3)
    ignored_z = 0.0
    for area, part in zip(areas, parts, strict=True):
        if part.vector is not None:
            known += area * np.asarray(part.vector)
            ignored_z += 0.0 if part.transverse else area * part.vector[2]
    main_mv = c.PVC_MV if kind == "pvc" else c.MAIN_QRS_MV
    target = _frontal_net(axis_deg, known[:2], areas[main] * main_mv)
    a = math.radians(axis_deg)
    net_x, net_y = target * math.cos(a), target * math.sin(a)
    net_z = max(net_x, c.LEFTWARD_FLOOR * target) * math.tan(
        math.radians(transverse_angle_deg(transition))
    )
    main_vector = (np.array([net_x, net_y, net_z + ignored_z]) - known) / areas[main]
    vectors = [main_vector if p.vector is None else np.asarray(p.vector) for p in parts]
    components = tuple(
        Component("qrs", s, k, project(scale * v))
        for s, k, v in zip(starts, kernels, vectors, strict=True)
    )
    return QrsDesign(components, scale * main_vector)


def _frontal_net(axis_deg: float, known_xy: np.ndarray, main_area: float) -> float:
    """Net frontal QRS area along the axis that gives the main force its nominal size.

    Solves ``|t * e - known| = main_area`` for ``t > 0`` (``e`` the axis unit vector), so the
    main force keeps its amplitude whatever the other forces add (RBBB's rightward force
    would otherwise inflate it); falls back to ``main_area`` when the others dominate.
    """
    a = math.radians(axis_deg)
    e = np.array([math.cos(a), math.sin(a)])
    along = float(e @ known_xy)
    disc = along**2 - float(known_xy @ known_xy) + main_area**2
    root = along + math.sqrt(disc) if disc > 0 else main_area
    return root if root > 0 else main_area
