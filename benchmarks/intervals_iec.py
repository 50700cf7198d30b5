"""Global intervals (P duration, PR, QRS, QT) per record against expert references, with the
IEC 60601-2-25 limits on the mean and SD of the differences.

References:

- LUDB (held-out half, 12 leads, 500 Hz): per beat, the CSE global boundaries of the experts'
  per-lead marks (earliest onset / latest offset over the 12 leads, beats annotated in every
  lead); the record's reference interval is the median over its beats.
- QTDB (53 records, 2 leads, 250 Hz): the manual ``.q1c`` marks (made viewing both leads);
  the record's reference is the median over its ~30 annotated beats. Records without marked
  P waves give no P duration or PR, nor do records whose P waves are marked on fewer than
  :data:`P_MARKED_FRACTION` of the annotated beats (QTDB sel36: one P wave, PR 488 ms, in 31
  beats; the annotator found no P wave to mark in the others, so one beat is no reference
  for the record's P wave). They are listed under ``sparse_p_reference``.

Ours, per record: the global intervals of the median beat (the representative beat, as
electrocardiographs report them); the median over the reference beats of our per-beat global
intervals; and the median beat with the fusion fitted to the LUDB experts' CSE boundaries
(shifts scaled down for 2 leads, see :mod:`tools.delineate.fusion`). R peaks: the annotated
QRS marks and/or the project's detector. The median and robust SD (1.4826 MAD) of the
differences are printed too: a few failed records dominate the plain SD. A limit passes when
|mean difference| <= its mean limit and the SD <= its SD limit (IEC 60601-2-25 tests this on
the CSE database; LUDB and QTDB stand in for it here).

    python benchmarks/intervals_iec.py
    python benchmarks/intervals_iec.py --datasets qtdb --peaks detected
"""

from __future__ import annotations

import argparse
import json
import os
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from tools.delineate import delineate
from tools.delineate.datasets import (
    AnnotatedRecord,
    is_training_record,
    load_ludb,
    load_qtdb,
    ludb_record_ids,
    qtdb_record_ids,
)
from tools.delineate.fusion import global_points
from tools.delineate.reference import align_reference, cse_global, reference_r_peaks
from tools.delineate.result import GlobalPoints
from tools.delineate.scorer import load_weights

DEFAULT_DATA = Path(
    os.environ.get("GEM_AGENT_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "intervals_iec.json"
INTERVALS = ("p_ms", "pr_ms", "qrs_ms", "qt_ms")
#: IEC 60601-2-25 limits on the differences (ms): (|mean|, SD).
IEC_LIMITS_MS = {
    "p_ms": (10.0, 15.0),
    "pr_ms": (10.0, 10.0),
    "qrs_ms": (10.0, 10.0),
    "qt_ms": (25.0, 30.0),
}
MODES = ("median_beat", "beats", "median_beat_fitted")
#: The P duration and PR references need P marks on at least this fraction of the beats.
P_MARKED_FRACTION = 0.5
P_INTERVALS = ("p_ms", "pr_ms")


def sparse_p_marks(rec: AnnotatedRecord, r_ref: np.ndarray) -> bool:
    """Whether the experts marked P waves on some but under half of the reference beats."""
    ref_gp, ref_beats = reference_globals(rec, r_ref)
    marked = int(((ref_gp.p_on >= 0) & ref_beats).sum())
    return 0 < marked < P_MARKED_FRACTION * int(ref_beats.sum())


def reference_globals(rec: AnnotatedRecord, r: np.ndarray) -> tuple[GlobalPoints, np.ndarray]:
    """Per-beat global reference boundaries and the beats they are defined on."""
    ref = align_reference(rec.waves, r, rec.fs_hz)
    usable = ref.counted.all(axis=0)
    out = {}
    for wave in ("p", "qrs", "t"):
        on, off = cse_global(
            np.where(ref.counted, getattr(ref, f"{wave}_on"), -1),
            np.where(ref.counted, getattr(ref, f"{wave}_off"), -1),
        )
        out[f"{wave}_on"], out[f"{wave}_off"] = on, off
    gp = GlobalPoints(
        p_on=out["p_on"],
        p_off=out["p_off"],
        qrs_on=out["qrs_on"],
        qrs_off=out["qrs_off"],
        t_off=out["t_off"],
    )
    return gp, usable & (out["qrs_on"] >= 0)


def record_errors(
    rec: AnnotatedRecord, r_ref: np.ndarray, r: np.ndarray
) -> dict[str, dict[str, float]]:
    """Per interval and mode: ours - reference for one record (NaN when either is missing)."""
    ref_gp, ref_beats = reference_globals(rec, r_ref)
    ref_iv = ref_gp.intervals_ms(rec.fs_hz)
    sparse = sparse_p_marks(rec, r_ref)
    reference = {
        k: float(np.nanmedian(np.where(ref_beats, v, np.nan)))
        if ref_beats.any() and np.isfinite(v[ref_beats]).any() and not (sparse and k in P_INTERVALS)
        else float("nan")
        for k, v in ref_iv.items()
    }
    d = delineate(rec.signal_mv, rec.fs_hz, r, rec.lead_names, record_id=rec.record_id)
    out: dict[str, dict[str, float]] = {m: {} for m in MODES}
    med = d.median.global_points.intervals_ms(rec.fs_hz) if d.median is not None else {}
    fitted: dict[str, np.ndarray] = {}
    if d.median is not None:
        one_beat = d.median.points.beats_axis()
        gp = global_points(one_beat, rec.fs_hz, load_weights()["fusion"])
        fitted = {k: v[0] for k, v in gp.intervals_ms(rec.fs_hz).items()}
    ours_iv = d.intervals_ms()
    # our beats nearest to each reference beat (within 100 ms)
    tol = 0.1 * rec.fs_hz
    if r.size:
        nearest = np.abs(r[None, :] - r_ref[:, None]).argmin(axis=1)
        close = np.abs(r[nearest] - r_ref) <= tol
    else:
        nearest, close = np.zeros(r_ref.size, int), np.zeros(r_ref.size, bool)
    take = ref_beats & close
    for k in INTERVALS:
        out["median_beat"][k] = float(med[k]) - reference[k] if k in med else float("nan")
        out["median_beat_fitted"][k] = (
            float(fitted[k]) - reference[k] if k in fitted else float("nan")
        )
        vals = ours_iv[k][nearest[take]] if take.any() else np.zeros(0)
        beat_val = float(np.nanmedian(vals)) if np.isfinite(vals).any() else float("nan")
        out["beats"][k] = beat_val - reference[k]
    return out


def summarise(errors: Mapping[str, Mapping[str, list[float]]]) -> dict:
    out: dict = {}
    for mode in MODES:
        out[mode] = {}
        for k in INTERVALS:
            e = np.asarray(errors[mode][k], dtype=np.float64)
            e = e[np.isfinite(e)]
            mean = float(np.mean(e)) if e.size else float("nan")
            sd = float(np.std(e)) if e.size else float("nan")
            median = float(np.median(e)) if e.size else float("nan")
            robust_sd = float(1.4826 * np.median(np.abs(e - median))) if e.size else float("nan")
            lim_mean, lim_sd = IEC_LIMITS_MS[k]
            out[mode][k] = {
                "n_records": int(e.size), "mean_ms": mean, "sd_ms": sd,
                "median_ms": median, "robust_sd_ms": robust_sd,
                "limit_mean_ms": lim_mean, "limit_sd_ms": lim_sd,
                "pass": bool(e.size and abs(mean) <= lim_mean and sd <= lim_sd),
            }  # fmt: skip
    return out


def print_table(title: str, summary: dict) -> None:
    print(f"\n== {title} ==")
    print(f"{'interval':8s} {'IEC |mean| / SD':>16s} | " + " | ".join(f"{m:>28s}" for m in MODES))
    for k in INTERVALS:
        lim = IEC_LIMITS_MS[k]
        line = f"{k:8s} {lim[0]:7.0f} / {lim[1]:<6.0f} |"
        for m in MODES:
            s = summary[m][k]
            verdict = "pass" if s["pass"] else "FAIL"
            line += f" {s['mean_ms']:6.1f} ± {s['sd_ms']:5.1f} (n={s['n_records']:2d}) {verdict} |"
        print(line)
    print(
        "robust (median / 1.4826 MAD): "
        + "; ".join(
            f"{k} {summary['median_beat'][k]['median_ms']:.1f} / "
            f"{summary['median_beat'][k]['robust_sd_ms']:.1f}"
            for k in INTERVALS
        )
    )


def load(dataset: str, folder: Path, rid: str) -> AnnotatedRecord:
    return load_ludb(folder, rid) if dataset == "ludb" else load_qtdb(folder, rid)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared data folder")
    parser.add_argument("--datasets", nargs="+", choices=("ludb", "qtdb"), default=["ludb", "qtdb"])
    parser.add_argument("--peaks", choices=("reference", "detected", "both"), default="both")
    parser.add_argument("--limit", type=int, default=None, help="first N records per dataset")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    args = parser.parse_args(argv)
    kinds = ("reference", "detected") if args.peaks == "both" else (args.peaks,)
    results: dict = {}
    for dataset in args.datasets:
        folder = args.data / dataset
        if dataset == "ludb":
            ids = [str(i) for i in ludb_record_ids(folder) if not is_training_record(i)]
        else:
            ids = qtdb_record_ids(folder)
        ids = ids[: args.limit] if args.limit else ids
        errors: dict[str, dict[str, defaultdict[str, list[float]]]] = {
            kind: {m: defaultdict(list) for m in MODES} for kind in kinds
        }
        per_record: dict = defaultdict(dict)
        sparse: list[str] = []
        for rid in ids:
            rec = load(dataset, folder, rid)
            r_ref = reference_r_peaks(rec.waves, rec.fs_hz)
            if sparse_p_marks(rec, r_ref):
                sparse.append(rid)
            for kind in kinds:
                if kind == "reference":
                    r = r_ref
                else:
                    from tools.beats import detect_r_peaks

                    r = detect_r_peaks(rec.signal_mv, rec.fs_hz, source=rid)
                e = record_errors(rec, r_ref, r)
                per_record[kind][rid] = e
                for m in MODES:
                    for k in INTERVALS:
                        errors[kind][m][k].append(e[m][k])
        results[dataset] = {
            kind: {"summary": summarise(errors[kind]), "per_record": per_record[kind]}
            for kind in kinds
        }
        results[dataset]["sparse_p_reference"] = sparse
        for kind in kinds:
            print_table(
                f"{dataset} ({len(ids)} records), {kind} R peaks: ours - reference (ms)",
                results[dataset][kind]["summary"],
            )
        if sparse:
            print(f"no P/PR reference (P marked on < half the beats): {', '.join(sparse)}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
