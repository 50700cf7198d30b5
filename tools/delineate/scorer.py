"""Boundary scorers: place each wave onset/offset at the best-scoring sample in a window.

Each boundary (QRS on/off, P on/off, T on/off) has a linear scorer over local features of
every candidate sample: log-normalised slopes at two scales, the signal level relative to the
candidate, the multi-lead slope envelope (shared by all leads, so every lead's boundary sees
the other leads) and a learned prior over the position relative to the anchor. The boundary
is the score-weighted mean position around the best candidate. Scoring a candidate as "the
place where the slope rises from baseline" generalises the threshold rules of Martínez et al.
(2004, IEEE TBME 51(4):570-581) and the area indicator of Zhang et al. (2006, IEEE TBME
53(12):2544-2547); the weights are fitted (conditional log-likelihood of the expert mark
among the window's candidates) on half of LUDB by :mod:`tools.delineate.train`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy import fft as sp_fft

from tools.delineate.filters import (
    ABS_COARSE,
    ABS_FINE,
    COARSE_MV,
    FINE_MV,
    Channels,
    strided_windows,
)
from tools.delineate.params import (
    BOUNDARY_SPECS,
    LOG_FLOOR,
    N_FUSED_BOUNDARIES,
    N_PRESENCE_FEATURES,
    SOFT_RADIUS_MS,
    TAP_STEP_MS,
    BoundarySpec,
)
from tools.delineate.windows import ABSENT, ms_to_samples, take_last
from tools.errors import CorruptFileError, MissingFileError

#: The fitted weights shipped with the package.
WEIGHTS_PATH = Path(__file__).with_name("weights.npz")


@dataclass(frozen=True)
class Envelopes:
    """Multi-lead slope envelopes (QRS scale, P/T scale), edge-padded ``[2, samples + 2 pad]``.

    Each lead's absolute slope is divided by its typical QRS slope before summing.
    """

    stack: np.ndarray
    pad: int

    def window(self, rows: list[int], start: np.ndarray, length: int, step: int = 1) -> np.ndarray:
        """Windows of the given envelope rows, ``[rows, *start.shape, length]`` (every
        ``step``-th sample: ``length`` becomes ``ceil(length / step)``)."""
        flat = start.reshape(-1)
        out = strided_windows(self.stack, self.pad, flat, length, sources=rows, step=step)
        return out.reshape(len(rows), *start.shape, out.shape[-1])


@dataclass(frozen=True)
class BoundaryInputs:
    """Where and how to place one boundary in every lead and beat (all ``[leads, beats]``).

    Attributes
    ----------
    anchor
        Sample the search window is relative to; -1 where there is nothing to place.
    lo, hi
        Earliest and latest admissible sample (inclusive), e.g. P offset before QRS onset.
    fine_scale, coarse_scale
        Largest absolute slope of the wave at each scale (mV/sample), for normalisation.
    amplitude
        Wave amplitude in mV (> 0), for the level feature.
    polarity
        +1 or -1: sign of the wave phase next to the boundary.
    baseline_mv
        Isoelectric level in mV the wave deviates from.
    """

    anchor: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    fine_scale: np.ndarray
    coarse_scale: np.ndarray
    amplitude: np.ndarray
    polarity: np.ndarray
    baseline_mv: np.ndarray


#: Channels measured relative to the candidate's own value (level differences).
RELATIVE_CHANNELS = frozenset({"level"})


def tap_offsets(spec: BoundarySpec, fs_hz: float) -> np.ndarray:
    """Tap offsets in samples (rounded from the spec's ms grid)."""
    t0, t1 = spec.taps_ms
    ms = np.arange(t0, t1 + 1e-9, TAP_STEP_MS)
    return np.round(ms * fs_hz / 1000.0).astype(np.int64)


def prior_centres_ms(spec: BoundarySpec) -> np.ndarray:
    """Centres of the Gaussian bumps of the position prior (ms from the anchor)."""
    lo, hi = spec.window_ms
    return np.arange(lo, hi + 1e-9, 2.5 * TAP_STEP_MS)


def n_features(spec: BoundarySpec) -> int:
    """Length of a scorer's weight vector."""
    n_taps = round((spec.taps_ms[1] - spec.taps_ms[0]) / TAP_STEP_MS) + 1
    return len(spec.channels) * n_taps + prior_centres_ms(spec).size


def candidate_offsets(spec: BoundarySpec, fs_hz: float, step: int = 1) -> np.ndarray:
    """Candidate positions relative to the anchor, in samples."""
    lo = ms_to_samples(spec.window_ms[0], fs_hz)
    hi = ms_to_samples(spec.window_ms[1], fs_hz)
    return np.arange(lo, hi + 1, step, dtype=np.int64)


def _prior(spec: BoundarySpec, offsets: np.ndarray, fs_hz: float) -> np.ndarray:
    """Gaussian-bump features ``[T, P]`` of the candidate position relative to the anchor."""
    rel_ms = offsets * (1000.0 / fs_hz)
    centres = prior_centres_ms(spec)
    width = 2.5 * TAP_STEP_MS
    return np.exp(-0.5 * ((rel_ms[:, None] - centres[None, :]) / width) ** 2)


#: Source row of each lead channel in :attr:`Channels.stack`, and of each shared channel in
#: :attr:`Envelopes.stack`.
_LEAD_SOURCES = {"fine": ABS_FINE, "coarse": ABS_COARSE, "level": COARSE_MV, "dev": FINE_MV}
_SHARED_SOURCES = {"env": 0, "envc": 1}


def _transform(name: str, raw: np.ndarray, inp: BoundaryInputs) -> np.ndarray:
    """Channel ``name`` from its raw source window ``[leads, beats, S]`` (float32)."""

    def per_beat(v: np.ndarray) -> np.ndarray:
        return v.astype(np.float32)[..., None]

    floor = np.float32(LOG_FLOOR)
    if name == "fine":
        return np.log(raw * per_beat(1.0 / inp.fine_scale) + floor)
    if name == "coarse":
        return np.log(raw * per_beat(1.0 / inp.coarse_scale) + floor)
    if name == "level":
        return per_beat(inp.polarity / inp.amplitude) * raw
    if name == "dev":
        return np.log(
            np.abs(raw - per_beat(inp.baseline_mv)) * per_beat(1.0 / inp.amplitude) + floor
        )
    if name in _SHARED_SOURCES:
        return np.log(raw + floor)
    raise ValueError(f"unknown scorer channel {name!r}")


def grid_step(spec: BoundarySpec, fs_hz: float) -> int:
    """Candidate spacing in samples: the tap spacing when every tap and the window start fall
    on it (2 samples at 500 Hz, the 4 ms grid the scorers were fitted on), else 1."""
    q = max(round(TAP_STEP_MS * fs_hz / 1000.0), 1)
    taps = tap_offsets(spec, fs_hz)
    lo = ms_to_samples(spec.window_ms[0], fs_hz)
    return q if q > 1 and np.all(taps % q == 0) and lo % q == 0 else 1


def channel_segments(
    spec: BoundarySpec,
    ch: Channels,
    env: Envelopes,
    inp: BoundaryInputs,
    fs_hz: float,
    step: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Every channel over the stretch of samples that the candidates' taps read.

    Returns
    -------
    tuple
        ``positions`` int64 ``[leads, beats, T]``; ``offsets`` ``[T]`` (samples from the
        anchor, ``step`` apart); the channels ``[channels, leads, beats, S]`` float32, where
        segment sample ``j`` is ``anchor + first + dec * j``; ``first``; and ``dec``, the
        decimation (``step`` when the taps fall on its grid, else 1).
    """
    offsets, first, length, dec = _segment_layout(spec, fs_hz, step)
    start = np.where(inp.anchor >= 0, inp.anchor, 0) + first
    lead_names = [n for n in spec.channels if n in _LEAD_SOURCES]
    shared_names = [n for n in spec.channels if n in _SHARED_SOURCES]
    raw: dict[str, np.ndarray] = {}
    if lead_names:
        windows = ch.window([_LEAD_SOURCES[n] for n in lead_names], start, length, dec)
        raw.update(zip(lead_names, windows, strict=True))
    if shared_names:
        windows = env.window([_SHARED_SOURCES[n] for n in shared_names], start, length, dec)
        raw.update(zip(shared_names, windows, strict=True))
    segments = np.stack([_transform(n, raw[n], inp) for n in spec.channels])
    return inp.anchor[..., None] + offsets, offsets, segments, first, dec


@lru_cache(maxsize=64)
def _segment_layout(
    spec: BoundarySpec, fs_hz: float, step: int
) -> tuple[np.ndarray, int, int, int]:
    """``(offsets, first, length, dec)`` of :func:`channel_segments` (pure in its arguments,
    so computed once per boundary and rate; ``offsets`` is read-only)."""
    offsets = candidate_offsets(spec, fs_hz, step)
    offsets.flags.writeable = False
    taps = tap_offsets(spec, fs_hz)
    first = int(offsets[0] + min(int(taps.min()), 0))
    length = int(offsets[-1] + max(int(taps.max()), 0)) - first + 1
    dec = step if step > 1 and np.all(taps % step == 0) and first % step == 0 else 1
    return offsets, first, length, dec


@lru_cache(maxsize=64)
def _grid_step(spec: BoundarySpec, fs_hz: float) -> int:
    return grid_step(spec, fs_hz)


@lru_cache(maxsize=64)
def _scorer_terms(
    name: str, fs_hz: float, weights_dtype: str, weights_bytes: bytes
) -> tuple[np.ndarray, np.ndarray, int]:
    """Conjugate kernel spectra ``[channels, n_fft // 2 + 1]``, prior scores ``[T]`` and the
    FFT length of one scorer: pure functions of the boundary, the rate and the weights
    (passed as bytes so they can key the cache), computed once and kept read-only."""
    weights = np.frombuffer(weights_bytes, dtype=weights_dtype)
    spec = BOUNDARY_SPECS[name]
    step = _grid_step(spec, fs_hz)
    offsets, _, length, dec = _segment_layout(spec, fs_hz, step)
    kernels = _kernels(spec, weights, fs_hz, dec)
    n_segment = len(range(0, length, dec))
    n_fft = sp_fft.next_fast_len(n_segment + kernels.shape[1], real=True)
    kern_f = np.conj(sp_fft.rfft(kernels.astype(np.float32), n_fft, axis=-1))
    n_prior = prior_centres_ms(spec).size
    prior = _prior(spec, offsets, fs_hz) @ weights[weights.size - n_prior :]
    kern_f.flags.writeable = False
    prior.flags.writeable = False
    return kern_f, prior, n_fft


def boundary_features(
    spec: BoundarySpec,
    ch: Channels,
    env: Envelopes,
    inp: BoundaryInputs,
    fs_hz: float,
    step: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Feature tensor of every candidate position of one boundary (used for fitting).

    Feature ``(c, k)`` of candidate ``t`` is channel ``c`` at ``t + taps[k]`` (minus its
    value at ``t`` for the relative channels), followed by the position-prior bumps.

    Returns
    -------
    tuple of numpy.ndarray
        ``positions`` int64 ``[leads, beats, T]`` and ``features`` float32
        ``[leads, beats, T, D]`` with ``D = n_features(spec)``.
    """
    positions, offsets, segments, first, dec = channel_segments(spec, ch, env, inp, fs_hz, step)
    taps = tap_offsets(spec, fs_hz) // dec
    rel = (offsets - first) // dec
    shape = positions.shape
    parts = []
    for name, seg in zip(spec.channels, segments, strict=True):
        values = seg[..., rel[:, None] + taps[None, :]]
        if name in RELATIVE_CHANNELS:
            values = values - seg[..., rel][..., None]
        parts.append(values)
    prior = _prior(spec, offsets, fs_hz)
    parts.append(np.broadcast_to(prior, (*shape, prior.shape[-1])))
    return positions, np.concatenate(parts, axis=-1).astype(np.float32)


def _kernels(spec: BoundarySpec, weights: np.ndarray, fs_hz: float, dec: int) -> np.ndarray:
    """Dense correlation kernels ``[channels, span]`` on the grid of ``dec`` samples."""
    taps = tap_offsets(spec, fs_hz) // dec
    lo = min(int(taps.min()), 0)
    span = max(int(taps.max()), 0) - lo + 1
    n_taps = taps.size
    kernels = np.zeros((len(spec.channels), span))
    for c, name in enumerate(spec.channels):
        w = weights[c * n_taps : (c + 1) * n_taps]
        np.add.at(kernels[c], taps - lo, w)
        if name in RELATIVE_CHANNELS:
            kernels[c, -lo] -= w.sum()
    return kernels


def candidate_scores(
    name: str,
    weights: np.ndarray,
    ch: Channels,
    env: Envelopes,
    inp: BoundaryInputs,
    fs_hz: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Scores of every candidate (the same as ``features @ weights``), by FFT correlation.

    Candidates are :func:`grid_step` samples apart (the grid the scorers were fitted on).

    Returns
    -------
    tuple of numpy.ndarray
        ``positions`` int64 ``[leads, beats, T]`` and ``scores`` float ``[leads, beats, T]``.
    """
    spec = BOUNDARY_SPECS[name]
    step = _grid_step(spec, fs_hz)
    positions, offsets, segments, _, _ = channel_segments(spec, ch, env, inp, fs_hz, step)
    w = np.ascontiguousarray(weights)
    kern_f, prior, n_fft = _scorer_terms(name, float(fs_hz), w.dtype.str, w.tobytes())
    spectra = sp_fft.rfft(segments, n_fft, axis=-1)
    total = (spectra * kern_f[:, None, None, :]).sum(axis=0)
    corr = sp_fft.irfft(total, n_fft, axis=-1)
    # correlation lag 0 is the first candidate: the segment starts at its first tap
    scores = np.broadcast_to(corr[..., : offsets.size], positions.shape)
    return positions, scores + prior


def _admissible(positions: np.ndarray, inp: BoundaryInputs, n_samples: int) -> np.ndarray:
    """``lo <= position <= hi``, inside the record, where there is an anchor: the bounds are
    combined per lead and beat first, so only two comparisons run over the candidates (an
    absent anchor gets the empty range ``[max(lo, 0), -1]``)."""
    lo = np.maximum(inp.lo, 0)
    hi = np.where(inp.anchor >= 0, np.minimum(inp.hi, n_samples - 1), -1)
    return (positions >= lo[..., None]) & (positions <= hi[..., None])


def place_boundary(
    name: str,
    weights: np.ndarray,
    ch: Channels,
    env: Envelopes,
    inp: BoundaryInputs,
    fs_hz: float,
) -> np.ndarray:
    """Place one boundary in every lead and beat with its fitted scorer.

    Returns
    -------
    numpy.ndarray
        int64 ``[leads, beats]`` sample indices, -1 where the anchor is -1 or no candidate
        is admissible.
    """
    if inp.anchor.size == 0:
        return np.full(inp.anchor.shape, ABSENT, dtype=np.int64)
    positions, score = candidate_scores(name, weights, ch, env, inp, fs_hz)
    ok = _admissible(positions, inp, ch.n_samples)
    score = np.where(ok, score, -np.inf)
    best = np.argmax(score, axis=-1)
    found = np.asarray(ok.any(axis=-1))
    radius = max(ms_to_samples(SOFT_RADIUS_MS, fs_hz), 1)
    t = np.arange(score.shape[-1])
    near = ok & (t >= (best - radius)[..., None]) & (t <= (best + radius)[..., None])
    top = take_last(score, best)[..., None]
    w = np.exp(np.where(near, score - np.where(found[..., None], top, 0.0), -np.inf))
    pos = (w * positions).sum(axis=-1) / np.maximum(w.sum(axis=-1), 1e-300)
    out = np.rint(np.where(found, pos, 0.0)).astype(np.int64)
    return np.where(found, out, ABSENT)


@lru_cache(maxsize=4)
def load_weights(path: Path = WEIGHTS_PATH) -> dict[str, np.ndarray]:
    """The fitted scorer weights, checked against :data:`BOUNDARY_SPECS`.

    Raises
    ------
    MissingFileError
        When the weights file is absent (run ``python -m tools.delineate.train``).
    CorruptFileError
        When it is unreadable or was fitted for a different scorer design.
    """
    if not path.is_file():
        raise MissingFileError(path, "delineation weights missing: run tools.delineate.train")
    try:
        with np.load(path) as data:
            stored = {k: np.asarray(data[k], dtype=np.float64) for k in data.files}
    except (OSError, ValueError) as exc:
        raise CorruptFileError(path, f"cannot read delineation weights ({exc})") from exc
    expected = {name: n_features(spec) for name, spec in BOUNDARY_SPECS.items()}
    shapes: dict[str, tuple[int, ...]] = {name: (size,) for name, size in expected.items()}
    shapes["p_presence"] = (N_PRESENCE_FEATURES + 1,)
    shapes["fusion"] = (N_FUSED_BOUNDARIES, 2)
    for name, shape in shapes.items():
        if name not in stored or stored[name].shape != shape:
            raise CorruptFileError(
                path, f"weights for {name!r} do not match the scorer design: retrain"
            )
    return stored
