"""Atrial flutter: the flutter-wave periodicity and the AFLT rule on synthetic and real ECGs.

Synthetic: typical (negative sawtooth) flutter at 250, 300 and 340/min with 2:1, 3:1 and 4:1
conduction, and sinus rhythm 45-150 bpm, sinus with PR 300, PACs and atrial fibrillation, clean
and with mild noise (20 uV muscle, 50 uV wander), three seeds each: the measured periodicity,
correlation and atrial rate against the generator's truth, and whether AFLT is met, not met or
not assessable. Real: every 12-lead 500 Hz shared record (LUDB, PTB-XL, CinC 2021): the
periodicity of each and the records AFLT fires on, against the records labelled flutter.

    python benchmarks/atrial_flutter.py
    python benchmarks/atrial_flutter.py --seeds 1 --no-real
"""

from __future__ import annotations

import argparse
from typing import Any

from common import RESULTS_DIR, data_root, print_table, twelve_lead_records, write_results

from tools.measure.pipeline import measure_record
from tools.record import ECGRecord
from tools.statements import explain
from tools.synth import SynthSpec, synthesize

NOISE: dict[str, dict[str, float]] = {
    "clean": {},
    "mild": {"muscle_noise_mv": 0.02, "baseline_wander_mv": 0.05},
}
FLUTTER_LABEL_CODES = {"AFLT", "164890007"}  # SCP-ECG (PTB-XL) and SNOMED CT (CinC)


def _synthetic_cases() -> list[tuple[str, dict[str, Any]]]:
    cases = [
        (f"flutter {k}:1 {rate}/min", {"rhythm": "aflutter", "flutter_conduction": k,
                                       "flutter_rate_bpm": float(rate)})
        for k in (2, 3, 4) for rate in (250, 300, 340)
    ]  # fmt: skip
    cases += [(f"sinus {hr} bpm", {"hr_bpm": float(hr)}) for hr in (45, 60, 75, 90, 105, 150)]
    cases += [
        ("sinus PR 300", {"pr_ms": 300.0}),
        ("sinus, PAC every 4th", {"pac_every": 4}),
        ("atrial fibrillation 90", {"rhythm": "afib", "hr_bpm": 90.0}),
    ]
    return cases


def _state(record: ECGRecord) -> dict[str, Any]:
    m = measure_record(record, per_beat=False).measurements
    result = explain("AFLT", m)
    state = "met" if result.met else ("not met" if result.assessable else "n/a")
    g = m.global_
    return {
        "periodicity": g.atrial_periodicity,
        "correlation": g.atrial_correlation,
        "atrial_rate_bpm": g.atrial_rate_bpm,
        "aflt": state,
    }


def _synthetic(seeds: int) -> list[dict[str, Any]]:
    rows = []
    for label, spec in _synthetic_cases():
        for noise, extra in NOISE.items():
            for seed in range(seeds):
                ecg = synthesize(SynthSpec(**spec, **extra), seed=seed)
                truth = ecg.truth.intervals.atrial_rate_bpm
                rows.append({"case": label, "noise": noise, "seed": seed,
                             "truth_rate_bpm": truth, **_state(ecg.record)})  # fmt: skip
    return rows


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _synthetic_table(rows: list[dict[str, Any]]) -> None:
    table = []
    for label, _ in _synthetic_cases():
        for noise in NOISE:
            group = [r for r in rows if r["case"] == label and r["noise"] == noise]
            per = [_fmt(r["periodicity"]) for r in group]
            rates = [_fmt(r["atrial_rate_bpm"], 0) for r in group]
            states = sorted({r["aflt"] for r in group})
            truth = group[0]["truth_rate_bpm"]
            table.append([label, noise, " ".join(per), " ".join(rates), _fmt(truth, 0),
                          "/".join(states)])  # fmt: skip
    print_table(
        "Synthetic (one value per seed)",
        ["case", "noise", "periodicity", "atrial rate", "truth rate", "AFLT"],
        table,
    )


def _real(root: Any) -> list[dict[str, Any]]:
    rows = []
    for record in twelve_lead_records(root, 10_000):
        flutter = any(
            label.code in FLUTTER_LABEL_CODES or "flutter" in f"{label.code} {label.name}".lower()
            for label in record.labels
        )
        rows.append({"record": f"{record.dataset}/{record.record_id}", "labelled_flutter": flutter,
                     **_state(record)})  # fmt: skip
    return rows


def _real_table(rows: list[dict[str, Any]]) -> dict[str, Any]:
    flutter = [r for r in rows if r["labelled_flutter"]]
    others = [r for r in rows if not r["labelled_flutter"]]
    measured = [r["periodicity"] for r in others if r["periodicity"] is not None]
    summary = {
        "records": len(rows),
        "labelled_flutter": len(flutter),
        "flutter_found": sum(r["aflt"] == "met" for r in flutter),
        "flutter_not_assessable": sum(r["aflt"] == "n/a" for r in flutter),
        "false_aflt": sum(r["aflt"] == "met" for r in others),
        "others_not_assessable": sum(r["aflt"] == "n/a" for r in others),
        "others_max_periodicity": max(measured) if measured else None,
    }
    table = [[r["record"], _fmt(r["periodicity"]), _fmt(r["correlation"]),
              _fmt(r["atrial_rate_bpm"], 0), r["aflt"]] for r in flutter]  # fmt: skip
    print_table("Real records labelled flutter", ["record", "periodicity", "corr", "rate", "AFLT"],
                table)  # fmt: skip
    print_table("Real records", ["measure", "value"], [[k, v] for k, v in summary.items()])
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", help="shared data folder (default: $GEM_AGENT_DATA)")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per synthetic case")
    parser.add_argument("--no-real", action="store_true", help="synthetic cases only")
    parser.add_argument("--out", default=str(RESULTS_DIR / "atrial_flutter.json"))
    args = parser.parse_args()
    synthetic = _synthetic(args.seeds)
    _synthetic_table(synthetic)
    payload: dict[str, Any] = {"benchmark": "atrial_flutter", "synthetic": synthetic}
    if not args.no_real:
        real = _real(data_root(args.data))
        payload["real"] = real
        payload["real_summary"] = _real_table(real)
    print(f"\nwrote {write_results(args.out, payload)}")


if __name__ == "__main__":
    main()
