"""Shared helpers for the benchmark scripts: data location, result files, tables, timing.

Benchmarks are scripts (``python benchmarks/<name>.py``); this module sits beside them.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tools.record import ECGRecord

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def data_root(explicit: str | Path | None = None) -> Path:
    """The shared real-data folder: ``--data``, ``$GEM_AGENT_DATA``, or ``../shared/data``."""
    for candidate in (explicit, os.environ.get("GEM_AGENT_DATA")):
        if candidate:
            return Path(candidate)
    return Path(__file__).resolve().parents[2] / "shared" / "data"


def machine() -> dict[str, Any]:
    """Where the numbers were measured."""
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "cpu_count": os.cpu_count(),
    }


def write_results(path: str | Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` (plus the machine description) as indented JSON."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": machine(), **payload}, indent=2, default=float) + "\n")
    return out


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A plain fixed-width table on stdout (numbers right-aligned)."""

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.2f}"
        return "-" if value is None else str(value)

    text = [[cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in text)) if text else len(h)
              for i, h in enumerate(header)]  # fmt: skip
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in text:
        print("  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)))


def median_ms(func: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``func()`` over ``repeats`` runs, in ms."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def twelve_lead_records(root: Path, n: int) -> list[ECGRecord]:
    """Up to ``n`` 10 s 12-lead 500 Hz records (LUDB, PTB-XL, CinC), datasets interleaved."""
    from tools.readers import open_dataset

    records: list[ECGRecord] = []
    sources = [("ludb", root / "ludb", {}), ("ptbxl", root / "ptbxl", {"available_only": True}),
               ("cinc", root / "cinc2021", {})]  # fmt: skip
    for name, folder, options in sources:
        if folder.is_dir():
            records.extend(r for r in open_dataset(name, folder, **options)
                           if r.fs_hz == 500 and r.n_leads == 12)  # fmt: skip
    # Interleave datasets so a small --records still sees each of them.
    by_source: dict[str, list[ECGRecord]] = {}
    for rec in records:
        by_source.setdefault(str(rec.dataset), []).append(rec)
    mixed = [rec for group in zip(*by_source.values(), strict=False) for rec in group]
    rest = [rec for rec in records if rec not in mixed]
    return (mixed + rest)[:n]
