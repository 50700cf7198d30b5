"""The two reader entry points: open_record (format by suffix) and open_dataset (by name)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tools.errors import DatasetError, MissingFileError
from tools.readers import dataset_names, open_dataset, open_record
from tools.readers.base import Dataset
from tools.synth import SynthSpec, synthesize, write_synthetic


class TestOpenRecord:
    def test_wfdb_with_and_without_suffix(self, tmp_path: Path) -> None:
        ecg = synthesize(SynthSpec(hr_bpm=75), seed=2)
        base = write_synthetic(ecg, tmp_path)
        for path in (base, base.with_suffix(".hea"), base.with_suffix(".dat")):
            rec = open_record(path)
            assert rec.lead_names == ecg.record.lead_names
            np.testing.assert_allclose(rec.signal_mv, ecg.record.signal_mv, atol=1e-3)

    def test_npy_needs_explicit_fs(self, tmp_path: Path) -> None:
        path = tmp_path / "a.npy"
        np.save(path, np.ones((2, 50), dtype=np.float32))
        rec = open_record(path, fs_hz=250, lead_names=["II", "I"])
        assert rec.lead_names == ("I", "II") and rec.fs_hz == 250

    def test_missing(self, tmp_path: Path) -> None:
        with pytest.raises(MissingFileError, match="no such record"):
            open_record(tmp_path / "absent")

    def test_cinc_and_cpsc_by_suffix(self, dataset_dir) -> None:
        cinc = open_record(dataset_dir("cinc2021") / "E07500.mat")
        assert cinc.dataset == "cinc" and any(lab.vocabulary == "SNOMED-CT" for lab in cinc.labels)
        cpsc = open_record(dataset_dir("cpsc2018") / "A1980.mat")
        assert cpsc.dataset == "cpsc2018" and cpsc.n_leads == 12

    def test_by_id_in_dataset(self, dataset_dir) -> None:
        rec = open_record("6001", dataset="ptbxl", root=dataset_dir("ptbxl"))
        assert rec.record_id == "6001" and rec.report

    def test_ambulatory_dataset_keeps_leads(self, dataset_dir) -> None:
        rec = open_record(dataset_dir("svdb") / "800", dataset="svdb")
        assert rec.lead_system == "as-recorded" and rec.lead_names == ("ECG", "ECG#2")


class TestOpenDataset:
    def test_names(self) -> None:
        names = dataset_names()
        for name in ("ptbxl", "mimic", "cinc", "cpsc2018", "code15", "ludb", "wfdb-dir", "qtdb"):
            assert name in names

    def test_unknown_name(self, tmp_path: Path) -> None:
        with pytest.raises(DatasetError, match="unknown dataset 'nope'"):
            open_dataset("nope", tmp_path)

    def test_missing_root(self, tmp_path: Path) -> None:
        with pytest.raises(MissingFileError, match="does not exist"):
            open_dataset("cinc", tmp_path / "absent")

    @pytest.mark.parametrize(
        ("name", "folder", "count"),
        [("ludb", "ludb", 100), ("cinc", "cinc2021", 25), ("cpsc2018", "cpsc2018", 5),
         ("qtdb", "qtdb", 53)],
    )  # fmt: skip
    def test_shared_datasets_are_lazy_with_length(
        self, dataset_dir, name: str, folder: str, count: int
    ) -> None:
        ds = open_dataset(name, dataset_dir(folder))
        assert isinstance(ds, Dataset)
        assert len(ds) == count
        first = next(iter(ds.entries()))
        rec = ds.load(first)
        assert rec.record_id == first.record_id

    def test_ptbxl_rows_and_available_files(self, dataset_dir) -> None:
        root = dataset_dir("ptbxl")
        assert len(open_dataset("ptbxl", root)) == 6
        ds = open_dataset("ptbxl", root, fs_hz=500, available_only=True)
        assert len(ds) == 5
        assert all(rec.fs_hz == 500 for rec in ds)
        with pytest.raises(MissingFileError, match="500 Hz files are absent"):
            open_dataset("ptbxl", root).get("1")

    def test_qtdb_records_as_recorded(self, dataset_dir) -> None:
        ds = open_dataset("qtdb", dataset_dir("qtdb"))
        rec = ds.get("sel100")
        assert rec.lead_system == "as-recorded" and rec.fs_hz == 250
