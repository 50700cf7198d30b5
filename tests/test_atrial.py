"""Atrial flutter waves: TQ windows and the periodicity of the atrial activity in them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tools.leads import STANDARD_LEADS
from tools.measure import thresholds as th
from tools.measure.atrial import atrial_periodicity, tq_windows
from tools.measure.pipeline import measure_record
from tools.readers.wfdb_reader import read_wfdb
from tools.statements import thresholds as statement_th
from tools.synth import SynthSpec, synthesize

FS_HZ = 500.0
N_SAMPLES = 5000
USABLE = np.ones(len(STANDARD_LEADS), dtype=bool)
#: Windows start every 800 ms (400 samples: a ventricular rate of 75/min); lengths in samples.
STARTS = np.arange(400, N_SAMPLES - 400, 400)
ENDS = STARTS + 200
LONG_ENDS = STARTS + 360  # 720 ms: room for three flutter cycles


def _sawtooth(cycle_ms: float) -> np.ndarray:
    """A 0.2 mV flutter sawtooth (slow fall, sharp rise) in every lead."""
    t_s = np.arange(N_SAMPLES) / FS_HZ
    phase = (t_s * 1000.0 / cycle_ms) % 1.0
    wave = 0.2 * np.where(phase < 0.8, -phase / 0.8, -1.0 + (phase - 0.8) / 0.2)
    return np.tile(wave - wave.mean(), (len(STANDARD_LEADS), 1))


def _lone_bumps() -> np.ndarray:
    """One 100 ms P-like bump at the end of every window, flat elsewhere."""
    x = np.zeros((len(STANDARD_LEADS), N_SAMPLES))
    bump = 0.15 * np.hanning(50)
    for end in ENDS:
        x[:, end - 60 : end - 10] = bump
    return x


class TestTqWindows:
    def test_previous_t_offset_to_qrs_onset(self) -> None:
        t_off = np.array([300, 700, 1100])
        qrs_on = np.array([100, 500, 900])
        starts, ends = tq_windows(t_off, qrs_on, FS_HZ)
        guard = round(th.TQ_GUARD_MS * FS_HZ / 1000.0)
        assert starts.tolist() == [300, 700]
        assert ends.tolist() == [500 - guard, 900 - guard]

    def test_absent_boundaries_and_overlaps_dropped(self) -> None:
        t_off = np.array([300, -1, 1100, 1500])
        qrs_on = np.array([100, 500, 900, 1000])
        starts, ends = tq_windows(t_off, qrs_on, FS_HZ)
        # beat 2 has no previous T offset; beat 4's QRS starts before beat 3's T ends
        assert starts.tolist() == [300]
        assert ends.tolist() == [500 - round(th.TQ_GUARD_MS * FS_HZ / 1000.0)]


class TestAtrialPeriodicity:
    @pytest.mark.parametrize("cycle_ms", [180.0, 200.0, 240.0])
    def test_sawtooth_found_at_its_cycle(self, cycle_ms: float) -> None:
        found = atrial_periodicity(
            _sawtooth(cycle_ms), FS_HZ, STANDARD_LEADS, USABLE, STARTS, LONG_ENDS
        )
        assert found is not None and found.cycle_ms is not None
        assert found.cycle_ms == pytest.approx(cycle_ms, abs=6.0)
        assert found.correlation > 0.95
        assert found.periodicity > 0.5

    def test_lone_wave_and_flat_baseline_is_not_periodic(self) -> None:
        found = atrial_periodicity(_lone_bumps(), FS_HZ, STANDARD_LEADS, USABLE, STARTS, LONG_ENDS)
        assert found is not None
        assert found.periodicity < 0.2

    def test_windows_too_short_not_assessable(self) -> None:
        short = STARTS + 100  # 200 ms: less than the shortest cycle plus the least overlap
        assert (
            atrial_periodicity(_sawtooth(200.0), FS_HZ, STANDARD_LEADS, USABLE, STARTS, short)
            is None
        )

    def test_no_usable_atrial_lead_not_assessable(self) -> None:
        usable = np.array([name not in th.ATRIAL_LEADS for name in STANDARD_LEADS])
        found = atrial_periodicity(
            _sawtooth(200.0), FS_HZ, STANDARD_LEADS, usable, STARTS, LONG_ENDS
        )
        assert found is None

    def test_noise_alone_is_not_periodic(self) -> None:
        rng = np.random.default_rng(0)
        x = rng.normal(0.0, 0.02, (len(STANDARD_LEADS), N_SAMPLES))
        found = atrial_periodicity(x, FS_HZ, STANDARD_LEADS, USABLE, STARTS, LONG_ENDS)
        assert found is not None and found.periodicity < statement_th.AFLT_PERIODICITY_MIN


class TestOnSynthetic:
    """Against the generator's ground truth (``truth.intervals.atrial_rate_bpm``)."""

    #: Atrial rate tolerance: one lag step (2 ms at 500 Hz) at 340/min is 0.7%; 3% allows
    #: the correlation peak to sit a few samples off the true cycle.
    RATE_TOL = 0.03

    @pytest.mark.parametrize(("ratio", "rate"), [(4, 250.0), (4, 300.0), (3, 250.0), (4, 340.0)])
    def test_atrial_rate(self, ratio: int, rate: float) -> None:
        spec = SynthSpec(rhythm="aflutter", flutter_conduction=ratio, flutter_rate_bpm=rate)
        ecg = synthesize(spec, seed=0)
        g = measure_record(ecg.record, per_beat=False).measurements.global_
        truth = ecg.truth.intervals.atrial_rate_bpm
        assert truth is not None and g.atrial_rate_bpm is not None
        assert g.atrial_rate_bpm == pytest.approx(truth, rel=self.RATE_TOL)
        assert g.atrial_periodicity is not None
        assert g.atrial_periodicity >= statement_th.AFLT_PERIODICITY_MIN

    @pytest.mark.parametrize("hr_bpm", [50, 75, 95])
    def test_sinus_has_no_atrial_cycle(self, hr_bpm: int) -> None:
        g = measure_record(synthesize(SynthSpec(hr_bpm=hr_bpm), seed=0).record).measurements.global_
        assert g.atrial_periodicity is not None
        assert g.atrial_periodicity < statement_th.AFLT_PERIODICITY_MIN

    def test_fast_rate_not_assessable(self) -> None:
        g = measure_record(synthesize(SynthSpec(hr_bpm=150), seed=0).record).measurements.global_
        assert g.atrial_periodicity is None and g.atrial_rate_bpm is None


class TestOnLudb:
    """LUDB record 103 is typical atrial flutter with visible F waves (4:1 and 3:1);
    record 35 is flutter with 2:1 conduction at ~130/min (the known limit)."""

    def _measure(self, folder: Path, name: str):  # type: ignore[no-untyped-def]
        return measure_record(read_wfdb(folder / "data" / name)).measurements

    def test_typical_flutter_found(self, dataset_dir) -> None:  # type: ignore[no-untyped-def]
        m = self._measure(dataset_dir("ludb"), "103")
        g = m.global_
        assert g.atrial_rate_bpm is not None and 240 <= g.atrial_rate_bpm <= 340
        assert "AFLT" in {s.code for s in m.statements}
        # variable conduction makes the RR irregular: organised F waves still rule out AF
        assert not {"SR", "1AVB", "AFIB"} & {s.code for s in m.statements}

    @pytest.mark.parametrize("name", ["1", "17", "39", "151"])
    def test_sinus_records_not_flutter(self, dataset_dir, name: str) -> None:  # type: ignore[no-untyped-def]
        m = self._measure(dataset_dir("ludb"), name)
        assert "AFLT" not in {s.code for s in m.statements}

    def test_two_to_one_flutter_not_assessable(self, dataset_dir) -> None:  # type: ignore[no-untyped-def]
        m = self._measure(dataset_dir("ludb"), "35")
        assert m.global_.atrial_periodicity is None
        assert "AFLT" not in {s.code for s in m.statements}
