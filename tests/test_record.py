"""The ECG record type and its validation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tools.errors import LeadError, SignalValueError
from tools.leads import STANDARD_LEADS
from tools.record import ECGRecord, Label
from tools.units import mv_factor


def _record(**overrides) -> ECGRecord:
    fields = {
        "record_id": "r1",
        "signal_mv": np.zeros((12, 500)),
        "fs_hz": 500,
        "lead_names": STANDARD_LEADS,
    }
    fields.update(overrides)
    return ECGRecord(**fields)


class TestECGRecord:
    def test_basic(self) -> None:
        rec = _record(signal_mv=np.ones((12, 1000), dtype=np.float64))
        assert rec.signal_mv.dtype == np.float32
        assert rec.n_leads == 12 and rec.n_samples == 1000
        assert rec.duration_s == pytest.approx(2.0)
        assert not rec.signal_mv.flags.writeable
        assert rec.original_lead_names == STANDARD_LEADS

    def test_fewer_leads_in_canonical_order(self) -> None:
        rec = _record(signal_mv=np.zeros((2, 10)), lead_names=("II", "V5"))
        assert rec.lead("V5").shape == (10,)

    def test_wrong_order_is_error(self) -> None:
        with pytest.raises(LeadError, match="canonical"):
            _record(signal_mv=np.zeros((2, 10)), lead_names=("V5", "II"))

    def test_as_recorded_allows_any_names(self) -> None:
        rec = _record(signal_mv=np.zeros((2, 10)), lead_names=("CM5", "CC5"),
                      lead_system="as-recorded")  # fmt: skip
        assert rec.lead_names == ("CM5", "CC5")

    def test_name_count_mismatch(self) -> None:
        with pytest.raises(LeadError, match="11 lead names for 12"):
            _record(lead_names=STANDARD_LEADS[:11])

    @pytest.mark.parametrize("fs", [0, -500, float("nan")])
    def test_bad_fs(self, fs: float) -> None:
        with pytest.raises(SignalValueError, match="sampling rate"):
            _record(fs_hz=fs)

    def test_empty(self) -> None:
        with pytest.raises(SignalValueError, match="empty"):
            _record(signal_mv=np.zeros((12, 0)))

    def test_one_dimensional(self) -> None:
        with pytest.raises(SignalValueError, match="2-D"):
            _record(signal_mv=np.zeros(100))

    def test_all_nan_lead_named(self) -> None:
        signal = np.zeros((12, 50))
        signal[4] = np.nan
        with pytest.raises(SignalValueError, match="aVL contain only NaN"):
            _record(signal_mv=signal, source_path="/data/x.hea")

    def test_nan_samples_counted_not_zeroed(self) -> None:
        signal = np.ones((12, 50))
        signal[1, 10:13] = np.nan
        rec = _record(signal_mv=signal)
        assert rec.nan_counts == {"II": 3}
        assert np.isnan(rec.signal_mv[1, 11])

    def test_unknown_lead_lookup(self) -> None:
        with pytest.raises(LeadError, match="no lead 'V7'"):
            _record().lead("V7")

    def test_summary_is_json(self) -> None:
        rec = _record(
            labels=(Label("NORM", "SCP-ECG", "normal ECG", 100.0),),
            age_years=56.0,
            sex="F",
            metadata={"strat_fold": np.int64(3)},
        )
        data = json.loads(rec.summary().model_dump_json())
        assert data["labels"][0]["code"] == "NORM"
        assert data["metadata"]["strat_fold"] == 3
        assert data["units"] == "mV"
        assert "signal_mv" not in data


class TestUnits:
    @pytest.mark.parametrize(
        ("unit", "factor"),
        [("mV", 1.0), ("uV", 1e-3), ("µV", 1e-3), ("V", 1e3), (None, 1.0), ("", 1.0)],
    )
    def test_factors(self, unit: str | None, factor: float) -> None:
        assert mv_factor(unit) == factor

    def test_non_voltage(self) -> None:
        with pytest.raises(SignalValueError, match=r"rec\.hea: unit 'mmHg'"):
            mv_factor("mmHg", source="rec.hea")
