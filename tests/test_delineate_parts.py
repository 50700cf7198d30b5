"""Building blocks of the delineator: reference parsing, scoring, fusion, scorers, weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tools.delineate.baseline import flattest_level, isoelectric_level
from tools.delineate.filters import compute_channels
from tools.delineate.fusion import default_fusion, global_points, kth_extreme
from tools.delineate.params import BOUNDARY_SPECS
from tools.delineate.pipeline import delineate_channels
from tools.delineate.qrs import find_qrs_core
from tools.delineate.reference import align_reference, cse_global, parse_waves, reference_r_peaks
from tools.delineate.result import WavePoints
from tools.delineate.scorer import (
    BoundaryInputs,
    Envelopes,
    boundary_features,
    candidate_scores,
    grid_step,
    load_weights,
    n_features,
)
from tools.delineate.scoring import boundary_errors_ms, detection_counts, wave_matches
from tools.delineate.twave import FLAT_T, POSITIVE_T
from tools.delineate.windows import nan_median
from tools.errors import CorruptFileError, MissingFileError
from tools.synth import SynthSpec, synthesize


class TestParseWaves:
    def test_basic(self) -> None:
        w = parse_waves([10, 20, 30, 40, 50, 60, 70, 90], ["(", "p", ")", "(", "N", ")", "t", ")"])
        np.testing.assert_array_equal(w.p, [[10, 20, 30]])
        np.testing.assert_array_equal(w.qrs, [[40, 50, 60]])
        np.testing.assert_array_equal(w.t, [[-1, 70, 90]])  # T onset unmarked (QTDB style)

    def test_biphasic_t_marked_twice_is_one_wave(self) -> None:
        w = parse_waves([100, 120, 140, 160], ["(", "t", "t", ")"])
        np.testing.assert_array_equal(w.t, [[100, 120, 160]])

    def test_any_beat_symbol_is_qrs(self) -> None:
        w = parse_waves([5, 10, 15, 40], ["(", "A", ")", "V"])
        np.testing.assert_array_equal(w.qrs, [[5, 10, 15], [-1, 40, -1]])

    def test_empty(self) -> None:
        w = parse_waves([], [])
        assert w.p.shape == w.qrs.shape == w.t.shape == (0, 3)
        assert w.span == (-1, -1)


class TestAlignReference:
    def test_waves_go_to_their_beats(self) -> None:
        lead = parse_waves(
            [90, 100, 110, 150, 160, 170, 250, 300, 390, 400, 410, 500, 510, 520],
            ["(", "p", ")", "(", "N", ")", "t", ")", "(", "p", ")", "(", "N", ")"],
        )
        r = reference_r_peaks([lead], 500.0)
        np.testing.assert_array_equal(r, [160, 510])
        ref = align_reference([lead], r, 500.0)
        np.testing.assert_array_equal(ref.p_peak, [[100, 400]])
        np.testing.assert_array_equal(ref.t_peak, [[250, -1]])
        np.testing.assert_array_equal(ref.qrs_on, [[150, 500]])
        assert ref.counted.all() and ref.span_first[0] == 90 and ref.span_last[0] == 520

    def test_cse_global_is_earliest_and_latest(self) -> None:
        on = np.array([[10, -1], [8, 30], [12, 28]])
        off = np.array([[50, -1], [55, 70], [52, 75]])
        g_on, g_off = cse_global(on, off)
        np.testing.assert_array_equal(g_on, [8, 28])
        np.testing.assert_array_equal(g_off, [55, 75])
        g_on, g_off = cse_global(np.full((2, 1), -1), np.full((2, 1), -1))
        assert g_on[0] == -1 and g_off[0] == -1


class TestScoring:
    def test_match_inside_span_or_near_peak(self) -> None:
        ref_on, ref_pk, ref_off = (np.array([[100, 100, 100]]) + d for d in (0, 20, 40))
        det = np.array([[130, 185, 400]])  # inside; 130 ms from the peak at 500 Hz; too far
        np.testing.assert_array_equal(
            wave_matches(det, ref_on, ref_pk, ref_off, 500.0), [[True, True, False]]
        )

    def test_counts_and_span(self) -> None:
        ref_on, ref_pk, ref_off = (
            np.array([[10, 110, -1]]),
            np.array([[20, 120, -1]]),
            np.array([[30, 130, -1]]),
        )
        det = np.array([[22, -1, 205]])
        counts = detection_counts(
            det, ref_on, ref_pk, ref_off, (np.array([0]), np.array([300])), 500.0
        )
        assert (counts.tp[0], counts.fp[0], counts.fn[0]) == (1, 1, 1)
        outside = detection_counts(
            det, ref_on, ref_pk, ref_off, (np.array([0]), np.array([150])), 500.0
        )
        assert outside.fp[0] == 0  # the detection at 205 lies after the annotated span
        assert counts.f1() == pytest.approx(0.5)

    def test_errors_only_on_matches(self) -> None:
        err = boundary_errors_ms(
            np.array([[12, 5]]), np.array([[10, -1]]), np.array([[True, True]]), 500.0
        )
        assert err[0, 0] == pytest.approx(4.0) and np.isnan(err[0, 1])


class TestFusion:
    def test_kth_extreme(self) -> None:
        v = np.array([[10], [12], [-1], [30], [11]])
        assert kth_extreme(v, latest=False, fraction=0.01)[0] == 10
        assert kth_extreme(v, latest=False, fraction=0.5)[0] == 11  # 2nd of 4
        assert kth_extreme(v, latest=True, fraction=0.01)[0] == 30
        assert kth_extreme(np.full((3, 2), -1), latest=True)[0] == -1

    def test_global_ignores_one_outlier_lead(self) -> None:
        on = np.tile(np.arange(100, 112)[:, None], (1, 2))
        on[5, 0] = 40  # one lead far too early
        pts = WavePoints.empty(12, 2)
        pts = WavePoints(**{**pts.__dict__, "qrs_on": on})
        g = global_points(pts, 500.0)
        assert g.qrs_on[0] == 100 and g.qrs_on[1] == 101

    def test_fitted_shift_scales_with_lead_count(self) -> None:
        table = default_fusion()
        table[2] = (0.01, -10.0)  # qrs_on 10 ms earlier with 12 leads
        pts12 = WavePoints(**{**WavePoints.empty(12, 1).__dict__, "qrs_on": np.full((12, 1), 100)})
        pts2 = WavePoints(**{**WavePoints.empty(2, 1).__dict__, "qrs_on": np.full((2, 1), 100)})
        assert global_points(pts12, 500.0, table).qrs_on[0] == 95
        assert global_points(pts2, 500.0, table).qrs_on[0] == 98  # 0.5642 / 1.6292 of it

    def test_flat_t_leads_do_not_set_global_t_end(self) -> None:
        t_off = np.array([[300], [302], [304], [380]])
        morph = np.array([[POSITIVE_T], [POSITIVE_T], [POSITIVE_T], [FLAT_T]], dtype=np.int8)
        pts = WavePoints(
            **{**WavePoints.empty(4, 1).__dict__, "t_off": t_off, "t_morphology": morph}
        )
        assert global_points(pts, 500.0).t_off[0] == 304


class TestScorer:
    @pytest.mark.parametrize("name", sorted(BOUNDARY_SPECS))
    def test_fft_scores_equal_feature_scores(self, name: str) -> None:
        ecg = synthesize(SynthSpec(hr_bpm=75), seed=3)
        ch = compute_channels(ecg.record.signal_mv, 500.0)
        rng = np.random.default_rng(0)
        captured: dict[str, tuple[BoundaryInputs, Envelopes]] = {}

        def factory(ch_, env):
            def place(n, inp):
                captured[n] = (inp, env)
                return np.where(inp.anchor >= 0, inp.anchor, -1)

            return place

        delineate_channels(ch, ecg.truth.r_peaks, 500.0, factory, lambda f: np.ones(f.shape[:2]))
        inp, env = captured[name]
        w = rng.normal(size=n_features(BOUNDARY_SPECS[name]))
        step = grid_step(BOUNDARY_SPECS[name], 500.0)
        assert step == 2  # 4 ms at 500 Hz
        pos_a, feats = boundary_features(BOUNDARY_SPECS[name], ch, env, inp, 500.0, step)
        pos_b, scores = candidate_scores(name, w, ch, env, inp, 500.0)
        np.testing.assert_array_equal(pos_a, pos_b)
        np.testing.assert_allclose(feats @ w, scores, rtol=1e-4, atol=1e-3)


class TestWeights:
    def test_shipped_weights_load(self) -> None:
        w = load_weights()
        for name, spec in BOUNDARY_SPECS.items():
            assert w[name].shape == (n_features(spec),)

    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(MissingFileError, match="delineation weights missing"):
            load_weights(tmp_path / "none.npz")

    def test_wrong_design(self, tmp_path: Path) -> None:
        path = tmp_path / "bad.npz"
        np.savez(path, qrs_on=np.zeros(3))
        with pytest.raises(CorruptFileError, match="do not match the scorer design"):
            load_weights(path)

    def test_unreadable(self, tmp_path: Path) -> None:
        path = tmp_path / "junk.npz"
        path.write_bytes(b"not a zip")
        with pytest.raises(CorruptFileError, match="cannot read delineation weights"):
            load_weights(path)


def _core_and_levels(**spec: object) -> tuple[np.ndarray, np.ndarray]:
    """Fixed-window and flattest-window levels before each QRS core of a clean synthetic ECG."""
    ecg = synthesize(SynthSpec(duration_s=6.0, **spec))  # type: ignore[arg-type]
    ch = compute_channels(np.asarray(ecg.record.signal_mv), 500.0)
    core = find_qrs_core(ch, ecg.truth.r_peaks, 500.0)
    fixed = isoelectric_level(ch, core.onset, 500.0)
    flattest = flattest_level(ch, core.envelope, core.onset, core.peak, 500.0)
    return fixed, flattest


class TestFlattestLevel:
    """The clean synthetic baseline is exactly 0 mV between beats."""

    def test_delta_wave_level_read_on_the_pr_segment(self) -> None:
        fixed, flattest = _core_and_levels(delta_wave_ms=50)
        assert np.abs(fixed).max() > 0.1  # the usual window lies on the slurred delta wave
        np.testing.assert_allclose(flattest, 0.0, atol=0.01)

    def test_normal_beat_keeps_the_usual_window(self) -> None:
        fixed, flattest = _core_and_levels(st_shift_mv={"inferior": 0.2})
        np.testing.assert_array_equal(flattest, fixed)


class TestNanMedian:
    def test_ignores_nan_without_warning(self) -> None:
        x = np.array([[1.0, np.nan, 3.0, 2.0], [np.nan, np.nan, np.nan, np.nan]])
        out = nan_median(x, axis=1)
        assert out[0] == 2.0 and np.isnan(out[1])
