"""The SQLite case table: row numbering, batches, failures, reading back."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tools.cases.model import CaseBaseError, CaseLabel
from tools.cases.store import DB_NAME, CaseRow, CaseStore, FailureRow

DIM = 8


def _case(case_id: str, dataset: str = "ds", patient: str | None = None, seed: int = 0) -> CaseRow:
    vector = np.random.default_rng(seed).normal(size=DIM).astype(np.float32)
    return CaseRow(
        case_id=case_id,
        dataset=dataset,
        patient_id=patient,
        labels=(CaseLabel(code="SR", vocabulary="synthetic", name="sinus rhythm"),),
        report=f"report {case_id}",
        measurements={"qrs_ms": 90.0, "pr_ms": None},
        embedding=vector,
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[CaseStore]:
    with CaseStore(tmp_path / "base", create=True) as opened:
        yield opened


class TestOpen:
    def test_missing_table_without_create(self, tmp_path: Path) -> None:
        with pytest.raises(CaseBaseError, match=f"{DB_NAME} is missing"):
            CaseStore(tmp_path)

    def test_not_sqlite(self, tmp_path: Path) -> None:
        (tmp_path / DB_NAME).write_bytes(b"this is not a database" * 100)
        with pytest.raises(CaseBaseError, match="cannot read the case table"):
            CaseStore(tmp_path)

    def test_settings_round_trip(self, store: CaseStore) -> None:
        store.write_settings({"embedding_version": "7", "embedding_dim": 12})
        assert store.settings() == {"embedding_version": "7", "embedding_dim": "12"}


class TestAddBatch:
    def test_rows_numbered_in_order(self, store: CaseStore) -> None:
        store.add_batch([_case("a"), _case("b")], [])
        store.add_batch([_case("c")], [])
        assert [store.rows_of(c) for c in "abc"] == [[0], [1], [2]]
        assert store.count() == 3

    def test_duplicate_skipped_without_gap(self, store: CaseStore) -> None:
        store.add_batch([_case("a"), _case("a", seed=5), _case("b")], [])
        assert store.count() == 2
        assert store.rows_of("b") == [1]
        np.testing.assert_array_equal(store.embeddings([0])[0], _case("a").embedding)

    def test_same_id_in_two_datasets(self, store: CaseStore) -> None:
        store.add_batch([_case("1", "ludb"), _case("1", "ptbxl")], [])
        assert store.rows_of("1") == [0, 1]
        assert store.rows_of("1", "ptbxl") == [1]
        assert store.dataset_counts() == {"ludb": 1, "ptbxl": 1}

    def test_failures_recorded_and_counted(self, store: CaseStore) -> None:
        store.add_batch([_case("a")], [FailureRow("b", "ds", "MissingFileError", "b.hea: gone")])
        assert store.failure_count() == 1
        assert store.failure_counts() == {"MissingFileError": 1}
        assert store.failures()[0].message == "b.hea: gone"
        assert store.known_ids("ds") == {"a", "b"}
        assert store.known_ids("ds", with_failures=False) == {"a"}
        assert store.known_ids("other") == set()

    def test_success_replaces_failure(self, store: CaseStore) -> None:
        store.add_batch([], [FailureRow("a", "ds", "CorruptFileError", "a: bad")])
        store.add_batch([_case("a")], [])
        assert store.failure_count() == 0
        assert store.count() == 1

    def test_batch_is_atomic(self, store: CaseStore) -> None:
        bad = _case("b")
        object.__setattr__(bad, "measurements", {"x": object()})  # not JSON: fails mid-batch
        with pytest.raises(TypeError):
            store.add_batch([_case("a"), bad], [])
        assert store.count() == 0


class TestRead:
    def test_embeddings_in_row_order(self, store: CaseStore) -> None:
        cases = [_case(str(i), seed=i) for i in range(5)]
        store.add_batch(cases, [])
        expected = np.stack([c.embedding for c in cases])
        np.testing.assert_array_equal(store.embeddings(), expected)
        np.testing.assert_array_equal(store.embeddings([3, 1]), expected[[3, 1]])
        chunks = list(store.iter_embeddings(chunk_rows=2))
        assert [c.shape[0] for c in chunks] == [2, 2, 1]

    def test_missing_row_raises(self, store: CaseStore) -> None:
        store.add_batch([_case("a")], [])
        with pytest.raises(CaseBaseError, match=r"rows \[4\]"):
            store.embeddings([0, 4])

    def test_fetch_round_trip(self, store: CaseStore) -> None:
        store.add_batch([_case("a", patient="p1")], [])
        case = store.fetch([0, 9])[0]
        assert case.case_id == "a"
        assert case.patient_id == "p1"
        assert case.labels == [CaseLabel(code="SR", vocabulary="synthetic", name="sinus rhythm")]
        assert case.measurements == {"qrs_ms": 90.0, "pr_ms": None}
        assert case.report == "report a"

    def test_patient_count(self, store: CaseStore) -> None:
        store.add_batch([_case("a", patient="p"), _case("b", patient="p"), _case("c")], [])
        assert store.patient_count("p") == 2
        assert store.patient_count("q") == 0

    def test_embedding_stored_little_endian_float32(self, store: CaseStore) -> None:
        store.add_batch([_case("a")], [])
        db = sqlite3.connect(store.path)
        (blob,) = db.execute("SELECT embedding FROM cases").fetchone()
        db.close()
        assert len(blob) == DIM * 4
        np.testing.assert_array_equal(np.frombuffer(blob, "<f4"), _case("a").embedding)
