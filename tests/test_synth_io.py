"""The synthetic record's identity and labels; WFDB + truth JSON round trips."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import wfdb

from tools.errors import CorruptFileError, MissingFileError, SignalValueError
from tools.leads import STANDARD_LEADS
from tools.synth import (
    FIDUCIALS,
    GroundTruth,
    SynthSpec,
    read_truth,
    synthesize,
    write_synthetic,
)


def assert_same_truth(a: GroundTruth, b: GroundTruth) -> None:
    assert a.record_id == b.record_id and a.fs_hz == b.fs_hz and a.n_samples == b.n_samples
    assert a.beat_types == b.beat_types and a.lead_names == b.lead_names
    for name in FIDUCIALS:
        np.testing.assert_array_equal(a.fiducials[name], b.fiducials[name])
        np.testing.assert_array_equal(a.lead_fiducials[name], b.lead_fiducials[name])
    np.testing.assert_array_equal(a.atrial_wave_onsets, b.atrial_wave_onsets)
    assert a.intervals == b.intervals and a.spec == b.spec and a.labels == b.labels


class TestSyntheticRecord:
    def test_record_is_a_standard_12_lead_mv_record(self):
        ecg = synthesize(SynthSpec(duration_s=15, fs_hz=1000))
        record = ecg.record
        assert record.lead_names == STANDARD_LEADS and record.lead_system == "standard"
        assert record.signal_mv.dtype == np.float32 and record.signal_mv.shape == (12, 15000)
        assert record.dataset == "synthetic" and record.fs_hz == 1000
        assert record.record_id == f"synth-{ecg.spec.digest()}"
        assert record.summary().labels[0].vocabulary == "synthetic"
        assert ecg.truth.lead_fiducials["qrs_on"].shape == (ecg.truth.n_beats, 12)

    @pytest.mark.parametrize(
        ("kwargs", "codes"),
        [
            ({}, {"SR"}),
            ({"hr_bpm": 45, "pr_ms": 260}, {"SR", "SBRAD", "1AVB"}),
            ({"hr_bpm": 120, "axis_deg": -60}, {"SR", "STACH", "LAD"}),
            ({"rhythm": "afib", "conduction": "lbbb", "pvc_every": 5}, {"AFIB", "LBBB", "PVC"}),
            ({"conduction": "rbbb", "axis_deg": 120, "pac_beats": (3,)}, {"RBBB", "RAD", "PAC"}),
            ({"qtc_ms": 500, "amplitude_scale": 0.4}, {"LQT", "LVOLT"}),
            ({"baseline_wander_mv": 0.1, "muscle_noise_mv": 0.01}, {"BW", "EMG"}),
        ],
    )
    def test_labels_name_what_it_was_built_with(self, kwargs, codes):
        ecg = synthesize(SynthSpec(**kwargs))
        got = {label.code for label in ecg.record.labels}
        assert codes <= got
        assert all(label.vocabulary == "synthetic" and label.name for label in ecg.record.labels)
        assert set(ecg.truth.labels) == got
        if "SBRAD" not in codes:
            assert "SBRAD" not in got


class TestTruthJson:
    def test_round_trip(self):
        ecg = synthesize(SynthSpec(rhythm="aflutter", flutter_conduction=3, flat_leads=("V2",)))
        text = ecg.truth.to_json()
        assert json.loads(text)["schema_version"] == 1
        assert_same_truth(GroundTruth.from_json(text), ecg.truth)

    def test_spec_in_truth_rebuilds_the_record(self):
        ecg = synthesize(SynthSpec(hr_bpm=83, st_shift_mv={"anterior": 0.15}), seed=6)
        again = synthesize(SynthSpec.from_dict(ecg.truth.spec))
        np.testing.assert_array_equal(again.record.signal_mv, ecg.record.signal_mv)


class TestWriteSynthetic:
    def test_wfdb_round_trip(self, tmp_path):
        ecg = synthesize(SynthSpec(conduction="rbbb", muscle_noise_mv=0.03, powerline_mv=0.05))
        path = write_synthetic(ecg, tmp_path / "out")
        assert path == tmp_path / "out" / ecg.record.record_id
        rec = wfdb.rdrecord(str(path))
        assert rec.sig_name == list(STANDARD_LEADS)
        assert rec.units == ["mV"] * 12 and rec.fs == ecg.record.fs_hz
        assert rec.fmt == ["16"] * 12
        np.testing.assert_allclose(rec.p_signal.T, ecg.record.signal_mv, atol=0.5e-3 + 1e-6)
        assert_same_truth(read_truth(path), ecg.truth)

    def test_read_truth_accepts_every_path_form(self, tmp_path):
        ecg = synthesize(SynthSpec())
        path = write_synthetic(ecg, tmp_path)
        for form in (path, path.with_suffix(".hea"), tmp_path / f"{path.name}.truth.json"):
            assert read_truth(form).record_id == ecg.record.record_id

    def test_missing_truth(self, tmp_path):
        with pytest.raises(MissingFileError, match=r"nothing\.truth\.json: ground-truth file"):
            read_truth(tmp_path / "nothing")

    def test_corrupt_truth(self, tmp_path):
        bad = tmp_path / "x.truth.json"
        bad.write_text('{"record_id": "x"}')
        with pytest.raises(CorruptFileError, match=r"x\.truth\.json: not a synthetic ground-truth"):
            read_truth(bad)
        bad.write_text("not json at all")
        with pytest.raises(CorruptFileError, match=r"not a synthetic ground-truth file"):
            read_truth(bad)

    def test_signal_beyond_fmt16_range_is_refused(self, tmp_path):
        ecg = synthesize(SynthSpec())
        loud = ecg.record.with_signal(ecg.record.signal_mv * 100)
        with pytest.raises(SignalValueError, match=r"beyond the \+-32\.767 mV that fmt 16"):
            write_synthetic(dataclasses.replace(ecg, record=loud), tmp_path)
        assert not list(tmp_path.iterdir())  # nothing half-written
