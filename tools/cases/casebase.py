"""A case base on disk: the SQLite table (truth), ``index.faiss`` and ``meta.json``.

Folder layout::

    cases.sqlite   the case and failure tables (see tools.cases.store)
    index.faiss    the vectors of the case table, in row order
    meta.json      embedding version and dimension, metric, index type, counts, build settings

The index is derived data: when its count disagrees with the table (a build was interrupted
after a batch was committed), :meth:`CaseBase.open` rebuilds it from the table.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import faiss
import numpy as np

from tools.atomic import write_atomic
from tools.cases import index as fx
from tools.cases.embedding import EMBEDDING_DIM, EMBEDDING_VERSION, embedding_signature
from tools.cases.model import CaseBaseError, CaseBaseInfo, CaseBaseVersionError, SimilarCase
from tools.cases.store import CaseStore, StoredCase
from tools.errors import SignalValueError

if TYPE_CHECKING:
    from tools.record import ECGRecord

META_NAME = "meta.json"
#: Extra results fetched beyond ``k`` + the known exclusions when there are exclusions (an
#: approximate index may miss some of the cases just past the excluded ones).
OVERFETCH_MARGIN = 8
#: A query vector whose norm differs from 1 by more than this is renormalised.
NORM_TOLERANCE = 1e-3


def read_meta(folder: str | Path) -> dict[str, Any]:
    """``meta.json`` of a folder (empty when absent or unreadable)."""
    path = Path(folder) / META_NAME
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def write_meta(folder: str | Path, meta: dict[str, Any]) -> None:
    """Write ``meta.json`` atomically."""
    write_atomic(Path(folder) / META_NAME, json.dumps(meta, indent=2, default=str) + "\n")


def check_signature(store: CaseStore) -> None:
    """Refuse a table whose vectors were made by another embedding version or dimension."""
    settings = store.settings()
    if "embedding_version" not in settings:
        raise CaseBaseError(store.folder, "the case table records no embedding version")
    found_version, found_dim = settings["embedding_version"], settings.get("embedding_dim")
    if found_version != EMBEDDING_VERSION or found_dim != str(EMBEDDING_DIM):
        raise CaseBaseVersionError(
            store.folder,
            f"built with embedding version {found_version} (dimension {found_dim}); this "
            f"gem-agent embeds with version {EMBEDDING_VERSION} (dimension {EMBEDDING_DIM})",
        )


def index_from_table(store: CaseStore, index_type: fx.IndexType) -> faiss.Index:
    """Build an index of every vector in the table, in row order."""
    n = store.count()
    train = None
    if index_type == "ivf" and n:
        rng = np.random.default_rng(0)
        size = min(n, fx.ivf_lists(n) * fx.IVF_TRAIN_PER_LIST)
        train = store.embeddings(sorted(rng.choice(n, size=size, replace=False).tolist()))
    return fx.build_index(store.iter_embeddings(), EMBEDDING_DIM, n, index_type, train=train)


def _index_type(n_cases: int, setting: str) -> fx.IndexType:
    """The index type for the table (an empty table gets a flat index: IVF cannot train)."""
    return fx.choose_index_type(n_cases, setting) if n_cases else "flat"


def refresh_index(
    store: CaseStore, setting: str, *, build: dict[str, Any] | None = None
) -> faiss.Index:
    """Bring ``index.faiss`` up to date with the table, rewrite ``meta.json``; return the index.

    Rows are append-only, so an index of the right type holding the first ``ntotal`` rows is
    extended with the rows added since; a missing or unreadable index, one of another type
    or dimension, or one holding more vectors than the table has rows is rebuilt.
    """
    n = store.count()
    index_type = _index_type(n, setting)
    index: Any = fx.read_index(store.folder)
    unusable = (
        index is None
        or fx.index_type_of(index) != index_type
        or index.d != EMBEDDING_DIM
        or index.ntotal > n
    )
    changed = unusable or index.ntotal < n
    if unusable:
        index = index_from_table(store, index_type)
    elif index.ntotal < n:
        for block in store.iter_embeddings(start_row=int(index.ntotal)):
            index.add(block)
    if changed:
        fx.write_index(index, store.folder)
    old = read_meta(store.folder)
    write_meta(store.folder, _meta(store, index, setting, build or old.get("build", {})))
    return index


def _meta(store: CaseStore, index: Any, setting: str, build: dict[str, Any]) -> dict[str, Any]:
    index_type = fx.index_type_of(index)
    params: dict[str, Any] = {}
    if index_type == "hnsw":
        params = {"M": fx.HNSW_M, "efConstruction": int(index.hnsw.efConstruction),
                  "efSearch": int(index.hnsw.efSearch)}  # fmt: skip
    elif index_type == "ivf":
        params = {"nlist": int(index.nlist), "nprobe": int(index.nprobe)}
    return {
        **embedding_signature(),
        "metric": fx.METRIC,
        "index_type": index_type,
        "index_setting": setting,
        "index_params": params,
        "n_cases": store.count(),
        "n_indexed": int(index.ntotal),
        "n_failures": store.failure_count(),
        "datasets": store.dataset_counts(),
        "build": build,
        "updated": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def case_base_info(folder: str | Path) -> CaseBaseInfo:
    """Describe a case-base folder without loading its index (works on any version)."""
    with CaseStore(folder) as store:
        settings = store.settings()
        meta = read_meta(folder)
        index = fx.read_index(folder)
        return CaseBaseInfo(
            path=str(Path(folder)),
            embedding_version=settings.get("embedding_version", "?"),
            embedding_dim=int(settings.get("embedding_dim", 0)),
            measurement_version=settings.get("measurement_version", "?"),
            compatible=settings.get("embedding_version") == EMBEDDING_VERSION
            and settings.get("embedding_dim") == str(EMBEDDING_DIM),
            metric=fx.METRIC,
            index_type=fx.index_type_of(index) if index is not None else "",
            index_setting=str(meta.get("index_setting", "")),
            n_cases=store.count(),
            n_failures=store.failure_count(),
            n_indexed=int(index.ntotal) if index is not None else 0,
            datasets=store.dataset_counts(),
            failures_by_type=store.failure_counts(),
            build=dict(meta.get("build", {})),
        )


def _similar(case: StoredCase, rank: int, similarity: float) -> SimilarCase:
    return SimilarCase(
        case_id=case.case_id,
        dataset=case.dataset,
        patient_id=case.patient_id,
        rank=rank,
        similarity=round(similarity, 6),
        distance=round(1.0 - similarity, 6),
        labels=case.labels,
        report=case.report,
        measurements=case.measurements,
    )


class CaseBase:
    """An open case base: search by embedding, read cases, describe.

    Open with :meth:`open`; close with :meth:`close` or a ``with`` block. One instance may be
    shared between threads: its calls are serialised.
    """

    def __init__(self, store: CaseStore, index: faiss.Index) -> None:
        self.store = store
        self.folder = store.folder
        self.index = index
        self._lock = threading.Lock()

    @classmethod
    def open(cls, folder: str | Path, *, index_type: str | None = None) -> CaseBase:
        """Open a case-base folder for search.

        Parameters
        ----------
        folder
            A folder written by :func:`tools.cases.build_case_base`.
        index_type
            Search with this index type instead of the stored one (``auto``, ``flat``,
            ``hnsw``, ``ivf``); the index is then built in memory and not written.

        Raises
        ------
        CaseBaseVersionError
            The base was built with another embedding version or dimension.
        CaseBaseError
            The folder is not a case base.
        """
        folder = Path(folder)
        if not folder.is_dir():
            raise CaseBaseError(folder, "case-base folder does not exist")
        store = CaseStore(folder)
        try:
            check_signature(store)
            index = cls._load_index(store, index_type)
        except BaseException:
            store.close()
            raise
        return cls(store, index)

    @staticmethod
    def _load_index(store: CaseStore, override: str | None) -> faiss.Index:
        meta = read_meta(store.folder)
        setting = str(meta.get("index_setting") or "auto")
        n = store.count()
        if override is not None and _index_type(n, override) != _index_type(n, setting):
            return index_from_table(store, _index_type(n, override))
        index = fx.read_index(store.folder)
        stale = index is None or index.ntotal != n or index.d != EMBEDDING_DIM
        if not stale and index is not None:
            return index
        try:
            return refresh_index(store, setting)
        except OSError:  # a read-only folder: search from memory
            return index_from_table(store, _index_type(n, setting))

    # ---- lifecycle -------------------------------------------------------------------------
    def close(self) -> None:
        """Close the case table."""
        with self._lock:
            self.store.close()

    def __enter__(self) -> CaseBase:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __len__(self) -> int:
        return int(self.index.ntotal)

    # ---- queries ---------------------------------------------------------------------------
    def info(self) -> CaseBaseInfo:
        """Describe this base (counts, versions, index type, build settings)."""
        info = case_base_info(self.folder)
        return info.model_copy(
            update={"index_type": fx.index_type_of(self.index), "n_indexed": len(self)}
        )

    def vector(self, case_id: str, dataset: str | None = None) -> np.ndarray:
        """The stored embedding of a case (float32 ``[EMBEDDING_DIM]``)."""
        with self._lock:
            rows = self.store.rows_of(case_id, dataset)
            if len(rows) != 1:
                what = "no case" if not rows else f"{len(rows)} cases (give the dataset)"
                raise CaseBaseError(self.folder, f"{what} with id {case_id!r}")
            return self.store.embeddings(rows)[0]

    def search(
        self,
        vector: np.ndarray,
        k: int = 5,
        *,
        exclude_ids: Iterable[str] = (),
        exclude_patient: str | None = None,
    ) -> list[SimilarCase]:
        """The ``k`` cases most similar to an embedding, nearest first.

        Parameters
        ----------
        vector
            float ``[EMBEDDING_DIM]`` (from :func:`tools.cases.embed_measurements`).
        k
            Number of cases wanted; fewer only when the base has fewer eligible cases.
        exclude_ids
            Case ids to leave out, in any dataset (the query's own record).
        exclude_patient
            Leave out every case of this patient (no leakage from the query's patient).
        """
        query = self._query(vector)
        excluded = set(exclude_ids)
        if k < 1 or not len(self):
            return []
        with self._lock:
            return self._search(query, k, excluded, exclude_patient)

    def _search(
        self, query: np.ndarray, k: int, excluded: set[str], exclude_patient: str | None
    ) -> list[SimilarCase]:
        n_excluded = sum(len(self.store.rows_of(cid)) for cid in excluded)
        if exclude_patient is not None:
            n_excluded += self.store.patient_count(exclude_patient)
        margin = OVERFETCH_MARGIN if excluded or exclude_patient is not None else 0
        fetch = min(len(self), k + n_excluded + margin)
        while True:
            scores, rows = fx.search(self.index, query, fetch)
            hits = [(float(s), int(r)) for s, r in zip(scores[0], rows[0], strict=True) if r >= 0]
            if margin:
                hits = self._eligible(hits, excluded, exclude_patient)
            kept = hits[:k]
            if len(kept) >= k or fetch >= len(self):
                break
            fetch = min(len(self), 2 * fetch)
        cases = self.store.fetch([row for _, row in kept])
        return [_similar(cases[row], rank, score) for rank, (score, row) in enumerate(kept, 1)]

    def _eligible(
        self, hits: list[tuple[float, int]], excluded: set[str], patient: str | None
    ) -> list[tuple[float, int]]:
        """The hits whose case id is not excluded and whose patient is not ``patient``."""
        who = self.store.identities([row for _, row in hits])
        return [
            (score, row)
            for score, row in hits
            if row in who
            and who[row][0] not in excluded
            and (patient is None or who[row][1] != patient)
        ]

    def search_record(
        self, record: ECGRecord, k: int = 5, *, exclude_self: bool = True
    ) -> list[SimilarCase]:
        """Measure, embed and search a record, leaving out its own id and patient by default."""
        from tools.cases.embedding import embed_record

        vector = embed_record(record)
        if not exclude_self:
            return self.search(vector, k)
        return self.search(
            vector, k, exclude_ids=(record.record_id,), exclude_patient=record.patient_id
        )

    def _query(self, vector: np.ndarray) -> np.ndarray:
        v = np.asarray(vector, dtype=np.float32).ravel()
        if v.shape != (EMBEDDING_DIM,):
            raise SignalValueError(
                "query", f"embedding has {v.size} values; this case base needs {EMBEDDING_DIM}"
            )
        norm = float(np.linalg.norm(v))
        if not np.isfinite(norm) or norm == 0.0:
            raise SignalValueError("query", "embedding is zero or not finite")
        return v / norm if abs(norm - 1.0) > NORM_TOLERANCE else v
