"""P wave presence and placement: multi-lead consensus, per-lead peaks, presence features."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tools.delineate.filters import compute_channels
from tools.delineate.params import (
    N_PRESENCE_FEATURES,
    P_AGREE_MS,
    P_BASELINE_ACTIVITY_MAX,
    P_TIMING_TOLERANCE_MS,
)
from tools.delineate.pwave import (
    PCandidates,
    _lower_quartile,
    _place_p_peaks,
    baseline_activity,
    borrow_weak_leads,
    no_isoelectric_baseline,
    p_candidates,
    p_presence_features,
)
from tools.delineate.train import STAGES, _read_kept, fit_all
from tools.errors import MissingFileError

FS_HZ = 500.0
WIDTH = 200  # samples in each synthetic P search window


def _bump(centre: int, height: float, sigma: float = 12.0) -> np.ndarray:
    t = np.arange(WIDTH)
    return height * np.exp(-0.5 * ((t - centre) / sigma) ** 2)


def _candidates(dev: np.ndarray) -> PCandidates:
    """Candidates over hand-made windows ``dev`` ``[leads, beats, WIDTH]`` starting at 0."""
    leads, beats, _ = dev.shape
    start = np.zeros((leads, beats), dtype=np.int64)
    idx = np.broadcast_to(np.arange(WIDTH), dev.shape).astype(np.int64)
    inside = np.ones(dev.shape, dtype=bool)
    mag = np.abs(dev)
    local = np.zeros(dev.shape, dtype=bool)
    local[..., 1:-1] = (mag[..., 1:-1] > mag[..., :-2]) & (mag[..., 1:-1] >= mag[..., 2:])
    cand = np.argmax(np.where(local, mag, -np.inf), axis=-1)
    amp = np.take_along_axis(dev, cand[..., None], axis=-1)[..., 0]
    found = np.asarray(local.any(axis=-1))
    noise = np.full((leads, beats), 0.005)
    return PCandidates(start, idx, inside, dev, cand, amp, found, noise)


class TestPlacePPeaks:
    def test_two_disagreeing_leads_follow_the_later_wave(self) -> None:
        # Lead 0's largest deflection is a T-wave remnant early in the window, lead 1's the
        # P wave: the consensus is the later wave and lead 0 takes its own bump there.
        dev = np.stack([_bump(20, 0.4) + _bump(150, 0.1), _bump(152, 0.25)])[:, None, :]
        c = _candidates(dev)
        assert c.cand[0, 0] == 20
        likely = np.ones((2, 1), dtype=bool)
        peak, _, placed = _place_p_peaks(c, likely, likely, FS_HZ)
        assert placed.all()
        np.testing.assert_array_equal(peak[:, 0], [150, 152])

    def test_majority_wins_over_a_later_outlier(self) -> None:
        dev = np.stack([_bump(100 + k, 0.2) for k in range(3)] + [_bump(180, 0.3)])[:, None, :]
        c = _candidates(dev)
        likely = np.ones((4, 1), dtype=bool)
        peak, _, _ = _place_p_peaks(c, likely, likely, FS_HZ)
        assert np.all(np.abs(peak[:3, 0] - 101) <= 2)
        # The outlier lead is moved to the beat's P time, not kept at its own candidate.
        assert abs(int(peak[3, 0]) - 101) <= P_AGREE_MS * FS_HZ / 1000.0

    def test_lead_without_extremum_near_the_p_time_is_still_placed(self) -> None:
        ramp = np.linspace(0.0, 0.05, WIDTH)  # a slope, no extremum: the P is flat here
        ramp[5] = 0.2  # its only extremum is far from the P time
        dev = np.stack([_bump(120, 0.2), _bump(122, 0.2), ramp])[:, None, :]
        c = _candidates(dev)
        likely = np.array([[True], [True], [False]])
        peak, _, placed = _place_p_peaks(c, likely, likely | True, FS_HZ)
        assert placed[2, 0]
        # Within the timing tolerance of the beat's P time (the later of the agreeing leads).
        assert abs(int(peak[2, 0]) - int(peak[1, 0])) <= P_TIMING_TOLERANCE_MS * FS_HZ / 1000.0

    def test_no_likely_candidate_falls_back_to_the_voters(self) -> None:
        dev = np.stack([_bump(90, 0.1), _bump(94, 0.1)])[:, None, :]
        c = _candidates(dev)
        likely = np.zeros((2, 1), dtype=bool)
        peak, _, placed = _place_p_peaks(c, likely, ~likely, FS_HZ)
        assert placed.all()
        assert np.all(np.abs(peak[:, 0] - 92) <= 2)


def _record(noise_mv: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two leads, 8 s at 500 Hz: a P wave 160 ms before each of 8 spikes; lead 1 noisy."""
    rng = np.random.default_rng(seed)
    n = int(8 * FS_HZ)
    t = np.arange(n)
    r = np.arange(400, n - 200, 450)
    x = np.zeros((2, n))
    for ri in r:
        x += 1.0 * np.exp(-0.5 * ((t - ri) / 5.0) ** 2)
        x += 0.15 * np.exp(-0.5 * ((t - ri + 80) / 12.0) ** 2)
    x[1] += noise_mv * rng.standard_normal(n)
    return x, r


class TestPresenceFeatures:
    @pytest.fixture
    def features(self) -> tuple[np.ndarray, PCandidates]:
        x, r = _record(noise_mv=0.05)
        ch = compute_channels(x, FS_HZ)
        g_on = r - 20
        prev_t = np.broadcast_to(r[None, :] - 300, (2, r.size))
        iso = np.zeros((2, r.size))
        c = p_candidates(ch, g_on, prev_t, iso, FS_HZ)
        ptp = np.ones((2, r.size))
        f = p_presence_features(c, ptp, g_on, ch.usable, 0.02, FS_HZ)
        return f, c

    def test_shape(self, features: tuple[np.ndarray, PCandidates]) -> None:
        f, c = features
        assert f.shape == (*c.peak.shape, N_PRESENCE_FEATURES)
        assert np.isfinite(f).all()

    def test_noise_lowers_size_over_noise(self, features: tuple[np.ndarray, PCandidates]) -> None:
        f, c = features
        assert np.all(c.noise_mv[1] > 3 * c.noise_mv[0])
        assert np.median(f[1, :, 5]) < np.median(f[0, :, 5]) - 1.0

    def test_record_features_are_constant_over_beats(
        self, features: tuple[np.ndarray, PCandidates]
    ) -> None:
        f, _ = features
        for k in (6, 7, 8, 9):  # irregularity, lead template correlation, timing medians
            np.testing.assert_allclose(f[:, :, k], f[:, :1, k].repeat(f.shape[1], axis=1))
        np.testing.assert_allclose(f[0, :, 8], f[1, :, 8])  # one record value over leads

    def test_clean_sinus_p_waves_look_consistent(
        self, features: tuple[np.ndarray, PCandidates]
    ) -> None:
        f, _ = features
        assert np.median(f[0, :, 7]) > 0.9  # lead 0's P template repeats in every beat
        assert f[0, 0, 8] < 0.5  # P timing deviations well under one tolerance


class TestTrainFromStage:
    def test_later_stage_needs_kept_weights(self) -> None:
        with pytest.raises(ValueError, match="earlier stages"):
            fit_all([], keep=None, first_stage=2)

    def test_missing_kept_file(self, tmp_path: Path) -> None:
        with pytest.raises(MissingFileError, match="keep stages"):
            _read_kept(tmp_path / "none.npz")

    def test_kept_file_is_read_unchecked(self, tmp_path: Path) -> None:
        path = tmp_path / "w.npz"
        np.savez(path, qrs_on=np.ones(3), p_presence=np.zeros(2))
        kept = _read_kept(path)
        assert set(kept) == {"qrs_on", "p_presence"}
        assert [s[0] for s in STAGES][2] == "p_presence"


class TestBorrowWeakLeads:
    def test_weak_lead_follows_the_strong_leads(self) -> None:
        on = np.array([[100], [104], [60]])
        peak = np.array([[120], [122], [90]])
        off = np.array([[140], [146], [130]])
        amp = np.array([[0.2], [-0.15], [0.02]])  # lead 2: a tenth of the largest P
        new_on, new_peak, new_off = borrow_weak_leads(on, peak, off, amp)
        np.testing.assert_array_equal(new_on[:2], on[:2])
        np.testing.assert_array_equal(new_peak[:2], peak[:2])
        # Onset and peak follow; its own offset (after the new peak) stays.
        assert (new_on[2, 0], new_peak[2, 0], new_off[2, 0]) == (102, 121, 130)

    def test_offset_before_the_borrowed_peak_follows_too(self) -> None:
        on = np.array([[100], [104], [40]])
        peak = np.array([[120], [122], [60]])
        off = np.array([[140], [146], [80]])
        amp = np.array([[0.2], [0.2], [0.01]])
        new_on, new_peak, new_off = borrow_weak_leads(on, peak, off, amp)
        assert (new_on[2, 0], new_peak[2, 0], new_off[2, 0]) == (102, 121, 143)

    def test_comparable_leads_are_unchanged(self) -> None:
        on, peak, off = (np.array([[10, 50], [12, 52]]) + k for k in (0, 10, 20))
        amp = np.array([[0.1, 0.1], [0.08, 0.05]])
        for new, old in zip(borrow_weak_leads(on, peak, off, amp), (on, peak, off), strict=True):
            np.testing.assert_array_equal(new, old)

    def test_absent_p_stays_absent(self) -> None:
        on = np.array([[-1], [-1]])
        amp = np.zeros((2, 1))
        for new in borrow_weak_leads(on, on, on, amp):
            np.testing.assert_array_equal(new, on)


class TestLowerQuartile:
    def test_locked_majority_wins_over_ectopic_beats(self) -> None:
        # Two thirds of the beats locked (deviation 0.1), a third at the cap: still locked.
        values = np.array([0.1] * 8 + [4.0] * 4)
        assert _lower_quartile(values) == pytest.approx(0.1)

    def test_nothing_finite_reads_as_unlocked(self) -> None:
        assert _lower_quartile(np.array([np.nan])) == 4.0


class TestBaselineActivity:
    def _activity(self, x: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ch = compute_channels(x, FS_HZ)
        prev_t = np.broadcast_to(r[None, :] - 300, (x.shape[0], r.size))
        c = p_candidates(ch, r - 20, prev_t, np.zeros((x.shape[0], r.size)), FS_HZ)
        return baseline_activity(ch, c, FS_HZ), c.found & ch.usable[:, None]

    def test_sinus_p_rises_from_a_flat_baseline(self) -> None:
        x, r = _record(noise_mv=0.0)
        activity, voters = self._activity(x, r)
        assert np.all(activity[voters] < P_BASELINE_ACTIVITY_MAX - 1.0)
        assert not no_isoelectric_baseline(activity, voters)

    def test_flutter_waves_leave_no_flat_stretch(self) -> None:
        x, r = _record(noise_mv=0.0)
        t = np.arange(x.shape[1]) / FS_HZ
        x = x + 0.15 * np.sin(2 * np.pi * 5.0 * t)  # 300/min atrial waves, P-sized
        activity, voters = self._activity(x, r)
        assert no_isoelectric_baseline(activity, voters)

    def test_no_voters_is_not_a_verdict(self) -> None:
        assert not no_isoelectric_baseline(np.zeros((2, 3)), np.zeros((2, 3), dtype=bool))

    def test_t_wave_running_into_the_p_wave_gives_no_verdict(self) -> None:
        x, r = _record(noise_mv=0.0)
        t = np.arange(x.shape[1]) / FS_HZ
        x = x + 0.15 * np.sin(2 * np.pi * 5.0 * t)
        ch = compute_channels(x, FS_HZ)
        # The previous T wave ends 10 ms before the P search stops: no TP stretch to judge.
        prev_t = np.broadcast_to(r[None, :] - 52, (2, r.size))
        c = p_candidates(ch, r - 20, prev_t, np.zeros((2, r.size)), FS_HZ)
        activity = baseline_activity(ch, c, FS_HZ)
        voters = c.found & ch.usable[:, None]
        assert np.isnan(activity[voters]).all()
        assert not no_isoelectric_baseline(activity, voters)
