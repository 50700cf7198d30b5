"""ECG embeddings for similar-case retrieval: measurements + median-beat shape, one vector.

Layout of the float32 vector (``EMBEDDING_DIM`` = 16 + 12 x 7 + 12 x 32 = 484 values):

====================  =========  ==========================================================
block                 slice      content
====================  =========  ==========================================================
global                0:16       :data:`GLOBAL_FEATURES` standardised, then the QRS, P and T
                                 axes as standardised (cos, sin) pairs (:data:`AXES`)
per-lead              16:100     lead-major (I, II, ..., V6) x :data:`LEAD_FEATURES`
                                 standardised (7 values per lead)
morphology            100:484    lead-major 12 x 32 median beat, ``R - 300 ms`` to
                                 ``R + 500 ms`` in 25 ms bin means, baseline-subtracted
====================  =========  ==========================================================

Standardising uses fixed population means and spreads (constants below, never fitted to a
case base, so a vector means the same thing in every base). A missing value (``None``, NaN, an
absent or unusable lead) becomes the mean, i.e. 0 after standardising; z-scores are clipped to
``+-Z_CLIP``. Each feature block is divided by the square root of its length (a block of unit
z-scores then has norm 1), the morphology block is L2-normalised (so its amplitude does not
matter, only its shape), the blocks are weighted by the square root of :data:`BLOCK_WEIGHTS`,
and the whole vector is L2-normalised: the inner product of two embeddings is their cosine
similarity, a weighted mix of feature agreement and beat-shape correlation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from tools.errors import SignalValueError
from tools.leads import STANDARD_LEADS
from tools.measure.model import MEASUREMENT_VERSION, LeadMeasurements, Measurements
from tools.measure.thresholds import BASELINE_WINDOW_MS
from tools.measure.waves import baseline_mv, ms_to_samples

if TYPE_CHECKING:
    from tools.delineate import MedianBeat
    from tools.measure.pipeline import MeasurementRun
    from tools.record import ECGRecord

#: Bump whenever a feature, constant, weight or the layout changes: bases built with another
#: version refuse to open for search.
EMBEDDING_VERSION = "1"

#: Global features: measurement field -> (population mean, spread) in the field's unit.
#: Approximate adult resting values (Rautaharju et al., AHA/ACCF/HRS recommendations part IV,
#: Circulation 2009; Macfarlane & Lawrie, Comprehensive Electrocardiology, 2nd ed., 2010).
GLOBAL_FEATURES: dict[str, tuple[float, float]] = {
    "heart_rate_bpm": (75.0, 20.0),
    "pr_ms": (160.0, 30.0),
    "qrs_ms": (95.0, 20.0),
    "qt_ms": (390.0, 40.0),
    "qtc_bazett_ms": (425.0, 35.0),
    "p_duration_ms": (105.0, 20.0),
    # RMSSD/mean RR: ~0.02-0.05 in sinus rhythm, 0.15-0.3 in atrial fibrillation.
    "rr_irregularity": (0.05, 0.1),
    # 1 in sinus rhythm, 0 in atrial fibrillation: a spread of 0.3 puts AF 3 spreads away.
    "p_wave_fraction": (0.9, 0.3),
}
#: Premature-beat fractions (of all beats): beat type -> (mean, spread).
ECTOPY_FEATURES: dict[str, tuple[float, float]] = {
    "ventricular_premature": (0.0, 0.1),
    "supraventricular_premature": (0.0, 0.1),
}
#: Frontal axes: field -> (typical axis in degrees, spread of its cos/sin). The spread 0.5
#: makes a 60 degree deviation from the typical axis about 2 units of distance.
AXES: dict[str, tuple[float, float]] = {
    "qrs_axis_deg": (50.0, 0.5),
    "p_axis_deg": (55.0, 0.5),
    "t_axis_deg": (45.0, 0.5),
}
#: Per-lead features: field -> (mean over the 12 leads, spread), mV against the PR baseline.
#: One mean per feature for every lead (lead-specific norms are the shape block's job).
LEAD_FEATURES: dict[str, tuple[float, float]] = {
    "p_amplitude_mv": (0.08, 0.08),
    "q_amplitude_mv": (-0.08, 0.1),
    "r_amplitude_mv": (0.7, 0.5),
    "s_amplitude_mv": (-0.5, 0.5),
    "t_amplitude_mv": (0.2, 0.25),
    # 0.1 mV is the usual ST-deviation threshold (Thygesen et al., 4th UDMI, 2018).
    "st_j60_mv": (0.02, 0.1),
    "t_polarity": (0.5, 0.8),
}
#: T polarity as a number for the ``t_polarity`` feature.
T_POLARITY_VALUE: dict[str, float] = {"positive": 1.0, "negative": -1.0, "biphasic": 0.0,
                                      "flat": 0.0}  # fmt: skip

#: Standardised values beyond this many spreads are mismeasurements more often than findings.
Z_CLIP = 5.0
#: Median-beat window around the R fiducial: P onset at long PR (~ -300 ms) to T end at a
#: QTc near 500 ms and normal rate (~ +500 ms).
SHAPE_PRE_MS = 300.0
SHAPE_POST_MS = 500.0
#: Samples per lead of the shape block: 25 ms bins keep a 90 ms QRS in 3-4 bins.
SHAPE_SAMPLES = 32
#: Relative weights of the blocks in the cosine similarity (sum 1). On the built-in base the
#: nearest other case is of the same family for 98% of cases and 90% of the 5 nearest are
#: (single blocks: 70-72% of the 5 nearest); weights from 0.2 to 0.5 per block all score
#: 88-90%, so the balance is kept rather than fitted to synthetic data.
BLOCK_WEIGHTS: dict[str, float] = {"global": 0.4, "lead": 0.3, "shape": 0.3}

N_GLOBAL = len(GLOBAL_FEATURES) + len(ECTOPY_FEATURES) + 2 * len(AXES)
N_LEAD = len(STANDARD_LEADS) * len(LEAD_FEATURES)
N_SHAPE = len(STANDARD_LEADS) * SHAPE_SAMPLES
EMBEDDING_DIM = N_GLOBAL + N_LEAD + N_SHAPE

#: Measurement fields kept with each case as its "key measurements".
KEY_MEASUREMENTS: tuple[str, ...] = (
    "heart_rate_bpm", "rr_irregularity", "p_wave_fraction", "pr_ms", "qrs_ms", "qt_ms",
    "qtc_bazett_ms", "qrs_axis_deg", "p_axis_deg", "t_axis_deg",
)  # fmt: skip


def embedding_signature() -> dict[str, str | int]:
    """What a stored vector depends on: embedding version, dimension, measurement version."""
    return {
        "embedding_version": EMBEDDING_VERSION,
        "embedding_dim": EMBEDDING_DIM,
        "measurement_version": MEASUREMENT_VERSION,
    }


def embed_measurements(run: MeasurementRun) -> np.ndarray:
    """Embed one measured ECG as a unit-norm float32 vector (layout in the module docstring).

    Parameters
    ----------
    run
        :func:`tools.measure.pipeline.measure_record` output; its median beat is required.

    Returns
    -------
    numpy.ndarray
        float32 ``[EMBEDDING_DIM]``, L2 norm 1.

    Raises
    ------
    SignalValueError
        When the record has no median beat (no usable lead or fewer than two beats): there is
        nothing to compare.

    Notes
    -----
    Hand-built features in the spirit of measurement-based ECG retrieval (e.g. the 12SL-style
    feature vectors of case-based ECG reasoning); no learned component.
    """
    m = run.measurements
    median = run.delineation.median if run.delineation is not None else None
    if median is None or median.signal_mv.size == 0:
        raise SignalValueError(
            m.record_id, "no median beat (no usable lead or too few beats): cannot embed"
        )
    blocks = {
        "global": global_block(m),
        "lead": lead_block(m),
        "shape": shape_block(median, m.fs_hz, m.lead_names, m.usable_leads),
    }
    parts = []
    for name, block in blocks.items():
        norm = float(np.linalg.norm(block)) if name == "shape" else math.sqrt(block.size)
        scaled = block / norm if norm > 0 else block
        parts.append(scaled * math.sqrt(BLOCK_WEIGHTS[name]))
    vector = np.concatenate(parts)
    return (vector / np.linalg.norm(vector)).astype(np.float32)


def embed_record(record: ECGRecord) -> np.ndarray:
    """Measure a record (without per-beat features) and embed it; see :func:`embed_measurements`."""
    from tools.measure.pipeline import measure_record

    return embed_measurements(measure_record(record, per_beat=False))


def key_measurements(measurements: Measurements) -> dict[str, float | None]:
    """The global measurements stored with a case (:data:`KEY_MEASUREMENTS`)."""
    g = measurements.global_
    return {name: getattr(g, name) for name in KEY_MEASUREMENTS}


def _standardise(values: np.ndarray, norms: np.ndarray) -> np.ndarray:
    """``(value - mean) / spread`` clipped to ``+-Z_CLIP``; NaN -> 0 (the mean)."""
    z = (values - norms[..., 0]) / norms[..., 1]
    return np.clip(np.nan_to_num(z, nan=0.0), -Z_CLIP, Z_CLIP)


def _value(x: float | None) -> float:
    return float("nan") if x is None else float(x)


def global_block(m: Measurements) -> np.ndarray:
    """Standardised global features ``[N_GLOBAL]`` (intervals, rhythm, ectopy, axes)."""
    g = m.global_
    scalars = [_value(getattr(g, name)) for name in GLOBAL_FEATURES]
    counts: dict[str, int] = {str(kind): n for kind, n in g.beat_counts.items()}
    total = sum(counts.values())
    ectopy = [counts.get(kind, 0) / total if total else math.nan for kind in ECTOPY_FEATURES]
    norms = np.array([*GLOBAL_FEATURES.values(), *ECTOPY_FEATURES.values()])
    axes = []
    for name, (typical_deg, spread) in AXES.items():
        angle = _value(getattr(g, name))
        rad, ref = math.radians(angle), math.radians(typical_deg)
        axes += [(math.cos(rad) - math.cos(ref)) / spread, (math.sin(rad) - math.sin(ref)) / spread]
    z_axes = np.clip(np.nan_to_num(np.array(axes), nan=0.0), -Z_CLIP, Z_CLIP)
    return np.concatenate([_standardise(np.array(scalars + ectopy), norms), z_axes])


def _lead_values(lm: LeadMeasurements) -> list[float]:
    values = []
    for name in LEAD_FEATURES:
        if name == "t_polarity":
            polarity = lm.t_polarity
            values.append(T_POLARITY_VALUE[polarity] if polarity is not None else math.nan)
        else:
            values.append(_value(getattr(lm, name)))
    return values


def lead_block(m: Measurements) -> np.ndarray:
    """Standardised per-lead features ``[12 * 7]``, lead-major in the canonical order."""
    values = np.full((len(STANDARD_LEADS), len(LEAD_FEATURES)), np.nan)
    rows = {lead: i for i, lead in enumerate(STANDARD_LEADS)}
    for lm in m.leads:
        if lm.lead in rows:
            values[rows[lm.lead]] = _lead_values(lm)
    return _standardise(values, np.array(list(LEAD_FEATURES.values()))).ravel()


def shape_block(
    median: MedianBeat,
    fs_hz: float,
    lead_names: Sequence[str],
    usable_leads: Sequence[str],
) -> np.ndarray:
    """Median beats of the 12 leads as ``SHAPE_SAMPLES`` bin means each, ``[12 * 32]``.

    Each usable lead's median beat (a lead absent from the record, unusable or NaN stays 0)
    is referred to its PR-segment level (the measurement baseline, or the lead's median when
    the beat has no QRS onset) and averaged over 25 ms bins from ``R - SHAPE_PRE_MS`` to
    ``R + SHAPE_POST_MS``: a box-filter decimation, so no aliasing at any sampling rate.
    """
    x = median.signal_mv.astype(np.float64)
    gp = median.global_points
    n_leads, n = x.shape
    base = baseline_mv(
        x,
        np.full(n_leads, int(gp.p_off)),
        np.full(n_leads, int(gp.qrs_on)),
        ms_to_samples(BASELINE_WINDOW_MS, fs_hz),
    )
    finite = np.isfinite(x).all(axis=1)
    fallback = np.zeros(n_leads)
    if n:
        fallback[finite] = np.median(x[finite], axis=1)
    base = np.where(np.isfinite(base), base, fallback)
    edges = median.r_index + np.linspace(-SHAPE_PRE_MS, SHAPE_POST_MS, SHAPE_SAMPLES + 1) * (
        fs_hz / 1000.0
    )
    bins = _bin_means(x - base[:, np.newaxis], edges)
    out = np.zeros((len(STANDARD_LEADS), SHAPE_SAMPLES))
    rows = {lead: i for i, lead in enumerate(STANDARD_LEADS)}
    usable = set(usable_leads)
    for k, lead in enumerate(lead_names):
        if lead in rows and lead in usable and np.isfinite(bins[k]).all():
            out[rows[lead]] = bins[k]
    return out.ravel()


def _bin_means(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Mean of each row of ``x`` over ``[edges[j], edges[j+1])`` (fractional sample times).

    Sample ``k`` stands for the unit cell ``[k - 0.5, k + 0.5)``; the piecewise-constant
    signal is integrated through its cumulative sum, interpolated at the edges. Rows with NaN
    give NaN bins.
    """
    csum = np.concatenate([np.zeros((x.shape[0], 1)), np.cumsum(x, axis=1)], axis=1)
    edges = np.clip(edges + 0.5, 0.0, float(x.shape[1]))
    lo = np.floor(edges).astype(np.int64)
    hi = np.minimum(lo + 1, csum.shape[1] - 1)
    frac = edges - lo
    lo = np.minimum(lo, csum.shape[1] - 1)
    at_edges = csum[:, lo] + (csum[:, hi] - csum[:, lo]) * frac
    width = np.maximum(np.diff(edges), 1e-9)
    return np.diff(at_edges, axis=1) / width
