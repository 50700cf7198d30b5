"""Vectorised helpers behind the fast measurement path: each against a plain reference."""

from __future__ import annotations

import numpy as np
import pytest

from tools.delineate.filters import _central_difference, strided_windows
from tools.delineate.fusion import kth_extreme
from tools.delineate.scorer import BoundaryInputs, _admissible
from tools.delineate.twave import _closer_to_first, _within
from tools.delineate.windows import local_maxima, local_minima, nan_median, take_last
from tools.quality.checks import _nonzero_2d, long_runs


def _padded(rng: np.random.Generator, shape: tuple[int, ...], pad: int) -> np.ndarray:
    x = rng.standard_normal(shape).astype(np.float32)
    return np.concatenate(
        [np.repeat(x[..., :1], pad, -1), x, np.repeat(x[..., -1:], pad, -1)], axis=-1
    )


def _window(row: np.ndarray, pad: int, start: int, length: int) -> np.ndarray:
    """Reference: one window, indices clipped into the padded row."""
    s = min(max(start + pad, 0), row.size - length)
    return row[s : s + length]


class TestTakeLast:
    def test_matches_take_along_axis_with_clipping(self) -> None:
        rng = np.random.default_rng(0)
        values = rng.standard_normal((3, 4, 9))
        index = rng.integers(-3, 13, (3, 4))
        expected = np.take_along_axis(values, np.clip(index, 0, 8)[..., None], -1)[..., 0]
        np.testing.assert_array_equal(take_last(values, index), expected)

    def test_broadcast_index_falls_back(self) -> None:
        values = np.arange(24.0).reshape(2, 3, 4)
        got = take_last(values, np.array([[1], [3]]))  # [2, 1] broadcast over the 3 rows
        np.testing.assert_array_equal(got, values[[[0], [1]], :, [[1], [3]]][:, 0, :])


class TestStridedWindows:
    @pytest.mark.parametrize("step", [1, 2, 3])
    def test_sources_and_step_match_plain_windows(self, step: int) -> None:
        rng = np.random.default_rng(step)
        pad, length = 5, 7
        stack = _padded(rng, (4, 3, 40), pad)
        start = rng.integers(-10, 45, (3, 6))  # per lead and beat, some past either end
        got = strided_windows(stack, pad, start, length, sources=[2, 0], step=step)
        assert got.shape == (2, 3, 6, len(range(0, length, step)))
        for i, src in enumerate([2, 0]):
            for lead in range(3):
                for beat in range(6):
                    ref = _window(stack[src, lead], pad, int(start[lead, beat]), length)
                    np.testing.assert_array_equal(got[i, lead, beat], ref[::step])

    def test_one_dimensional_start_on_rows(self) -> None:
        rng = np.random.default_rng(7)
        pad, length = 4, 6
        stack = _padded(rng, (2, 30), pad)
        start = np.array([-8, 0, 13, 40])
        got = strided_windows(stack, pad, start, length, sources=[1, 0], step=2)
        for i, src in enumerate([1, 0]):
            for b, s in enumerate(start):
                np.testing.assert_array_equal(got[i, b], _window(stack[src], pad, s, length)[::2])


class TestLocalMinima:
    def test_is_local_maxima_of_negation(self) -> None:
        rng = np.random.default_rng(3)
        x = np.round(rng.standard_normal((5, 50)), 1)  # rounded: plateaus occur
        np.testing.assert_array_equal(local_minima(x), local_maxima(-x))
        assert local_minima(x).any()


class TestTPhaseGeometry:
    def test_closer_to_first_matches_distances(self) -> None:
        w = np.arange(40)
        a, b = np.meshgrid(np.arange(-3, 43, 3), np.arange(-3, 43, 2))
        expected = np.abs(w - a[..., None]) <= np.abs(w - b[..., None])
        np.testing.assert_array_equal(_closer_to_first(w, a, b), expected)

    def test_within_matches_distance(self) -> None:
        w = np.arange(30)
        centre = np.array([[0, 7, 29], [15, -4, 33]])
        expected = np.abs(w - centre[..., None]) <= 6.5
        np.testing.assert_array_equal(_within(w, centre, 6.5), expected)


class TestCentralDifference:
    def test_into_out_with_zero_ends(self) -> None:
        x = np.array([[0.0, 1.0, 4.0, 9.0]], dtype=np.float32)
        out = np.full_like(x, np.nan)
        _central_difference(x, out=out)
        np.testing.assert_array_equal(out, [[0.0, 2.0, 4.0, 0.0]])


class TestKthExtreme:
    def test_matches_sorted_reference(self) -> None:
        rng = np.random.default_rng(11)
        v = rng.integers(-1, 100, (12, 9))
        v[:, 3] = -1
        for latest in (False, True):
            got = kth_extreme(v, latest=latest, fraction=0.2)
            for beat in range(v.shape[1]):
                present = np.sort(v[v[:, beat] >= 0, beat])
                if present.size == 0:
                    assert got[beat] == -1
                    continue
                k = max(int(np.ceil(0.2 * present.size)), 1)
                assert got[beat] == (present[-k] if latest else present[k - 1])


class TestNonzero2d:
    def test_same_as_numpy_nonzero(self) -> None:
        mask = np.random.default_rng(5).random((4, 37)) > 0.8
        for got, expected in zip(_nonzero_2d(mask), np.nonzero(mask), strict=True):
            np.testing.assert_array_equal(got, expected)

    def test_long_runs_counts_runs_per_row(self) -> None:
        mask = np.array([[1, 1, 1, 0, 1, 1, 0, 1, 1, 1], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]], bool)
        covered, count = long_runs(mask, 3)
        assert covered.tolist() == [6, 0] and count.tolist() == [2, 0]


class TestNanMedian:
    @pytest.mark.parametrize("axis", [0, 1])
    def test_matches_numpy_nanmedian(self, axis: int) -> None:
        rng = np.random.default_rng(axis)
        x = rng.standard_normal((6, 9))
        x[rng.random(x.shape) < 0.3] = np.nan
        x[:, 2] = np.nan  # an all-NaN column ...
        x[3, :] = np.nan  # ... and row
        with pytest.warns(RuntimeWarning, match="All-NaN"):
            expected = np.nanmedian(x, axis=axis)
        np.testing.assert_array_equal(nan_median(x, axis), expected)


class TestAdmissible:
    def test_matches_the_five_conditions(self) -> None:
        rng = np.random.default_rng(9)
        shape = (4, 5)
        anchor = rng.integers(-1, 50, shape)
        inp = BoundaryInputs(
            anchor=anchor,
            lo=rng.integers(-20, 40, shape),
            hi=rng.integers(0, 80, shape),
            **{f: np.ones(shape) for f in ("fine_scale", "coarse_scale", "amplitude")},
            polarity=np.ones(shape),
            baseline_mv=np.zeros(shape),
        )
        positions = anchor[..., None] + np.arange(-30, 31, 2)
        n = 60
        expected = (
            (positions >= inp.lo[..., None])
            & (positions <= inp.hi[..., None])
            & (positions >= 0)
            & (positions < n)
            & (anchor[..., None] >= 0)
        )
        np.testing.assert_array_equal(_admissible(positions, inp, n), expected)
