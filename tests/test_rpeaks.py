"""Tests for tools.beats.rpeaks (multi-lead R-peak detection) and tools.beats.matching."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tools.beats import BeatMatch, beat_spans, detect_r_peaks, match_beats
from tools.errors import SignalValueError
from tools.readers.annotations import beat_samples, read_annotations, read_ludb_annotations
from tools.readers.wfdb_reader import read_wfdb
from tools.signal import resample
from tools.synth import SynthSpec, synthesize

#: EC57 match window for detections (s).
TOLERANCE_S = 0.15
#: A synthetic beat's detection must land within 50 ms of its true R peak.
SYNTH_TOLERANCE_S = 0.05


def synthetic(**spec: object) -> tuple[np.ndarray, float, np.ndarray]:
    ecg = synthesize(SynthSpec(**spec), seed=3)  # type: ignore[arg-type]
    return np.asarray(ecg.record.signal_mv), ecg.record.fs_hz, ecg.truth.r_peaks


def exact_match(truth: np.ndarray, found: np.ndarray, fs_hz: float) -> bool:
    m = match_beats(truth, found, SYNTH_TOLERANCE_S * fs_hz)
    return m.fn == 0 and m.fp == 0


def ludb_case(folder: Path, name: str) -> tuple[np.ndarray, float, np.ndarray, np.ndarray, tuple]:
    """Signal, rate, lead-wise beat spans and annotated stretch of one LUDB record."""
    record = read_wfdb(folder / name)
    ann = read_ludb_annotations(folder / name)
    first, last = beat_spans(ann.sample[ann.symbol == "N"], 0.1 * record.fs_hz)
    span = (float(ann.sample.min()), float(ann.sample.max()))
    return np.asarray(record.signal_mv), record.fs_hz, first, last, span


def holter_match(x: np.ndarray, fs: float, ref: np.ndarray) -> BeatMatch:
    """Detections against ``.atr`` beats, the first and last second unscored."""
    span = (fs, x.shape[1] - 1 - fs)
    return match_beats(ref, detect_r_peaks(x, fs), TOLERANCE_S * fs, span=span)


class TestDetectRPeaks:
    def test_basic(self) -> None:
        x, fs, truth = synthetic(hr_bpm=72)
        found = detect_r_peaks(x, fs)
        assert found.dtype == np.int64
        assert np.all(np.diff(found) > 0)
        assert exact_match(truth, found, fs)

    @pytest.mark.parametrize("hr_bpm", [30.0, 220.0])
    def test_rate_extremes(self, hr_bpm: float) -> None:
        x, fs, truth = synthetic(hr_bpm=hr_bpm, duration_s=20.0)
        assert exact_match(truth, detect_r_peaks(x, fs), fs)

    @pytest.mark.parametrize(
        "spec",
        [
            {"conduction": "lbbb", "qrs_ms": 180.0},
            {"conduction": "rbbb", "hr_bpm": 110.0},
            {"rhythm": "afib", "hr_bpm": 150.0},
            {"pvc_every": 3},
        ],
        ids=["wide-lbbb-180ms", "rbbb", "afib-150", "bigeminy-like-pvcs"],
    )
    def test_wide_and_irregular(self, spec: dict[str, object]) -> None:
        x, fs, truth = synthetic(**spec)
        assert exact_match(truth, detect_r_peaks(x, fs), fs)

    def test_inverted_leads_give_same_peaks(self) -> None:
        x, fs, _ = synthetic(hr_bpm=80, conduction="rbbb")
        np.testing.assert_array_equal(detect_r_peaks(-x, fs), detect_r_peaks(x, fs))

    def test_single_low_amplitude_lead(self) -> None:
        x, fs, truth = synthetic(hr_bpm=65)
        assert exact_match(truth, detect_r_peaks(0.02 * x[1], fs), fs)

    @pytest.mark.parametrize("fs_out", [100.0, 250.0, 1000.0])
    def test_sampling_rates(self, fs_out: float) -> None:
        x, fs, truth = synthetic(hr_bpm=90)
        found = detect_r_peaks(resample(x, fs, fs_out), fs_out)
        assert exact_match(np.round(truth * fs_out / fs).astype(np.int64), found, fs_out)

    def test_usable_mask_ignores_noise_leads(self) -> None:
        x, fs, truth = synthetic(hr_bpm=75)
        noisy = x.copy()
        noisy[:6] = np.random.default_rng(0).normal(0.0, 2.0, noisy[:6].shape)
        usable = np.r_[np.zeros(6, dtype=bool), np.ones(6, dtype=bool)]
        assert exact_match(truth, detect_r_peaks(noisy, fs, usable=usable), fs)

    def test_nan_run(self) -> None:
        x, fs, truth = synthetic(hr_bpm=70)
        x = x.astype(np.float64)
        x[2, 1000:2000] = np.nan
        assert exact_match(truth, detect_r_peaks(x, fs), fs)

    def test_flat(self) -> None:
        assert detect_r_peaks(np.zeros((3, 5000)), 500.0).size == 0

    def test_short(self) -> None:
        assert detect_r_peaks(np.ones((1, 100)), 500.0).size == 0

    def test_bad_rate(self) -> None:
        with pytest.raises(SignalValueError, match="sampling rate in 50-2000 Hz"):
            detect_r_peaks(np.zeros((1, 1000)), 10.0, source="rec-1")

    def test_bad_shape(self) -> None:
        with pytest.raises(SignalValueError, match=r"\[leads, samples\]"):
            detect_r_peaks(np.zeros((2, 3, 100)), 500.0)

    def test_mask_mismatch(self) -> None:
        with pytest.raises(SignalValueError, match="usable mask has 2 entries for 3 leads"):
            detect_r_peaks(np.zeros((3, 1000)), 500.0, usable=np.array([True, False]))

    def test_no_usable_lead(self) -> None:
        with pytest.raises(SignalValueError, match="rec-9: no usable lead"):
            detect_r_peaks(np.zeros((2, 1000)), 500.0, usable=np.zeros(2, bool), source="rec-9")

    def test_long_record(self) -> None:
        """A 10-minute two-lead Holter-like record: every beat found."""
        ecg = synthesize(SynthSpec(hr_bpm=75, duration_s=600.0, fs_hz=250.0), seed=1)
        x = np.asarray(ecg.record.signal_mv)[[1, 7]]
        assert exact_match(ecg.truth.r_peaks, detect_r_peaks(x, 250.0), 250.0)


@pytest.mark.data
class TestDetectRPeaksRealData:
    @pytest.mark.slow
    def test_ludb_f1(self, dataset_dir) -> None:
        """All LUDB records: detections against the lead-wise expert QRS marks."""
        folder = dataset_dir("ludb")
        tp = fn = fp = 0
        for name in (folder / "RECORDS").read_text().split():
            x, fs, first, last, span = ludb_case(folder, name)
            found = detect_r_peaks(x, fs)
            m = match_beats(first, found, TOLERANCE_S * fs, reference_end=last, span=span)
            tp, fn, fp = tp + m.tp, fn + m.fn, fp + m.fp
        f1 = 2 * tp / (2 * tp + fn + fp)
        assert tp > 800
        assert f1 >= 0.995, f"LUDB F1 {f1:.4f} (TP {tp}, FN {fn}, FP {fp})"

    def test_ludb_inverted_leads(self, dataset_dir) -> None:
        x, fs, *_ = ludb_case(dataset_dir("ludb"), "data/1")
        np.testing.assert_array_equal(detect_r_peaks(-x, fs), detect_r_peaks(x, fs))

    def test_ludb_single_low_amplitude_lead(self, dataset_dir) -> None:
        x, fs, first, last, span = ludb_case(dataset_dir("ludb"), "data/3")
        found = detect_r_peaks(0.05 * x[1], fs)
        m = match_beats(first, found, TOLERANCE_S * fs, reference_end=last, span=span)
        assert m.fn == 0 and m.fp == 0

    @pytest.mark.parametrize("record", ["data_101_6", "data_35_10", "data_84_2"])
    def test_cpsc2021_atrial_fibrillation(self, dataset_dir, record: str) -> None:
        folder = dataset_dir("cpsc2021")
        rec = read_wfdb(folder / record, lead_policy="as-recorded")
        ref = beat_samples(read_annotations(folder / record, "atr"))
        m = holter_match(rec.signal_mv, rec.fs_hz, ref)
        assert m.f1 >= 0.99, f"{record}: TP {m.tp} FN {m.fn} FP {m.fp}"

    def test_mitdb_holter(self, dataset_dir) -> None:
        folder = dataset_dir("mitdb")
        rec = read_wfdb(folder / "100", lead_policy="as-recorded")
        ref = beat_samples(read_annotations(folder / "100", "atr"))
        m = holter_match(rec.signal_mv, rec.fs_hz, ref)
        assert m.sensitivity >= 0.998 and m.ppv >= 0.998


class TestMatchBeats:
    def test_basic(self) -> None:
        m = match_beats(np.array([100, 200, 300]), np.array([105, 290, 400]), 10)
        assert (m.tp, m.fn, m.fp) == (2, 1, 1)
        np.testing.assert_array_equal(m.matched_ref, [0, 2])
        np.testing.assert_array_equal(m.matched_det, [0, 1])
        assert m.f1 == pytest.approx(2 * 2 / (2 * 2 + 1 + 1))

    def test_one_detection_matches_one_beat(self) -> None:
        m = match_beats(np.array([100, 110]), np.array([104]), 20)
        assert (m.tp, m.fn, m.fp) == (1, 1, 0)

    def test_duplicate_detections(self) -> None:
        m = match_beats(np.array([100]), np.array([98, 103]), 20)
        assert (m.tp, m.fn, m.fp) == (1, 0, 1)

    def test_span_ignores_edges(self) -> None:
        m = match_beats(np.array([5, 100, 195]), np.array([100, 199]), 10, span=(20, 180))
        assert (m.tp, m.fn, m.fp) == (1, 0, 0)

    def test_reference_spans(self) -> None:
        m = match_beats(np.array([100]), np.array([160]), 10, reference_end=np.array([150]))
        assert m.tp == 1

    def test_empty(self) -> None:
        m = match_beats(np.array([], dtype=int), np.array([], dtype=int), 10)
        assert (m.tp, m.fn, m.fp) == (0, 0, 0)
        assert np.isnan(m.f1)


class TestBeatSpans:
    def test_basic(self) -> None:
        first, last = beat_spans(np.array([510, 500, 1000, 505, 1020]), 50)
        np.testing.assert_array_equal(first, [500, 1000])
        np.testing.assert_array_equal(last, [510, 1020])

    def test_empty(self) -> None:
        first, last = beat_spans(np.array([]), 50)
        assert first.size == 0 and last.size == 0
