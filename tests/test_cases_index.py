"""FAISS indexes: type choice, exact vs approximate agreement, files on disk."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest

from tools.cases import index as fx
from tools.cases.model import CaseBaseError

DIM = 48


def clustered(n: int, dim: int = DIM, n_centres: int = 20, seed: int = 0) -> np.ndarray:
    """Unit vectors scattered around a few centres (like embeddings of kinds of ECG)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_centres, dim))
    x = centres[rng.integers(n_centres, size=n)] + 0.4 * rng.normal(size=(n, dim))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32)


class TestChooseIndexType:
    def test_auto_exact_up_to_threshold(self) -> None:
        assert fx.choose_index_type(fx.EXACT_MAX_CASES) == "flat"
        assert fx.choose_index_type(fx.EXACT_MAX_CASES + 1) == "hnsw"
        assert fx.choose_index_type(0) == "flat"

    @pytest.mark.parametrize("setting", ["flat", "hnsw", "ivf"])
    def test_explicit_setting_wins(self, setting: str) -> None:
        assert fx.choose_index_type(10, setting) == setting
        assert fx.choose_index_type(10**7, setting) == setting

    def test_unknown_setting(self) -> None:
        with pytest.raises(ValueError, match="index type must be one of"):
            fx.choose_index_type(10, "annoy")


class TestIvfLists:
    def test_grows_with_sqrt_n(self) -> None:
        assert fx.ivf_lists(1_000_000) == 4000
        assert fx.ivf_lists(10_000) < fx.ivf_lists(100_000)

    def test_never_more_lists_than_training_allows(self) -> None:
        assert fx.ivf_lists(100) == 1
        assert fx.ivf_lists(0) == 1


class TestBuildAndSearch:
    def test_flat_is_exact(self) -> None:
        x = clustered(500)
        index = fx.build_index([x[:200], x[200:]], DIM, len(x), "flat")
        scores, rows = fx.search(index, x[:20], 5)
        np.testing.assert_array_equal(rows[:, 0], np.arange(20))
        expected = np.sort(x[:20] @ x.T, axis=1)[:, ::-1][:, :5]
        np.testing.assert_allclose(scores, expected, atol=1e-5)

    def test_hnsw_agrees_with_exact(self) -> None:
        x = clustered(3000, seed=1)
        queries = clustered(100, seed=2)
        flat = fx.build_index([x], DIM, len(x), "flat")
        hnsw = fx.build_index([x], DIM, len(x), "hnsw")
        _, exact = fx.search(flat, queries, 10)
        _, approx = fx.search(hnsw, queries, 10)
        recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(exact, approx, strict=True)])
        assert recall >= 0.95
        assert fx.index_type_of(hnsw) == "hnsw"

    def test_ivf_agrees_with_exact(self) -> None:
        x = clustered(3000, seed=3)
        flat = fx.build_index([x], DIM, len(x), "flat")
        ivf = fx.build_index([x], DIM, len(x), "ivf", train=x)
        _, exact = fx.search(flat, x[:50], 10)
        _, approx = fx.search(ivf, x[:50], 10)
        recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(exact, approx, strict=True)])
        assert recall >= 0.9
        assert fx.index_type_of(ivf) == "ivf"

    def test_ivf_without_training_data(self) -> None:
        with pytest.raises(CaseBaseError, match="training vectors"):
            fx.build_index([clustered(10)], DIM, 10_000, "ivf")

    def test_k_beyond_size_is_clamped(self) -> None:
        x = clustered(4)
        index = fx.build_index([x], DIM, 4, "flat")
        _, rows = fx.search(index, x[0], 10)
        assert sorted(rows[0].tolist()) == [0, 1, 2, 3]

    def test_hnsw_widens_candidates_for_large_k(self) -> None:
        x = clustered(2000, seed=4)
        index = fx.build_index([x], DIM, len(x), "hnsw")
        k = fx.HNSW_EF_SEARCH * 3
        _, rows = fx.search(index, x[0], k)
        assert (rows[0] >= 0).sum() == k


class TestFiles:
    def test_round_trip(self, tmp_path: Path) -> None:
        x = clustered(100)
        index = fx.build_index([x], DIM, 100, "hnsw")
        path = fx.write_index(index, tmp_path)
        assert path.name == fx.INDEX_NAME
        loaded = fx.read_index(tmp_path)
        assert loaded is not None
        assert loaded.ntotal == 100
        assert fx.index_type_of(loaded) == "hnsw"
        assert not list(tmp_path.glob(".*tmp"))

    def test_absent(self, tmp_path: Path) -> None:
        assert fx.read_index(tmp_path) is None

    def test_corrupt_reads_as_absent(self, tmp_path: Path) -> None:
        (tmp_path / fx.INDEX_NAME).write_bytes(b"\x00garbage" * 10)
        assert fx.read_index(tmp_path) is None

    def test_inner_product_metric(self) -> None:
        for kind in ("flat", "hnsw"):
            index = fx.new_index(DIM, kind, 10)
            assert index.metric_type == faiss.METRIC_INNER_PRODUCT
