"""``synthesize``: a deterministic 12-lead ECG and its exact ground truth from a spec."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from tools.leads import STANDARD_LEADS
from tools.record import ECGRecord
from tools.synth import constants as c
from tools.synth.atrial import fibrillatory_waves, flutter_waves
from tools.synth.labels import synthetic_labels
from tools.synth.noise import apply_lead_faults, baseline_wander, muscle_noise, powerline
from tools.synth.projection import expand_to_12
from tools.synth.realise import fiducial_tables, realised_intervals
from tools.synth.rhythm import BeatSchedule, schedule_beats
from tools.synth.spec import SynthSpec
from tools.synth.templates import BEAT_KINDS, BeatKind, BeatTemplate, build_template
from tools.synth.timing import Timing, resolve_timing
from tools.synth.truth import GroundTruth

#: Independent random streams, so that e.g. adding noise never moves a beat.
STREAM_RHYTHM, STREAM_ATRIAL, STREAM_WANDER, STREAM_POWERLINE, STREAM_MUSCLE, STREAM_LEAD_OFF = (
    range(1, 7)
)


@dataclass(frozen=True, eq=False)
class SyntheticECG:
    """A synthetic record, its ground truth, the spec it was built from, its clean signal.

    Attributes
    ----------
    record
        12 standard leads, float32 mV, ``dataset="synthetic"``.
    truth
        Exact fiducials and realised intervals (see :class:`~tools.synth.truth.GroundTruth`).
    spec
        The spec with the seed actually used.
    clean_mv
        float32 ``[12, samples]``: the cardiac signal before noise and lead faults.
    """

    record: ECGRecord
    truth: GroundTruth
    spec: SynthSpec
    clean_mv: np.ndarray


def synthesize(spec: SynthSpec | None = None, *, seed: int | None = None) -> SyntheticECG:
    """Build a synthetic 12-lead ECG with exact ground truth; deterministic for a seed.

    Each wave is a sum of compact-support dipole components (a vectorcardiographic model in
    the spirit of McSharry et al. 2003, IEEE TBME 50:289) projected onto the lead vectors:
    I and II from the frontal plane, V1-V6 from the transverse plane, III, aVR, aVL and aVF
    derived by Einthoven's and Goldberger's relations. Beats of a kind share one template
    placed by index arithmetic. Noise is added per electrode.

    Parameters
    ----------
    spec
        What to build (default: a clean 10 s, 500 Hz, 72 bpm normal sinus rhythm).
    seed
        Overrides ``spec.seed``. Rhythm, atrial waves and each noise type draw from
        separate streams of it, so changing one noise amplitude moves no beat.

    Returns
    -------
    SyntheticECG
        The record (id ``synth-<hash of spec and seed>``), its truth, the spec, the clean signal.
    """
    spec = spec or SynthSpec()
    if seed is not None:
        spec = replace(spec, seed=seed)
    timing = resolve_timing(spec)
    n = round(spec.duration_s * spec.fs_hz)
    templates: dict[str, BeatTemplate] = {
        k: build_template(k, spec, timing) for k in _kinds_used(spec)
    }
    schedule = schedule_beats(spec, timing, templates, _rng(spec, STREAM_RHYTHM))
    clean12 = expand_to_12(_cardiac8(spec, timing, templates, schedule, n))
    signal = apply_lead_faults(clean12 + _noise12(spec, n), spec, _rng(spec, STREAM_LEAD_OFF))
    intervals = realised_intervals(spec, timing, templates["normal"], schedule)
    labels = synthetic_labels(spec, intervals)
    spec_dict = spec.to_dict()
    record_id = f"synth-{spec.digest()}"
    glob, lead = fiducial_tables(spec, templates, schedule)
    truth = GroundTruth(
        record_id=record_id,
        fs_hz=float(spec.fs_hz),
        n_samples=n,
        lead_names=STANDARD_LEADS,
        beat_types=tuple(BEAT_KINDS[k] for k in schedule.kinds),
        fiducials=glob,
        lead_fiducials=lead,
        atrial_wave_onsets=schedule.atrial_onsets,
        intervals=intervals,
        flat_leads=spec.flat_leads,
        disconnected_leads=spec.disconnected_leads,
        labels=tuple(label.code for label in labels),
        spec=spec_dict,
    )
    record = ECGRecord(
        record_id=record_id,
        signal_mv=signal.astype(np.float32),
        fs_hz=spec.fs_hz,
        lead_names=STANDARD_LEADS,
        dataset="synthetic",
        labels=labels,
        metadata={"generator": "tools.synth", "seed": spec.seed, "spec": spec_dict},
    )
    clean = clean12.astype(np.float32)
    clean.setflags(write=False)
    return SyntheticECG(record, truth, spec, clean)


def _kinds_used(spec: SynthSpec) -> tuple[BeatKind, ...]:
    """Beat kinds the spec can produce (only their templates are built)."""
    kinds: list[BeatKind] = ["normal"]
    if spec.pac_every or spec.pac_beats:
        kinds.append("pac")
    if spec.pvc_every or spec.pvc_beats:
        kinds.append("pvc")
    return tuple(kinds)


def _rng(spec: SynthSpec, stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([spec.seed, stream]))


def _cardiac8(
    spec: SynthSpec,
    timing: Timing,
    templates: dict[str, BeatTemplate],
    schedule: BeatSchedule,
    n: int,
) -> np.ndarray:
    """Independent channels ``[8, n]``: every beat's template plus atrial activity."""
    out = np.zeros((8, n))
    for k, kind in enumerate(BEAT_KINDS):
        if kind not in templates:
            continue
        starts = schedule.qrs_on[schedule.kinds == k] - templates[kind].lead_in
        if len(starts):
            # Beats never overlap (rhythm.py keeps a TP gap), so no index repeats here.
            index = starts[:, None] + np.arange(templates[kind].length)[None, :]
            out[:, index] += templates[kind].signal8[:, None, :]
    if spec.rhythm == "afib":
        out += fibrillatory_waves(n, spec.fs_hz, _rng(spec, STREAM_ATRIAL))
    elif spec.rhythm == "aflutter" and len(schedule.atrial_onsets):
        rate = timing.flutter_rate_bpm or c.DEFAULT_FLUTTER_RATE_BPM
        cycle = int(60.0 * spec.fs_hz / rate)
        out += flutter_waves(schedule.atrial_onsets, cycle, n)
    return out


def _noise12(spec: SynthSpec, n: int) -> np.ndarray:
    """Sum of the requested noise types, ``[12, n]`` (zeros when the spec is clean)."""
    noise = np.zeros((12, n))
    fs = spec.fs_hz
    if spec.baseline_wander_mv > 0:
        noise += baseline_wander(n, fs, spec.baseline_wander_mv, _rng(spec, STREAM_WANDER))
    if spec.powerline_mv > 0:
        rng = _rng(spec, STREAM_POWERLINE)
        noise += powerline(n, fs, spec.powerline_mv, spec.powerline_hz, rng)
    if spec.muscle_noise_mv > 0:
        noise += muscle_noise(n, fs, spec.muscle_noise_mv, _rng(spec, STREAM_MUSCLE))
    return noise
