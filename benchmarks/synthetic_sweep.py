"""Interval errors against synthetic ground truth across heart rate, QRS width, axis and noise.

Every combination of the grid is synthesised (``tools.synth``) and measured
(``tools.measure.pipeline.measure_record``); the error of each global measurement against the
generator's truth is summarised per factor level, and every case outside the tolerances
(the verifier's: HR 2 bpm, PR and QRS 12 ms, QT 20 ms, axis 15 deg) is listed.

    python benchmarks/synthetic_sweep.py [--quick]
"""

from __future__ import annotations

import argparse
import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
from common import RESULTS_DIR, print_table, write_results

from tools.measure.pipeline import measure_record
from tools.synth import SynthSpec, SynthSpecError, synthesize

#: Allowed |error| per measurement (same units as the measurement).
TOLERANCE = {"hr_bpm": 2.0, "pr_ms": 12.0, "qrs_ms": 12.0, "qt_ms": 20.0, "axis_deg": 15.0}

#: Noise levels: (baseline wander mV, powerline mV, muscle noise mV).
NOISE = {"clean": (0.0, 0.0, 0.0), "mild": (0.1, 0.02, 0.01), "strong": (0.3, 0.05, 0.03)}


@dataclass(frozen=True)
class Case:
    hr_bpm: float
    qrs_ms: float
    axis_deg: float
    noise: str


def _spec(case: Case, seed: int) -> SynthSpec:
    wander, hum, muscle = NOISE[case.noise]
    conduction = "normal" if case.qrs_ms <= 110 else ("rbbb" if seed % 2 else "lbbb")
    return SynthSpec(hr_bpm=case.hr_bpm, qrs_ms=case.qrs_ms, conduction=conduction,
                     axis_deg=case.axis_deg, baseline_wander_mv=wander, powerline_mv=hum,
                     muscle_noise_mv=muscle, seed=seed)  # fmt: skip


def _errors(case: Case, seed: int) -> dict[str, Any] | None:
    try:
        ecg = synthesize(_spec(case, seed))
    except SynthSpecError:
        return None  # combination the generator cannot realise (reported as skipped)
    g = measure_record(ecg.record).measurements.global_
    t = ecg.truth.intervals
    measured = {"hr_bpm": g.heart_rate_bpm, "pr_ms": g.pr_ms, "qrs_ms": g.qrs_ms,
                "qt_ms": g.qt_ms, "axis_deg": g.qrs_axis_deg}  # fmt: skip
    truth = {"hr_bpm": t.hr_bpm, "pr_ms": t.pr_ms, "qrs_ms": t.qrs_ms, "qt_ms": t.qt_ms,
             "axis_deg": t.axis_deg}  # fmt: skip
    errors: dict[str, float | None] = {}
    for key, value in measured.items():
        if value is None or truth[key] is None:
            errors[key] = None
        elif key == "axis_deg":
            errors[key] = (value - truth[key] + 180.0) % 360.0 - 180.0
        else:
            errors[key] = value - truth[key]
    return {"case": case.__dict__, "seed": seed, "errors": errors}


def _summary(results: list[dict[str, Any]], factor: str) -> list[list[Any]]:
    rows = []
    levels = sorted({r["case"][factor] for r in results}, key=str)
    for level in levels:
        group = [r for r in results if r["case"][factor] == level]
        row: list[Any] = [f"{factor}={level}", len(group)]
        for key in TOLERANCE:
            errs = np.array([r["errors"][key] for r in group if r["errors"][key] is not None])
            missing = sum(r["errors"][key] is None for r in group)
            row.append(f"{errs.mean():+.1f}±{errs.std():.1f}" if errs.size else "-")
            row[-1] += f" ({missing} miss)" if missing else ""
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smaller grid")
    parser.add_argument("--out", default=str(RESULTS_DIR / "synthetic_sweep.json"))
    args = parser.parse_args()
    hrs = [40, 75, 120, 180] if args.quick else [30, 45, 60, 75, 90, 120, 150, 180, 220]
    qrs = [90, 150] if args.quick else [80, 100, 130, 160]
    axes = [-45, 60, 120] if args.quick else [-75, -30, 0, 45, 90, 135, 170]
    grid = [Case(*c) for c in itertools.product(hrs, qrs, axes, NOISE)]
    results, skipped = [], 0
    for i, case in enumerate(grid):
        result = _errors(case, seed=i)
        if result is None:
            skipped += 1
        else:
            results.append(result)
    header = ["level", "n", *(f"{k} err" for k in TOLERANCE)]
    for factor in ("hr_bpm", "qrs_ms", "axis_deg", "noise"):
        print_table(f"Error mean±SD by {factor}", header, _summary(results, factor))
    failures = [
        {**r["case"], "measure": key, "error": r["errors"][key]}
        for r in results
        for key, tol in TOLERANCE.items()
        if r["errors"][key] is None or abs(r["errors"][key]) > tol
    ]
    print(f"\n{len(results)} cases measured, {skipped} skipped (not realisable), "
          f"{len(failures)} measurement(s) outside tolerance or missing")  # fmt: skip
    rows = [[f["hr_bpm"], f["qrs_ms"], f["axis_deg"], f["noise"], f["measure"], f["error"]]
            for f in failures[:40]]  # fmt: skip
    print_table("Failure cases (first 40)", ["hr", "qrs", "axis", "noise", "measure", "error"],
                rows)  # fmt: skip
    out = write_results(
        args.out,
        {
            "benchmark": "synthetic_sweep",
            "tolerance": TOLERANCE,
            "cases": results,
            "skipped": skipped,
            "failures": failures,
        },
    )
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
