"""Compact-support wave kernels and the components a beat is built from.

Every kernel is exactly zero at its first and last sample and outside them, so a wave's
onset is exactly the sample where it leaves the baseline (McSharry et al. 2003 build beats
from Gaussians, which never reach zero; compact support makes the ground truth exact).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

Wave = Literal["p", "qrs", "st", "t"]

#: Shortest kernel in samples: a wave needs at least one non-zero sample between its ends.
MIN_KERNEL_SAMPLES = 2


def bump_kernel(length: int, power: float, skew: float = 1.0) -> np.ndarray:
    """``sin(pi * u**skew) ** power`` on ``u = 0 .. 1`` in ``length + 1`` samples.

    Parameters
    ----------
    length
        Support in samples (the kernel has ``length + 1`` values, zero at both ends).
    power
        Sharpness: 1 leaves the baseline with a kink, 2 is a raised cosine, larger is peakier.
    skew
        ``> 1`` moves the peak later (peak at ``u = 0.5 ** (1 / skew)``), ``< 1`` earlier.

    Returns
    -------
    numpy.ndarray
        float64 kernel whose continuous peak is 1.
    """
    length = max(int(length), MIN_KERNEL_SAMPLES)
    u = np.arange(length + 1, dtype=np.float64) / length
    kernel = np.sin(np.pi * u**skew) ** power
    kernel[0] = kernel[-1] = 0.0
    return kernel


def plateau_kernel(length: int, rise: int, fall_start: int) -> np.ndarray:
    """0 -> 1 over ``rise`` samples (raised cosine), 1 until ``fall_start``, back to 0 at the end.

    The shape of an ST-segment deviation: it reaches its level shortly after J, stays there
    through the ST segment and merges into the T wave's downstroke.
    """
    length = max(int(length), MIN_KERNEL_SAMPLES)
    rise = int(np.clip(rise, 1, length - 1))
    fall_start = int(np.clip(fall_start, rise, length - 1))
    n = np.arange(length + 1, dtype=np.float64)
    up = 0.5 - 0.5 * np.cos(np.pi * np.clip(n / rise, 0.0, 1.0))
    down = 0.5 + 0.5 * np.cos(np.pi * np.clip((n - fall_start) / (length - fall_start), 0, 1))
    kernel = up * down
    kernel[0] = kernel[-1] = 0.0
    return kernel


@dataclass(frozen=True)
class Component:
    """One dipole component of a wave: a kernel in time times an amplitude per lead.

    Attributes
    ----------
    wave
        Which wave it belongs to (``"st"`` is the ST deviation, outside any wave's bounds).
    start
        First sample of the kernel, relative to the beat's QRS onset (negative for P).
    kernel
        Kernel values, zero at both ends (see :func:`bump_kernel`).
    amps8
        mV per independent channel (I, II, V1-V6), from the dipole projection.
    """

    wave: Wave
    start: int
    kernel: np.ndarray
    amps8: np.ndarray

    @property
    def stop(self) -> int:
        """Sample (relative) of the kernel's last value, where it is back at zero."""
        return self.start + len(self.kernel) - 1


def render(components: Sequence[Component], origin: int, n_samples: int) -> np.ndarray:
    """Sum components into an ``[8, n_samples]`` array whose index 0 is relative ``origin``."""
    out = np.zeros((8, n_samples))
    for comp in components:
        i0 = comp.start - origin
        out[:, i0 : i0 + len(comp.kernel)] += comp.amps8[:, None] * comp.kernel[None, :]
    return out
