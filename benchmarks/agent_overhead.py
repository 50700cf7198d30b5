"""Agent overhead per record with the criteria backend: what the graph adds to the measurement.

For each 10 s 12-lead 500 Hz record (LUDB, PTB-XL, CinC from the shared data), already read
into memory, ``agent.interpret`` runs the whole graph (load, quality gate, measure, retrieve
from the built-in case base, criteria interpretation, claim verification, report) with the
criteria backend, ``--repeats`` times; the median per record is taken, then the median over
records. The *measurement* is the quality gate plus the measure node (the deterministic
tools); the *overhead* is everything else: graph compilation and scheduling, state
serialisation, retrieval, the criteria narrative, the verifier and the report. Run once
without traces and once with the SQLite checkpointer (``durability="sync"``), since tracing
is on by default for single runs and off in batch.

    python benchmarks/agent_overhead.py --records 20 --repeats 5
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from common import (  # noqa: E402
    RESULTS_DIR,
    data_root,
    print_table,
    twelve_lead_records,
    write_results,
)

from tools.record import ECGRecord  # noqa: E402

#: Nodes whose time is the measurement itself (the deterministic tools), not agent overhead.
MEASUREMENT_NODES = ("assess_quality", "measure")
#: Goal of the agent issue: overhead per record, excluding measurement.
OVERHEAD_GOAL_MS = 50.0


def _one_run(record: ECGRecord, trace_db: Path | None, case_base: Any) -> dict[str, float]:
    from agent import interpret
    from gem_core.backends import CriteriaBackend

    start = time.perf_counter()
    report = interpret(
        record,
        backend=CriteriaBackend(),
        case_base=case_base,
        trace=trace_db is not None,
        trace_db=trace_db,
    )
    total_ms = (time.perf_counter() - start) * 1000.0
    measurement_ms = sum(report.timings_ms.get(node, 0.0) for node in MEASUREMENT_NODES)
    nodes = {f"node_{k}_ms": v for k, v in report.timings_ms.items()}
    return {
        "total_ms": total_ms,
        "measurement_ms": measurement_ms,
        "overhead_ms": total_ms - measurement_ms,
        "revisions": float(report.revisions),
        **nodes,
    }


def _median_runs(runs: list[dict[str, float]]) -> dict[str, float]:
    keys = sorted({k for run in runs for k in run})
    return {k: statistics.median(run.get(k, 0.0) for run in runs) for k in keys}


def _time_mode(
    records: list[ECGRecord], repeats: int, trace_db: Path | None, case_base: Any
) -> list[dict[str, Any]]:
    per_record = []
    for rec in records:
        runs = [_one_run(rec, trace_db, case_base) for _ in range(repeats)]
        per_record.append({"record": f"{rec.dataset}/{rec.record_id}", **_median_runs(runs)})
    return per_record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", help="shared data folder (default: $GEM_AGENT_DATA)")
    parser.add_argument("--records", type=int, default=20, help="records to time")
    parser.add_argument("--repeats", type=int, default=5, help="runs per record (median)")
    parser.add_argument("--out", default=str(RESULTS_DIR / "agent_overhead.json"))
    args = parser.parse_args()

    from tools.cases import builtin_case_base

    records = twelve_lead_records(data_root(args.data), args.records)
    if not records:
        raise SystemExit("no 12-lead 500 Hz records found: set --data or GEM_AGENT_DATA")
    case_base = builtin_case_base()
    _one_run(records[0], None, case_base)  # warm imports, weights, the case base

    results: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["no trace"] = _time_mode(records, args.repeats, None, case_base)
        results["sqlite trace"] = _time_mode(
            records, args.repeats, Path(tmp) / "traces.sqlite", case_base
        )

    node_keys = sorted({k for rows in results.values() for r in rows for k in r
                        if k.startswith("node_")})  # fmt: skip
    summary: dict[str, dict[str, float]] = {}
    rows = []
    for mode, per_record in results.items():
        med = {k: statistics.median(r.get(k, 0.0) for r in per_record)
               for k in ("total_ms", "measurement_ms", "overhead_ms", *node_keys)}  # fmt: skip
        summary[mode] = med
        rows.append([mode, med["total_ms"], med["measurement_ms"], med["overhead_ms"],
                     "yes" if med["overhead_ms"] <= OVERHEAD_GOAL_MS else "no"])  # fmt: skip
    print_table(
        f"Agent per record, criteria backend ({len(records)} records, median of {args.repeats})",
        ["mode", "total ms", "measurement ms", "overhead ms", f"<= {OVERHEAD_GOAL_MS:.0f} ms"],
        rows,
    )
    print_table(
        "Median time in each node (ms)",
        ["node", *results],
        [[k.removeprefix("node_").removesuffix("_ms"), *(summary[m][k] for m in results)]
         for k in node_keys],
    )  # fmt: skip
    out = write_results(args.out, {
        "benchmark": "agent_overhead", "backend": "criteria", "case_base": "builtin",
        "records": len(records), "repeats": args.repeats, "goal_overhead_ms": OVERHEAD_GOAL_MS,
        "measurement_nodes": list(MEASUREMENT_NODES), "summary": summary,
        "per_record": results,
    })  # fmt: skip
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
