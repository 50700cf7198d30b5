"""Continuous atrial activity: fibrillatory f waves and flutter F waves, as atrial dipoles."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.signal import butter, sosfilt

from tools.synth import constants as c
from tools.synth.projection import project_atrial
from tools.synth.waves import bump_kernel

#: Butterworth order of the f-wave band-pass (a smooth, narrow-band fibrillatory signal).
_AF_FILTER_ORDER = 3
#: The noise is drawn this much longer and its start dropped: no filter start-up ramp.
_FILTER_SETTLE_S = 2.0


@lru_cache(maxsize=16)
def _af_filter(fs_hz: float) -> np.ndarray:
    band = c.AF_WAVE_BAND_HZ
    return np.asarray(butter(_AF_FILTER_ORDER, band, btype="bandpass", fs=fs_hz, output="sos"))


def fibrillatory_waves(n_samples: int, fs_hz: float, rng: np.random.Generator) -> np.ndarray:
    """AF f waves ``[8, n]``: a 3-D atrial dipole of band-limited noise (4-9 Hz).

    Each dipole axis is independent Gaussian noise band-passed to the fibrillatory band
    (dominant atrial frequency 5-8 Hz, Bollmann et al. 1998), weighted so the waves are
    largest in V1 and the inferior leads, and scaled so lead V1 has
    :data:`~tools.synth.constants.AF_WAVE_RMS_MV` RMS.
    """
    sos = _af_filter(float(fs_hz))
    pad = round(_FILTER_SETTLE_S * fs_hz)
    noise = sosfilt(sos, rng.standard_normal((3, n_samples + pad)), axis=1)[:, pad:]
    noise /= noise.std(axis=1, keepdims=True)
    dipole = np.asarray(c.AF_WAVE_DIPOLE)[:, None] * noise
    channels = project_atrial(dipole.T).T  # [8, n]
    return channels * (c.AF_WAVE_RMS_MV / channels[2].std())


def flutter_waves(onsets: np.ndarray, cycle_samples: int, n_samples: int) -> np.ndarray:
    """Flutter F waves ``[8, n]``: one sawtooth cycle per onset, clipped to the record.

    Typical (counter-clockwise) flutter: the atrial vector points superiorly and
    anteriorly, giving the negative sawtooth of II, III and aVF and positive waves in V1.
    """
    kernel = bump_kernel(cycle_samples, 1.0, c.FLUTTER_WAVE_SKEW)
    amps = project_atrial(c.FLUTTER_WAVE_MV * np.asarray(c.FLUTTER_WAVE_VECTOR))
    starts = np.concatenate([[onsets[0] - cycle_samples], onsets]) if len(onsets) else onsets
    index = starts[:, None] + np.arange(len(kernel))[None, :]
    inside = (index >= 0) & (index < n_samples)
    trace = np.zeros(n_samples)
    np.add.at(trace, index[inside], np.broadcast_to(kernel, index.shape)[inside])
    return amps[:, None] * trace[None, :]
