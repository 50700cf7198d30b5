"""Wave delineation on LUDB against the experts' per-lead marks, beside NeuroKit2's DWT method.

For P onset, P offset, QRS onset, QRS offset and T offset: mean and SD of the error
(detected - expert, ms) per lead and over all leads, and of the CSE global boundary (earliest
onset / latest offset over the 12 leads) against the experts' global boundary (the same rule
applied to their marks, on beats annotated in every lead); wave detection sensitivity, PPV
and F1 for P, QRS and T; and the median time per record. NeuroKit2 (``ecg_clean`` then
``ecg_delineate(method="dwt")`` per lead) gets the same R peaks; its global boundaries use
the outlier-protected CSE rule without the fitted shifts (2nd earliest / 2nd latest of 12).

Matching (:mod:`tools.delineate.scoring`): in a lead and beat, a detected wave matches the
annotated one when its peak lies inside the annotated onset-offset span or within 150 ms of
the annotated peak; only waves inside each lead's annotated span count (LUDB leaves the first
and last beats unannotated). Errors are taken on matched waves. QRS "peaks" are the beat
fiducials (the QRS is detected in a lead when an onset or offset is placed there).

"ours global fitted" uses the fusion fitted on the training half to the experts' CSE
boundaries (order fraction and shift per boundary, see :mod:`tools.delineate.fusion`); the
default global boundaries are unshifted, since that reference is widened by the scatter of 12
independently placed marks.

Records: the held-out half of the shared LUDB records (the scorers were fitted on the other
half, see :mod:`tools.delineate.train`); ``--split all`` scores every record (optimistic for
ours). R peaks: the experts' QRS marks (median over leads per beat), and/or the project's
detector (:func:`tools.beats.detect_r_peaks`); with detected peaks, annotated waves of missed
beats count as false negatives.

P errors are broken down (ours, reference R peaks) per record with its LUDB rhythm,
conduction and pacing statements, per rhythm, and per cause: a beat voted P-absent where the
experts mark P (FN), a lead left without P in a beat that has one (FN), a beat voted P-present
where the experts mark none (FP: AF, flutter, paced rhythms), a P in a lead the experts left
unmarked in a beat they mark elsewhere (FP), and a P found in the wrong place (FP + FN).
Annotated P waves assigned to no beat (several P waves per beat in AV block) are counted too:
with reference R peaks they are not scored, with detected peaks they count as misses.

    python benchmarks/delineation_ludb.py                # held-out half, both peak sources
    python benchmarks/delineation_ludb.py --no-neurokit --peaks reference
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tools.delineate import delineate
from tools.delineate.datasets import AnnotatedRecord, is_training_record, load_ludb, ludb_record_ids
from tools.delineate.fusion import global_points, kth_extreme
from tools.delineate.reference import Reference, align_reference, cse_global, reference_r_peaks
from tools.delineate.scorer import load_weights
from tools.delineate.scoring import boundary_errors_ms, detection_counts, wave_matches

DEFAULT_DATA = Path(
    os.environ.get("GEM_AGENT_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "delineation_ludb.json"
BOUNDARIES = ("p_on", "p_off", "qrs_on", "qrs_off", "t_off")
#: CSE tolerances: largest acceptable SD of the error (ms), Willems et al. 1985.
CSE_SD_MS = {"p_on": 10.2, "p_off": 12.7, "qrs_on": 6.5, "qrs_off": 11.6, "t_off": 30.6}
WAVES = ("p", "qrs", "t")
METHODS = ("ours", "neurokit2")


@dataclass
class Points:
    """Per-lead points ``[leads, beats]`` (p/qrs/t on, peak, off) and global ``[beats]``
    (``glob_fitted``: ours with the fusion fitted to the LUDB experts' CSE boundaries)."""

    lead: dict[str, np.ndarray]
    glob: dict[str, np.ndarray]
    glob_fitted: dict[str, np.ndarray] | None = None


def ours(rec: AnnotatedRecord, r: np.ndarray) -> tuple[Points, float]:
    t0 = time.perf_counter()
    d = delineate(rec.signal_mv, rec.fs_hz, r, rec.lead_names, record_id=rec.record_id)
    elapsed = time.perf_counter() - t0
    p = d.points
    qrs_there = (p.qrs_on >= 0) | (p.qrs_off >= 0)
    lead = {
        "p_on": p.p_on, "p_peak": p.p_peak, "p_off": p.p_off,
        "qrs_on": p.qrs_on, "qrs_peak": np.where(qrs_there, r[None, :], -1), "qrs_off": p.qrs_off,
        "t_peak": p.t_peak, "t_off": p.t_off,
    }  # fmt: skip
    glob = {name: getattr(d.global_points, name) for name in BOUNDARIES}
    fitted = global_points(d.points, rec.fs_hz, load_weights()["fusion"])
    glob_fitted = {name: getattr(fitted, name) for name in BOUNDARIES}
    return Points(lead, glob, glob_fitted), elapsed


NK_KEYS = {
    "p_on": "ECG_P_Onsets", "p_peak": "ECG_P_Peaks", "p_off": "ECG_P_Offsets",
    "qrs_on": "ECG_R_Onsets", "qrs_off": "ECG_R_Offsets",
    "t_peak": "ECG_T_Peaks", "t_off": "ECG_T_Offsets",
}  # fmt: skip


def neurokit(rec: AnnotatedRecord, r: np.ndarray) -> tuple[Points, float]:
    import neurokit2 as nk

    n_leads, n_beats = rec.signal_mv.shape[0], r.size
    lead = {k: np.full((n_leads, n_beats), -1, dtype=np.int64) for k in NK_KEYS}
    t0 = time.perf_counter()
    for k in range(n_leads):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                clean = nk.ecg_clean(rec.signal_mv[k], sampling_rate=int(rec.fs_hz))
                _, waves = nk.ecg_delineate(
                    clean, rpeaks=r, sampling_rate=int(rec.fs_hz), method="dwt"
                )
        except Exception:  # NeuroKit2 fails on some leads: count them as nothing found
            continue
        for name, key in NK_KEYS.items():
            v = np.asarray(waves.get(key, []), dtype=np.float64)
            if v.size == n_beats:
                lead[name][k] = np.where(np.isfinite(v), v, -1).astype(np.int64)
    elapsed = time.perf_counter() - t0
    qrs_there = (lead["qrs_on"] >= 0) | (lead["qrs_off"] >= 0)
    lead["qrs_peak"] = np.where(qrs_there, r[None, :], -1)
    glob = {name: kth_extreme(lead[name], name.endswith("off")) for name in BOUNDARIES}
    return Points(lead, glob), elapsed


@dataclass
class Tally:
    """Errors (ms) per (method, boundary, lead or "global"), counts per (method, wave)."""

    errors: dict[tuple[str, str, str], list[np.ndarray]] = field(
        default_factory=lambda: defaultdict(list)
    )
    counts: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    seconds: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    records: int = 0


def _unassigned(rec: AnnotatedRecord, ref: Reference, wave: str) -> np.ndarray:
    """Annotated waves of each lead that no beat was aligned to (missed beats)."""
    total = np.array([getattr(w, wave).shape[0] for w in rec.waves])
    assigned = (getattr(ref, f"{wave}_peak") >= 0).sum(axis=1)
    return np.maximum(total - assigned, 0)


def score(
    tally: Tally,
    method: str,
    pts: Points,
    rec: AnnotatedRecord,
    ref: Reference,
    leads: tuple[str, ...],
    with_missed: bool,
) -> None:
    fs = rec.fs_hz
    for wave in WAVES:
        on, peak, off = (getattr(ref, f"{wave}_{x}") for x in ("on", "peak", "off"))
        det_peak = pts.lead[f"{wave}_peak"]
        missed = _unassigned(rec, ref, wave) if with_missed else None
        c = detection_counts(det_peak, on, peak, off, (ref.span_first, ref.span_last), fs, missed)
        row = np.stack([c.tp, c.fp, c.fn])
        key = (method, wave)
        tally.counts[key] = tally.counts.get(key, 0) + row
        matched = wave_matches(det_peak, on, peak, off, fs) & ref.counted
        for name in BOUNDARIES:
            if not name.startswith(wave + "_"):
                continue
            err = boundary_errors_ms(pts.lead[name], getattr(ref, name), matched, fs)
            for k, lead in enumerate(leads):
                tally.errors[(method, name, lead)].append(err[k][np.isfinite(err[k])])
    every_lead = ref.counted.all(axis=0)
    for name in BOUNDARIES:
        wave = name.split("_")[0]
        g_on, g_off = cse_global(
            np.where(ref.counted, getattr(ref, f"{wave}_on"), -1),
            np.where(ref.counted, getattr(ref, f"{wave}_off"), -1),
        )
        truth = g_off if name.endswith("off") else g_on
        variants = {"global": pts.glob}
        if pts.glob_fitted is not None:
            variants["global_fitted"] = pts.glob_fitted
        for variant, glob in variants.items():
            est = glob[name]
            ok = every_lead & (truth >= 0) & (est >= 0)
            tally.errors[(method, name, variant)].append((est - truth)[ok] * (1000.0 / fs))


P_CAUSES = (
    "fn_beat_voted_absent",
    "fn_lead_without_p",
    "fp_beat_voted_present",
    "fp_lead_unmarked",
    "wrong_place",
    "p_not_assigned_to_a_beat",
)


def p_breakdown(rec: AnnotatedRecord, ref: Reference, det_peak: np.ndarray) -> dict[str, int]:
    """P detection counts of one record by cause (see the module notes)."""
    c = detection_counts(
        det_peak, ref.p_on, ref.p_peak, ref.p_off, (ref.span_first, ref.span_last), rec.fs_hz
    )
    det = (det_peak >= ref.span_first[:, None]) & (det_peak <= ref.span_last[:, None])
    det &= det_peak >= 0
    marked = ref.p_peak >= 0
    hit = wave_matches(det_peak, ref.p_on, ref.p_peak, ref.p_off, rec.fs_hz)
    ours_beat = np.asarray((det_peak >= 0).any(axis=0))[None, :]
    experts_beat = np.asarray(marked.any(axis=0))[None, :]
    missed = marked & ~hit & (det_peak < 0)
    extra = det & ~hit & ~marked
    counts = [
        missed & ~ours_beat,
        missed & ours_beat,
        extra & ~experts_beat,
        extra & experts_beat,
        det & marked & ~hit,
    ]
    out = {name: int(m.sum()) for name, m in zip(P_CAUSES, counts, strict=False)}
    out["p_not_assigned_to_a_beat"] = int(_unassigned(rec, ref, "p").sum())
    out.update(tp=int(c.tp.sum()), fp=int(c.fp.sum()), fn=int(c.fn.sum()))
    out.update(beats_p_experts=int(experts_beat.sum()), beats_p_ours=int(ours_beat.sum()))
    return out


def ludb_statements(folder: Path) -> dict[str, dict[str, str]]:
    """Rhythm, conduction and pacing statements of each LUDB record (from ``ludb.csv``)."""
    from tools.readers.wfdb_dir import LudbDataset

    out = {}
    for entry in LudbDataset(folder).entries():
        st = entry.metadata.get("ludb_statements", {})
        out[entry.record_id] = {
            k: "; ".join(st.get(col, [])) or "-"
            for k, col in (
                ("rhythm", "Rhythms"),
                ("conduction", "Conduction abnormalities"),
                ("pacing", "Cardiac pacing"),
            )
        }
    return out


def print_p_breakdown(rows: dict[str, dict], statements: dict[str, dict[str, str]]) -> None:
    print("\nP errors per record (ours, reference R peaks; records without errors left out):")
    print(f"{'id':>4s} {'tp':>4s} {'fp':>4s} {'fn':>4s} {'beats P exp/ours':>16s}  statements")
    by_rhythm: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(3, int))
    causes = np.zeros(len(P_CAUSES), int)
    for rid, row in sorted(rows.items(), key=lambda kv: -(kv[1]["fp"] + kv[1]["fn"])):
        st = statements.get(rid, {"rhythm": "?", "conduction": "?", "pacing": "?"})
        by_rhythm[st["rhythm"]] += (row["tp"], row["fp"], row["fn"])
        causes += [row[c] for c in P_CAUSES]
        if row["fp"] + row["fn"]:
            beats = f"{row['beats_p_experts']}/{row['beats_p_ours']}"
            text = " | ".join(v for v in st.values() if v != "-")
            print(f"{rid:>4s} {row['tp']:4d} {row['fp']:4d} {row['fn']:4d} {beats:>16s}  {text}")
    print("\nper rhythm: tp / fp / fn")
    for rhythm, (tp, fp, fn) in sorted(by_rhythm.items()):
        print(f"  {rhythm:40s} {tp:5d} {fp:5d} {fn:5d}")
    print("per cause: " + ", ".join(f"{c} {n}" for c, n in zip(P_CAUSES, causes, strict=True)))


def _stats(parts: list[np.ndarray]) -> dict[str, float]:
    e = np.concatenate(parts) if parts else np.zeros(0)
    if e.size == 0:
        return {"n": 0, "mean_ms": float("nan"), "sd_ms": float("nan")}
    return {"n": int(e.size), "mean_ms": float(np.mean(e)), "sd_ms": float(np.std(e))}


def summarise(tally: Tally, leads: tuple[str, ...], methods: tuple[str, ...]) -> dict:
    out: dict = {"records": tally.records, "boundaries": {}, "detection": {}, "ms_per_record": {}}
    for name in BOUNDARIES:
        entry: dict = {"cse_sd_ms": CSE_SD_MS[name]}
        for m in methods:
            all_leads = [e for lead in leads for e in tally.errors[(m, name, lead)]]
            entry[m] = {
                "all_leads": _stats(all_leads),
                "global": _stats(tally.errors[(m, name, "global")]),
                "per_lead": {lead: _stats(tally.errors[(m, name, lead)]) for lead in leads},
            }
            if (m, name, "global_fitted") in tally.errors:
                entry[m]["global_fitted"] = _stats(tally.errors[(m, name, "global_fitted")])
        out["boundaries"][name] = entry
    for wave in WAVES:
        out["detection"][wave] = {}
        for m in methods:
            tp, fp, fn = (int(v) for v in np.asarray(tally.counts[(m, wave)]).sum(axis=1))
            out["detection"][wave][m] = {
                "tp": tp, "fp": fp, "fn": fn,
                "sensitivity": tp / (tp + fn) if tp + fn else float("nan"),
                "ppv": tp / (tp + fp) if tp + fp else float("nan"),
                "f1": 2 * tp / (2 * tp + fp + fn) if tp else float("nan"),
            }  # fmt: skip
    for m in methods:
        out["ms_per_record"][m] = float(np.median(tally.seconds[m]) * 1000.0)
    return out


def _fmt(s: dict[str, float]) -> str:
    return f"{s['mean_ms']:6.1f} ± {s['sd_ms']:5.1f}" if s["n"] else "     -        "


def print_tables(
    title: str, summary: dict, methods: tuple[str, ...], leads: tuple[str, ...]
) -> None:
    print(f"\n== {title}: {summary['records']} records ==")
    head = f"{'boundary':9s} {'CSE SD':>6s}"
    for m in methods:
        head += f" | {m + ' leads':>15s} {m + ' global':>16s}"
    head += f" | {'ours global fitted':>18s}"
    print(head)
    for name in BOUNDARIES:
        e = summary["boundaries"][name]
        line = f"{name:9s} {e['cse_sd_ms']:6.1f}"
        for m in methods:
            line += f" | {_fmt(e[m]['all_leads']):>15s} {_fmt(e[m]['global']):>16s}"
        line += f" | {_fmt(e['ours']['global_fitted']):>18s}"
        print(line)
    print(f"\n{'wave':5s}" + "".join(f" | {m + ' Se / PPV / F1 (%)':>30s}" for m in methods))
    for wave in WAVES:
        line = f"{wave:5s}"
        for m in methods:
            d = summary["detection"][wave][m]
            line += (
                f" | {100 * d['sensitivity']:8.2f} {100 * d['ppv']:8.2f} {100 * d['f1']:8.2f}   "
            )
        print(line)
    print(
        "\nmedian ms per record: "
        + ", ".join(f"{m} {summary['ms_per_record'][m]:.1f}" for m in methods)
    )
    print(
        f"\nper lead (ours, mean ± SD ms):\n{'lead':5s}" + "".join(f" {b:>15s}" for b in BOUNDARIES)
    )
    for lead in leads:
        print(
            f"{lead:5s}"
            + "".join(
                f" {_fmt(summary['boundaries'][b]['ours']['per_lead'][lead]):>15s}"
                for b in BOUNDARIES
            )
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared data folder")
    parser.add_argument(
        "--split",
        choices=("test", "all"),
        default="test",
        help="held-out half (default) or all records",
    )
    parser.add_argument(
        "--peaks",
        choices=("reference", "detected", "both"),
        default="both",
        help="R peaks given to both methods",
    )
    parser.add_argument("--no-neurokit", action="store_true", help="skip NeuroKit2")
    parser.add_argument("--limit", type=int, default=None, help="first N records only")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    args = parser.parse_args(argv)

    folder = args.data / "ludb"
    ids = ludb_record_ids(folder)
    if args.split == "test":
        ids = [i for i in ids if not is_training_record(i)]
    ids = ids[: args.limit] if args.limit else ids
    methods = ("ours",) if args.no_neurokit else METHODS
    kinds = ("reference", "detected") if args.peaks == "both" else (args.peaks,)
    tallies = {kind: Tally() for kind in kinds}
    breakdown: dict[str, dict] = {}
    leads: tuple[str, ...] = ()
    for rid in ids:
        rec = load_ludb(folder, rid)
        leads = rec.lead_names
        for kind in kinds:
            if kind == "reference":
                r = reference_r_peaks(rec.waves, rec.fs_hz)
            else:
                from tools.beats import detect_r_peaks

                r = detect_r_peaks(rec.signal_mv, rec.fs_hz, source=rec.record_id)
            ref = align_reference(rec.waves, r, rec.fs_hz)
            tally = tallies[kind]
            tally.records += 1
            for m in methods:
                pts, seconds = ours(rec, r) if m == "ours" else neurokit(rec, r)
                tally.seconds[m].append(seconds)
                if m == "ours" and kind == "reference":
                    breakdown[str(rid)] = p_breakdown(rec, ref, pts.lead["p_peak"])
                score(tally, m, pts, rec, ref, leads, with_missed=kind == "detected")
    results = {
        "split": args.split,
        "records": [str(i) for i in ids],
        "by_r_peaks": {kind: summarise(t, leads, methods) for kind, t in tallies.items()},
        "p_breakdown": breakdown,
    }
    for kind in kinds:
        print_tables(
            f"LUDB {args.split}, {kind} R peaks", results["by_r_peaks"][kind], methods, leads
        )
    if breakdown:
        print_p_breakdown(breakdown, ludb_statements(folder))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
