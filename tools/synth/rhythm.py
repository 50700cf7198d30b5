"""Beat timing: where each QRS starts, and which beats are premature.

RR models: sinus is exactly regular; sinus arrhythmia is modulated by respiration
(respiratory sinus arrhythmia, RR +-10% by default at 12-20 breaths/min); atrial fibrillation draws
independent log-normal RR intervals (irregularly irregular, CV 0.2); atrial flutter
conducts every N-th flutter wave with a fixed delay. Premature atrial beats reset the sinus
node (a non-compensatory pause); premature ventricular beats are followed by a full
compensatory pause (the sinus cycle is undisturbed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tools.synth import constants as c
from tools.synth.spec import SynthSpec
from tools.synth.templates import BEAT_KINDS, BeatTemplate
from tools.synth.timing import Timing, respiratory_depth

NORMAL, PAC, PVC = (BEAT_KINDS.index(k) for k in ("normal", "pac", "pvc"))


@dataclass(frozen=True)
class BeatSchedule:
    """QRS onsets (samples), beat kinds (index into ``BEAT_KINDS``) and flutter wave onsets."""

    qrs_on: np.ndarray
    kinds: np.ndarray
    atrial_onsets: np.ndarray


def schedule_beats(
    spec: SynthSpec,
    timing: Timing,
    templates: dict[str, BeatTemplate],
    rng: np.random.Generator,
) -> BeatSchedule:
    """Place every complete beat (first wave onset to T offset) inside the record."""
    fs, n = spec.fs_hz, round(spec.duration_s * spec.fs_hz)
    count = math.ceil(spec.duration_s * 1000.0 / (timing.rr_ms * 0.5)) + 3
    base = _base_rr_ms(spec, timing, count, rng)
    kinds = _kinds(spec, count)
    rr = _premature_rr_ms(base, kinds)
    lead_in_n, tail_n = _per_kind(templates)
    lead_in, tail = lead_in_n * 1000.0 / fs, tail_n * 1000.0 / fs
    shortest = tail[kinds[:-1]] + c.TP_GAP_MIN_MS + lead_in[kinds[1:]] + 1000.0 / fs
    rr[:-1] = np.maximum(rr[:-1], shortest)
    atrial = np.zeros(0, dtype=np.int64)
    if spec.rhythm == "aflutter":
        cycle_ms = 60_000.0 / float(timing.flutter_rate_bpm or c.DEFAULT_FLUTTER_RATE_BPM)
        first_f = c.START_MARGIN_MS + rng.uniform(0.0, cycle_ms)
        t0 = first_f + c.FLUTTER_AV_DELAY_MS
        f_times = (
            first_f - cycle_ms + cycle_ms * np.arange(int(spec.duration_s * 1000 / cycle_ms) + 3)
        )
        atrial = np.round(f_times * fs / 1000.0).astype(np.int64)
        atrial = atrial[(atrial >= 0) & (atrial < n)]
    else:
        t0 = lead_in[kinds[0]] + c.START_MARGIN_MS + rng.uniform(0.0, 0.5 * base[0])
    times_ms = t0 + np.concatenate([[0.0], np.cumsum(rr[:-1])])
    qrs_on = np.round(times_ms * fs / 1000.0).astype(np.int64)
    keep = (qrs_on - lead_in_n[kinds] >= 0) & (qrs_on + tail_n[kinds] <= n - 1)
    return BeatSchedule(qrs_on[keep], kinds[keep], atrial)


def _per_kind(templates: dict[str, BeatTemplate]) -> tuple[np.ndarray, np.ndarray]:
    """Lead-in and tail (samples) per beat kind; kinds the spec never uses borrow normal's."""
    built = [templates.get(k, templates["normal"]) for k in BEAT_KINDS]
    return np.array([t.lead_in for t in built]), np.array([t.tail for t in built])


def _base_rr_ms(
    spec: SynthSpec, timing: Timing, count: int, rng: np.random.Generator
) -> np.ndarray:
    """Undisturbed RR intervals of the rhythm (ms)."""
    rr = np.full(count, timing.rr_ms)
    if spec.rhythm == "sinus_arrhythmia":
        period_ms = 1000.0 * rng.uniform(*c.RESPIRATION_PERIOD_S)
        phase = rng.uniform(0.0, 2 * np.pi)
        t_ms = timing.rr_ms * np.arange(count)
        depth = respiratory_depth(spec)
        rr = rr * (1.0 + depth * np.sin(2 * np.pi * t_ms / period_ms + phase))
    elif spec.rhythm == "afib":
        sigma = math.sqrt(math.log(1.0 + c.AF_RR_CV**2))
        mu = math.log(timing.rr_ms) - sigma**2 / 2
        rr = rng.lognormal(mu, sigma, count)
    return rr


def _kinds(spec: SynthSpec, count: int) -> np.ndarray:
    """Kind of every beat; a beat that is both PAC and PVC by the ``*_every`` rules is a PVC."""
    kinds = np.full(count, NORMAL, dtype=np.int64)
    index = np.arange(count)
    if spec.pac_every:
        kinds[index % spec.pac_every == spec.pac_every - 1] = PAC
    kinds[[b for b in spec.pac_beats if b < count]] = PAC
    if spec.pvc_every:
        kinds[index % spec.pvc_every == spec.pvc_every - 1] = PVC
    kinds[[b for b in spec.pvc_beats if b < count]] = PVC
    return kinds


def _premature_rr_ms(base: np.ndarray, kinds: np.ndarray) -> np.ndarray:
    """Interval ``rr[i]`` runs from beat ``i`` to ``i + 1``: shorten before, pause after."""
    rr = base.copy()
    pac = np.flatnonzero(kinds == PAC)
    pvc = np.flatnonzero(kinds == PVC)
    pvc_pause = pvc[pvc < len(rr)]
    rr[pac] = c.PAC_RESET_FRACTION * base[pac]
    rr[pvc_pause] = (2.0 - c.PREMATURE_COUPLING) * base[pvc_pause - 1]
    premature = np.flatnonzero(kinds != NORMAL)
    rr[premature - 1] = c.PREMATURE_COUPLING * base[premature - 1]
    return rr
