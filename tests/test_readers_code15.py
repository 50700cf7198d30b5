"""CODE-15% reader on small files written in the exact CODE-15% layout (no real data here)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from tools.errors import CorruptFileError, DatasetError, MissingFileError, SignalValueError
from tools.leads import STANDARD_LEADS
from tools.readers.code15 import (
    CODE15_FS_HZ,
    Code15Dataset,
    read_code15,
    read_exams,
    strip_padding,
)

N_STORED = 4096
COLUMNS = (
    "exam_id", "age", "is_male", "nn_predicted_age", "1dAVb", "RBBB", "LBBB", "SB", "ST", "AF",
    "patient_id", "death", "timey", "normal_ecg", "trace_file",
)  # fmt: skip


def padded(n_samples: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A [4096, 12] tracing: n_samples of signal zero-padded symmetrically, and the signal."""
    signal = rng.normal(scale=0.5, size=(n_samples, 12)).astype(np.float32)
    tracing = np.zeros((N_STORED, 12), dtype=np.float32)
    start = (N_STORED - n_samples) // 2
    tracing[start : start + n_samples] = signal
    return tracing, signal


def write_part(path: Path, exam_ids: list[int], tracings: list[np.ndarray]) -> Path:
    with h5py.File(path, "w") as handle:
        handle.create_dataset("tracings", data=np.stack(tracings))
        handle.create_dataset("exam_id", data=np.asarray(exam_ids, dtype=np.int64))
    return path


def exam_row(exam_id: int, trace_file: str, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(COLUMNS, "False")
    row.update(
        exam_id=exam_id,
        age=60,
        is_male="True",
        nn_predicted_age=61.5,
        patient_id=1000 + exam_id,
        death="",
        timey="",
        trace_file=trace_file,
    )
    row.update(overrides)
    return row


def write_exams(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def code15(tmp_path) -> dict[str, Any]:
    """Two parts (one of them absent) and exams.csv, in CODE-15% layout."""
    rng = np.random.default_rng(15)
    t10, s10 = padded(4000, rng)  # 10 s at 400 Hz: 48 zeros each side
    t7, s7 = padded(2800, rng)  # 7 s: 648 zeros each side
    t_other, s_other = padded(4000, rng)
    write_part(tmp_path / "exams_part0.hdf5", [11, 12, 13], [t10, t7, t_other])
    rows = [
        exam_row(11, "exams_part0.hdf5", **{"1dAVb": "True", "AF": "True"}),
        exam_row(12, "exams_part0.hdf5", is_male="False", age=34, normal_ecg="True"),
        exam_row(13, "exams_part0.hdf5", death="True", timey=2.5),
        exam_row(21, "exams_part1.hdf5", SB="True"),  # part not downloaded
    ]
    write_exams(tmp_path / "exams.csv", rows)
    return {"root": tmp_path, "signals": {11: s10, 12: s7, 13: s_other}}


class TestStripPadding:
    def test_symmetric(self):
        signal = np.zeros((12, 100))
        signal[:, 10:90] = 1.0
        trimmed, start, end = strip_padding(signal)
        assert (start, end, trimmed.shape[1]) == (10, 10, 80)

    def test_zero_inside_kept(self):
        signal = np.zeros((12, 20))
        signal[0, 2] = signal[5, 17] = 1.0
        trimmed, start, end = strip_padding(signal)
        assert (start, end, trimmed.shape[1]) == (2, 2, 16)

    def test_nan_is_not_padding(self):
        signal = np.zeros((12, 10))
        signal[3, 0] = np.nan
        signal[1, 9] = 1.0
        _, start, end = strip_padding(signal)
        assert (start, end) == (0, 0)

    def test_all_zero(self):
        with pytest.raises(SignalValueError, match="zero in every lead"):
            strip_padding(np.zeros((12, 10)), "part.hdf5")


class TestReadCode15:
    def test_ten_second_exam(self, code15):
        record = read_code15(code15["root"] / "exams_part0.hdf5", 11)
        assert record.record_id == "11"
        assert record.fs_hz == CODE15_FS_HZ
        assert record.lead_names == STANDARD_LEADS
        assert record.n_samples == 4000
        np.testing.assert_array_equal(record.signal_mv, code15["signals"][11].T)
        assert record.metadata["pad_start_samples"] == 48
        assert record.metadata["pad_end_samples"] == 48
        assert record.metadata["n_samples_stored"] == N_STORED
        assert [label.code for label in record.labels] == ["1dAVb", "AF"]
        assert record.labels[0].name == "first degree atrioventricular block"
        assert {label.vocabulary for label in record.labels} == {"CODE-15"}
        assert (record.sex, record.age_years, record.patient_id) == ("M", 60.0, "1011")
        assert record.metadata["nn_predicted_age"] == 61.5
        assert record.metadata["death"] is None

    def test_seven_second_exam(self, code15):
        record = read_code15(code15["root"] / "exams_part0.hdf5", "12")
        assert record.n_samples == 2800
        assert record.duration_s == pytest.approx(7.0)
        assert record.metadata["pad_start_samples"] == 648
        assert record.labels == ()
        assert record.sex == "F"
        assert record.metadata["normal_ecg"] is True

    def test_without_table(self, code15, tmp_path_factory):
        lone = tmp_path_factory.mktemp("lone") / "part.hdf5"
        lone.write_bytes((code15["root"] / "exams_part0.hdf5").read_bytes())
        record = read_code15(lone, 13)
        assert record.labels == ()
        assert record.age_years is None
        np.testing.assert_array_equal(record.signal_mv, code15["signals"][13].T)

    def test_exam_not_in_file(self, code15):
        with pytest.raises(MissingFileError, match=r"exams_part0\.hdf5.*exam id 99"):
            read_code15(code15["root"] / "exams_part0.hdf5", 99)

    def test_non_integer_exam_id(self, code15):
        with pytest.raises(MissingFileError, match=r"exams_part0\.hdf5.*'abc'"):
            read_code15(code15["root"] / "exams_part0.hdf5", "abc")

    def test_missing_exam_id_dataset(self, tmp_path):
        with h5py.File(tmp_path / "p.hdf5", "w") as handle:
            handle.create_dataset("tracings", data=np.ones((1, N_STORED, 12), np.float32))
        with pytest.raises(CorruptFileError, match=r"p\.hdf5.*'exam_id'"):
            read_code15(tmp_path / "p.hdf5", 1)

    def test_wrong_tracing_shape(self, tmp_path):
        with h5py.File(tmp_path / "p.hdf5", "w") as handle:
            handle.create_dataset("tracings", data=np.ones((2, N_STORED, 8), np.float32))
            handle.create_dataset("exam_id", data=np.array([1, 2]))
        with pytest.raises(CorruptFileError, match=r"p\.hdf5.*expected \(2, samples, 12\)"):
            read_code15(tmp_path / "p.hdf5", 1)

    def test_all_zero_exam(self, tmp_path):
        write_part(tmp_path / "p.hdf5", [5], [np.zeros((N_STORED, 12), np.float32)])
        with pytest.raises(SignalValueError, match=r"p\.hdf5#exam_id=5"):
            read_code15(tmp_path / "p.hdf5", 5)


class TestReadExams:
    def test_missing_column(self, tmp_path):
        (tmp_path / "exams.csv").write_text("exam_id,age\n1,50\n")
        with pytest.raises(CorruptFileError, match=r"exams\.csv.*trace_file"):
            read_exams(tmp_path / "exams.csv")

    def test_duplicate_exam(self, tmp_path):
        rows = [exam_row(1, "a.hdf5"), exam_row(1, "a.hdf5")]
        with pytest.raises(CorruptFileError, match=r"exams\.csv.*exam_id 1 appears"):
            read_exams(write_exams(tmp_path / "exams.csv", rows))


class TestCode15Dataset:
    def test_listing(self, code15):
        dataset = Code15Dataset(code15["root"])
        assert dataset.name == "code15"
        assert len(dataset) == 3  # exam 21's part is absent
        assert dataset.missing_trace_files == ["exams_part1.hdf5"]
        entries = list(dataset.entries())
        assert [entry.record_id for entry in entries] == ["11", "12", "13"]
        assert [label.code for label in entries[0].labels] == ["1dAVb", "AF"]
        assert entries[1].patient_id == "1012"

    def test_load_matches_reader(self, code15):
        dataset = Code15Dataset(code15["root"])
        for entry in dataset.entries():
            record = dataset.load(entry)
            direct = read_code15(entry.path, entry.record_id)
            assert np.array_equal(record.signal_mv, direct.signal_mv)
            assert record.labels == direct.labels
            assert (record.sex, record.age_years) == (direct.sex, direct.age_years)
            assert record.metadata == direct.metadata

    def test_file_closed_after_load(self, code15):
        dataset = Code15Dataset(code15["root"])
        record = dataset.get("13")
        assert record.metadata["death"] is True
        # HDF5 refuses to truncate a file that is still open in this process.
        with h5py.File(code15["root"] / "exams_part0.hdf5", "w"):
            pass

    def test_exam_listed_but_not_in_part(self, code15):
        rows = [exam_row(11, "exams_part0.hdf5"), exam_row(77, "exams_part0.hdf5")]
        write_exams(code15["root"] / "exams.csv", rows)
        dataset = Code15Dataset(code15["root"])
        with pytest.raises(MissingFileError, match="exam id 77"):
            dataset.get("77")

    def test_no_parts_present(self, tmp_path):
        write_exams(tmp_path / "exams.csv", [exam_row(1, "exams_part9.hdf5")])
        with pytest.raises(DatasetError, match="none of the HDF5 parts"):
            Code15Dataset(tmp_path)

    def test_no_table(self, tmp_path):
        with pytest.raises(MissingFileError, match=r"exams\.csv"):
            Code15Dataset(tmp_path)
