"""The ground truth matches the waveform: fiducials, intervals, rates, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from tools.leads import STANDARD_LEADS
from tools.synth import FIDUCIALS, SynthSpec, synthesize
from tools.synth.constants import TP_GAP_MIN_MS, VISIBLE_MV

#: "Exactly zero" for the noise-free float32 signal.
ZERO_MV = 1e-6


def activity_runs(signal: np.ndarray, eps: float = ZERO_MV) -> list[tuple[int, int]]:
    """``(onset, offset)`` of each stretch where any lead leaves the baseline.

    Onset is the last baseline sample before the stretch, offset the first one after it
    (the truth's convention).
    """
    active = (np.abs(signal) > eps).any(axis=0).astype(np.int8)
    edges = np.diff(np.concatenate([[0], active, [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [(int(a) - 1, int(b)) for a, b in zip(starts, stops, strict=True)]


def lead(ecg, name):
    return ecg.record.signal_mv[STANDARD_LEADS.index(name)].astype(np.float64)


class TestFiducialsMatchWaveform:
    def test_global_boundaries_are_where_the_signal_leaves_the_baseline(self):
        ecg = synthesize(SynthSpec(hr_bpm=60))
        runs = activity_runs(ecg.record.signal_mv)
        fid = ecg.truth.fiducials
        expected = []
        for b in range(ecg.truth.n_beats):
            expected += [
                (fid["p_on"][b], fid["p_off"][b]),
                (fid["qrs_on"][b], fid["qrs_off"][b]),
                (fid["t_on"][b], fid["t_off"][b]),
            ]
        assert runs == expected

    @pytest.mark.parametrize("name", ["V1", "II", "V6"])
    def test_qrs_onset_in_a_lead_with_a_sharp_start(self, name):
        ecg = synthesize(SynthSpec(hr_bpm=75))
        x = lead(ecg, name)
        p_off = ecg.truth.fiducials["p_off"]
        for b, on in enumerate(ecg.truth.lead(name)["qrs_on"]):
            assert np.abs(x[p_off[b] : on + 1]).max() < ZERO_MV  # flat PR segment up to onset
            assert abs(x[on + 1]) > 5e-3  # departs at once

    def test_lead_whose_qrs_starts_later_says_so(self):
        ecg = synthesize(SynthSpec(axis_deg=60))
        lead_on = ecg.truth.lead_fiducials["qrs_on"][0]
        global_on = ecg.truth.fiducials["qrs_on"][0]
        late = np.flatnonzero(lead_on > global_on)
        assert len(late) > 0  # aVL is nearly perpendicular to the septal force at 60 deg
        assert global_on == lead_on.min()
        qrs_off = ecg.truth.fiducials["qrs_off"][0]
        for k in late:
            x = ecg.record.signal_mv[k]
            assert np.abs(x[global_on : lead_on[k] + 1]).max() < VISIBLE_MV
            assert np.abs(x[lead_on[k] : qrs_off]).max() >= VISIBLE_MV

    def test_global_boundaries_are_earliest_onset_and_latest_offset(self):
        ecg = synthesize(SynthSpec(conduction="rbbb", pvc_every=4))
        for wave in ("p", "qrs", "t"):
            on = ecg.truth.lead_fiducials[f"{wave}_on"].astype(float)
            off = ecg.truth.lead_fiducials[f"{wave}_off"].astype(float)
            on[on < 0], off[off < 0] = np.inf, -np.inf
            has = np.isfinite(on).any(axis=1)
            assert np.array_equal(ecg.truth.fiducials[f"{wave}_on"][has], on[has].min(axis=1))
            assert np.array_equal(ecg.truth.fiducials[f"{wave}_off"][has], off[has].max(axis=1))
            assert (ecg.truth.fiducials[f"{wave}_on"][~has] == -1).all()

    @pytest.mark.parametrize("name", ["II", "V5", "V6"])
    def test_r_peak_is_the_largest_qrs_deflection_in_a_dominant_r_lead(self, name):
        ecg = synthesize(SynthSpec(axis_deg=60))
        x = lead(ecg, name)
        fid = ecg.truth.lead(name)
        for on, off, r in zip(fid["qrs_on"], fid["qrs_off"], fid["r_peak"], strict=True):
            assert r == on + int(np.argmax(np.abs(x[on:off])))

    def test_qs_complex_has_no_r_peak(self):
        ecg = synthesize(SynthSpec(conduction="lbbb", transition_lead="V4"))
        x = lead(ecg, "V2")
        on, off = ecg.truth.lead("V2")["qrs_on"][0], ecg.truth.lead("V2")["qrs_off"][0]
        if x[on:off].max() < VISIBLE_MV:
            assert (ecg.truth.lead("V2")["r_peak"] == -1).all()
        else:
            assert (ecg.truth.lead("V2")["r_peak"] >= 0).all()

    def test_t_peak_is_the_largest_t_deflection(self):
        ecg = synthesize(SynthSpec(t_inverted_leads=("V2",)))
        for name in ("II", "V2", "V5"):
            x, fid = lead(ecg, name), ecg.truth.lead(name)
            for on, off, peak in zip(fid["t_on"], fid["t_off"], fid["t_peak"], strict=True):
                assert peak == on + int(np.argmax(np.abs(x[on:off])))

    def test_fiducials_are_ordered_within_each_beat(self):
        ecg = synthesize(SynthSpec(hr_bpm=95, pac_every=5))
        fid = ecg.truth.fiducials
        order = np.stack([fid[name] for name in FIDUCIALS], axis=1)
        assert (np.diff(order, axis=1) > 0).all()

    def test_pvc_beats_have_no_p_wave(self):
        ecg = synthesize(SynthSpec(pvc_every=3))
        pvc = np.array(ecg.truth.beat_types) == "pvc"
        assert pvc.any()
        for name in ("p_on", "p_peak", "p_off"):
            assert (ecg.truth.fiducials[name][pvc] == -1).all()
            assert (ecg.truth.lead_fiducials[name][pvc] == -1).all()
            assert (ecg.truth.fiducials[name][~pvc] >= 0).all()


class TestRealisedIntervals:
    @pytest.mark.parametrize(
        "kwargs",
        [
            {},
            {"hr_bpm": 45, "pr_ms": 240, "qrs_ms": 110, "qt_ms": 480},
            {"hr_bpm": 130, "qrs_ms": 76},
            {"conduction": "lbbb", "qrs_ms": 164},
            {"fs_hz": 1000, "duration_s": 15, "pr_ms": 183, "qrs_ms": 97},
            {"fs_hz": 257, "qrs_ms": 102},
        ],
    )
    def test_waveform_intervals_match_the_spec_within_one_sample(self, kwargs):
        ecg = synthesize(SynthSpec(**kwargs))
        spec, fs = ecg.spec, ecg.record.fs_hz
        runs = activity_runs(ecg.record.signal_mv)
        (p_on, _), (q_on, q_off), (_, t_off) = runs[0], runs[1], runs[2]
        one_sample_ms = 1000 / fs
        truth = ecg.truth.intervals
        if spec.pr_ms is not None:
            assert abs((q_on - p_on) * one_sample_ms - spec.pr_ms) <= one_sample_ms
        if spec.qrs_ms is not None:
            assert abs((q_off - q_on) * one_sample_ms - spec.qrs_ms) <= one_sample_ms
        if spec.qt_ms is not None:
            assert abs((t_off - q_on) * one_sample_ms - spec.qt_ms) <= one_sample_ms
        assert truth.pr_ms == pytest.approx((q_on - p_on) * one_sample_ms)
        assert truth.qrs_ms == pytest.approx((q_off - q_on) * one_sample_ms)
        assert truth.qt_ms == pytest.approx((t_off - q_on) * one_sample_ms)

    @pytest.mark.parametrize("hr_bpm", [30, 47, 72, 110, 180, 220])
    def test_measured_rr_matches_heart_rate(self, hr_bpm):
        ecg = synthesize(SynthSpec(hr_bpm=hr_bpm), seed=3)
        runs = activity_runs(ecg.record.signal_mv)
        qrs_onsets = np.array([run[0] for run in runs[1::3]])
        rr_ms = np.diff(qrs_onsets) * 1000 / ecg.record.fs_hz
        assert abs(rr_ms.mean() - 60_000 / hr_bpm) <= 1000 / ecg.record.fs_hz
        assert ecg.truth.intervals.hr_bpm == pytest.approx(60_000 / rr_ms.mean())

    def test_qtc_is_bazett_of_the_realised_qt(self):
        ecg = synthesize(SynthSpec(hr_bpm=60, qtc_ms=450))
        truth = ecg.truth.intervals
        assert truth.rr_ms is not None
        assert truth.qtc_bazett_ms == pytest.approx(truth.qt_ms / np.sqrt(truth.rr_ms / 1000))
        assert truth.qtc_bazett_ms == pytest.approx(450, abs=2)


class TestRateExtremes:
    @pytest.mark.parametrize("hr_bpm", [30, 220])
    def test_beats_are_complete_and_do_not_overlap(self, hr_bpm):
        ecg = synthesize(SynthSpec(hr_bpm=hr_bpm))
        fid, fs = ecg.truth.fiducials, ecg.record.fs_hz
        assert ecg.truth.n_beats >= (4 if hr_bpm == 30 else 30)
        gap = fid["p_on"][1:] - fid["t_off"][:-1]
        assert (gap >= TP_GAP_MIN_MS * fs / 1000).all()  # T ends before the next P
        x = ecg.record.signal_mv
        for t_off, p_on in zip(fid["t_off"][:-1], fid["p_on"][1:], strict=True):
            assert np.abs(x[:, t_off : p_on + 1]).max() < ZERO_MV
        assert fid["p_on"][0] >= 0 and fid["t_off"][-1] < ecg.record.n_samples

    def test_qt_shortens_with_rate(self):
        slow = synthesize(SynthSpec(hr_bpm=30)).truth.intervals
        fast = synthesize(SynthSpec(hr_bpm=220)).truth.intervals
        assert slow.qt_ms > 2 * fast.qt_ms
        assert fast.qt_clamped and not slow.qt_clamped


class TestDeterminism:
    def test_same_seed_same_record(self):
        spec = SynthSpec(rhythm="afib", muscle_noise_mv=0.05, baseline_wander_mv=0.2)
        a, b = synthesize(spec, seed=11), synthesize(spec, seed=11)
        assert np.array_equal(a.record.signal_mv, b.record.signal_mv)
        assert a.truth.to_json() == b.truth.to_json()
        assert a.record.record_id == b.record.record_id

    def test_different_seeds_differ(self):
        spec = SynthSpec(rhythm="afib", muscle_noise_mv=0.05)
        a, b = synthesize(spec, seed=1), synthesize(spec, seed=2)
        assert not np.array_equal(a.record.signal_mv, b.record.signal_mv)
        assert not np.array_equal(a.truth.r_peaks, b.truth.r_peaks)
        assert a.record.record_id != b.record.record_id

    def test_seed_argument_overrides_the_spec(self):
        ecg = synthesize(SynthSpec(seed=5), seed=9)
        assert ecg.spec.seed == 9 and ecg.truth.spec["seed"] == 9
        assert np.array_equal(ecg.record.signal_mv, synthesize(SynthSpec(seed=9)).record.signal_mv)

    def test_adding_noise_moves_no_beat(self):
        clean = synthesize(SynthSpec(rhythm="sinus_arrhythmia"), seed=4)
        noisy = synthesize(SynthSpec(rhythm="sinus_arrhythmia", muscle_noise_mv=0.1), seed=4)
        for name in FIDUCIALS:
            assert np.array_equal(clean.truth.fiducials[name], noisy.truth.fiducials[name])
        assert np.array_equal(clean.clean_mv, noisy.clean_mv)
