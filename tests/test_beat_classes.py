"""Tests for tools.beats.classify (normal / supraventricular premature / ventricular beats)."""

from __future__ import annotations

import numpy as np
import pytest

from tools.beats import classify_beats, detect_r_peaks, match_beats
from tools.beats.classify import NORMAL, SUPRAVENTRICULAR, UNCLASSIFIED, VENTRICULAR
from tools.errors import SignalValueError
from tools.readers.annotations import read_annotations
from tools.readers.wfdb_reader import read_wfdb
from tools.synth import SynthSpec, synthesize

#: WFDB beat symbols by AAMI class.
SUPRAVENTRICULAR_SYMBOLS = ("A", "a", "J", "S", "j", "e")
VENTRICULAR_SYMBOLS = ("V", "E")
NORMAL_SYMBOLS = ("N", "L", "R", "B")

EXPECTED = {"normal": NORMAL, "pac": SUPRAVENTRICULAR, "pvc": VENTRICULAR}


def synthetic(**spec: object) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    ecg = synthesize(SynthSpec(**spec), seed=4)  # type: ignore[arg-type]
    return np.asarray(ecg.record.signal_mv), ecg.truth.r_peaks, ecg.truth.beat_types


class TestClassifyBeats:
    def test_basic(self) -> None:
        x, peaks, types = synthetic(hr_bpm=70, pvc_beats=(3, 8), pac_beats=(5,))
        beats = classify_beats(x, 500.0, peaks)
        expected = np.array([EXPECTED[t] for t in types])
        inside = beats.labels != UNCLASSIFIED
        np.testing.assert_array_equal(beats.labels[inside], expected[inside])
        assert beats.counts()[VENTRICULAR] == 2 and beats.counts()[SUPRAVENTRICULAR] == 1

    def test_features(self) -> None:
        x, peaks, _ = synthetic(hr_bpm=60, pvc_beats=(4,))
        beats = classify_beats(x, 500.0, peaks)
        rr_ms = np.diff(peaks) * 2.0
        np.testing.assert_allclose(beats.rr_before_ms[1:], rr_ms)
        np.testing.assert_allclose(beats.rr_after_ms[:-1], rr_ms)
        assert np.isnan(beats.rr_before_ms[0]) and np.isnan(beats.rr_after_ms[-1])
        normal = beats.indices(NORMAL)
        assert np.all(beats.template_corr[normal] > 0.95)
        assert beats.template_corr[4] < beats.template_corr[normal].min()
        assert beats.qrs_width_ms[4] > beats.template_width_ms
        assert beats.premature[4] and not beats.premature[normal].any()

    def test_ventricular_bigeminy(self) -> None:
        x, peaks, types = synthetic(hr_bpm=70, pvc_every=2)
        beats = classify_beats(x, 500.0, peaks)
        pvc = np.array([t == "pvc" for t in types])
        inside = beats.labels != UNCLASSIFIED
        assert np.all(beats.labels[pvc & inside] == VENTRICULAR)
        assert np.all(beats.labels[~pvc & inside] == NORMAL)

    def test_atrial_fibrillation_keeps_morphology(self) -> None:
        x, peaks, _ = synthetic(rhythm="afib", hr_bpm=100)
        beats = classify_beats(x, 500.0, peaks)
        assert beats.counts()[VENTRICULAR] == 0

    def test_edge_beats_unclassified(self) -> None:
        x, peaks, _ = synthetic(hr_bpm=70)
        edge = np.r_[10, peaks, x.shape[1] - 5]
        beats = classify_beats(x, 500.0, edge)
        assert beats.labels[0] == UNCLASSIFIED and beats.labels[-1] == UNCLASSIFIED
        assert np.isnan(beats.template_corr[0])

    def test_single_lead(self) -> None:
        x, peaks, _ = synthetic(hr_bpm=70, pvc_beats=(4,))
        beats = classify_beats(x[1], 500.0, peaks)
        assert beats.labels[4] == VENTRICULAR

    def test_empty(self) -> None:
        beats = classify_beats(np.zeros((2, 1000)), 500.0, np.array([], dtype=np.int64))
        assert len(beats) == 0 and beats.labels.size == 0
        assert beats.counts() == {NORMAL: 0, SUPRAVENTRICULAR: 0, VENTRICULAR: 0, "Q": 0}

    def test_single_beat(self) -> None:
        x, peaks, _ = synthetic(hr_bpm=70)
        beats = classify_beats(x, 500.0, peaks[3:4])
        assert beats.labels.tolist() == [NORMAL]
        assert not beats.premature[0]

    def test_unsorted(self) -> None:
        with pytest.raises(SignalValueError, match="rec-2: R peaks must be strictly increasing"):
            classify_beats(np.zeros((1, 1000)), 500.0, np.array([500, 100]), source="rec-2")

    def test_out_of_range(self) -> None:
        with pytest.raises(SignalValueError, match=r"R peaks must lie in 0\.\.999"):
            classify_beats(np.zeros((1, 1000)), 500.0, np.array([100, 1000]))

    def test_fractional(self) -> None:
        with pytest.raises(SignalValueError, match="integer sample indices"):
            classify_beats(np.zeros((1, 1000)), 500.0, np.array([100.5, 300.0]))

    def test_bad_rate(self) -> None:
        with pytest.raises(SignalValueError, match="sampling rate must be > 0 Hz"):
            classify_beats(np.zeros((1, 1000)), -1.0, np.array([100]))


def _pulse_train(rr_ms: list[float], fs_hz: float = 500.0) -> tuple[np.ndarray, np.ndarray]:
    """Identical narrow QRS-like pulses at the given RR intervals (one lead)."""
    peaks = np.round(np.r_[400.0, 400.0 + np.cumsum(rr_ms)] * fs_hz / 1000.0).astype(np.int64)
    t = np.arange(peaks[-1] + 400) - peaks[:, np.newaxis]
    x = np.exp(-0.5 * (t / 5.0) ** 2).sum(axis=0)
    return x, peaks


class TestPrematurity:
    """Premature = early against the local median RR and abrupt against a neighbouring RR."""

    def test_gradual_shortening_is_not_premature(self) -> None:
        # respiratory-like: the shortest RR is 0.86 of the median, neighbours differ by < 10%
        rr = [1000, 1000, 950, 880, 820, 880, 950, 1000, 1000, 1000]
        x, peaks = _pulse_train(rr)
        beats = classify_beats(x, 500.0, peaks)
        early = beats.rr_before_ms < 0.88 * beats.rr_reference_ms
        assert early.any()
        assert not beats.premature.any()
        assert SUPRAVENTRICULAR not in beats.labels

    def test_early_beat_with_pause_is_premature(self) -> None:
        rr = [1000, 1000, 1000, 700, 1050, 1000, 1000, 1000]
        x, peaks = _pulse_train(rr)
        beats = classify_beats(x, 500.0, peaks)
        assert np.flatnonzero(beats.premature).tolist() == [4]
        assert beats.labels[4] == SUPRAVENTRICULAR

    def test_last_beat_judged_on_the_rr_before(self) -> None:
        rr = [1000, 1000, 1000, 1000, 1000, 700]
        x, peaks = _pulse_train(rr)
        beats = classify_beats(x, 500.0, peaks)
        assert np.isnan(beats.rr_after_ms[-1])
        assert np.flatnonzero(beats.premature).tolist() == [len(rr)]

    @pytest.mark.parametrize("seed", [0, 1, 2])
    def test_synthetic_sinus_arrhythmia(self, seed: int) -> None:
        ecg = synthesize(SynthSpec(rhythm="sinus_arrhythmia", duration_s=8.0), seed=seed)
        beats = classify_beats(np.asarray(ecg.record.signal_mv), 500.0, ecg.truth.r_peaks)
        assert not beats.premature.any()

    @pytest.mark.parametrize("seed", [0, 1])
    def test_synthetic_pacs(self, seed: int) -> None:
        ecg = synthesize(SynthSpec(pac_every=4, duration_s=8.0), seed=seed)
        beats = classify_beats(np.asarray(ecg.record.signal_mv), 500.0, ecg.truth.r_peaks)
        pac = np.array([t == "pac" for t in ecg.truth.beat_types])
        assert pac.any()
        np.testing.assert_array_equal(beats.premature, pac)


@pytest.mark.data
class TestMitBih100:
    def test_ectopic_beats_flagged(self, dataset_dir) -> None:
        """MIT-BIH 100's APCs (A) and PVC (V) against its normal beats, on detected R peaks."""
        folder = dataset_dir("mitdb")
        record = read_wfdb(folder / "100", lead_policy="as-recorded")
        ann = read_annotations(folder / "100", "atr")
        classes = (*SUPRAVENTRICULAR_SYMBOLS, *VENTRICULAR_SYMBOLS, *NORMAL_SYMBOLS)
        keep = np.isin(ann.symbol, classes)
        ref, symbol = ann.sample[keep], ann.symbol[keep]
        found = detect_r_peaks(record.signal_mv, record.fs_hz)
        beats = classify_beats(record.signal_mv, record.fs_hz, found)
        m = match_beats(ref, found, 0.15 * record.fs_hz)
        truth, label = symbol[m.matched_ref], beats.labels[m.matched_det]
        apc = np.isin(truth, SUPRAVENTRICULAR_SYMBOLS)
        pvc = np.isin(truth, VENTRICULAR_SYMBOLS)
        normal = np.isin(truth, NORMAL_SYMBOLS)
        assert apc.sum() == 33 and pvc.sum() == 1
        assert np.mean(label[apc] == SUPRAVENTRICULAR) >= 0.9
        assert np.all(label[pvc] == VENTRICULAR)
        assert np.mean(label[normal] == NORMAL) >= 0.99
