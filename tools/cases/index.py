"""FAISS indexes over unit-norm embeddings: exact up to 20k cases, HNSW above, IVF on request.

Every index uses the inner-product metric on L2-normalised vectors, so the score it returns
is the cosine similarity whatever the index type.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal, cast

import faiss
import numpy as np

from tools.atomic import atomic_path
from tools.cases.model import CaseBaseError

#: faiss's bundled stubs lack the search-parameter classes and subclass attributes.
_faiss: Any = faiss

IndexType = Literal["flat", "hnsw", "ivf"]
IndexSetting = Literal["auto", "flat", "hnsw", "ivf"]
INDEX_SETTINGS: tuple[str, ...] = ("auto", "flat", "hnsw", "ivf")
INDEX_NAME = "index.faiss"
METRIC = "inner_product"

#: Exact search up to this many cases. A flat scan reads every vector (n x 484 x 4 bytes) per
#: query, memory-bound at ~1 ms per 10k cases on one core (benchmarks/retrieval.py), so 20k
#: keeps the 2 ms budget; beyond it HNSW answers in well under 1 ms at recall@10 >= 0.95.
EXACT_MAX_CASES = 20_000
#: HNSW graph degree (Malkov & Yashunin 2018): 32 links per node is the usual recall/memory
#: balance at a few hundred dimensions (256 bytes of links per vector).
HNSW_M = 32
#: Candidate list while building: twice faiss's default 40, for a better-connected graph on
#: clustered data (1M vectors build in ~8 min on 2 cores; benchmarks/retrieval.py).
HNSW_EF_CONSTRUCTION = 80
#: Candidate list while searching (raised to the number of results asked for when larger).
#: At 1M clustered vectors: recall@10 0.987 at 0.6 ms a query on one core; 32 would still
#: give 0.967 at 0.3 ms (benchmarks/retrieval.py, benchmarks/results/retrieval.json).
HNSW_EF_SEARCH = 96
#: IVF lists per sqrt(n) (Jegou et al. 2011 use ~4 sqrt(n) coarse centroids).
IVF_LISTS_PER_SQRT_N = 4
#: IVF training points per list (faiss warns under 39).
IVF_TRAIN_PER_LIST = 64
#: Lists visited per IVF query.
IVF_NPROBE = 16


def choose_index_type(n_cases: int, setting: str = "auto") -> IndexType:
    """The index type for a base of ``n_cases``: ``setting`` itself unless it is ``auto``."""
    if setting not in INDEX_SETTINGS:
        raise ValueError(f"index type must be one of {', '.join(INDEX_SETTINGS)}, got {setting!r}")
    if setting != "auto":
        return cast(IndexType, setting)
    return "flat" if n_cases <= EXACT_MAX_CASES else "hnsw"


def ivf_lists(n_cases: int) -> int:
    """Number of IVF lists for ``n_cases`` (at least 1, at most one per training point)."""
    wanted = max(1, round(IVF_LISTS_PER_SQRT_N * math.sqrt(max(n_cases, 1))))
    return max(1, min(wanted, n_cases // IVF_TRAIN_PER_LIST or 1))


def new_index(dim: int, index_type: IndexType, n_cases: int) -> faiss.Index:
    """An empty index of this type for about ``n_cases`` vectors (IVF still needs training)."""
    if index_type == "flat":
        return faiss.IndexFlatIP(dim)
    if index_type == "hnsw":
        hnsw: Any = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        hnsw.hnsw.efSearch = HNSW_EF_SEARCH
        return hnsw
    quantizer = faiss.IndexFlatIP(dim)
    ivf: Any = faiss.IndexIVFFlat(quantizer, dim, ivf_lists(n_cases), faiss.METRIC_INNER_PRODUCT)
    ivf.nprobe = IVF_NPROBE
    return ivf


def build_index(
    chunks: Iterable[np.ndarray],
    dim: int,
    n_cases: int,
    index_type: IndexType,
    *,
    train: np.ndarray | None = None,
) -> faiss.Index:
    """Fill a new index with the vectors of ``chunks`` (float32 ``[n, dim]`` blocks, in order).

    Parameters
    ----------
    chunks
        The vectors, block by block (so a large base never sits in memory twice).
    dim, n_cases
        Vector length and total count (sizes the IVF lists).
    index_type
        ``flat`` (exact), ``hnsw`` or ``ivf``.
    train
        IVF only: a sample of the vectors to train the coarse quantiser on.
    """
    index: Any = new_index(dim, index_type, n_cases)
    if index_type == "ivf":
        sample = train if train is not None else np.zeros((0, dim), np.float32)
        if sample.shape[0] < index.nlist:
            raise CaseBaseError(None, f"IVF needs at least {index.nlist} training vectors")
        index.train(np.ascontiguousarray(sample, dtype=np.float32))
    for block in chunks:
        if block.size:
            index.add(np.ascontiguousarray(block, dtype=np.float32))
    return index


def index_type_of(index: faiss.Index) -> IndexType:
    """The type name of a loaded index."""
    if isinstance(index, faiss.IndexHNSW):
        return "hnsw"
    if isinstance(index, faiss.IndexIVF):
        return "ivf"
    return "flat"


def search(index: Any, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best rows per query: ``(similarity [q, k] float32, row [q, k] int64)``.

    Rows are -1 (similarity -inf) where the index holds fewer than ``k`` vectors; the HNSW
    candidate list is widened to ``k`` when ``k`` exceeds ``HNSW_EF_SEARCH``.
    """
    q = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
    k = max(1, min(int(k), index.ntotal)) if index.ntotal else 1
    params: Any = None
    if isinstance(index, faiss.IndexHNSW):
        params = _faiss.SearchParametersHNSW(efSearch=max(int(index.hnsw.efSearch), k))
    elif isinstance(index, faiss.IndexIVF):
        params = _faiss.SearchParametersIVF(nprobe=int(index.nprobe))
    scores, rows = index.search(q, k, params=params)
    return scores, rows


def write_index(index: faiss.Index, folder: str | Path) -> Path:
    """Write ``index.faiss`` atomically (a temporary file renamed over the old one)."""
    path = Path(folder) / INDEX_NAME
    with atomic_path(path) as tmp:
        faiss.write_index(index, str(tmp))
    return path


def read_index(folder: str | Path) -> faiss.Index | None:
    """``index.faiss`` of a folder, or ``None`` when it is absent or unreadable."""
    path = Path(folder) / INDEX_NAME
    if not path.is_file():
        return None
    try:
        return faiss.read_index(str(path))
    except RuntimeError:
        return None
