"""NumPy/CSV reader and in-memory arrays: round trips, layouts, lead reordering, conflicts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tools.errors import CorruptFileError, DuplicateLeadError, LeadError, SignalValueError
from tools.leads import MIMIC_LEADS, STANDARD_LEADS
from tools.readers.arrays import orient, read_array, record_from_array

FS_HZ = 500.0


@pytest.fixture
def signal() -> np.ndarray:
    """[12, 600] float32 samples in canonical order, each lead distinct."""
    rng = np.random.default_rng(3)
    return (rng.normal(size=(12, 600)) + np.arange(12)[:, None]).astype(np.float32)


def write_csv(path: Path, header: list[str] | None, columns: np.ndarray, sep: str = ",") -> Path:
    """Write [samples, columns] with full float precision."""
    lines = [sep.join(header)] if header is not None else []
    lines += [sep.join(repr(float(v)) for v in row) for row in columns]
    path.write_text("\n".join(lines) + "\n")
    return path


class TestOrient:
    def test_auto_leads_first(self):
        assert orient(np.zeros((3, 10)), 3, "auto").shape == (3, 10)

    def test_auto_samples_first(self):
        assert orient(np.zeros((10, 3)), 3, "auto").shape == (3, 10)

    def test_ambiguous_square(self):
        with pytest.raises(SignalValueError, match="ambiguous"):
            orient(np.zeros((12, 12)), 12, "auto", "x.npy")

    def test_explicit_layout_resolves_square(self):
        square = np.arange(144.0).reshape(12, 12)
        assert np.array_equal(orient(square, 12, "samples-first"), square.T)

    def test_no_matching_axis(self):
        with pytest.raises(SignalValueError, match="no axis of length 12"):
            orient(np.zeros((5, 10)), 12, "auto")

    def test_explicit_layout_disagrees(self):
        with pytest.raises(SignalValueError, match="gives 10 leads but 12"):
            orient(np.zeros((12, 10)), 12, "samples-first")

    def test_one_dimensional_single_lead(self):
        assert orient(np.zeros(10), 1, "auto").shape == (1, 10)

    def test_three_dimensional(self):
        with pytest.raises(SignalValueError, match="2-D"):
            orient(np.zeros((2, 3, 4)), 3, "auto")


class TestRecordFromArray:
    def test_mimic_order_reordered(self, signal):
        record = record_from_array(signal, FS_HZ, MIMIC_LEADS, record_id="m1")
        assert record.lead_names == STANDARD_LEADS
        for row, name in enumerate(MIMIC_LEADS):
            np.testing.assert_array_equal(record.lead(name), signal[row])
        # aVL is the file's 6th row, aVF its 5th: canonical order swaps them.
        np.testing.assert_array_equal(record.signal_mv[4], signal[5])
        np.testing.assert_array_equal(record.signal_mv[5], signal[4])

    def test_spellings_and_unit(self, signal):
        names = ["i", "ii", "iii", "AVR", "AVL", "AVF", "v1", "v2", "v3", "v4", "v5", "v6"]
        record = record_from_array(signal * 1000, FS_HZ, names, unit="uV")
        np.testing.assert_allclose(record.signal_mv, signal, rtol=1e-6)
        assert record.original_lead_names == tuple(names)

    def test_samples_first(self, signal):
        record = record_from_array(signal.T, FS_HZ, STANDARD_LEADS)
        np.testing.assert_array_equal(record.signal_mv, signal)

    def test_frank_leads_dropped(self, signal):
        stacked = np.vstack([signal, signal[:3] * 0 + 1])
        record = record_from_array(stacked, FS_HZ, [*STANDARD_LEADS, "vx", "vy", "vz"])
        assert record.n_leads == 12
        assert record.dropped_leads == ("vx", "vy", "vz")

    def test_integer_input(self):
        record = record_from_array(np.arange(20, dtype=np.int16).reshape(2, 10), 100, ["V1", "I"])
        assert record.lead_names == ("I", "V1")
        assert record.signal_mv.dtype == np.float32

    def test_complex_rejected(self):
        with pytest.raises(SignalValueError, match="real numbers"):
            record_from_array(np.zeros((1, 5), complex), FS_HZ, ["I"], record_id="c1")

    def test_infinite_rejected(self, signal):
        signal[7, 3] = np.inf
        with pytest.raises(SignalValueError, match=r"inf1: lead\(s\) V2 contain infinite"):
            record_from_array(signal, FS_HZ, STANDARD_LEADS, record_id="inf1")

    def test_beyond_float32_rejected(self, signal):
        values = signal.astype(np.float64)
        values[0, 0] = 1e39
        with pytest.raises(SignalValueError, match=r"lead\(s\) I contain infinite or out-of-range"):
            record_from_array(values, FS_HZ, STANDARD_LEADS)

    @pytest.mark.parametrize("fs_hz", [0.0, -500.0, float("nan")])
    def test_bad_rate(self, signal, fs_hz):
        with pytest.raises(SignalValueError, match="sampling rate must be > 0"):
            record_from_array(signal, fs_hz, STANDARD_LEADS)

    def test_duplicate_lead(self, signal):
        names = list(STANDARD_LEADS)
        names[1] = "D1"  # European notation for lead I
        with pytest.raises(DuplicateLeadError, match="both lead I"):
            record_from_array(signal, FS_HZ, names)

    def test_only_frank(self):
        with pytest.raises(LeadError, match="none of the leads"):
            record_from_array(np.ones((3, 10)), FS_HZ, ["vx", "vy", "vz"])


class TestReadArrayNpy:
    def test_round_trip_leads_first(self, tmp_path, signal):
        path = tmp_path / "rec7.npy"
        np.save(path, signal)
        record = read_array(path, fs_hz=FS_HZ, lead_names=STANDARD_LEADS)
        np.testing.assert_array_equal(record.signal_mv, signal)
        assert (record.record_id, record.dataset, record.source_path) == (
            "rec7",
            "array",
            str(path),
        )
        assert record.metadata["file_format"] == "npy"

    def test_round_trip_samples_first_mimic(self, tmp_path, signal):
        path = tmp_path / "m.npy"
        np.save(path, signal.T)
        record = read_array(path, fs_hz=FS_HZ, lead_names=MIMIC_LEADS, record_id="custom")
        assert record.record_id == "custom"
        np.testing.assert_array_equal(record.lead("aVF"), signal[MIMIC_LEADS.index("aVF")])

    def test_names_required(self, tmp_path, signal):
        np.save(tmp_path / "n.npy", signal)
        with pytest.raises(LeadError, match=r"n\.npy.*lead names unknown"):
            read_array(tmp_path / "n.npy", fs_hz=FS_HZ)

    def test_rate_required(self, tmp_path, signal):
        np.save(tmp_path / "n.npy", signal)
        with pytest.raises(SignalValueError, match=r"n\.npy.*sampling rate unknown"):
            read_array(tmp_path / "n.npy", lead_names=STANDARD_LEADS)

    def test_unsupported_suffix(self, tmp_path):
        (tmp_path / "x.txt").write_text("1,2\n")
        with pytest.raises(CorruptFileError, match=r"x\.txt.*unsupported suffix"):
            read_array(tmp_path / "x.txt", fs_hz=FS_HZ, lead_names=["I", "II"])


class TestReadArrayNpz:
    def test_stored_rate_and_names(self, tmp_path, signal):
        path = tmp_path / "z.npz"
        np.savez(path, signal=signal.T, fs_hz=250.0, lead_names=np.array(MIMIC_LEADS))
        record = read_array(path)
        assert record.fs_hz == 250.0
        np.testing.assert_array_equal(record.lead("aVL"), signal[MIMIC_LEADS.index("aVL")])

    def test_only_array_key(self, tmp_path, signal):
        path = tmp_path / "z.npz"
        np.savez(path, ecg=signal)
        record = read_array(path, fs_hz=FS_HZ, lead_names=STANDARD_LEADS)
        np.testing.assert_array_equal(record.signal_mv, signal)

    def test_agreeing_values_accepted(self, tmp_path, signal):
        path = tmp_path / "z.npz"
        np.savez(path, signal=signal, fs_hz=500, lead_names=np.array(STANDARD_LEADS))
        upper = [name.upper() for name in STANDARD_LEADS]
        record = read_array(path, fs_hz=500.0, lead_names=upper)
        assert record.original_lead_names == tuple(upper)

    def test_rate_conflict(self, tmp_path, signal):
        path = tmp_path / "z.npz"
        np.savez(path, signal=signal, fs_hz=250.0)
        with pytest.raises(SignalValueError, match=r"z\.npz.*disagrees with the stored fs_hz"):
            read_array(path, fs_hz=FS_HZ, lead_names=STANDARD_LEADS)

    def test_names_conflict(self, tmp_path, signal):
        path = tmp_path / "z.npz"
        np.savez(path, signal=signal, lead_names=np.array(MIMIC_LEADS))
        with pytest.raises(LeadError, match=r"z\.npz.*disagree with the file's lead names"):
            read_array(path, fs_hz=FS_HZ, lead_names=STANDARD_LEADS)

    def test_several_arrays_no_signal_key(self, tmp_path, signal):
        path = tmp_path / "z.npz"
        np.savez(path, a=signal, b=signal)
        with pytest.raises(CorruptFileError, match=r"z\.npz.*no 'signal' array"):
            read_array(path, fs_hz=FS_HZ, lead_names=STANDARD_LEADS)


class TestReadArrayCsv:
    def test_round_trip_with_time_column(self, tmp_path, signal):
        time_s = np.arange(signal.shape[1]) / FS_HZ
        columns = np.column_stack([time_s, signal.T.astype(np.float64)])
        path = write_csv(tmp_path / "c.csv", ["time", *MIMIC_LEADS], columns)
        record = read_array(path, fs_hz=FS_HZ)
        assert record.metadata["time_column"] == "time"
        for row, name in enumerate(MIMIC_LEADS):
            np.testing.assert_array_equal(record.lead(name), signal[row])

    def test_semicolon_and_t_column(self, tmp_path):
        data = np.array([[0.0, 1.0, 2.0], [0.002, 3.0, 4.0]])
        path = write_csv(tmp_path / "c.csv", ["t", "V2", "V1"], data, sep=";")
        record = read_array(path, fs_hz=FS_HZ)
        assert record.lead_names == ("V1", "V2")
        np.testing.assert_array_equal(record.lead("V1"), [2.0, 4.0])

    def test_headerless_with_names(self, tmp_path):
        path = write_csv(tmp_path / "c.csv", None, np.array([[1.0, 2.0], [3.0, 4.0], [5, 6]]))
        record = read_array(path, fs_hz=FS_HZ, lead_names=["II", "I"])
        np.testing.assert_array_equal(record.lead("I"), [2.0, 4.0, 6.0])

    def test_header_and_names_disagree(self, tmp_path):
        path = write_csv(tmp_path / "c.csv", ["I", "II"], np.ones((3, 2)))
        with pytest.raises(LeadError, match=r"c\.csv.*disagree"):
            read_array(path, fs_hz=FS_HZ, lead_names=["II", "I"])

    def test_empty_cell_is_nan(self, tmp_path):
        (tmp_path / "c.csv").write_text("I,II\n1,2\n,4\n5,6\n")
        record = read_array(tmp_path / "c.csv", fs_hz=FS_HZ)
        assert record.nan_counts == {"I": 1}

    def test_error_line_counts_blank_lines(self, tmp_path):
        (tmp_path / "c.csv").write_text("I,II\n\n1,2\n\n3,x\n")
        with pytest.raises(CorruptFileError, match=r"c\.csv.*'x' at line 5, column 2"):
            read_array(tmp_path / "c.csv", fs_hz=FS_HZ)

    def test_header_only(self, tmp_path):
        (tmp_path / "c.csv").write_text("I,II\n")
        with pytest.raises(CorruptFileError, match=r"c\.csv.*no samples"):
            read_array(tmp_path / "c.csv", fs_hz=FS_HZ)

    def test_leads_first_layout_refused(self, tmp_path):
        path = write_csv(tmp_path / "c.csv", ["I", "II"], np.ones((3, 2)))
        with pytest.raises(SignalValueError, match="CSV columns are leads"):
            read_array(path, fs_hz=FS_HZ, layout="leads-first")

    def test_binary_bytes(self, tmp_path):
        (tmp_path / "c.csv").write_bytes(b"\xff\xfe\x00\x81" * 10)
        with pytest.raises(CorruptFileError, match=r"c\.csv.*not a text CSV"):
            read_array(tmp_path / "c.csv", fs_hz=FS_HZ)
