"""Malformed files: every reader answers with a typed RecordError that names the file.

One test per kind of bad input. Each checks the error class, that it is a RecordError, and
that the message contains the offending file's name.
"""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

import h5py
import numpy as np
import pytest
import scipy.io

from tools.errors import (
    CorruptFileError,
    DuplicateLeadError,
    MissingFileError,
    RecordError,
    SignalValueError,
    UnknownLeadError,
)
from tools.leads import STANDARD_LEADS
from tools.readers.arrays import read_array
from tools.readers.cinc import read_cinc
from tools.readers.code15 import read_code15
from tools.readers.cpsc2018 import read_cpsc2018

FS_HZ = 500.0


def png_bytes() -> bytes:
    """A valid 1x1 greyscale PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x80"))
        + chunk(b"IEND", b"")
    )


def names_file(path: Path) -> str:
    """Regex matching the file's name anywhere in the message."""
    return re.escape(path.name)


def write_cinc_header(folder: Path, name: str) -> Path:
    lines = [f"{name} 12 500 100"]
    lines += [f"{name}.mat 16x1+24 1000.0(0)/mV 16 0 0 0 0 {lead}" for lead in STANDARD_LEADS]
    header = folder / f"{name}.hea"
    header.write_text("\n".join([*lines, "# Dx: 426783006"]) + "\n")
    return header


def test_csv_ragged_rows(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("I,II,III\n1,2,3\n4,5\n7,8,9\n")
    with pytest.raises(CorruptFileError, match=r"ragged\.csv.*line 3 has 2 fields, expected 3"):
        read_array(path, fs_hz=FS_HZ)


def test_csv_non_numeric_cell(tmp_path):
    path = tmp_path / "text_cell.csv"
    path.write_text("I,II\n1,2\n3,abc\n")
    with pytest.raises(CorruptFileError, match=r"text_cell\.csv.*'abc' at line 3, column 2"):
        read_array(path, fs_hz=FS_HZ)


def test_hdf5_without_tracings(tmp_path):
    path = tmp_path / "exams_part0.hdf5"
    with h5py.File(path, "w") as handle:
        handle.create_dataset("exam_id", data=np.array([1, 2]))
    with pytest.raises(CorruptFileError, match=r"exams_part0\.hdf5.*no 'tracings'"):
        read_code15(path, 1)


def test_empty_npy(tmp_path):
    path = tmp_path / "empty.npy"
    path.write_bytes(b"")
    with pytest.raises(CorruptFileError, match=r"empty\.npy.*empty"):
        read_array(path, fs_hz=FS_HZ, lead_names=STANDARD_LEADS)


def test_empty_csv(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("\n\n")
    with pytest.raises(CorruptFileError, match=r"empty\.csv.*empty"):
        read_array(path, fs_hz=FS_HZ)


def test_empty_mat_cinc(tmp_path):
    write_cinc_header(tmp_path, "E1")
    (tmp_path / "E1.mat").write_bytes(b"")
    with pytest.raises(CorruptFileError, match=r"E1\.mat.*not a readable MATLAB"):
        read_cinc(tmp_path / "E1.hea")


def test_empty_mat_cpsc(tmp_path):
    path = tmp_path / "A0001.mat"
    path.write_bytes(b"")
    with pytest.raises(CorruptFileError, match=r"A0001\.mat.*not a readable MATLAB"):
        read_cpsc2018(path)


def test_png_saved_as_mat(tmp_path):
    path = tmp_path / "picture.mat"
    path.write_bytes(png_bytes())
    with pytest.raises(CorruptFileError, match=names_file(path)) as caught:
        read_cpsc2018(path)
    assert isinstance(caught.value, RecordError)


def test_png_saved_as_cinc_mat(tmp_path):
    write_cinc_header(tmp_path, "P1")
    (tmp_path / "P1.mat").write_bytes(png_bytes())
    with pytest.raises(CorruptFileError, match=r"P1\.mat"):
        read_cinc(tmp_path / "P1")


def test_random_bytes_as_npy(tmp_path):
    path = tmp_path / "noise.npy"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(CorruptFileError, match=r"noise\.npy.*not a NumPy"):
        read_array(path, fs_hz=FS_HZ, lead_names=STANDARD_LEADS)


def test_random_bytes_as_npz(tmp_path):
    path = tmp_path / "noise.npz"
    path.write_bytes(b"PK\x03\x04" + np.random.default_rng(1).bytes(512))
    with pytest.raises(CorruptFileError, match=r"noise\.npz"):
        read_array(path, fs_hz=FS_HZ, lead_names=STANDARD_LEADS)


def test_random_bytes_as_hdf5(tmp_path):
    path = tmp_path / "noise.hdf5"
    path.write_bytes(np.random.default_rng(2).bytes(2048))
    with pytest.raises(CorruptFileError, match=r"noise\.hdf5.*not a readable HDF5"):
        read_code15(path, 1)


def test_pickled_object_npy(tmp_path):
    path = tmp_path / "objects.npy"
    np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(CorruptFileError, match=r"objects\.npy"):
        read_array(path, fs_hz=FS_HZ, lead_names=["I"])


@pytest.mark.parametrize("fs_hz", [0.0, -250.0])
def test_fs_not_positive(tmp_path, fs_hz):
    path = tmp_path / "rate.npy"
    np.save(path, np.ones((12, 100)))
    with pytest.raises(SignalValueError, match=r"rate\.npy.*sampling rate must be > 0"):
        read_array(path, fs_hz=fs_hz, lead_names=STANDARD_LEADS)


def test_all_nan_lead_npy(tmp_path):
    path = tmp_path / "nan_lead.npy"
    signal = np.ones((12, 100))
    signal[8] = np.nan
    np.save(path, signal)
    with pytest.raises(SignalValueError, match=r"nan_lead\.npy.*V3 contain only NaN"):
        read_array(path, fs_hz=FS_HZ, lead_names=STANDARD_LEADS)


def test_unknown_lead_csv_header(tmp_path):
    path = tmp_path / "unknown.csv"
    path.write_text("I,II,XYZ\n1,2,3\n4,5,6\n")
    with pytest.raises(UnknownLeadError, match=r"unknown\.csv.*'XYZ'"):
        read_array(path, fs_hz=FS_HZ)


def test_duplicated_lead_csv_header(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("I,II,ii\n1,2,3\n4,5,6\n")
    with pytest.raises(DuplicateLeadError, match=r"dup\.csv.*both lead II"):
        read_array(path, fs_hz=FS_HZ)


def test_cinc_mat_without_header(tmp_path):
    path = tmp_path / "E09999.mat"
    scipy.io.savemat(path, {"val": np.zeros((12, 100), dtype=np.int16)})
    with pytest.raises(MissingFileError, match=r"E09999\.hea.*header \(\.hea\) not found"):
        read_cinc(path)


def test_cpsc_mat_without_ecg_struct(tmp_path):
    path = tmp_path / "A0002.mat"
    scipy.io.savemat(path, {"val": np.zeros((12, 100))})
    with pytest.raises(CorruptFileError, match=r"A0002\.mat.*no 'ECG' struct.*'val'"):
        read_cpsc2018(path)


def test_missing_array_file(tmp_path):
    with pytest.raises(MissingFileError, match=r"absent\.npy"):
        read_array(tmp_path / "absent.npy", fs_hz=FS_HZ, lead_names=["I"])


def test_nan_samples_counted_not_zeroed(tmp_path):
    path = tmp_path / "gaps.npy"
    signal = np.ones((12, 100))
    signal[0, 5:8] = np.nan
    signal[11, 99] = np.nan
    np.save(path, signal)
    record = read_array(path, fs_hz=FS_HZ, lead_names=STANDARD_LEADS)
    assert record.nan_counts == {"I": 3, "V6": 1}
    assert np.isnan(record.lead("I")[5:8]).all()
    assert np.count_nonzero(record.signal_mv == 0) == 0
