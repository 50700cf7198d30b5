"""CPSC 2018 reader: the five shared records, copies with a REFERENCE.csv, synthetic structs."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from tools.errors import CorruptFileError, DatasetError, MissingFileError
from tools.leads import STANDARD_LEADS
from tools.readers.cpsc2018 import (
    CPSC2018_FS_HZ,
    Cpsc2018Dataset,
    read_cpsc2018,
    read_reference,
)

SHARED_IDS = ("A1980", "A1982", "A1984", "A1986", "A1988")
REFERENCE_HEADER = "Recording,First_label,Second_label,Third_label\n"


def _direct(path: Path) -> tuple[np.ndarray, str, float]:
    struct = scipy.io.loadmat(path)["ECG"][0, 0]
    return struct["data"], str(struct["sex"][0]), float(struct["age"][0, 0])


def write_struct(path: Path, data: np.ndarray, sex: str = "Female", age: float = 40.0) -> Path:
    scipy.io.savemat(path, {"ECG": {"sex": sex, "age": age, "data": data}})
    return path


@pytest.fixture
def copied(dataset_dir, tmp_path) -> Path:
    """The shared records copied into tmp_path with a REFERENCE.csv beside them."""
    folder = dataset_dir("cpsc2018")
    for record_id in SHARED_IDS:
        shutil.copy(folder / f"{record_id}.mat", tmp_path / f"{record_id}.mat")
    (tmp_path / "REFERENCE.csv").write_text(
        REFERENCE_HEADER + "A1980,1,,\nA1982,2,6,\nA1984,8,9,5\nA1986,3,,\n"
    )
    return tmp_path


class TestReadCpsc2018Shared:
    def test_all_records(self, dataset_dir):
        folder = dataset_dir("cpsc2018")
        assert sorted(p.stem for p in folder.glob("*.mat")) == list(SHARED_IDS)
        for record_id in SHARED_IDS:
            record = read_cpsc2018(folder / f"{record_id}.mat")
            data, sex, age = _direct(folder / f"{record_id}.mat")
            assert record.record_id == record_id
            assert record.lead_names == STANDARD_LEADS
            assert record.fs_hz == CPSC2018_FS_HZ
            np.testing.assert_allclose(record.signal_mv, data.astype(np.float32))
            assert record.sex == sex[0]
            assert record.age_years == age
            assert record.labels == ()  # no REFERENCE.csv in the shared folder

    def test_amplitudes_are_millivolts(self, dataset_dir):
        # A QRS complex is ~0.5-3 mV: the 99th percentile of |x| per record must be in range.
        folder = dataset_dir("cpsc2018")
        for record_id in SHARED_IDS:
            record = read_cpsc2018(folder / record_id)
            p99 = np.percentile(np.abs(record.signal_mv), 99)
            assert 0.2 < p99 < 5.0


class TestReadCpsc2018Labels:
    def test_reference_beside_file(self, copied):
        record = read_cpsc2018(copied / "A1984.mat")
        assert [label.code for label in record.labels] == ["8", "9", "5"]
        assert [label.name for label in record.labels] == [
            "ST-segment depression",
            "ST-segment elevation",
            "right bundle branch block",
        ]
        assert {label.vocabulary for label in record.labels} == {"CPSC2018"}

    def test_record_absent_from_table(self, copied):
        assert read_cpsc2018(copied / "A1988.mat").labels == ()

    def test_explicit_reference(self, copied, tmp_path_factory):
        other = tmp_path_factory.mktemp("ref") / "labels.csv"
        other.write_text(REFERENCE_HEADER + "A1988,7,,\n")
        record = read_cpsc2018(copied / "A1988.mat", reference=other)
        assert [label.code for label in record.labels] == ["7"]

    def test_explicit_reference_missing(self, copied):
        with pytest.raises(MissingFileError, match=r"nope\.csv"):
            read_cpsc2018(copied / "A1988.mat", reference=copied / "nope.csv")


class TestReadReference:
    def test_parse(self, tmp_path):
        path = tmp_path / "REFERENCE.csv"
        path.write_text(REFERENCE_HEADER + "A0001,5,,\nA0002,1,1,\n\n")
        assert read_reference(path) == {"A0001": ("5",), "A0002": ("1",)}

    def test_bad_class(self, tmp_path):
        path = tmp_path / "REFERENCE.csv"
        path.write_text(REFERENCE_HEADER + "A0001,10,,\n")
        with pytest.raises(CorruptFileError, match=r"REFERENCE\.csv.*line 2.*'10'"):
            read_reference(path)


class TestReadCpsc2018Synthetic:
    def test_unknown_demographics(self, tmp_path):
        data = np.random.default_rng(1).normal(size=(12, 300))
        record = read_cpsc2018(write_struct(tmp_path / "B1.mat", data, sex="", age=np.nan))
        assert record.sex is None
        assert record.age_years is None
        np.testing.assert_allclose(record.lead("V6"), data[11].astype(np.float32))

    def test_wrong_lead_count(self, tmp_path):
        path = write_struct(tmp_path / "B2.mat", np.zeros((8, 300)))
        with pytest.raises(CorruptFileError, match=r"B2\.mat.*shape \(8, 300\)"):
            read_cpsc2018(path)

    def test_missing_data_field(self, tmp_path):
        scipy.io.savemat(tmp_path / "B3.mat", {"ECG": {"sex": "Male", "age": 3}})
        with pytest.raises(CorruptFileError, match=r"B3\.mat.*ECG\.data"):
            read_cpsc2018(tmp_path / "B3.mat")

    def test_missing_file(self, tmp_path):
        with pytest.raises(MissingFileError, match=r"B4\.mat"):
            read_cpsc2018(tmp_path / "B4")


class TestCpsc2018Dataset:
    def test_shared_folder(self, dataset_dir):
        dataset = Cpsc2018Dataset(dataset_dir("cpsc2018"))
        assert dataset.name == "cpsc2018"
        assert len(dataset) == len(SHARED_IDS)
        assert [entry.record_id for entry in dataset.entries()] == list(SHARED_IDS)
        assert [record.n_samples for record in dataset] == [5000, 5000, 9500, 21500, 27157]

    def test_labels_in_entries_and_records(self, copied):
        dataset = Cpsc2018Dataset(copied)
        entries = {entry.record_id: entry for entry in dataset.entries()}
        assert [label.code for label in entries["A1982"].labels] == ["2", "6"]
        assert entries["A1988"].metadata["labelled"] is False
        assert [label.code for label in dataset.get("A1982").labels] == ["2", "6"]

    def test_references_in_subfolders_merge(self, copied):
        sub = copied / "TrainingSet2"
        sub.mkdir()
        shutil.move(copied / "A1988.mat", sub / "A1988.mat")
        (sub / "REFERENCE.csv").write_text(REFERENCE_HEADER + "A1988,4,,\n")
        dataset = Cpsc2018Dataset(copied)
        assert len(dataset) == len(SHARED_IDS)
        assert dataset.reference["A1988"] == ("4",)
        assert dataset.reference["A1980"] == ("1",)

    def test_conflicting_references(self, copied):
        sub = copied / "more"
        sub.mkdir()
        (sub / "REFERENCE.csv").write_text(REFERENCE_HEADER + "A1980,2,,\n")
        with pytest.raises(DatasetError, match="A1980 is labelled"):
            Cpsc2018Dataset(copied)

    def test_challenge_records_skipped(self, copied):
        shutil.copy(copied / "A1980.mat", copied / "Z9.mat")
        (copied / "Z9.hea").write_text("Z9 12 500 5000\n")
        assert "Z9" not in {entry.record_id for entry in Cpsc2018Dataset(copied).entries()}

    def test_empty_folder(self, tmp_path):
        with pytest.raises(DatasetError, match="no CPSC 2018"):
            Cpsc2018Dataset(tmp_path)
