"""Similar-case retrieval at scale: query latency and recall@10 against exact search.

For each size (default 10k, 100k, 1M) the script draws random-but-realistic embeddings:
``--centres`` cluster centres (the built-in case base's real embeddings, topped up with random
unit vectors), each case a centre plus a variation in a 16-dimensional subspace of its own
cluster plus small isotropic noise, L2-normalised at ``EMBEDDING_DIM`` (a case's cosine to its
centre is ~0.9, as between cases of one kind in the built-in base). Queries are fresh draws
from the same distribution. The index type is the one a case base of that size gets
(``choose_index_type``: exact up to 20k, HNSW above); HNSW is also measured over a sweep of
``efSearch``. Latency is the median (and 95th percentile) over single queries on one thread;
build time uses every core. A last row times ``CaseBase.search`` end to end (index + SQLite
fetch of the cases) on the built-in base.

    python benchmarks/retrieval.py                       # 10k, 100k, 1M (1M: ~5 GB, minutes)
    python benchmarks/retrieval.py --sizes 10000,100000  # a quick subset
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import time
from typing import Any

import faiss
import numpy as np
from common import RESULTS_DIR, median_ms, print_table, write_results

from tools.cases import index as fx
from tools.cases.embedding import EMBEDDING_DIM

K = 10
#: Rank of each cluster's own subspace of variation, and the variance split: the squared
#: norm of a case's offset from its centre is ~SUBSPACE_VAR + NOISE_VAR (cosine ~0.9).
SUBSPACE_RANK = 16
SUBSPACE_VAR = 0.15
NOISE_VAR = 0.05
#: Vectors generated per block (bounds the temporary memory at 1M).
CHUNK = 100_000
EF_SWEEP = (16, 32, 64, 96, 128, 192)


def centres(n_centres: int, rng: np.random.Generator, use_builtin: bool) -> np.ndarray:
    """Unit cluster centres: the built-in base's embeddings first, random ones after."""
    found = np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
    if use_builtin:
        from tools.cases import builtin_case_base

        with builtin_case_base() as base:
            found = base.store.embeddings()[:n_centres]
    extra = rng.normal(size=(n_centres - len(found), EMBEDDING_DIM))
    extra /= np.linalg.norm(extra, axis=1, keepdims=True)
    return np.concatenate([found, extra.astype(np.float32)])


def draw(n: int, c: np.ndarray, bases: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``n`` unit vectors around the centres ``c`` (cluster k varies along ``bases[k]``)."""
    out = np.empty((n, EMBEDDING_DIM), dtype=np.float32)
    for start in range(0, n, CHUNK):
        m = min(CHUNK, n - start)
        label = rng.integers(len(c), size=m)
        z = rng.normal(size=(m, SUBSPACE_RANK)).astype(np.float32)
        x = rng.normal(size=(m, EMBEDDING_DIM)).astype(np.float32)
        x *= np.float32(np.sqrt(NOISE_VAR / EMBEDDING_DIM))
        x += c[label]
        for k in np.unique(label):  # each cluster's own subspace
            members = np.flatnonzero(label == k)
            x[members] += (z[members] @ bases[k]) * np.float32(
                np.sqrt(SUBSPACE_VAR / SUBSPACE_RANK)
            )
        out[start : start + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def subspaces(n_centres: int, rng: np.random.Generator) -> np.ndarray:
    """An orthonormal ``[SUBSPACE_RANK, dim]`` basis per cluster."""
    raw = rng.normal(size=(n_centres, EMBEDDING_DIM, SUBSPACE_RANK))
    q, _ = np.linalg.qr(raw)
    return np.ascontiguousarray(q.transpose(0, 2, 1), dtype=np.float32)


def recall_at_k(found: np.ndarray, exact: np.ndarray) -> float:
    """Mean fraction of the exact top-k that the index returned."""
    hits = [len(set(a.tolist()) & set(b.tolist())) for a, b in zip(found, exact, strict=True)]
    return float(np.mean(hits)) / exact.shape[1]


def time_queries(index: Any, queries: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Median and 95th-percentile ms of single-query searches (one thread), and the results."""
    faiss.omp_set_num_threads(1)
    times, rows = [], []
    for q in queries:
        start = time.perf_counter()
        _, found = fx.search(index, q, K)
        times.append((time.perf_counter() - start) * 1000.0)
        rows.append(found[0])
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    return statistics.median(times), float(np.percentile(times, 95)), np.stack(rows)


def run_size(
    n: int, c: np.ndarray, bases: np.ndarray, n_queries: int, seed: int
) -> list[dict[str, Any]]:
    """Build the auto-chosen index over ``n`` vectors and measure it."""
    rng = np.random.default_rng([seed, n])
    data = draw(n, c, bases, rng)
    queries = draw(n_queries, c, bases, rng)
    _, exact = faiss.knn(queries, data, K, metric=faiss.METRIC_INNER_PRODUCT)
    kind = fx.choose_index_type(n)
    start = time.perf_counter()
    index: Any = fx.build_index([data], EMBEDDING_DIM, n, kind, train=data[:200_000])
    build_s = time.perf_counter() - start
    del data
    rows = []
    efs = EF_SWEEP if kind == "hnsw" else (None,)
    for ef in efs:
        if ef is not None:
            index.hnsw.efSearch = ef
        med, p95, found = time_queries(index, queries)
        rows.append({"n": n, "index": kind, "ef_search": ef,
                     "default": ef in (None, fx.HNSW_EF_SEARCH), "build_s": build_s,
                     "median_ms": med, "p95_ms": p95,
                     "recall_at_10": recall_at_k(found, exact)})  # fmt: skip
        recall = rows[-1]["recall_at_10"]
        print(f"  n={n:>9,} {kind:5} ef={ef!s:>4} build {build_s:.1f} s: {med:.3f} ms, "
              f"recall@10 {recall:.3f}", flush=True)  # fmt: skip
    return rows


def end_to_end(repeats: int) -> dict[str, Any]:
    """``CaseBase.search`` on the built-in base: index search plus the SQLite case fetch."""
    from tools.cases import builtin_case_base

    faiss.omp_set_num_threads(1)
    with builtin_case_base() as base:
        queries = itertools.cycle(base.store.embeddings())
        med = median_ms(lambda: base.search(next(queries), K), repeats)
        n = len(base)
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    return {"n": n, "index": "flat+sqlite", "ef_search": None, "default": True, "build_s": None,
            "median_ms": med, "p95_ms": None, "recall_at_10": 1.0}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated sizes")
    parser.add_argument("--queries", type=int, default=1000, help="queries per size")
    parser.add_argument("--centres", type=int, default=300, help="cluster centres")
    parser.add_argument("--random-centres", action="store_true",
                        help="random centres only (skip building the built-in base)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(RESULTS_DIR / "retrieval.json"))
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]

    rng = np.random.default_rng(args.seed)
    c = centres(args.centres, rng, use_builtin=not args.random_centres)
    bases = subspaces(len(c), rng)
    rows: list[dict[str, Any]] = []
    for n in sizes:
        rows += run_size(n, c, bases, args.queries, args.seed)
    if not args.random_centres:
        rows.append(end_to_end(args.queries))

    header = ["cases", "index", "efSearch", "default", "build s", "median ms", "p95 ms",
              "recall@10"]  # fmt: skip
    table = [[r["n"], r["index"], r["ef_search"], "*" if r["default"] else "", r["build_s"],
              r["median_ms"], r["p95_ms"], r["recall_at_10"]] for r in rows]  # fmt: skip
    print_table(f"Retrieval at dim {EMBEDDING_DIM}: single-thread query latency, recall@10 "
                "vs exact", header, table)  # fmt: skip
    path = write_results(args.out, {
        "benchmark": "retrieval", "embedding_dim": EMBEDDING_DIM, "k": K,
        "queries": args.queries, "centres": len(c), "subspace_rank": SUBSPACE_RANK,
        "hnsw": {"M": fx.HNSW_M, "efConstruction": fx.HNSW_EF_CONSTRUCTION,
                 "efSearch_default": fx.HNSW_EF_SEARCH},
        "faiss_threads_build": os.cpu_count(), "rows": rows,
    })  # fmt: skip
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
