"""Multi-scale smoothed signals and slopes that every delineation step reads.

The slopes are derivatives of Gaussian-smoothed leads, i.e. a Gaussian-derivative wavelet
transform at two scales (the continuous analogue of the quadratic-spline wavelet of
Martínez et al. 2004, whose modulus maxima mark wave slopes and whose zero crossings mark
wave peaks). Smoothing is zero-phase, so boundaries are not shifted.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import fft as sp_fft

from tools.delineate.params import COARSE_SIGMA_MS, FINE_SIGMA_MS, FLAT_LEAD_MV

#: Source rows of :attr:`Channels.stack`.
FINE_MV, COARSE_MV, FINE_SLOPE, COARSE_SLOPE, ABS_FINE, ABS_COARSE = range(6)
#: Edge padding of every channel, so windows near the record ends read the end value (as
#: clipping indices would) and window extraction is a strided view: longer than the widest
#: window reaching past an end (T search after the last beat).
PAD_MS = 1200.0


@dataclass(frozen=True)
class Channels:
    """Smoothed leads and their slopes, edge-padded, stacked ``[6, leads, pad + samples + pad]``.

    Rows (see the module constants): QRS-scale and P/T-scale signals in mV, their slopes in
    mV per sample, and the absolute slopes. ``usable`` is bool ``[leads]`` (False for flat or
    all-missing leads); ``missing`` bool ``[leads, samples]`` marks input NaNs.
    """

    stack: np.ndarray
    pad: int
    usable: np.ndarray
    missing: np.ndarray

    @property
    def n_samples(self) -> int:
        return int(self.stack.shape[-1] - 2 * self.pad)

    def row(self, source: int) -> np.ndarray:
        """One source over the record, ``[leads, samples]`` (a view)."""
        return self.stack[source, :, self.pad : self.pad + self.n_samples]

    @property
    def fine_mv(self) -> np.ndarray:
        return self.row(FINE_MV)

    @property
    def coarse_mv(self) -> np.ndarray:
        return self.row(COARSE_MV)

    @property
    def fine_slope(self) -> np.ndarray:
        return self.row(FINE_SLOPE)

    @property
    def coarse_slope(self) -> np.ndarray:
        return self.row(COARSE_SLOPE)

    def window(
        self, source: int | list[int], start: np.ndarray, length: int, step: int = 1
    ) -> np.ndarray:
        """Samples ``[start, start + length)`` of one or more sources (every ``step``-th).

        ``start`` is int ``[beats]`` (same in every lead) or ``[leads, beats]``. Returns
        ``[leads, beats, length]`` for one source, ``[sources, leads, beats, length]`` for a
        list (``length`` becomes ``ceil(length / step)``). Samples outside the record read the
        nearest end value.
        """
        if isinstance(source, list):  # gather the rows, without copying the whole stack
            return strided_windows(self.stack, self.pad, start, length, sources=source, step=step)
        return strided_windows(self.stack[source], self.pad, start, length, step=step)


def edge_pad(x: np.ndarray, pad: int) -> np.ndarray:
    """``x`` with ``pad`` copies of its first and last sample on each side (last axis)."""
    out = np.empty((*x.shape[:-1], x.shape[-1] + 2 * pad), dtype=x.dtype)
    out[..., pad : pad + x.shape[-1]] = x
    out[..., :pad] = x[..., :1]
    out[..., pad + x.shape[-1] :] = x[..., -1:]
    return out


def strided_windows(
    padded: np.ndarray,
    pad: int,
    start: np.ndarray,
    length: int,
    sources: list[int] | None = None,
    step: int = 1,
) -> np.ndarray:
    """Windows ``[start, start + length)`` of an edge-padded ``[..., (leads,) samples]`` array.

    With ``start [beats]`` the result is ``[..., beats, length]`` over all leading axes; with
    ``start [leads, beats]`` the second-to-last axis of ``padded`` is the lead axis and the
    result is ``[..., leads, beats, length]``. ``sources`` picks rows of the first axis of a
    ``[rows, leads, samples]`` (or ``[rows, samples]``, with 1-D ``start``) array in the same
    gather, as ``strided_windows(padded[sources], ...)`` would without copying ``padded``.
    ``step`` keeps every ``step``-th sample of each window (``[..., ::step]``, gathered
    directly).
    """
    length = max(int(length), 1)
    n_padded = padded.shape[-1]
    if length > n_padded:
        padded = np.pad(padded, [(0, 0)] * (padded.ndim - 1) + [(0, length - n_padded)], "edge")
        n_padded = length
    # The sliding-window view of sliding_window_view, built directly (it is called often);
    # only gathered from, never written or returned.
    shape = (*padded.shape[:-1], n_padded - length + 1, len(range(0, length, step)))
    strides = (*padded.strides, padded.strides[-1] * step)
    if padded.flags.c_contiguous:
        view = np.ndarray(shape, padded.dtype, buffer=padded, strides=strides)
    else:
        view = np.lib.stride_tricks.as_strided(padded, shape, strides, writeable=False)
    s = np.minimum(np.maximum(np.asarray(start, dtype=np.int64) + pad, 0), n_padded - length)
    if sources is not None:
        src = np.asarray(sources, dtype=np.intp)
        if padded.ndim == 2:
            return view[src[:, None], s[None, :]]
        leads = np.arange(padded.shape[1])[:, None]
        return view[src[:, None, None], leads[None], (s if s.ndim == 2 else s[None, :])[None]]
    if s.ndim == 1:
        return view[..., s, :]
    rows = np.arange(s.shape[0])[:, None]
    return view[..., rows, s, :]


def _central_difference(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Centred first difference along the last axis (zero at the padded ends), into ``out``."""
    d = np.empty_like(x) if out is None else out
    d[:, :1] = 0.0
    d[:, -1:] = 0.0
    inner = d[:, 1:-1]
    np.subtract(x[:, 2:], x[:, :-2], out=inner)
    inner *= 0.5
    return d


def fill_missing(signal_mv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """float32 copy with NaN samples replaced by their lead's median; and the NaN mask.

    An all-NaN lead becomes zeros (and is reported unusable by :func:`compute_channels`).
    """
    x = np.asarray(signal_mv, dtype=np.float32)
    missing = np.isnan(x)
    if not missing.any():
        return x, missing
    fill = np.zeros(x.shape[0], dtype=np.float32)
    some = ~missing.all(axis=1)
    fill[some] = np.nanmedian(x[some], axis=1)
    return np.where(missing, fill[:, None], x), missing


@lru_cache(maxsize=16)
def _gaussian_gain(n_fft: int, sigma: float) -> np.ndarray:
    """float32 rFFT gain of a Gaussian of ``sigma`` samples (read-only; one per length/width)."""
    freq = np.arange(n_fft // 2 + 1) / n_fft  # cycles per sample
    gain = np.exp(-2.0 * (np.pi * sigma * freq) ** 2).astype(np.float32)
    gain.flags.writeable = False
    return gain


def compute_channels(signal_mv: np.ndarray, fs_hz: float) -> Channels:
    """Smooth every lead at the QRS and P/T scales and differentiate.

    Parameters
    ----------
    signal_mv
        ``[leads, samples]`` in mV; NaN samples are filled with the lead's median and flagged.
    fs_hz
        Sampling rate in Hz.

    Returns
    -------
    Channels
        Smoothed leads, slopes, usable-lead mask and missing-sample mask.

    Notes
    -----
    No high-pass filter is applied: slopes are insensitive to baseline wander, and amplitudes
    are measured against each beat's own PR-segment level.
    """
    x, missing = fill_missing(signal_mv)
    all_missing = missing.all(axis=1)
    pad = round(PAD_MS * fs_hz / 1000.0)
    padded = edge_pad(x, pad) if x.shape[1] else np.zeros((x.shape[0], 2 * pad), np.float32)
    n_fft = sp_fft.next_fast_len(padded.shape[1], real=True)
    spectrum = sp_fft.rfft(padded, n_fft, axis=1)
    stack = np.empty((6, *padded.shape), dtype=np.float32)
    for row, sigma_ms in ((FINE_MV, FINE_SIGMA_MS), (COARSE_MV, COARSE_SIGMA_MS)):
        gain = _gaussian_gain(n_fft, sigma_ms * fs_hz / 1000.0)
        stack[row] = sp_fft.irfft(spectrum * gain, n_fft, axis=1)[:, : padded.shape[1]]
    _central_difference(stack[FINE_MV], out=stack[FINE_SLOPE])
    _central_difference(stack[COARSE_MV], out=stack[COARSE_SLOPE])
    np.abs(stack[FINE_SLOPE], out=stack[ABS_FINE])
    np.abs(stack[COARSE_SLOPE], out=stack[ABS_COARSE])
    fine = stack[FINE_MV, :, pad : pad + x.shape[1]]
    usable = np.asarray(~all_missing)
    if x.shape[1]:
        usable &= (fine.max(axis=1) - fine.min(axis=1)) >= FLAT_LEAD_MV
    return Channels(stack, pad, usable, missing)
