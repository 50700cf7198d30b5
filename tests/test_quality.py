"""Tests for the signal-quality gate (tools.quality)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import butter, sosfiltfilt

from tools.errors import LeadError, SignalValueError
from tools.leads import STANDARD_LEADS
from tools.quality import QualityReport, assess_quality, assess_record_quality
from tools.quality import thresholds as th
from tools.quality.checks import fill_nan, measure_signal, nan_runs
from tools.readers.wfdb_reader import read_wfdb
from tools.synth import SynthSpec, synthesize

LEADS = list(STANDARD_LEADS)
#: LUDB records used for fault injection and the reversal checks.
FAULT_RECORD = "data/1"
REVERSAL_RECORDS = ("data/1", "data/3", "data/5", "data/11", "data/17", "data/19")


def codes(report: QualityReport, lead: str) -> set[str]:
    return {r.code for r in report.lead(lead).reasons}


def swap_la_ra(x: np.ndarray) -> np.ndarray:
    """Leads after exchanging the LA and RA cables: I -> -I, II <-> III, aVR <-> aVL."""
    y = x.copy()
    y[0] = -x[0]
    y[1], y[2] = x[2], x[1]
    y[3], y[4] = x[4], x[3]
    return y


@pytest.fixture(scope="module")
def ludb(dataset_dir) -> dict[str, np.ndarray]:
    """Every shared LUDB record's signal (float64 [12, 5000] mV), by record name."""
    folder = dataset_dir("ludb")
    return {
        name: np.asarray(read_wfdb(folder / name).signal_mv, dtype=np.float64)
        for name in (folder / "RECORDS").read_text().split()
    }


@pytest.fixture(scope="module")
def clean(ludb: dict[str, np.ndarray]) -> np.ndarray:
    return ludb[FAULT_RECORD]


class TestAssessQuality:
    def test_basic(self) -> None:
        ecg = synthesize(SynthSpec(hr_bpm=70), seed=2)
        report = assess_quality(ecg.record.signal_mv, ecg.record.fs_hz, LEADS, record_id="s1")
        assert report.verdict == "good"
        assert report.usable_leads == LEADS
        assert report.findings == []
        assert report.n_beats == ecg.truth.n_beats
        assert all(lead.reasons == [] for lead in report.leads)

    def test_json_round_trip(self) -> None:
        ecg = synthesize(SynthSpec(hr_bpm=70, powerline_mv=0.3), seed=2)
        report = assess_record_quality(ecg.record)
        data = json.loads(report.model_dump_json())
        assert set(data) >= {"verdict", "usable_leads", "leads", "findings", "record_id"}
        reason = data["leads"][0]["reasons"][0]
        assert set(reason) == {"code", "severity", "value", "threshold", "unit", "detail"}
        assert QualityReport.model_validate(data) == report

    def test_single_lead(self) -> None:
        ecg = synthesize(SynthSpec(hr_bpm=70), seed=2)
        report = assess_quality(ecg.record.signal_mv[1], 500.0, ["II"])
        assert report.verdict == "good" and report.usable_leads == ["II"]

    def test_flat(self) -> None:
        x = np.zeros((12, 5000))
        report = assess_quality(x, 500.0, LEADS)
        assert report.verdict == "unusable"
        assert report.has_finding("all_leads_flat")
        assert report.usable_leads == []

    def test_too_short(self) -> None:
        ecg = synthesize(SynthSpec(hr_bpm=70, duration_s=2.0), seed=2)
        report = assess_record_quality(ecg.record)
        assert report.verdict == "unusable"
        finding = next(f for f in report.findings if f.code == "too_short")
        assert finding.value == pytest.approx(2.0)
        assert finding.threshold == th.MIN_DURATION_S
        assert all("too_short" in codes(report, lead) for lead in LEADS)

    def test_all_nan_lead(self) -> None:
        x = synthesize(SynthSpec(hr_bpm=70), seed=2).record.signal_mv.astype(np.float64)
        x[4] = np.nan
        report = assess_quality(x, 500.0, LEADS)
        assert report.lead("aVL").verdict == "unusable"
        assert "aVL" not in report.usable_leads and len(report.usable_leads) == 11
        assert report.verdict == "degraded"

    def test_infinite_samples_count_as_missing(self) -> None:
        x = synthesize(SynthSpec(hr_bpm=70), seed=2).record.signal_mv.astype(np.float64)
        x[0, 100:110] = np.inf
        reason = next(r for r in assess_quality(x, 500.0, LEADS).lead("I").reasons)
        assert reason.code == "nan_run" and reason.value == pytest.approx(10 / 5000)

    def test_names_mismatch(self) -> None:
        with pytest.raises(LeadError, match="rec-7: 2 lead names for 12 signal rows"):
            assess_quality(np.zeros((12, 5000)), 500.0, ["I", "II"], record_id="rec-7")

    def test_duplicate_names(self) -> None:
        with pytest.raises(LeadError, match="duplicated lead names"):
            assess_quality(np.zeros((2, 5000)), 500.0, ["I", "I"])

    def test_bad_rate(self) -> None:
        with pytest.raises(SignalValueError, match="sampling rate must be > 0 Hz"):
            assess_quality(np.zeros((1, 5000)), 0.0, ["I"])

    def test_bad_shape(self) -> None:
        with pytest.raises(SignalValueError, match=r"real \[leads, samples\] array"):
            assess_quality(np.zeros((1, 2, 5000)), 500.0, ["I"])

    def test_empty(self) -> None:
        with pytest.raises(SignalValueError, match="record is empty"):
            assess_quality(np.zeros((1, 0)), 500.0, ["I"])


class TestMeasureSignal:
    T_S = np.arange(5000) / 500.0

    @pytest.mark.parametrize("mains_hz", [50.0, 50.3, 60.0])
    def test_powerline_amplitude(self, mains_hz: float) -> None:
        x = 0.1 * np.sin(2 * np.pi * mains_hz * self.T_S)[np.newaxis, :]
        m = measure_signal(x, 500.0)
        hit, miss = (0, 1) if mains_hz < 55 else (1, 0)
        assert m.powerline_mv[hit, 0] == pytest.approx(0.1, rel=0.05)
        assert m.powerline_mv[miss, 0] < 0.005

    def test_powerline_above_nyquist(self) -> None:
        m = measure_signal(np.random.default_rng(0).normal(size=(1, 1000)), 100.0)
        assert np.isnan(m.powerline_mv[1, 0])  # 60 Hz is above the 50 Hz Nyquist

    def test_baseline_wander(self) -> None:
        x = np.sin(2 * np.pi * 0.2 * self.T_S)[np.newaxis, :]
        assert measure_signal(x, 500.0).baseline_wander_mv[0] == pytest.approx(2.0, rel=0.05)

    def test_clipped(self) -> None:
        x = np.sin(2 * np.pi * 1.3 * self.T_S)[np.newaxis, :]
        m = measure_signal(np.clip(x, -0.8, 0.8), 500.0)
        expected = np.mean(np.abs(x) >= 0.8)
        assert m.clipped_fraction[0] == pytest.approx(expected, rel=0.05)
        assert m.clipped_runs[0] == 26  # 13 cycles, cut at both rails

    def test_flat_dropout(self) -> None:
        x = 0.5 * np.sin(2 * np.pi * 1.3 * self.T_S)[np.newaxis, :]
        x[0, 1000:3000] = 0.1
        assert measure_signal(x, 500.0).flat_fraction[0] == pytest.approx(0.4, abs=0.02)


class TestNanHelpers:
    def test_nan_runs(self) -> None:
        nan = np.zeros((2, 100), dtype=bool)
        nan[0, 10:20] = True
        nan[0, 50:55] = True
        fraction, longest = nan_runs(nan, 100.0)
        np.testing.assert_allclose(fraction, [0.15, 0.0])
        np.testing.assert_allclose(longest, [0.1, 0.0])

    def test_fill_nan(self) -> None:
        x = np.array([[np.nan, 1.0, np.nan, 3.0, np.nan], [np.nan] * 5, [1.0, 2.0, 3.0, 4.0, 5.0]])
        filled = fill_nan(x, np.isnan(x))
        np.testing.assert_allclose(filled, [[1, 1, 2, 3, 3], [0] * 5, [1, 2, 3, 4, 5]])


@pytest.mark.data
class TestLudbQuality:
    def test_every_ludb_record_usable(self, ludb: dict[str, np.ndarray]) -> None:
        unusable = {}
        for name, x in ludb.items():
            report = assess_quality(x, 500.0, LEADS, record_id=name)
            bad = [lead.lead for lead in report.leads if lead.verdict == "unusable"]
            if report.verdict == "unusable" or bad:
                unusable[name] = bad
        assert unusable == {}
        assert len(ludb) == 100

    def test_zeroed_lead(self, clean: np.ndarray) -> None:
        x = clean.copy()
        x[6] = 0.0
        report = assess_quality(x, 500.0, LEADS)
        assert "flat" in codes(report, "V1") and report.lead("V1").verdict == "unusable"
        assert "V1" not in report.usable_leads
        assert report.verdict == "degraded"

    def test_clipped_lead(self, clean: np.ndarray) -> None:
        x = clean.copy()
        x[1] = np.clip(x[1], None, np.percentile(x[1], 99.0))
        report = assess_quality(x, 500.0, LEADS)
        assert "clipped" in codes(report, "II")
        assert report.lead("II").verdict != "good"

    def test_disconnected_lead_noise(self, clean: np.ndarray) -> None:
        x = clean.copy()
        x[8] = np.random.default_rng(1).normal(0.0, 0.2, x.shape[1])
        report = assess_quality(x, 500.0, LEADS)
        assert "lead_off" in codes(report, "V3")
        assert report.lead("V3").verdict == "unusable"
        assert len(report.usable_leads) == 11

    def test_disconnected_lead_rail(self, clean: np.ndarray) -> None:
        x = clean.copy()
        x[8] = 5.0
        report = assess_quality(x, 500.0, LEADS)
        assert {"flat", "lead_off"} <= codes(report, "V3")

    @pytest.mark.parametrize("mains_hz", [50.0, 60.0])
    def test_powerline(self, clean: np.ndarray, mains_hz: float) -> None:
        x = clean + 0.2 * np.sin(2 * np.pi * mains_hz * np.arange(clean.shape[1]) / 500.0 + 0.3)
        report = assess_quality(x, 500.0, LEADS)
        other = 110.0 - mains_hz
        for lead in LEADS:
            assert f"powerline_{mains_hz:.0f}hz" in codes(report, lead)
            assert f"powerline_{other:.0f}hz" not in codes(report, lead)
        reason = next(r for r in report.lead("II").reasons if r.code.startswith("powerline"))
        assert reason.value == pytest.approx(0.2, rel=0.1)

    def test_muscle_noise(self, clean: np.ndarray) -> None:
        sos = butter(4, [20.0, 150.0], btype="band", fs=500.0, output="sos")
        noise = sosfiltfilt(sos, np.random.default_rng(2).normal(0.0, 1.0, clean.shape))
        x = clean + 0.15 * noise / noise.std(axis=1, keepdims=True)
        report = assess_quality(x, 500.0, LEADS)
        assert all("muscle_noise" in codes(report, lead) for lead in LEADS)
        assert report.verdict != "good"

    def test_baseline_wander(self, clean: np.ndarray) -> None:
        x = clean + 2.0 * np.sin(2 * np.pi * 0.2 * np.arange(clean.shape[1]) / 500.0)
        report = assess_quality(x, 500.0, LEADS)
        reason = next(r for r in report.lead("V2").reasons if r.code == "baseline_wander")
        assert reason.value == pytest.approx(4.0, rel=0.15)
        assert report.lead("V2").verdict == "degraded"

    def test_nan_run(self, clean: np.ndarray) -> None:
        x = clean.copy()
        x[3, 1000:1500] = np.nan
        report = assess_quality(x, 500.0, LEADS)
        reason = next(r for r in report.lead("aVR").reasons if r.code == "nan_run")
        assert reason.value == pytest.approx(0.1)
        assert report.lead("aVR").metrics.longest_nan_run_s == pytest.approx(1.0)
        assert report.lead("aVR").verdict == "degraded"

    def test_too_short(self, clean: np.ndarray) -> None:
        report = assess_quality(clean[:, :1000], 500.0, LEADS)
        assert report.has_finding("too_short") and report.verdict == "unusable"

    def test_limb_lead_reversal(self, ludb: dict[str, np.ndarray]) -> None:
        for name in REVERSAL_RECORDS:
            original = assess_quality(ludb[name], 500.0, LEADS, record_id=name)
            swapped = assess_quality(swap_la_ra(ludb[name]), 500.0, LEADS, record_id=name)
            assert not original.has_finding("limb_lead_reversal_suspected"), name
            assert swapped.has_finding("limb_lead_reversal_suspected"), name

    def test_limb_lead_reversal_false_positive_rate(self, ludb: dict[str, np.ndarray]) -> None:
        flagged = [
            name
            for name, x in ludb.items()
            if assess_quality(x, 500.0, LEADS).has_finding("limb_lead_reversal_suspected")
        ]
        assert len(flagged) / len(ludb) <= 0.02, flagged


def test_record_wrapper(dataset_dir) -> None:
    record = read_wfdb(Path(dataset_dir("ludb")) / FAULT_RECORD)
    report = assess_record_quality(record)
    assert report.record_id == record.source_path
    assert report.lead_names == list(record.lead_names)
    assert report.verdict != "unusable"
