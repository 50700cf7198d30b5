"""Render speed: milliseconds per ECG page for each layout and output (array, PNG file, SVG).

Renders a synthetic 12-lead, 10 s, 500 Hz record (Gaussian P-QRS-T beats at 72 bpm) N times
per case after a warm-up, prints a table of median and 90th-percentile times and writes JSON.

    python benchmarks/render_speed.py --n 20 --out benchmarks/results/render_speed.json
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import matplotlib
import numpy as np

from tools.leads import STANDARD_LEADS
from tools.record import ECGRecord
from tools.render import LAYOUTS, LayoutName, render_ecg, save_ecg_image

FS_HZ = 500.0
DURATION_S = 10.0
HEART_RATE_BPM = 72.0
#: (centre after beat onset s, width s, amplitude mV) of P, Q, R, S, T.
WAVES = ((0.10, 0.025, 0.15), (0.19, 0.008, -0.1), (0.21, 0.010, 1.2), (0.23, 0.008, -0.3),
         (0.45, 0.050, 0.3))  # fmt: skip


def synthetic_record() -> ECGRecord:
    """A 12-lead sinus-rhythm-like record with lead-specific gains and a little noise."""
    t_s = np.arange(round(DURATION_S * FS_HZ)) / FS_HZ
    rr_s = 60.0 / HEART_RATE_BPM
    phase_s = np.mod(t_s, rr_s)
    beat = sum(a * np.exp(-0.5 * ((phase_s - c) / w) ** 2) for c, w, a in WAVES)
    gains = np.linspace(-0.8, 1.6, len(STANDARD_LEADS))[:, None]
    noise = np.random.default_rng(0).normal(0.0, 0.01, (len(STANDARD_LEADS), t_s.size))
    signal = (gains * np.asarray(beat)[None, :] + noise).astype(np.float32)
    return ECGRecord("bench-synthetic", signal, FS_HZ, STANDARD_LEADS, dataset="synthetic")


def time_ms(action: Callable[[], object], n: int, warmup: int) -> list[float]:
    """Wall-clock milliseconds of ``n`` calls of ``action`` after ``warmup`` untimed calls."""
    for _ in range(warmup):
        action()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1e3)
    return times


def _cases(
    record: ECGRecord, layout: LayoutName, folder: Path, dpi: int
) -> dict[str, Callable[[], object]]:
    """The three outputs timed for one layout: in-memory array, PNG file, SVG file."""

    def array() -> object:
        return render_ecg(record, layout=layout, dpi=dpi)

    def png() -> object:
        return save_ecg_image(record, folder / "page.png", layout=layout, dpi=dpi)

    def svg() -> object:
        return save_ecg_image(record, folder / "page.svg", layout=layout, dpi=dpi)

    return {"array": array, "png": png, "svg": svg}


def run(n: int, warmup: int, dpi: int) -> list[dict[str, object]]:
    """Time every (layout, output) case; one result row per case."""
    record = synthetic_record()
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as folder:
        for layout in LAYOUTS:
            cases = _cases(record, layout, Path(folder), dpi)
            for output, action in cases.items():
                times = time_ms(action, n, warmup)
                size = None
                if output != "array":
                    size = (Path(folder) / f"page.{output}").stat().st_size
                rows.append(
                    {
                        "layout": layout,
                        "output": output,
                        "n": n,
                        "median_ms": statistics.median(times),
                        "p90_ms": float(np.percentile(times, 90)),
                        "min_ms": min(times),
                        "file_bytes": size,
                    }
                )
    return rows


def print_table(rows: list[dict[str, object]]) -> None:
    print(f"{'layout':<7} {'output':<6} {'median ms':>10} {'p90 ms':>9} {'min ms':>9} {'KiB':>7}")
    for row in rows:
        size = row["file_bytes"]
        kib = f"{int(size) / 1024:.0f}" if isinstance(size, int) else "-"
        print(
            f"{row['layout']:<7} {row['output']:<6} {row['median_ms']:>10.1f} "
            f"{row['p90_ms']:>9.1f} {row['min_ms']:>9.1f} {kib:>7}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20, help="timed pages per case (default 20)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed pages first (default 2)")
    parser.add_argument("--dpi", type=int, default=200, help="resolution (default 200: GEM's)")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("benchmarks/results/render_speed.json"),
        help="JSON results file (folder created)",
    )
    args = parser.parse_args()
    rows = run(args.n, args.warmup, args.dpi)
    print_table(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "render_speed",
        "record": {"leads": 12, "fs_hz": FS_HZ, "duration_s": DURATION_S},
        "dpi": args.dpi,
        "warmup": args.warmup,
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor(),
            "python": platform.python_version(),
            "matplotlib": matplotlib.__version__,
            "numpy": np.__version__,
        },
        "results": rows,
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
