"""Speed of the full measurement against NeuroKit2, single thread.

For each 10 s 12-lead 500 Hz record (LUDB, plus the shared PTB-XL and CinC records): the
median over ``--repeats`` runs of ``tools.measure.pipeline.measure_record`` (quality gate,
R peaks, beat classes, delineation, every measurement, GEM's per-beat features, criteria
statements), and of NeuroKit2's ``ecg_process`` run on each of the 12 leads (cleaning, peaks,
delineation, rate, quality) in the same process. Reports the median over records and the
ratio.

    python benchmarks/measure_speed.py --records 20 --repeats 5
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import warnings  # noqa: E402

from common import (  # noqa: E402
    RESULTS_DIR,
    data_root,
    median_ms,
    print_table,
    twelve_lead_records,
    write_results,
)

from tools.record import ECGRecord  # noqa: E402


def _neurokit(record: ECGRecord) -> None:
    import neurokit2 as nk

    for lead in record.signal_mv:
        nk.ecg_process(lead, sampling_rate=int(record.fs_hz))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", help="shared data folder (default: $GEM_AGENT_DATA)")
    parser.add_argument("--records", type=int, default=20, help="records to time")
    parser.add_argument("--repeats", type=int, default=5, help="runs per record (median)")
    parser.add_argument("--no-neurokit", action="store_true", help="time ours only")
    parser.add_argument("--out", default=str(RESULTS_DIR / "measure_speed.json"))
    args = parser.parse_args()

    from tools.measure.pipeline import measure_record

    records = twelve_lead_records(data_root(args.data), args.records)
    if not records:
        raise SystemExit("no 12-lead 500 Hz records found: set --data or GEM_AGENT_DATA")
    measure_record(records[0])  # warm caches (weights, FFT plans)
    ours, theirs, rows = [], [], []
    for rec in records:
        t_ours = median_ms(lambda rec=rec: measure_record(rec), args.repeats)
        t_nk = None
        if not args.no_neurokit:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t_nk = median_ms(lambda rec=rec: _neurokit(rec), max(1, args.repeats // 2))
            theirs.append(t_nk)
        ours.append(t_ours)
        rows.append([f"{rec.dataset}/{rec.record_id}", t_ours, t_nk,
                     (t_nk / t_ours) if t_nk else None])  # fmt: skip
    ours_ms = statistics.median(ours)
    nk_ms = statistics.median(theirs) if theirs else None
    summary = [["median over records", ours_ms, nk_ms, (nk_ms / ours_ms) if nk_ms else None]]
    print_table("Per record (ms)", ["record", "gem-agent", "NeuroKit2 x12", "ratio"], rows)
    print_table("Summary (ms per 10 s 12-lead 500 Hz record, single thread)",
                ["", "gem-agent", "NeuroKit2 x12", "ratio"], summary)  # fmt: skip
    out = write_results(args.out, {
        "benchmark": "measure_speed", "records": len(records), "repeats": args.repeats,
        "gem_agent_ms_median": ours_ms, "neurokit2_ms_median": nk_ms,
        "ratio": (nk_ms / ours_ms) if nk_ms else None,
        "per_record": [dict(zip(["record", "gem_agent_ms", "neurokit2_ms", "ratio"], r,
                                strict=True)) for r in rows],
    })  # fmt: skip
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
