"""Fit the boundary scorers on the LUDB training half and write ``weights.npz``.

Usage::

    python -m tools.delineate.train --ludb ../shared/data/ludb [--out tools/delineate/weights.npz]

Each scorer is a linear function of its candidate features; it is fitted by maximising the
conditional log-likelihood of the expert mark among the candidates of its window (a softmax
over positions, i.e. multinomial logistic regression with one class per candidate sample),
with an L2 penalty, by L-BFGS. The stages are fitted in pipeline order (QRS, then T with
fitted QRS boundaries, then P with fitted QRS and T), so each scorer is trained on the inputs
it will see. Only the training half of LUDB (:func:`is_training_record`) is used.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from tools.delineate.datasets import AnnotatedRecord, is_training_record, load_ludb, ludb_record_ids
from tools.delineate.filters import Channels, compute_channels
from tools.delineate.fusion import FUSED_BOUNDARIES, ORDER_FRACTIONS, kth_extreme
from tools.delineate.params import BOUNDARY_SPECS
from tools.delineate.pipeline import Placer, PlacerFactory, delineate_channels, scorer_placer
from tools.delineate.pwave import PresenceModel, logistic_presence
from tools.delineate.reference import Reference, align_reference, cse_global, reference_r_peaks
from tools.delineate.scorer import (
    WEIGHTS_PATH,
    BoundaryInputs,
    Envelopes,
    boundary_features,
    place_boundary,
)
from tools.delineate.windows import ABSENT
from tools.errors import MissingFileError

#: Fitting order: each stage's inputs depend on what was fitted before it.
STAGES: tuple[tuple[str, ...], ...] = (
    ("qrs_on", "qrs_off"),
    ("t_on", "t_off"),
    ("p_presence",),
    ("p_on", "p_off"),
)
#: P presence labels are taken only where the P region lies inside the lead's annotated span:
#: the P wave of a beat starts at most this long before its QRS onset.
P_REGION_MS = 300.0
#: Candidate spacing while fitting (samples at 500 Hz): 4 ms keeps memory small; the fitted
#: scorer is evaluated at every sample.
FIT_STEP = 2
#: L2 penalty on the standardised weights (chosen by record-wise cross-validation).
L2_PENALTY = 1e-3


@dataclass
class Examples:
    """Candidate features, target candidate and admissible mask of one boundary."""

    features: list[np.ndarray] = field(default_factory=list)
    target: list[np.ndarray] = field(default_factory=list)
    admissible: list[np.ndarray] = field(default_factory=list)
    record: list[np.ndarray] = field(default_factory=list)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return (
            np.concatenate(self.features),
            np.concatenate(self.target),
            np.concatenate(self.admissible),
            np.concatenate(self.record),
        )


def _presence_model(
    ref: Reference,
    weights: dict[str, np.ndarray],
    record: bool,
    store: dict[str, Examples],
    record_index: int,
    fs_hz: float,
) -> PresenceModel:
    labels = (ref.p_peak >= 0).astype(np.float64)
    margin = round(P_REGION_MS * fs_hz / 1000.0)
    counted = ref.counted & (ref.qrs_on - margin >= ref.span_first[:, None]) & (ref.qrs_on >= 0)

    def model(features: np.ndarray) -> np.ndarray:
        if record:
            ex = store["p_presence"]
            ex.features.append(features[counted])
            ex.target.append(labels[counted])
            ex.admissible.append(np.ones(int(counted.sum()), bool))
            ex.record.append(np.full(int(counted.sum()), record_index))
        if "p_presence" in weights:
            return logistic_presence(weights["p_presence"])(features)
        return labels

    return model


def _recording_factory(
    ref: Reference,
    weights: dict[str, np.ndarray],
    wanted: Sequence[str],
    store: dict[str, Examples],
    record_index: int,
    fs_hz: float,
) -> PlacerFactory:
    def factory(ch: Channels, env: Envelopes) -> Placer:
        def place(name: str, inp: BoundaryInputs) -> np.ndarray:
            truth = getattr(ref, name)
            if name in wanted and name in BOUNDARY_SPECS:
                _record(name, inp, truth, ref.counted, ch, env, fs_hz, store[name], record_index)
            if name in weights:
                return place_boundary(name, weights[name], ch, env, inp, fs_hz)
            return np.where(truth >= 0, truth, inp.anchor)

        return place

    return factory


def _record(
    name: str,
    inp: BoundaryInputs,
    truth: np.ndarray,
    counted: np.ndarray,
    ch: Channels,
    env: Envelopes,
    fs_hz: float,
    out: Examples,
    record_index: int,
) -> None:
    spec = BOUNDARY_SPECS[name]
    positions, feats = boundary_features(spec, ch, env, inp, fs_hz, step=FIT_STEP)
    ok = (positions >= inp.lo[..., None]) & (positions <= inp.hi[..., None])
    ok &= (positions >= 0) & (positions < ch.n_samples)
    dist = np.abs(positions - truth[..., None])
    target = np.argmin(dist, axis=-1)
    hit = np.take_along_axis(dist, target[..., None], -1)[..., 0] <= FIT_STEP // 2 + 1
    hit &= np.take_along_axis(ok, target[..., None], -1)[..., 0]
    use = counted & (truth >= 0) & (inp.anchor >= 0) & hit
    out.features.append(feats[use])
    out.target.append(target[use])
    out.admissible.append(ok[use])
    out.record.append(np.full(int(use.sum()), record_index))


def collect(
    records: Sequence[AnnotatedRecord], weights: dict[str, np.ndarray], wanted: Sequence[str]
) -> dict[str, Examples]:
    """Run the pipeline on every record and record the candidates of the ``wanted`` scorers."""
    store = {name: Examples() for name in wanted}
    for i, rec in enumerate(records):
        r = reference_r_peaks(rec.waves, rec.fs_hz)
        ref = align_reference(rec.waves, r, rec.fs_hz)
        ch = compute_channels(rec.signal_mv, rec.fs_hz)
        factory = _recording_factory(ref, weights, wanted, store, i, rec.fs_hz)
        presence = _presence_model(ref, weights, "p_presence" in wanted, store, i, rec.fs_hz)
        delineate_channels(ch, r, rec.fs_hz, factory, presence)
    return store


def _loss(
    w: np.ndarray, x: np.ndarray, target: np.ndarray, admissible: np.ndarray, l2: float
) -> tuple[float, np.ndarray]:
    score = np.where(admissible, (x @ w.astype(np.float32)).astype(np.float64), -np.inf)
    top = score.max(axis=1, keepdims=True)
    e = np.exp(score - top)
    z = e.sum(axis=1, keepdims=True)
    p = e / z
    n = x.shape[0]
    picked = score[np.arange(n), target]
    nll = float(np.mean(np.log(z[:, 0]) + top[:, 0] - picked))
    expected = np.einsum("nt,ntd->d", p.astype(np.float32), x).astype(np.float64)
    grad = (expected - x[np.arange(n), target].sum(axis=0, dtype=np.float64)) / n
    return nll + 0.5 * l2 * float(w @ w), grad + l2 * w


def fit_scorer(
    features: np.ndarray, target: np.ndarray, admissible: np.ndarray, l2: float = L2_PENALTY
) -> np.ndarray:
    """Fit one scorer; returns weights on the raw (unstandardised) features.

    Parameters
    ----------
    features
        float ``[examples, candidates, D]``.
    target
        int ``[examples]``: index of the expert mark's candidate.
    admissible
        bool ``[examples, candidates]``.
    l2
        L2 penalty on the standardised weights.
    """
    x = features.astype(np.float32)
    flat = x[admissible]
    mean = flat.mean(axis=0)
    std = flat.std(axis=0)
    std = np.where(std > 1e-9, std, 1.0)
    xs = ((x - mean) / std).astype(np.float32)
    res = minimize(
        _loss,
        np.zeros(x.shape[-1]),
        args=(xs, target, admissible, l2),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 500},
    )
    return np.asarray(res.x / std)


def _logistic_loss(
    w: np.ndarray, x: np.ndarray, y: np.ndarray, l2: float
) -> tuple[float, np.ndarray]:
    z = x @ w[:-1] + w[-1]
    p = 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))
    loss = float(np.mean(np.logaddexp(0.0, z) - y * z)) + 0.5 * l2 * float(w[:-1] @ w[:-1])
    g = p - y
    grad = np.concatenate([x.T @ g / y.size + l2 * w[:-1], [g.mean()]])
    return loss, grad


def fit_logistic(features: np.ndarray, labels: np.ndarray, l2: float = L2_PENALTY) -> np.ndarray:
    """L2-penalised logistic regression; returns (weights..., intercept)."""
    x = np.asarray(features, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    res = minimize(
        _logistic_loss, np.zeros(x.shape[1] + 1), args=(x, y, l2), jac=True, method="L-BFGS-B"
    )
    return np.asarray(res.x)


def fit_fusion(records: Sequence[AnnotatedRecord], weights: dict[str, np.ndarray]) -> np.ndarray:
    """Fit the global-boundary fusion table ``[5, 2]`` (order fraction, shift ms).

    For each fused boundary, the order fraction (of :data:`ORDER_FRACTIONS`) whose k-th
    extreme over the fitted per-lead boundaries has the smallest error SD against the CSE
    reference (experts' earliest onset / latest offset over the leads, on beats annotated in
    every lead), and the shift that cancels the mean error.
    """
    errors: dict[tuple[int, int], list[np.ndarray]] = {}
    for rec in records:
        r = reference_r_peaks(rec.waves, rec.fs_hz)
        ref = align_reference(rec.waves, r, rec.fs_hz)
        ch = compute_channels(rec.signal_mv, rec.fs_hz)
        factory = scorer_placer(weights, rec.fs_hz)
        presence = logistic_presence(weights["p_presence"])
        points, _ = delineate_channels(ch, r, rec.fs_hz, factory, presence)
        every_lead = ref.counted.all(axis=0)
        for i, name in enumerate(FUSED_BOUNDARIES):
            wave = name.split("_")[0]
            on, off = cse_global(
                np.where(ref.counted, getattr(ref, f"{wave}_on"), ABSENT),
                np.where(ref.counted, getattr(ref, f"{wave}_off"), ABSENT),
            )
            truth = off if name.endswith("off") else on
            for j, fraction in enumerate(ORDER_FRACTIONS):
                est = kth_extreme(getattr(points, name), name.endswith("off"), fraction)
                ok = every_lead & (truth >= 0) & (est >= 0)
                errors.setdefault((i, j), []).append((est - truth)[ok] * (1000.0 / rec.fs_hz))
    table = np.zeros((len(FUSED_BOUNDARIES), 2))
    for i in range(len(FUSED_BOUNDARIES)):
        stats = []
        for j in range(len(ORDER_FRACTIONS)):
            e = np.concatenate(errors[(i, j)])
            stats.append((float(np.std(e)) if e.size else np.inf, float(np.mean(e)), j))
        sd, mean, j = min(stats)
        table[i] = (ORDER_FRACTIONS[j], -mean)
        name = FUSED_BOUNDARIES[i]
        print(f"{name}: fraction {ORDER_FRACTIONS[j]}, shift {-mean:.1f} ms, SD {sd:.1f} ms")
    return table


def fit_all(
    records: Sequence[AnnotatedRecord],
    l2: float = L2_PENALTY,
    keep: dict[str, np.ndarray] | None = None,
    first_stage: int = 0,
) -> dict[str, np.ndarray]:
    """Fit every scorer, the P presence model and the global fusion, stage by stage.

    With ``first_stage`` > 0 the earlier stages' weights are taken from ``keep`` (a fitted
    weights file) unchanged, so refitting the P wave leaves the QRS and T scorers as they are.
    """
    if first_stage and keep is None:
        raise ValueError("refitting from a later stage needs the earlier stages' weights")
    weights: dict[str, np.ndarray] = {}
    for stage in STAGES[:first_stage]:
        weights.update({name: (keep or {})[name] for name in stage})
    for stage in STAGES[first_stage:]:
        store = collect(records, weights, stage)
        for name in stage:
            x, t, adm, _ = store[name].arrays()
            if name == "p_presence":
                weights[name] = fit_logistic(x, t, l2)
            else:
                weights[name] = fit_scorer(x, t, adm, l2)
            print(f"{name}: {x.shape[0]} examples, {x.shape[-1]} features")
    weights["fusion"] = fit_fusion(records, weights)
    return weights


def _read_kept(path: Path) -> dict[str, np.ndarray]:
    """Every array of a weights file, unchecked (the refitted stages may change shape)."""
    if not path.is_file():
        raise MissingFileError(path, "weights file to keep stages from is missing")
    with np.load(path) as data:
        return {k: np.asarray(data[k], dtype=np.float64) for k in data.files}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ludb", type=Path, required=True, help="LUDB folder (with data/)")
    parser.add_argument("--out", type=Path, default=WEIGHTS_PATH, help="weights file to write")
    parser.add_argument("--l2", type=float, default=L2_PENALTY, help="L2 penalty")
    parser.add_argument(
        "--from-stage",
        choices=[stage[0] for stage in STAGES],
        default=STAGES[0][0],
        help="refit from this stage on, keeping the earlier stages of --keep",
    )
    parser.add_argument(
        "--keep", type=Path, default=WEIGHTS_PATH, help="weights file of the kept stages"
    )
    args = parser.parse_args(argv)
    first = [stage[0] for stage in STAGES].index(args.from_stage)
    keep = _read_kept(args.keep) if first else None
    ids = [i for i in ludb_record_ids(args.ludb) if is_training_record(i)]
    records = [load_ludb(args.ludb, i) for i in ids]
    print(f"fitting on {len(records)} LUDB training records")
    weights = fit_all(records, args.l2, keep, first)
    np.savez(args.out, **{k: v.astype(np.float32) for k, v in weights.items()})  # type: ignore[arg-type]
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
