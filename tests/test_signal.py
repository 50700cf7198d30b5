"""Resampling, cropping and padding."""

from __future__ import annotations

import numpy as np
import pytest

from tools.errors import SignalValueError
from tools.leads import STANDARD_LEADS
from tools.record import ECGRecord
from tools.signal import (
    crop,
    crop_record,
    pad_or_crop,
    rational_ratio,
    resample,
    resample_record,
    resampled_length,
)

RATES = [100, 250, 257, 360, 400, 500, 1000]


class TestResample:
    @pytest.mark.parametrize("fs_in", RATES)
    def test_exact_length_to_500(self, fs_in: int) -> None:
        n = fs_in * 10
        out = resample(np.zeros((12, n)), fs_in, 500)
        assert out.shape == (12, 5000)
        assert out.dtype == np.float32

    @pytest.mark.parametrize("fs_in", RATES)
    def test_sine_preserved(self, fs_in: int) -> None:
        t_in = np.arange(fs_in * 10) / fs_in
        x = np.sin(2 * np.pi * 5.0 * t_in)[None, :]
        y = resample(x, fs_in, 500)
        t_out = np.arange(y.shape[1]) / 500
        expected = np.sin(2 * np.pi * 5.0 * t_out)
        core = slice(500, 4500)  # edges carry the filter's transient
        assert np.max(np.abs(y[0, core] - expected[core])) < 2e-3

    def test_ratio_257(self) -> None:
        assert rational_ratio(257, 500) == (500, 257)
        assert resampled_length(2570, 257, 500) == 5000

    def test_identity(self) -> None:
        x = np.random.default_rng(0).normal(size=(3, 100))
        np.testing.assert_allclose(resample(x, 500, 500), x.astype(np.float32))

    def test_nan_stays_nan_locally(self) -> None:
        x = np.zeros((1, 1000))
        x[0, 500] = np.nan
        y = resample(x, 250, 500)
        assert np.isnan(y[0, 1000])
        assert not np.isnan(y[0, :800]).any()
        assert not np.isnan(y[0, 1200:]).any()

    @pytest.mark.parametrize(("fs_in", "fs_out"), [(0, 500), (500, -1)])
    def test_bad_rate(self, fs_in: float, fs_out: float) -> None:
        with pytest.raises(SignalValueError, match="> 0 Hz"):
            resample(np.zeros((1, 10)), fs_in, fs_out)

    def test_bad_shape(self) -> None:
        with pytest.raises(SignalValueError, match="leads, samples"):
            resample(np.zeros(10), 250, 500)


class TestCropPad:
    def test_crop(self) -> None:
        x = np.arange(20).reshape(2, 10)
        np.testing.assert_array_equal(crop(x, 2, 3), [[2, 3, 4], [12, 13, 14]])

    def test_crop_outside(self) -> None:
        with pytest.raises(SignalValueError, match="outside"):
            crop(np.zeros((1, 10)), 8, 5)

    def test_pad(self) -> None:
        out = pad_or_crop(np.ones((2, 3)), 5)
        np.testing.assert_array_equal(out, [[1, 1, 1, 0, 0], [1, 1, 1, 0, 0]])

    def test_cut(self) -> None:
        assert pad_or_crop(np.ones((2, 7)), 5).shape == (2, 5)

    def test_bad_length(self) -> None:
        with pytest.raises(SignalValueError):
            pad_or_crop(np.ones((2, 7)), 0)


def test_record_helpers_keep_metadata() -> None:
    rec = ECGRecord("r", np.zeros((12, 3600)), 360, STANDARD_LEADS, age_years=40.0)
    out = resample_record(rec, 500)
    assert out.fs_hz == 500 and out.n_samples == 5000 and out.age_years == 40.0
    cut = crop_record(out, 1.0, 2.0)
    assert cut.n_samples == 1000 and cut.record_id == "r"
