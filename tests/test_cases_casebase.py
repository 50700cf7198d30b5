"""CaseBase: open, search with exclusions, stale-index repair, version checks, info.

Bases here are written straight into the case table with made-up unit vectors (no ECG is
measured), so every nearest neighbour is known by construction.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from tools.cases import index as fx
from tools.cases.build import open_build_store
from tools.cases.casebase import META_NAME, CaseBase, case_base_info, refresh_index
from tools.cases.embedding import EMBEDDING_DIM, EMBEDDING_VERSION
from tools.cases.model import CaseBaseError, CaseBaseVersionError, CaseLabel
from tools.cases.store import CaseRow, CaseStore
from tools.errors import RecordError, SignalValueError

N_CASES = 60
#: Cases 0-9 belong to patient "p0", 10-19 to "p1", ... (six patients).
PER_PATIENT = 10


def _vectors(n: int = N_CASES, seed: int = 0) -> np.ndarray:
    """Cases on a chain: case i is nearest to i-1 and i+1 (small steps on the sphere)."""
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.normal(size=(n, EMBEDDING_DIM)) * 0.1, axis=0) + rng.normal(
        size=EMBEDDING_DIM
    )
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _rows(vectors: np.ndarray) -> list[CaseRow]:
    return [
        CaseRow(
            case_id=f"c{i}",
            dataset="fake",
            patient_id=f"p{i // PER_PATIENT}",
            labels=(CaseLabel(code=f"L{i % 3}", vocabulary="synthetic"),),
            report=f"case {i}",
            measurements={"heart_rate_bpm": 60.0 + i, "pr_ms": None},
            embedding=v,
        )
        for i, v in enumerate(vectors)
    ]


def _exact(vectors: np.ndarray, query: np.ndarray, eligible: Iterable[int], k: int) -> list[str]:
    """Brute-force ids of the ``k`` eligible cases most similar to ``query``."""
    rows = np.array(list(eligible))
    order = np.argsort(-(vectors[rows] @ query), kind="stable")[:k]
    return [f"c{rows[i]}" for i in order]


def make_base(folder: Path, vectors: np.ndarray, setting: str = "auto") -> Path:
    with open_build_store(folder) as store:
        store.add_batch(_rows(vectors), [])
        refresh_index(store, setting, build={"dataset": "fake"})
    return folder


@pytest.fixture(scope="module")
def vectors() -> np.ndarray:
    return _vectors()


@pytest.fixture
def base_dir(tmp_path: Path, vectors: np.ndarray) -> Path:
    return make_base(tmp_path / "base", vectors)


@pytest.fixture
def base(base_dir: Path) -> Iterator[CaseBase]:
    with CaseBase.open(base_dir) as opened:
        yield opened


class TestOpen:
    def test_basic(self, base: CaseBase) -> None:
        assert len(base) == N_CASES
        assert fx.index_type_of(base.index) == "flat"

    def test_missing_folder(self, tmp_path: Path) -> None:
        with pytest.raises(CaseBaseError, match="does not exist"):
            CaseBase.open(tmp_path / "nowhere")

    def test_not_a_case_base(self, tmp_path: Path) -> None:
        with pytest.raises(CaseBaseError, match="not a case base"):
            CaseBase.open(tmp_path)

    def test_errors_are_record_errors(self) -> None:
        assert issubclass(CaseBaseVersionError, RecordError)

    def test_other_embedding_version_refused(self, base_dir: Path) -> None:
        with CaseStore(base_dir) as store:
            store.write_settings({"embedding_version": "0-old"})
        with pytest.raises(CaseBaseVersionError, match=r"embedding version 0-old .*rebuild"):
            CaseBase.open(base_dir)

    def test_other_dimension_refused(self, base_dir: Path) -> None:
        with CaseStore(base_dir) as store:
            store.write_settings({"embedding_dim": EMBEDDING_DIM + 1})
        with pytest.raises(CaseBaseVersionError, match=f"dimension {EMBEDDING_DIM + 1}"):
            CaseBase.open(base_dir)

    def test_build_refuses_to_extend_other_version(self, base_dir: Path) -> None:
        with CaseStore(base_dir) as store:
            store.write_settings({"embedding_version": "0-old"})
        with pytest.raises(CaseBaseVersionError, match="0-old"):
            open_build_store(base_dir)


class TestStaleIndex:
    def test_missing_index_rebuilt(self, base_dir: Path, vectors: np.ndarray) -> None:
        (base_dir / fx.INDEX_NAME).unlink()
        with CaseBase.open(base_dir) as base:
            assert len(base) == N_CASES
            assert base.search(vectors[7], 1)[0].case_id == "c7"
        assert (base_dir / fx.INDEX_NAME).is_file()

    def test_rows_added_after_index_are_indexed(self, base_dir: Path) -> None:
        extra = _vectors(3, seed=9)
        with CaseStore(base_dir) as store:  # an interrupted build: table ahead of the index
            store.add_batch(
                [CaseRow(f"x{i}", "fake", None, (), None, {}, v) for i, v in enumerate(extra)], []
            )
        with CaseBase.open(base_dir) as base:
            assert len(base) == N_CASES + 3
            assert base.search(extra[2], 1)[0].case_id == "x2"
        assert json.loads((base_dir / META_NAME).read_text())["n_indexed"] == N_CASES + 3

    def test_hnsw_index_extended_in_place(self, tmp_path: Path, vectors: np.ndarray) -> None:
        folder = make_base(tmp_path / "h", vectors[:50], setting="hnsw")
        with CaseStore(folder) as store:
            store.add_batch(_rows(vectors)[50:], [])
        with CaseBase.open(folder) as base:
            assert fx.index_type_of(base.index) == "hnsw"
            assert len(base) == N_CASES
            assert base.search(vectors[55], 1)[0].case_id == "c55"

    def test_empty_base(self, tmp_path: Path, vectors: np.ndarray) -> None:
        folder = make_base(tmp_path / "e", vectors[:0], setting="ivf")
        with CaseBase.open(folder) as base:
            assert len(base) == 0
            assert base.search(vectors[0], 5) == []

    def test_corrupt_index_rebuilt(self, base_dir: Path) -> None:
        (base_dir / fx.INDEX_NAME).write_bytes(b"not faiss")
        with CaseBase.open(base_dir) as base:
            assert len(base) == N_CASES


class TestSearch:
    def test_nearest_is_itself(self, base: CaseBase, vectors: np.ndarray) -> None:
        found = base.search(vectors[20], 3)
        assert [c.case_id for c in found] == _exact(vectors, vectors[20], range(N_CASES), 3)
        assert found[0].case_id == "c20"
        assert found[0].similarity == pytest.approx(1.0, abs=1e-5)
        assert found[0].distance == pytest.approx(0.0, abs=1e-5)
        assert [c.rank for c in found] == [1, 2, 3]

    def test_results_carry_the_case(self, base: CaseBase, vectors: np.ndarray) -> None:
        case = base.search(vectors[4], 1)[0]
        assert case.dataset == "fake"
        assert case.patient_id == "p0"
        assert case.report == "case 4"
        assert case.labels[0].code == "L1"
        assert case.measurements == {"heart_rate_bpm": 64.0, "pr_ms": None}

    def test_sorted_by_similarity(self, base: CaseBase, vectors: np.ndarray) -> None:
        found = base.search(vectors[33], 10)
        sims = [c.similarity for c in found]
        assert sims == sorted(sims, reverse=True)

    def test_exclude_self(self, base: CaseBase, vectors: np.ndarray) -> None:
        found = base.search(vectors[20], 5, exclude_ids=("c20",))
        others = [i for i in range(N_CASES) if i != 20]
        assert [c.case_id for c in found] == _exact(vectors, vectors[20], others, 5)

    def test_exclude_patient_still_returns_k(self, base: CaseBase, vectors: np.ndarray) -> None:
        found = base.search(vectors[25], 5, exclude_ids=("c25",), exclude_patient="p2")
        assert len(found) == 5
        assert all(c.patient_id != "p2" for c in found)
        others = [i for i in range(N_CASES) if i // PER_PATIENT != 2]
        assert [c.case_id for c in found] == _exact(vectors, vectors[25], others, 5)

    def test_many_exclusions(self, base: CaseBase, vectors: np.ndarray) -> None:
        many = tuple(f"c{i}" for i in range(0, 40))
        found = base.search(vectors[5], 5, exclude_ids=many)
        assert [c.case_id for c in found] == _exact(vectors, vectors[5], range(40, N_CASES), 5)

    def test_k_beyond_eligible_returns_all(self, base: CaseBase, vectors: np.ndarray) -> None:
        found = base.search(vectors[0], 100, exclude_patient="p0")
        assert len(found) == N_CASES - PER_PATIENT

    def test_k_zero(self, base: CaseBase, vectors: np.ndarray) -> None:
        assert base.search(vectors[0], 0) == []

    def test_unnormalised_query(self, base: CaseBase, vectors: np.ndarray) -> None:
        found = base.search(vectors[12] * 7.0, 1)
        assert found[0].case_id == "c12"
        assert found[0].similarity == pytest.approx(1.0, abs=1e-5)

    def test_wrong_dimension(self, base: CaseBase) -> None:
        with pytest.raises(SignalValueError, match=f"needs {EMBEDDING_DIM}"):
            base.search(np.ones(10), 3)

    def test_zero_vector(self, base: CaseBase) -> None:
        with pytest.raises(SignalValueError, match="zero or not finite"):
            base.search(np.zeros(EMBEDDING_DIM), 3)

    def test_shared_between_threads(self, base: CaseBase, vectors: np.ndarray) -> None:
        expected = [[c.case_id for c in base.search(v, 3, exclude_patient="p1")] for v in vectors]
        with ThreadPoolExecutor(4) as pool:
            found = list(pool.map(lambda v: base.search(v, 3, exclude_patient="p1"), vectors))
        assert [[c.case_id for c in cases] for cases in found] == expected

    def test_vector_of_case(self, base: CaseBase, vectors: np.ndarray) -> None:
        np.testing.assert_array_equal(base.vector("c3"), vectors[3])
        with pytest.raises(CaseBaseError, match="no case with id 'zz'"):
            base.vector("zz")


class TestIndexTypes:
    def test_exact_and_hnsw_agree(self, base_dir: Path, vectors: np.ndarray) -> None:
        with (
            CaseBase.open(base_dir, index_type="flat") as flat,
            CaseBase.open(base_dir, index_type="hnsw") as hnsw,
        ):
            assert fx.index_type_of(hnsw.index) == "hnsw"
            for q in vectors[::7]:
                exact = [c.case_id for c in flat.search(q, 5)]
                approx = [c.case_id for c in hnsw.search(q, 5)]
                assert approx == exact

    def test_override_is_not_written(self, base_dir: Path) -> None:
        with CaseBase.open(base_dir, index_type="hnsw"):
            pass
        loaded = fx.read_index(base_dir)
        assert loaded is not None
        assert fx.index_type_of(loaded) == "flat"

    def test_stored_hnsw_base(self, tmp_path: Path, vectors: np.ndarray) -> None:
        folder = make_base(tmp_path / "h", vectors, setting="hnsw")
        with CaseBase.open(folder) as base:
            assert fx.index_type_of(base.index) == "hnsw"
            assert base.search(vectors[44], 1)[0].case_id == "c44"
            assert base.info().index_setting == "hnsw"


class TestInfo:
    def test_counts_and_versions(self, base: CaseBase) -> None:
        info = base.info()
        assert info.n_cases == info.n_indexed == N_CASES
        assert info.embedding_version == EMBEDDING_VERSION
        assert info.embedding_dim == EMBEDDING_DIM
        assert info.compatible
        assert info.datasets == {"fake": N_CASES}
        assert info.metric == "inner_product"
        assert info.build == {"dataset": "fake"}

    def test_info_of_incompatible_base(self, base_dir: Path) -> None:
        db = sqlite3.connect(base_dir / "cases.sqlite")
        with db:
            db.execute("UPDATE settings SET value = '0-old' WHERE key = 'embedding_version'")
        db.close()
        info = case_base_info(base_dir)
        assert not info.compatible
        assert info.embedding_version == "0-old"
        assert info.n_cases == N_CASES
