"""R-peak detection benchmark: sensitivity, PPV and F1 against reference beats, and speed.

Datasets (all under the shared data folder, read with the project readers; CPSC 2019's
``.mat`` segments with scipy, as no project reader covers that layout):

- MIT-BIH Arrhythmia 100, SVDB 800, CPSC 2021 (9 AF records): ``.atr`` beat annotations;
- QTDB: every record with an ``.atr`` file;
- CPSC 2019: every shared 10 s segment with its ``ref/R_*.mat`` peaks;
- LUDB: the per-lead QRS peak marks (``N`` in ``i`` ... ``v6``), grouped into one span per
  beat; a detection anywhere from the earliest to the latest lead's mark (plus the
  tolerance) matches. Only the annotated stretch of each record is scored (LUDB leaves the
  first and last beats unannotated).

Edges: reference beats within 1 s of either end of the WFDB recordings (MIT-BIH, SVDB, QTDB,
CPSC 2021) and within 0.5 s of the ends of CPSC 2019 segments are not scored, since
references there may be missing; detections there count only when they match a scored beat.

Matching is beat by beat (EC57/``bxb``): one detection per reference beat within the
tolerance (``--tolerance-ms``, default 150 ms, the EC57 window); F1 at 75 ms (CPSC 2019's
window) is printed too. Timing: median over ``--repeats`` runs of each LUDB record (10 s,
12 leads, 500 Hz), then the median over records; and the 30-min 2-lead MIT-BIH record.

    python benchmarks/rpeaks.py --repeats 7
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import scipy.io

from tools.beats import beat_spans, detect_r_peaks, match_beats
from tools.readers.annotations import beat_samples, read_annotations, read_ludb_annotations
from tools.readers.wfdb_reader import read_wfdb

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "rpeaks.json"
DATASETS = ("mitdb", "svdb", "qtdb", "cpsc2019", "ludb", "cpsc2021")
#: Unscored edge of the WFDB recordings and of the CPSC 2019 segments (s).
EDGE_S = {"mitdb": 1.0, "svdb": 1.0, "qtdb": 1.0, "cpsc2021": 1.0, "cpsc2019": 0.5}
#: LUDB: per-lead marks of one beat lie within 100 ms of each other.
LUDB_GROUP_S = 0.1


@dataclass
class Case:
    """One record: signal, rate and reference beats (optionally as spans), scored span."""

    name: str
    signal_mv: np.ndarray
    fs_hz: float
    reference: np.ndarray
    reference_end: np.ndarray | None
    span: tuple[float, float]


@dataclass
class Tally:
    """Counts of one dataset at the main tolerance, and TP/FN/FP at 75 ms."""

    records: int = 0
    tp: int = 0
    fn: int = 0
    fp: int = 0
    strict: list[int] = field(default_factory=lambda: [0, 0, 0])
    worst: list[tuple[str, int, int]] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.records += other.records
        self.tp, self.fn, self.fp = self.tp + other.tp, self.fn + other.fn, self.fp + other.fp
        self.strict = [a + b for a, b in zip(self.strict, other.strict, strict=True)]

    def row(self) -> dict[str, float | int]:
        se = self.tp / max(1, self.tp + self.fn)
        ppv = self.tp / max(1, self.tp + self.fp)
        tp75, fn75, fp75 = self.strict
        return {
            "records": self.records,
            "reference_beats": self.tp + self.fn,
            "tp": self.tp,
            "fn": self.fn,
            "fp": self.fp,
            "sensitivity": se,
            "ppv": ppv,
            "f1": 2 * self.tp / max(1, 2 * self.tp + self.fn + self.fp),
            "f1_75ms": 2 * tp75 / max(1, 2 * tp75 + fn75 + fp75),
        }


def wfdb_cases(root: Path, name: str, records: list[str]) -> Iterator[Case]:
    """Holter/arrhythmia records with ``.atr`` beats (all channels, as recorded)."""
    for rec in records:
        record = read_wfdb(root / rec, lead_policy="as-recorded")
        ref = beat_samples(read_annotations(root / rec, "atr"))
        edge = EDGE_S[name] * record.fs_hz
        span = (edge, record.n_samples - 1 - edge)
        yield Case(rec, np.asarray(record.signal_mv), record.fs_hz, ref, None, span)


def ludb_cases(root: Path) -> Iterator[Case]:
    """LUDB: lead-wise QRS marks grouped into beat spans; the annotated stretch is scored."""
    for rec in (root / "RECORDS").read_text().split():  # "data/1", "data/3", ...
        record = read_wfdb(root / rec)
        ann = read_ludb_annotations(root / rec)
        first, last = beat_spans(ann.sample[ann.symbol == "N"], LUDB_GROUP_S * record.fs_hz)
        span = (float(ann.sample.min()), float(ann.sample.max()))
        yield Case(rec, np.asarray(record.signal_mv), record.fs_hz, first, last, span)


def cpsc2019_cases(root: Path) -> Iterator[Case]:
    """CPSC 2019: single-lead 10 s segments at 500 Hz with reference R-peak indices."""
    fs_hz = 500.0
    for path in sorted((root / "data").glob("data_*.mat")):
        ecg = scipy.io.loadmat(path)["ecg"].astype(np.float64).ravel()
        ref_path = root / "ref" / path.name.replace("data_", "R_")
        ref = np.sort(scipy.io.loadmat(ref_path)["R_peak"].astype(np.int64).ravel())
        edge = EDGE_S["cpsc2019"] * fs_hz
        yield Case(path.stem, ecg[np.newaxis, :], fs_hz, ref, None, (edge, ecg.size - 1 - edge))


def cases_of(name: str, data: Path) -> Iterator[Case]:
    """Records of one dataset (WFDB sets: every record with an ``.atr`` file)."""
    folder = data / name
    if name == "cpsc2019":
        return cpsc2019_cases(folder)
    if name == "ludb":
        return ludb_cases(folder)
    return wfdb_cases(folder, name, [p.stem for p in sorted(folder.glob("*.atr"))])


def score(case: Case, tolerance_s: float) -> Tally:
    """Detect on one record and count at the tolerance and at 75 ms."""
    detected = detect_r_peaks(case.signal_mv, case.fs_hz)
    tally = Tally(records=1)
    for tol_s, strict in ((tolerance_s, False), (0.075, True)):
        m = match_beats(
            case.reference,
            detected,
            tol_s * case.fs_hz,
            reference_end=case.reference_end,
            span=case.span,
        )
        if strict:
            tally.strict = [m.tp, m.fn, m.fp]
        else:
            tally.tp, tally.fn, tally.fp = m.tp, m.fn, m.fp
            if m.fn or m.fp:
                tally.worst.append((case.name, m.fn, m.fp))
    return tally


def median_ms(action: Callable[[], object], repeats: int) -> float:
    """Median wall-clock milliseconds of ``repeats`` calls after one warm-up call."""
    action()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def timing(data: Path, repeats: int) -> dict[str, float]:
    """Median ms per 10 s 12-lead LUDB record, and per 30-min 2-lead MIT-BIH record."""
    out: dict[str, float] = {}
    per_record = [
        median_ms(partial(detect_r_peaks, case.signal_mv, case.fs_hz), repeats)
        for case in ludb_cases(data / "ludb")
    ]
    if per_record:
        out["ludb_10s_12lead_median_ms"] = statistics.median(per_record)
        out["ludb_10s_12lead_p90_ms"] = float(np.percentile(per_record, 90))
    if (data / "mitdb" / "100.hea").is_file():
        holter = next(wfdb_cases(data / "mitdb", "mitdb", ["100"]))
        out["mitdb_30min_2lead_ms"] = median_ms(
            partial(detect_r_peaks, holter.signal_mv, holter.fs_hz), max(3, repeats // 2)
        )
    return out


def print_table(rows: dict[str, dict[str, float | int]], tolerance_ms: float) -> None:
    head = (
        f"{'dataset':<10}{'records':>8}{'beats':>8}{'TP':>8}{'FN':>6}{'FP':>6}"
        f"{'Se %':>9}{'PPV %':>9}{'F1 %':>9}{'F1@75ms %':>11}"
    )
    print(f"R-peak detection, match window +/-{tolerance_ms:g} ms")
    print(head)
    print("-" * len(head))
    for name, r in rows.items():
        print(
            f"{name:<10}{r['records']:>8}{r['reference_beats']:>8}{r['tp']:>8}{r['fn']:>6}"
            f"{r['fp']:>6}{100 * r['sensitivity']:>9.3f}{100 * r['ppv']:>9.3f}"
            f"{100 * r['f1']:>9.3f}{100 * r['f1_75ms']:>11.3f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("GEM_AGENT_DATA", DEFAULT_DATA)),
        help="shared data folder (default: $GEM_AGENT_DATA or ../shared/data)",
    )
    parser.add_argument(
        "--datasets", nargs="+", choices=DATASETS, default=list(DATASETS), help="which to score"
    )
    parser.add_argument(
        "--tolerance-ms", type=float, default=150.0, help="match window (default 150 ms)"
    )
    parser.add_argument("--repeats", type=int, default=7, help="timing runs per record")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON output file")
    args = parser.parse_args(argv)

    rows: dict[str, dict[str, float | int]] = {}
    errors: dict[str, list[tuple[str, int, int]]] = {}
    overall = Tally()
    for name in args.datasets:
        if not (args.data / name).is_dir():
            print(f"skipping {name}: not found under {args.data}")
            continue
        tally = Tally()
        for case in cases_of(name, args.data):
            one = score(case, args.tolerance_ms / 1000.0)
            tally.add(one)
            tally.worst.extend(one.worst)
        rows[name] = tally.row()
        errors[name] = sorted(tally.worst, key=lambda w: -(w[1] + w[2]))[:10]
        overall.add(tally)
    rows["overall"] = overall.row()
    print_table(rows, args.tolerance_ms)
    speed = timing(args.data, args.repeats) if (args.data / "ludb").is_dir() else {}
    for key, value in speed.items():
        print(f"{key}: {value:.3f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "tolerance_ms": args.tolerance_ms,
        "edges_s": EDGE_S,
        "datasets": rows,
        "records_with_errors": errors,
        "timing": speed,
        "machine": {"python": platform.python_version(), "processor": platform.processor()},
    }
    args.out.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
