"""tools.medians.sorted_median: the same values as np.median, by sorting."""

from __future__ import annotations

import numpy as np
import pytest

from tools.medians import sorted_median


class TestSortedMedian:
    @pytest.mark.parametrize("dtype", [np.float32, np.float64])
    @pytest.mark.parametrize(
        ("shape", "axis"),
        [((12, 11, 300), 1), ((12, 12, 300), 1), ((5, 8), 1), ((7,), 0), ((3, 4, 5), 0),
         ((3, 4, 5), -1), ((3, 1, 5), 1)],
    )  # fmt: skip
    def test_bit_identical_to_numpy(self, dtype: type, shape: tuple[int, ...], axis: int) -> None:
        rng = np.random.default_rng(sum(shape) + axis)
        x = (rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 6)).astype(dtype)
        expected = np.median(x, axis=axis)
        got = sorted_median(x, axis)
        assert got.dtype == expected.dtype
        assert np.array_equal(got, expected)

    def test_even_count_is_mean_of_middle_pair(self) -> None:
        x = np.array([[4.0, 1.0, 3.0, 2.0]], dtype=np.float32)
        assert sorted_median(x, 1)[0] == np.float32(2.5)

    def test_nan_propagates_like_numpy(self) -> None:
        x = np.array([[1.0, np.nan, 3.0], [1.0, 2.0, 3.0]])
        got = sorted_median(x, 1)
        assert np.isnan(got[0]) and got[1] == 2.0

    def test_integers_give_float_like_numpy(self) -> None:
        x = np.array([[1, 2, 3, 4]])
        assert sorted_median(x, 1).tolist() == np.median(x, axis=1).tolist() == [2.5]

    def test_empty_axis_falls_back_to_numpy(self) -> None:
        with pytest.warns(RuntimeWarning):
            got = sorted_median(np.zeros((2, 0)), 1)
        assert np.isnan(got).all()
