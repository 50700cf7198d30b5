"""Batch throughput and memory: ``gem-agent batch`` / ``interpret_many`` on the shared records.

The 10 s 12-lead 500 Hz shared records (LUDB, PTB-XL, CinC) are read once and repeated to
``--records`` (each copy under its own id) as an in-memory source, then interpreted by a
:class:`agent.batch.BatchRun` writing a real output folder (reports.jsonl with fsync,
per-record JSON + HTML, index.html):

* criteria backend, 1 and 2 worker processes, ``--records`` records; 2 workers again with
  ``--small`` records, to show that peak memory does not grow with the number of records;
* criteria backend reading LUDB from disk (2 workers), for the cost of the reader;
* endpoint backend against a loopback OpenAI-compatible server answering after ``--delay-ms``
  (200 ms), at concurrency 1, 8 and 32 (2 workers, ``--endpoint-records`` records), and once
  with a server answering at once: the CPU limit (the endpoint backend renders GEM's 12 x 1
  page, about 0.3 s of CPU per record). The target is min(concurrency / delay, CPU limit).

Each configuration runs in a fresh child process, so its peak memory (parent and each worker,
``ru_maxrss``) is its own. Throughput is over the whole run (worker start-up included) and
"steady" between the first and the last finished record.

    python benchmarks/batch_throughput.py                       # about 6 minutes on 2 cores
    python benchmarks/batch_throughput.py --records 200 --endpoint-records 60 --small 60
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from dataclasses import replace  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from common import RESULTS_DIR, data_root, print_table, twelve_lead_records, write_results  # noqa: E402

from tools.record import ECGRecord  # noqa: E402

#: Goal of the batch issue with the criteria backend on 2 cores (records/s).
CRITERIA_GOAL_RPS = 20.0
#: Goal with a model endpoint: this share of min(concurrency / latency, CPU limit).
ENDPOINT_GOAL_SHARE = 0.8
#: The model's answer: no checkable claim, so one request per record (no revision round).
ANSWER = "Interpretation pending clinical correlation."
#: Shared records read (all of them: LUDB 100, PTB-XL 5, CinC 25).
MAX_SHARED_RECORDS = 1000


class RepeatedRecords:
    """``records`` repeated to ``n`` items, each copy with its own id; lazily, with a length."""

    def __init__(self, records: list[ECGRecord], n: int) -> None:
        self.records, self.n = records, n

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Iterator[ECGRecord]:
        for i in range(self.n):
            record = self.records[i % len(self.records)]
            yield replace(record, record_id=f"{record.record_id}~{i // len(self.records)}")


@contextmanager
def delayed_server(delay_s: float) -> Iterator[str]:
    """An OpenAI-compatible chat endpoint on loopback answering every request after
    ``delay_s`` (the body is read, not parsed: the server should cost little CPU)."""
    body = json.dumps(
        {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": 0,
            "model": "gem-bench",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": ANSWER},
                }
            ],
            "usage": {"prompt_tokens": 740, "completion_tokens": 12, "total_tokens": 752},
        }
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            time.sleep(delay_s)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def run_one(config: dict[str, Any]) -> dict[str, Any]:
    """One configuration, in this (child) process: the run's summary, trimmed."""
    from agent.batch import BatchRun, open_source, work_spec
    from gem_core.backends.endpoint import EndpointSettings

    if config.get("disk"):
        source = open_source(Path(config["disk"]), dataset="ludb")
    else:
        records = twelve_lead_records(data_root(config.get("data")), MAX_SHARED_RECORDS)
        source = open_source(RepeatedRecords(records, config["records"]))
    endpoint = None
    if config["backend"] == "endpoint":
        endpoint = EndpointSettings(
            base_url=config["url"], model="gem-bench", api_key="k", max_retries=0, timeout_s=60.0
        )
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    with tempfile.TemporaryDirectory() as out:
        spec = work_spec(source, backend=config["backend"], endpoint=endpoint, out_dir=out)
        run = BatchRun(
            source,
            spec,
            out_dir=out,
            workers=config["workers"],
            concurrency=config.get("concurrency", 8),
        )
        for _ in run:
            pass
        s = run.summary or {}
    parent, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    memory = s["memory"]
    workers_mb = list(memory["worker_peak_rss_mb"].values())
    return {
        "records": s["counts"]["done"] + s["counts"]["failed"],
        "failed": s["counts"]["failed"],
        "wall_s": s["wall_s"],
        "records_per_s": s["throughput_records_per_s"],
        "steady_records_per_s": s["steady_records_per_s"],
        "record_ms_mean": s["record_ms"]["mean"],
        "parent_peak_rss_mb": memory["parent_peak_rss_mb"],
        "worker_peak_rss_mb_max": max(workers_mb) if workers_mb else None,
        "total_peak_rss_mb": memory["parent_peak_rss_mb"] + sum(workers_mb),
        "threads_per_worker": s["executor"]["threads_per_worker"],
        "parent_cpu_s": round(
            parent.ru_utime + parent.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime, 2
        ),
        "workers_cpu_s": round(children.ru_utime + children.ru_stime, 2),
    }


def _in_child(config: dict[str, Any]) -> dict[str, Any]:
    here = Path(__file__).resolve()
    env = {**os.environ, "PYTHONPATH": str(here.parents[1])}
    done = subprocess.run(
        [sys.executable, str(here), "--one", json.dumps(config)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"configuration {config} failed:\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return {**config, **result}


def _configs(args: argparse.Namespace) -> list[dict[str, Any]]:
    base = {"data": args.data}
    crit = [
        {
            **base,
            "name": f"criteria, {w} worker(s)",
            "backend": "criteria",
            "workers": w,
            "records": args.records,
        }
        for w in (1, 2)
    ]
    crit.append(
        {
            **base,
            "name": "criteria, 2 workers (small)",
            "backend": "criteria",
            "workers": 2,
            "records": args.small,
        }
    )
    ludb = data_root(args.data) / "ludb"
    if ludb.is_dir():
        crit.append(
            {
                **base,
                "name": "criteria, 2 workers, LUDB from disk",
                "backend": "criteria",
                "workers": 2,
                "records": 100,
                "disk": str(ludb),
            }
        )
    ep = [
        {
            **base,
            "name": f"endpoint {args.delay_ms:g} ms, concurrency {c}",
            "backend": "endpoint",
            "workers": 2,
            "records": args.endpoint_records,
            "concurrency": c,
            "delay_s": args.delay_ms / 1000,
        }
        for c in (1, 8, 32)
    ]
    ep.append(
        {
            **base,
            "name": "endpoint 0 ms, concurrency 32 (CPU limit)",
            "backend": "endpoint",
            "workers": 2,
            "records": args.endpoint_records,
            "concurrency": 32,
            "delay_s": 0.0,
        }
    )
    return crit + ep


def _measure(config: dict[str, Any]) -> dict[str, Any]:
    if config["backend"] != "endpoint":
        return _in_child(config)
    with delayed_server(config["delay_s"]) as url:
        return _in_child({**config, "url": url})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", help="shared data folder (default: $GEM_AGENT_DATA)")
    parser.add_argument("--records", type=int, default=1000, help="records, criteria backend")
    parser.add_argument("--small", type=int, default=250, help="records of the memory check")
    parser.add_argument("--endpoint-records", type=int, default=200, help="records, endpoint")
    parser.add_argument("--delay-ms", type=float, default=200.0, help="endpoint latency")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a child's configuration
    parser.add_argument("--out", default=str(RESULTS_DIR / "batch_throughput.json"))
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(json.loads(args.one))))
        return
    if not twelve_lead_records(data_root(args.data), 1):
        raise SystemExit("no 12-lead 500 Hz records found: set --data or GEM_AGENT_DATA")
    results = []
    for config in _configs(args):
        print(f"running: {config['name']} ({config['records']} records) ...", flush=True)
        results.append(_measure(config))
    cpu_limit = next(
        (
            r["steady_records_per_s"]
            for r in results
            if r["backend"] == "endpoint" and r["delay_s"] == 0
        ),
        None,
    )
    rows = []
    for r in results:
        target = None
        if r["backend"] == "endpoint" and r["delay_s"] > 0 and cpu_limit:
            target = min(r["concurrency"] / r["delay_s"], cpu_limit)
        elif r["backend"] == "criteria" and r["workers"] == 2 and not r.get("disk"):
            target = CRITERIA_GOAL_RPS
        r["target_records_per_s"] = target
        share = r["steady_records_per_s"] / target if target else None
        r["share_of_target"] = share
        rows.append(
            [
                r["name"],
                r["records"],
                r["failed"],
                r["wall_s"],
                r["records_per_s"],
                r["steady_records_per_s"],
                target,
                share,
                r["parent_peak_rss_mb"],
                r["worker_peak_rss_mb_max"],
                r["total_peak_rss_mb"],
            ]
        )
    print_table(
        "Batch throughput (records/s) and peak memory (MiB)",
        [
            "configuration",
            "records",
            "failed",
            "wall s",
            "rec/s",
            "steady rec/s",
            "target",
            "share",
            "parent MiB",
            "worker MiB",
            "total MiB",
        ],
        rows,
    )
    out = write_results(
        args.out,
        {
            "benchmark": "batch_throughput",
            "records": args.records,
            "small": args.small,
            "endpoint_records": args.endpoint_records,
            "delay_ms": args.delay_ms,
            "criteria_goal_records_per_s": CRITERIA_GOAL_RPS,
            "endpoint_goal_share": ENDPOINT_GOAL_SHARE,
            "cpu_limit_records_per_s": cpu_limit,
            "results": results,
        },
    )
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
