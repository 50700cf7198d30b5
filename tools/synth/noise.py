"""Noise and lead faults. Noise is generated per electrode, so Einthoven's law still holds.

Each of the nine electrodes (RA, LA, LL, V1-V6) gets its own baseline wander, mains hum
and muscle noise; leads are electrode differences (:func:`~tools.synth.projection.
electrodes_to_8`), exactly as an electrocardiograph forms them. Amplitudes are set on the
resulting 12 leads: wander and powerline as a peak amplitude (sqrt(2) x RMS), muscle noise
as an RMS, each the quadratic mean over the 12 leads.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.signal import butter, sosfilt

from tools.leads import STANDARD_LEADS
from tools.synth import constants as c
from tools.synth.projection import electrodes_to_8, expand_to_12
from tools.synth.spec import SynthSpec

N_ELECTRODES = 9
#: Butterworth order of the EMG band-pass.
_EMG_FILTER_ORDER = 2
#: Filtered noise is drawn this much longer and its start dropped: no filter start-up ramp.
_FILTER_SETTLE_S = 0.2


def _scaled(electrodes: np.ndarray, level_mv: float, peak: bool) -> np.ndarray:
    """12-lead noise from electrode noise, scaled to ``level_mv`` (peak or RMS)."""
    leads = expand_to_12(electrodes_to_8(electrodes))
    rms = float(np.sqrt(np.mean(leads.var(axis=1))))
    if rms == 0.0:
        return np.zeros_like(leads)
    return leads * (level_mv / (rms * (np.sqrt(2.0) if peak else 1.0)))


def _sinusoids(
    n: int, fs_hz: float, freqs_hz: np.ndarray, amps: np.ndarray, phases: np.ndarray
) -> np.ndarray:
    """Electrode signals ``[9, n]``: ``sum_k amps[e, k] sin(2 pi f_k t + phases[e, k])``.

    Written as ``sin`` and ``cos`` bases shared by all electrodes (one trig call per
    frequency, then a small matrix product).
    """
    t = np.arange(n) / fs_hz
    arg = 2 * np.pi * freqs_hz[:, None] * t[None, :]
    basis = np.vstack([np.sin(arg), np.cos(arg)])  # [2k, n]
    coeffs = np.hstack([amps * np.cos(phases), amps * np.sin(phases)])  # [9, 2k]
    return coeffs @ basis


def baseline_wander(n: int, fs_hz: float, level_mv: float, rng: np.random.Generator) -> np.ndarray:
    """Respiration (0.2-0.33 Hz) and electrode drift (0.03-0.1 Hz): all power below 1 Hz."""
    freqs = np.array([1.0 / rng.uniform(*c.RESPIRATION_PERIOD_S), rng.uniform(*c.WANDER_DRIFT_HZ)])
    amps = rng.uniform(0.3, 1.0, (N_ELECTRODES, 2))
    phases = rng.uniform(0.0, 2 * np.pi, (N_ELECTRODES, 2))
    return _scaled(_sinusoids(n, fs_hz, freqs, amps, phases), level_mv, peak=True)


def powerline(
    n: int, fs_hz: float, level_mv: float, freq_hz: float, rng: np.random.Generator
) -> np.ndarray:
    """Mains interference at ``freq_hz``, unequal on each electrode (imbalanced impedances)."""
    amps = rng.uniform(0.2, 1.0, (N_ELECTRODES, 1))
    phases = rng.uniform(0.0, 2 * np.pi, (N_ELECTRODES, 1))
    electrodes = _sinusoids(n, fs_hz, np.array([freq_hz]), amps, phases)
    return _scaled(electrodes, level_mv, peak=True)


@lru_cache(maxsize=16)
def _emg_filter(fs_hz: float) -> np.ndarray:
    high = min(c.MUSCLE_BAND_HZ[1], 0.45 * fs_hz)
    band = (c.MUSCLE_BAND_HZ[0], high)
    return np.asarray(butter(_EMG_FILTER_ORDER, band, btype="bandpass", fs=fs_hz, output="sos"))


def muscle_noise(n: int, fs_hz: float, level_mv: float, rng: np.random.Generator) -> np.ndarray:
    """Surface EMG: white Gaussian noise band-passed to 20-150 Hz (capped below Nyquist)."""
    pad = round(_FILTER_SETTLE_S * fs_hz)
    noise = rng.standard_normal((N_ELECTRODES, n + pad))
    electrodes = sosfilt(_emg_filter(float(fs_hz)), noise, axis=1)[:, pad:]
    return _scaled(electrodes, level_mv, peak=False)


def lead_off_signal(
    n: int, fs_hz: float, mode: str, hum_hz: float, rng: np.random.Generator
) -> np.ndarray:
    """One disconnected channel: flat at the amplifier rail, or floating-input noise."""
    if mode == "rail":
        return np.full(n, c.LEAD_OFF_RAIL_MV)
    t = np.arange(n) / fs_hz
    hum = np.sin(2 * np.pi * min(hum_hz, 0.45 * fs_hz) * t + rng.uniform(0, 2 * np.pi))
    drift = np.sin(2 * np.pi * rng.uniform(0.05, 0.5) * t + rng.uniform(0, 2 * np.pi))
    hiss = 0.2 * rng.standard_normal(n)
    return c.LEAD_OFF_NOISE_MV * (hum + drift + hiss)


def apply_lead_faults(signal: np.ndarray, spec: SynthSpec, rng: np.random.Generator) -> np.ndarray:
    """Flat leads become exactly 0 mV; disconnected leads become lead-off channels."""
    out = signal.copy()
    n = signal.shape[1]
    for lead in spec.flat_leads:
        out[STANDARD_LEADS.index(lead)] = 0.0
    for lead in spec.disconnected_leads:
        out[STANDARD_LEADS.index(lead)] = lead_off_signal(
            n, spec.fs_hz, spec.lead_off, spec.powerline_hz, rng
        )
    return out
