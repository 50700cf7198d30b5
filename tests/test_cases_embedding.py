"""ECG embeddings: layout, determinism, standardisation, the median-beat shape block."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from tools.cases import embedding as emb
from tools.cases.embedding import (
    EMBEDDING_DIM,
    EMBEDDING_VERSION,
    embed_measurements,
    embed_record,
    global_block,
    key_measurements,
    lead_block,
    shape_block,
)
from tools.delineate.result import GlobalPoints, MedianBeat, WavePoints
from tools.errors import SignalValueError
from tools.leads import STANDARD_LEADS
from tools.measure.model import GlobalMeasurements, LeadMeasurements, Measurements
from tools.measure.pipeline import MeasurementRun, measure_record
from tools.measure.thresholds import BASELINE_WINDOW_MS
from tools.measure.waves import ms_to_samples
from tools.synth import SynthSpec, synthesize


def _run(seed: int = 0, **spec: object) -> MeasurementRun:
    return measure_record(synthesize(SynthSpec(**spec), seed=seed).record, per_beat=False)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def normal_run() -> MeasurementRun:
    return _run()


def _median(signal_mv: np.ndarray, r_index: int, qrs_on: int = -1) -> MedianBeat:
    gp = GlobalPoints(*(np.array(v) for v in (-1, -1, qrs_on, -1, -1)))
    return MedianBeat(signal_mv.astype(np.float32), r_index, 5,
                      WavePoints.empty(signal_mv.shape[0]), gp)  # fmt: skip


def _measurements(**global_values: object) -> Measurements:
    return Measurements(
        record_id="m",
        fs_hz=500.0,
        lead_names=list(STANDARD_LEADS),
        usable_leads=list(STANDARD_LEADS),
        global_=GlobalMeasurements(**global_values),
    )


class TestLayout:
    def test_dimension_is_sum_of_blocks(self) -> None:
        assert EMBEDDING_DIM == emb.N_GLOBAL + emb.N_LEAD + emb.N_SHAPE
        assert emb.N_SHAPE == 12 * emb.SHAPE_SAMPLES

    def test_weights_sum_to_one(self) -> None:
        assert sum(emb.BLOCK_WEIGHTS.values()) == pytest.approx(1.0)

    def test_signature_names_version_and_dim(self) -> None:
        sig = emb.embedding_signature()
        assert sig["embedding_version"] == EMBEDDING_VERSION
        assert sig["embedding_dim"] == EMBEDDING_DIM


class TestEmbedMeasurements:
    def test_basic(self, normal_run: MeasurementRun) -> None:
        v = embed_measurements(normal_run)
        assert v.shape == (EMBEDDING_DIM,)
        assert v.dtype == np.float32
        assert np.linalg.norm(v) == pytest.approx(1.0, abs=1e-5)
        assert np.isfinite(v).all()

    def test_deterministic(self, normal_run: MeasurementRun) -> None:
        again = _run()
        np.testing.assert_array_equal(embed_measurements(normal_run), embed_measurements(again))

    def test_same_kind_closer_than_different_kind(self) -> None:
        lbbb_a = embed_measurements(_run(seed=1, conduction="lbbb", hr_bpm=70))
        lbbb_b = embed_measurements(_run(seed=2, conduction="lbbb", hr_bpm=85))
        normal = embed_measurements(_run(seed=1, hr_bpm=70))
        assert float(lbbb_a @ lbbb_b) > float(lbbb_a @ normal) + 0.3

    def test_no_median_beat_raises(self, normal_run: MeasurementRun) -> None:
        empty = replace(normal_run, delineation=None)
        with pytest.raises(SignalValueError, match="no median beat"):
            embed_measurements(empty)

    def test_flat_record_raises(self) -> None:
        record = synthesize(SynthSpec(), seed=0).record
        flat = replace(record, signal_mv=np.zeros_like(record.signal_mv))
        with pytest.raises(SignalValueError, match="cannot embed"):
            embed_record(flat)

    def test_embed_record_matches_measure_then_embed(self) -> None:
        record = synthesize(SynthSpec(rhythm="afib"), seed=4).record
        expected = embed_measurements(measure_record(record, per_beat=False))
        np.testing.assert_array_equal(embed_record(record), expected)


class TestGlobalBlock:
    def test_missing_values_are_the_mean(self) -> None:
        np.testing.assert_array_equal(global_block(_measurements()), np.zeros(emb.N_GLOBAL))

    def test_standardised_value(self) -> None:
        mean, spread = emb.GLOBAL_FEATURES["qrs_ms"]
        block = global_block(_measurements(qrs_ms=mean + 2 * spread))
        assert block[list(emb.GLOBAL_FEATURES).index("qrs_ms")] == pytest.approx(2.0)

    def test_outlier_clipped(self) -> None:
        block = global_block(_measurements(qt_ms=5000.0))
        assert block.max() == pytest.approx(emb.Z_CLIP)

    def test_typical_axis_is_zero(self) -> None:
        typical = emb.AXES["qrs_axis_deg"][0]
        assert np.abs(global_block(_measurements(qrs_axis_deg=typical))).max() < 1e-12

    def test_axis_wraps_around(self) -> None:
        a = global_block(_measurements(qrs_axis_deg=179.0))
        b = global_block(_measurements(qrs_axis_deg=-179.0))
        np.testing.assert_allclose(a, b, atol=0.1)

    def test_ectopy_fraction(self) -> None:
        block = global_block(_measurements(beat_counts={"normal": 8, "ventricular_premature": 2}))
        i = len(emb.GLOBAL_FEATURES) + list(emb.ECTOPY_FEATURES).index("ventricular_premature")
        assert block[i] == pytest.approx(0.2 / emb.ECTOPY_FEATURES["ventricular_premature"][1])


class TestLeadBlock:
    def test_absent_lead_is_zero(self) -> None:
        m = _measurements().model_copy(
            update={
                "leads": [LeadMeasurements(lead="V2", r_amplitude_mv=1.7, t_polarity="negative")]
            }
        )
        block = lead_block(m).reshape(12, len(emb.LEAD_FEATURES))
        v2 = STANDARD_LEADS.index("V2")
        assert np.count_nonzero(np.delete(block, v2, axis=0)) == 0
        r_mean, r_spread = emb.LEAD_FEATURES["r_amplitude_mv"]
        assert block[v2, list(emb.LEAD_FEATURES).index("r_amplitude_mv")] == pytest.approx(
            (1.7 - r_mean) / r_spread
        )
        assert block[v2, list(emb.LEAD_FEATURES).index("t_polarity")] < 0


class TestShapeBlock:
    FS = 500.0

    def test_constant_signal_minus_baseline_is_zero(self) -> None:
        x = np.full((12, 600), 0.3)
        block = shape_block(_median(x, 250, qrs_on=240), self.FS, STANDARD_LEADS, STANDARD_LEADS)
        np.testing.assert_allclose(block, 0.0, atol=1e-12)

    def test_bin_means_of_a_ramp(self) -> None:
        fs = 1280.0  # 25 ms bins = 32 samples: edges fall on sample centres, means are exact
        x = np.tile(np.arange(1500, dtype=float), (12, 1))  # 1 unit per sample
        r = 600
        block = shape_block(_median(x, r, qrs_on=r), fs, STANDARD_LEADS, STANDARD_LEADS)
        start = r - emb.SHAPE_PRE_MS * fs / 1000
        centres = start + 32 * (np.arange(emb.SHAPE_SAMPLES) + 0.5)
        baseline = np.mean(x[0, r - ms_to_samples(BASELINE_WINDOW_MS, fs) : r])
        for lead in range(12):
            np.testing.assert_allclose(block.reshape(12, -1)[lead], centres - baseline, atol=1e-9)

    def test_same_shape_at_another_rate(self) -> None:
        t500 = np.arange(600) / 500.0
        t250 = np.arange(300) / 250.0
        wave = lambda t: np.exp(-(((t - 0.5) / 0.03) ** 2))  # noqa: E731
        a = shape_block(_median(np.tile(wave(t500), (12, 1)), 250), 500.0, STANDARD_LEADS,
                        STANDARD_LEADS)  # fmt: skip
        b = shape_block(_median(np.tile(wave(t250), (12, 1)), 125), 250.0, STANDARD_LEADS,
                        STANDARD_LEADS)  # fmt: skip
        np.testing.assert_allclose(a, b, atol=0.02)

    def test_unusable_and_absent_leads_are_zero(self) -> None:
        x = np.random.default_rng(0).normal(size=(3, 600))
        names = ("I", "II", "V1")
        block = shape_block(_median(x, 250), self.FS, names, ("I", "V1")).reshape(12, -1)
        assert np.abs(block[STANDARD_LEADS.index("I")]).sum() > 0
        assert np.abs(block[STANDARD_LEADS.index("V1")]).sum() > 0
        assert np.count_nonzero(block[STANDARD_LEADS.index("II")]) == 0
        assert np.count_nonzero(block[STANDARD_LEADS.index("V6")]) == 0

    def test_nan_lead_is_zero(self) -> None:
        x = np.random.default_rng(1).normal(size=(12, 600))
        x[4] = np.nan
        block = shape_block(_median(x, 250), self.FS, STANDARD_LEADS, STANDARD_LEADS)
        assert np.count_nonzero(block.reshape(12, -1)[4]) == 0
        assert np.isfinite(block).all()


class TestKeyMeasurements:
    def test_keys_and_values(self, normal_run: MeasurementRun) -> None:
        key = key_measurements(normal_run.measurements)
        assert list(key) == list(emb.KEY_MEASUREMENTS)
        assert key["qrs_ms"] == normal_run.measurements.global_.qrs_ms
