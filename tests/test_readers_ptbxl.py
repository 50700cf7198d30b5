"""PtbxlDataset on the shared PTB-XL rows and on small tables written in tmp_path."""

from __future__ import annotations

import ast
import csv
from pathlib import Path

import numpy as np
import pytest
import wfdb

from tools.errors import DatasetError, MissingFileError
from tools.leads import STANDARD_LEADS
from tools.readers.ptbxl import PtbxlDataset
from tools.readers.wfdb_reader import read_wfdb

HEADER = (
    "ecg_id,patient_id,age,sex,report,scp_codes,strat_fold,heart_axis,site,device,"
    "recording_date,validated_by_human,filename_lr,filename_hr\n"
)


def csv_rows(root: Path) -> dict[str, dict[str, str]]:
    with (root / "ptbxl_database.csv").open(newline="") as handle:
        return {row["ecg_id"]: row for row in csv.DictReader(handle)}


def write_tiny_ptbxl(root: Path, rows: list[str], statements_first_cell: str = "") -> Path:
    """A PTB-XL folder with the given database rows and one 500 Hz record (ecg_id 7)."""
    (root / "records500" / "00000").mkdir(parents=True)
    (root / "ptbxl_database.csv").write_text(HEADER + "".join(rows))
    (root / "scp_statements.csv").write_text(
        f"{statements_first_cell},description,diagnostic\nNORM,normal ECG,1.0\nAFIB,atrial "
        "fibrillation,\n"
    )
    signal = np.random.default_rng(2).normal(0, 0.4, (5000, 12))
    names = ["I", "II", "III", "AVR", "AVL", "AVF", "V1", "V2", "V3", "V4", "V5", "V6"]
    wfdb.wrsamp(
        "00007_hr",
        fs=500,
        units=["mV"] * 12,
        sig_name=names,
        p_signal=signal,
        fmt=["16"] * 12,
        adc_gain=[1000.0] * 12,
        baseline=[0] * 12,
        write_dir=str(root / "records500" / "00000"),
    )
    return root


ROW_7 = (
    "7,42.0,300.0,1,\"sinus rhythm. normal ecg.\",\"{'NORM': 100.0, 'AFIB': 15.0}\","
    "5,MID,2.0,CS-12,1990-01-01 10:00:00,True,records100/00000/00007_lr,"
    "records500/00000/00007_hr\n"
)


@pytest.mark.data
class TestSharedPtbxl:
    def test_500hz_rows(self, dataset_dir):
        root = dataset_dir("ptbxl")
        table = csv_rows(root)
        ds = PtbxlDataset(root, fs_hz=500)
        assert len(ds) == len(table) == 6
        loaded = 0
        for entry in ds.entries():
            row = table[entry.record_id]
            if not (root / f"{row['filename_hr']}.hea").exists():
                with pytest.raises(MissingFileError, match=f"PTB-XL record {entry.record_id} "):
                    ds.load(entry)
                continue
            record = ds.load(entry)
            loaded += 1
            assert (record.fs_hz, record.n_samples, record.lead_names) == (
                500,
                5000,
                STANDARD_LEADS,
            )
            assert record.report == row["report"]
            assert record.age_years == float(row["age"])
            assert record.sex == {"0": "M", "1": "F"}[row["sex"]]
            assert record.patient_id == str(int(float(row["patient_id"])))
            assert record.metadata["strat_fold"] == int(row["strat_fold"])
            assert record.metadata["filename"] == row["filename_hr"]
            codes = ast.literal_eval(row["scp_codes"])
            assert [lab.code for lab in record.labels] == list(codes)
            assert [lab.likelihood for lab in record.labels] == list(codes.values())
            assert all(lab.vocabulary == "SCP-ECG" and lab.name for lab in record.labels)
        assert loaded == 5

    def test_100hz_row(self, dataset_dir):
        ds = PtbxlDataset(dataset_dir("ptbxl"), fs_hz=100, available_only=True)
        assert [e.record_id for e in ds.entries()] == ["1"]
        record = ds.get("1")
        assert (record.fs_hz, record.n_samples) == (100, 1000)
        assert record.sex == "F" and record.metadata["strat_fold"] == 3

    def test_available_only_500(self, dataset_dir):
        ds = PtbxlDataset(dataset_dir("ptbxl"), available_only=True)
        assert len(ds) == 5
        assert "1" not in {e.record_id for e in ds.entries()}

    def test_label_names_from_statements(self, dataset_dir):
        root = dataset_dir("ptbxl")
        with (root / "scp_statements.csv").open(newline="") as handle:
            reader = csv.reader(handle)
            next(reader)
            descriptions = {row[0]: row[1] for row in reader}
        record = PtbxlDataset(root).get("6002")
        assert {lab.code: lab.name for lab in record.labels} == {
            code: descriptions[code] for code in ("NORM", "IRBBB", "SBRAD")
        }

    def test_signal_equals_read_wfdb(self, dataset_dir):
        root = dataset_dir("ptbxl")
        record = PtbxlDataset(root).get("6000")
        direct = read_wfdb(root / "records500" / "06000" / "06000_hr")
        np.testing.assert_array_equal(record.signal_mv, direct.signal_mv)


class TestPtbxlWritten:
    def test_censored_age_and_labels(self, tmp_path):
        ds = PtbxlDataset(write_tiny_ptbxl(tmp_path, [ROW_7]))
        record = ds.get("7")
        assert record.age_years == 90.0 and record.metadata["age_over_89"] is True
        assert [(lab.code, lab.name, lab.likelihood) for lab in record.labels] == [
            ("NORM", "normal ECG", 100.0),
            ("AFIB", "atrial fibrillation", 15.0),
        ]
        assert record.metadata["heart_axis"] == "MID"
        assert record.metadata["validated_by_human"] is True

    def test_statements_header_named(self, tmp_path):
        ds = PtbxlDataset(write_tiny_ptbxl(tmp_path, [ROW_7], "accurate_diagnostic"))
        assert ds.get("7").labels[0].name == "normal ECG"

    def test_statements_absent(self, tmp_path):
        root = write_tiny_ptbxl(tmp_path, [ROW_7])
        (root / "scp_statements.csv").unlink()
        assert PtbxlDataset(root).get("7").labels[0].name is None

    def test_missing_value_cells(self, tmp_path):
        row = "7,,,,,{},5,,,,,,records100/00000/00007_lr,records500/00000/00007_hr\n"
        record = PtbxlDataset(write_tiny_ptbxl(tmp_path, [row])).get("7")
        assert (record.age_years, record.sex, record.patient_id, record.report) == (None,) * 4
        assert record.labels == ()

    def test_bad_scp_codes(self, tmp_path):
        row = ROW_7.replace("\"{'NORM': 100.0, 'AFIB': 15.0}\"", "NORM")
        ds = PtbxlDataset(write_tiny_ptbxl(tmp_path, [row]))
        with pytest.raises(DatasetError, match=r"ptbxl_database\.csv: ecg_id 7: scp_codes"):
            list(ds.entries())

    def test_unknown_id(self, tmp_path):
        ds = PtbxlDataset(write_tiny_ptbxl(tmp_path, [ROW_7]))
        with pytest.raises(MissingFileError, match="no record with ecg_id '99'"):
            ds.get("99")

    def test_missing_table(self, tmp_path):
        with pytest.raises(MissingFileError, match=r"ptbxl_database\.csv: PTB-XL database"):
            PtbxlDataset(tmp_path)

    def test_missing_columns(self, tmp_path):
        (tmp_path / "ptbxl_database.csv").write_text("ecg_id,age\n1,50\n")
        with pytest.raises(DatasetError, match="lacks column"):
            PtbxlDataset(tmp_path)

    def test_unsupported_rate(self, tmp_path):
        with pytest.raises(DatasetError, match="not 250"):
            PtbxlDataset(write_tiny_ptbxl(tmp_path, [ROW_7]), fs_hz=250)

    def test_row_without_files(self, tmp_path):
        ds = PtbxlDataset(write_tiny_ptbxl(tmp_path, [ROW_7]), fs_hz=100)
        with pytest.raises(MissingFileError, match=r"00007_lr\.hea: PTB-XL record 7"):
            ds.load(next(ds.entries()))
