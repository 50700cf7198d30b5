"""Broken WFDB records: every failure is a typed error that names the file and the problem."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import wfdb

from tools.errors import (
    CorruptFileError,
    DuplicateLeadError,
    HeaderMismatchError,
    MissingFileError,
    SignalValueError,
    UnknownLeadError,
)
from tools.readers.wfdb_reader import read_wfdb

N_SAMPLES = 1000
LEADS = ["I", "II", "V1"]


def write_good(folder: Path, name: str = "rec", signal_mv: np.ndarray | None = None) -> Path:
    """A valid 3-lead, 16-bit record at 250 Hz; NaN samples are written as WFDB invalid."""
    if signal_mv is None:
        signal_mv = np.random.default_rng(3).normal(0, 0.5, (N_SAMPLES, len(LEADS)))
    wfdb.wrsamp(
        name,
        fs=250,
        units=["mV"] * len(LEADS),
        sig_name=LEADS,
        p_signal=signal_mv,
        fmt=["16"] * len(LEADS),
        adc_gain=[1000.0] * len(LEADS),
        baseline=[0] * len(LEADS),
        write_dir=str(folder),
    )
    return folder / name


def edit_header(base: Path, old: str, new: str) -> None:
    header = base.with_name(base.name + ".hea")
    text = header.read_text()
    assert old in text
    header.write_text(text.replace(old, new, 1))


class TestMissingFiles:
    def test_missing_dat(self, tmp_path):
        base = write_good(tmp_path)
        (tmp_path / "rec.dat").unlink()
        with pytest.raises(MissingFileError, match=r"rec\.dat: signal file named in rec\.hea"):
            read_wfdb(base)

    def test_missing_hea(self, tmp_path):
        with pytest.raises(MissingFileError, match=r"nothing\.hea: WFDB header file does not"):
            read_wfdb(tmp_path / "nothing")


class TestSampleCount:
    def test_truncated_dat(self, tmp_path):
        base = write_good(tmp_path)
        data = tmp_path / "rec.dat"
        with data.open("r+b") as handle:
            handle.truncate(data.stat().st_size // 2)
        with pytest.raises(HeaderMismatchError, match=r"rec\.dat: .*truncated"):
            read_wfdb(base)

    def test_header_count_larger_than_data(self, tmp_path):
        base = write_good(tmp_path)
        edit_header(base, f"250 {N_SAMPLES}", f"250 {N_SAMPLES + 1}")
        with pytest.raises(HeaderMismatchError, match=f"header \\({N_SAMPLES + 1} samples"):
            read_wfdb(base)

    def test_header_count_smaller_reads_header_count(self, tmp_path):
        # WFDB allows trailing data after the last frame: the header's count wins.
        base = write_good(tmp_path)
        edit_header(base, f"250 {N_SAMPLES}", f"250 {N_SAMPLES // 2}")
        assert read_wfdb(base).n_samples == N_SAMPLES // 2

    @pytest.mark.data
    def test_truncated_real_record(self, dataset_dir, tmp_path):
        source = dataset_dir("qtdb")
        for suffix in (".hea", ".dat"):
            shutil.copy(source / f"sel100{suffix}", tmp_path / f"sel100{suffix}")
        with (tmp_path / "sel100.dat").open("r+b") as handle:
            handle.truncate(1000)
        with pytest.raises(HeaderMismatchError, match=r"sel100\.dat: file has 1000 bytes"):
            read_wfdb(tmp_path / "sel100", lead_policy="as-recorded")


class TestLeadNames:
    def test_unknown_lead(self, tmp_path):
        base = write_good(tmp_path)
        edit_header(base, " V1", " XYZ")
        with pytest.raises(UnknownLeadError, match=r"rec\.hea: lead name 'XYZ'"):
            read_wfdb(base)

    def test_duplicated_lead(self, tmp_path):
        base = write_good(tmp_path)
        edit_header(base, " V1", " ii")
        with pytest.raises(DuplicateLeadError, match=r"rec\.hea: .*'II' and 'ii' are both lead II"):
            read_wfdb(base)

    def test_duplicated_lead_allowed_as_recorded(self, tmp_path):
        base = write_good(tmp_path)
        edit_header(base, " V1", " II")
        assert read_wfdb(base, lead_policy="as-recorded").lead_names == ("I", "II", "II#2")


class TestHeaderValues:
    @pytest.mark.parametrize("fs", ["0", "-250"])
    def test_fs_not_positive(self, tmp_path, fs):
        base = write_good(tmp_path)
        edit_header(base, f"rec 3 250 {N_SAMPLES}", f"rec 3 {fs} {N_SAMPLES}")
        with pytest.raises(SignalValueError, match=r"rec\.hea: sampling rate must be > 0"):
            read_wfdb(base)

    def test_non_voltage_unit(self, tmp_path):
        base = write_good(tmp_path)
        edit_header(base, "/mV", "/mmHg")
        with pytest.raises(SignalValueError, match=r"rec\.hea: unit 'mmHg' is not a voltage"):
            read_wfdb(base)

    def test_no_signals_declared(self, tmp_path):
        (tmp_path / "zero.hea").write_text("zero 0 500 5000\n")
        with pytest.raises(CorruptFileError, match=r"zero\.hea: header declares no signals"):
            read_wfdb(tmp_path / "zero")


class TestNotAHeader:
    def test_empty_hea(self, tmp_path):
        (tmp_path / "empty.hea").write_bytes(b"")
        with pytest.raises(CorruptFileError, match=r"empty\.hea: WFDB header file is empty"):
            read_wfdb(tmp_path / "empty")

    def test_random_bytes(self, tmp_path):
        (tmp_path / "noise.hea").write_bytes(np.random.default_rng(9).bytes(512))
        with pytest.raises(CorruptFileError, match=r"noise\.hea: not a readable WFDB header"):
            read_wfdb(tmp_path / "noise")

    def test_text_file_named_hea(self, tmp_path):
        (tmp_path / "notes.hea").write_text("Meeting notes\nbuy milk, call the lab\n")
        with pytest.raises(CorruptFileError, match=r"notes\.hea: not a readable WFDB header"):
            read_wfdb(tmp_path / "notes")


class TestMissingSamples:
    def test_all_nan_lead(self, tmp_path):
        signal = np.random.default_rng(4).normal(0, 0.5, (N_SAMPLES, len(LEADS)))
        signal[:, 1] = np.nan
        base = write_good(tmp_path, signal_mv=signal)
        with pytest.raises(SignalValueError, match=r"rec: lead\(s\) II contain only NaN"):
            read_wfdb(base)

    def test_nan_inside_good_lead_kept(self, tmp_path):
        signal = np.random.default_rng(5).normal(0, 0.5, (N_SAMPLES, len(LEADS)))
        signal[100:110, 2] = np.nan
        base = write_good(tmp_path, signal_mv=signal)
        record = read_wfdb(base)
        assert record.nan_counts == {"V1": 10}
        assert np.isnan(record.lead("V1")[100:110]).all()
        np.testing.assert_allclose(record.lead("V1")[:100], signal[:100, 2], atol=1e-3)
