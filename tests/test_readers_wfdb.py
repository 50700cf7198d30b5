"""read_wfdb, header-comment parsing and WFDB folder datasets, on real and written records."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import wfdb

from tools.errors import MissingFileError, UnknownLeadError
from tools.leads import MIMIC_LEADS, STANDARD_LEADS, as_recorded_leads
from tools.readers.wfdb_dir import LudbDataset, WfdbDirDataset, list_records
from tools.readers.wfdb_reader import (
    ludb_label,
    parse_age,
    parse_header_comments,
    parse_sex,
    read_wfdb,
)

FS_HZ = 500


def write_record(
    folder: Path,
    name: str,
    signal_mv: np.ndarray,
    lead_names: list[str],
    *,
    units: list[str] | None = None,
    fs_hz: float = FS_HZ,
    comments: list[str] | None = None,
) -> Path:
    """Write ``signal_mv`` ([samples, leads], in ``units``) as a 16-bit WFDB record."""
    n_leads = signal_mv.shape[1]
    units = units or ["mV"] * n_leads
    gain = [1000.0 if u == "mV" else 1.0 for u in units]
    wfdb.wrsamp(
        name,
        fs=fs_hz,
        units=units,
        sig_name=lead_names,
        p_signal=signal_mv,
        fmt=["16"] * n_leads,
        adc_gain=gain,
        baseline=[0] * n_leads,
        comments=comments or [],
        write_dir=str(folder),
    )
    return folder / name


def distinct_leads(n_samples: int, n_leads: int) -> np.ndarray:
    """[samples, leads] in mV where every lead differs (lead k has offset k/10 mV)."""
    rng = np.random.default_rng(7)
    return np.round(rng.normal(0, 0.3, (n_samples, n_leads)) + np.arange(n_leads) / 10, 3)


@pytest.mark.data
class TestReadWfdbLudb:
    def test_every_record(self, dataset_dir):
        root = dataset_dir("ludb")
        names = (root / "RECORDS").read_text().split()
        assert len(names) == 100
        for name in names:
            record = read_wfdb(root / name, dataset="ludb")
            assert record.lead_names == STANDARD_LEADS, name
            assert record.fs_hz == 500
            assert record.n_samples == 5000
            assert record.signal_mv.dtype == np.float32
            assert record.nan_counts == {}
            assert record.labels and all(lab.vocabulary == "LUDB" for lab in record.labels)
            assert record.sex in ("M", "F")
            assert record.age_years is not None

    def test_values_equal_rdrecord(self, dataset_dir):
        base = dataset_dir("ludb") / "data" / "1"
        record = read_wfdb(base)
        reference = wfdb.rdrecord(str(base))
        np.testing.assert_allclose(record.signal_mv, reference.p_signal.T, atol=1e-6)
        assert record.original_lead_names == tuple(reference.sig_name)

    def test_path_with_hea_suffix(self, dataset_dir):
        base = dataset_dir("ludb") / "data" / "1"
        with_suffix = read_wfdb(base.with_name("1.hea"))
        np.testing.assert_array_equal(with_suffix.signal_mv, read_wfdb(base).signal_mv)
        assert with_suffix.record_id == "1"
        assert read_wfdb(base.with_name("1.dat")).record_id == "1"

    def test_demographics_and_labels_from_header(self, dataset_dir):
        record = read_wfdb(dataset_dir("ludb") / "data" / "1")
        header = wfdb.rdheader(str(dataset_dir("ludb") / "data" / "1"))
        assert record.age_years is not None
        assert f"<age>: {int(record.age_years)}" in header.comments
        assert f"<sex>: {record.sex}" in header.comments
        first_diagnosis = header.comments[header.comments.index("<diagnoses>:") + 1]
        assert record.labels[0].code in first_diagnosis.lower()


@pytest.mark.data
class TestReadWfdbHolter:
    def test_qtdb_all_as_recorded(self, dataset_dir):
        root = dataset_dir("qtdb")
        names = (root / "RECORDS").read_text().split()
        assert len(names) == 53
        for name in names:
            header = wfdb.rdheader(str(root / name))
            record = read_wfdb(root / name, lead_policy="as-recorded", dataset="qtdb")
            assert record.lead_system == "as-recorded"
            assert record.lead_names == as_recorded_leads(header.sig_name)
            assert record.original_lead_names == tuple(header.sig_name)
            assert record.fs_hz == header.fs
            assert record.n_samples == header.sig_len

    def test_qtdb_standard_policy_refuses_unnamed_leads(self, dataset_dir):
        with pytest.raises(UnknownLeadError, match=r"record 14046, signal 0.*as-recorded"):
            read_wfdb(dataset_dir("qtdb") / "sel14046")

    def test_mitdb_100_modified_lead_ii(self, dataset_dir):
        record = read_wfdb(dataset_dir("mitdb") / "100")
        assert record.lead_names == ("II", "V5")
        assert record.original_lead_names == ("MLII", "V5")
        assert record.fs_hz == 360
        assert record.duration_s == pytest.approx(30 * 60, rel=0.01)
        assert (record.age_years, record.sex) == (69, "M")

    def test_svdb_800_duplicate_names_as_recorded(self, dataset_dir):
        record = read_wfdb(dataset_dir("svdb") / "800", lead_policy="as-recorded")
        assert record.lead_names == ("ECG", "ECG#2")
        assert record.original_lead_names == ("ECG", "ECG")
        assert record.fs_hz == 128
        assert not np.array_equal(record.signal_mv[0], record.signal_mv[1])

    def test_svdb_800_standard_policy_refuses(self, dataset_dir):
        with pytest.raises(UnknownLeadError, match="'ECG'"):
            read_wfdb(dataset_dir("svdb") / "800")

    def test_cpsc2021_records(self, dataset_dir):
        root = dataset_dir("cpsc2021")
        headers = sorted(root.glob("*.hea"))
        assert headers
        for header in headers:
            record = read_wfdb(header)
            assert record.lead_names == ("I", "II")
            assert record.fs_hz == 200
            assert record.n_samples == wfdb.rdheader(str(header.with_suffix(""))).sig_len


@pytest.mark.data
class TestReadWfdbPtb:
    def test_frank_leads_dropped(self, dataset_dir):
        record = read_wfdb(dataset_dir("ptbdb") / "s0010_re")
        assert record.lead_names == STANDARD_LEADS
        assert record.dropped_leads == ("vx", "vy", "vz")
        assert record.fs_hz == 1000
        assert (record.age_years, record.sex) == (81, "F")

    def test_values_equal_rdrecord(self, dataset_dir):
        base = dataset_dir("ptbdb") / "s0010_re"
        reference = wfdb.rdrecord(str(base), channels=list(range(12)))
        np.testing.assert_allclose(read_wfdb(base).signal_mv, reference.p_signal.T, atol=1e-6)


class TestReadWfdbWritten:
    def test_mimic_order_reordered(self, tmp_path):
        signal = distinct_leads(1000, 12)
        base = write_record(tmp_path, "mimic", signal, list(MIMIC_LEADS))
        record = read_wfdb(base)
        reference = wfdb.rdrecord(str(base)).p_signal
        assert record.lead_names == STANDARD_LEADS
        for row, lead in enumerate(STANDARD_LEADS):
            np.testing.assert_allclose(
                record.signal_mv[row], reference[:, MIMIC_LEADS.index(lead)], atol=1e-6
            )

    def test_spellings_mapped(self, tmp_path):
        names = ["I", "II", "III", "AVR", "avl", "aVF", "v1", "V2", "V3", "V4", "V5", "V6"]
        base = write_record(tmp_path, "spell", distinct_leads(200, 12), names)
        record = read_wfdb(base)
        assert record.lead_names == STANDARD_LEADS
        assert record.original_lead_names == tuple(names)

    def test_microvolt_header_converted(self, tmp_path):
        signal_mv = distinct_leads(500, 3)
        base = write_record(tmp_path, "uv", signal_mv * 1000, ["I", "II", "V1"], units=["uV"] * 3)
        assert "/uV" in (tmp_path / "uv.hea").read_text()
        record = read_wfdb(base)
        np.testing.assert_allclose(record.signal_mv, signal_mv.T, atol=1e-3)

    def test_mixed_units_per_channel(self, tmp_path):
        signal_mv = distinct_leads(300, 2)
        written = np.column_stack([signal_mv[:, 0], signal_mv[:, 1] * 1000])
        base = write_record(tmp_path, "mix", written, ["I", "II"], units=["mV", "uV"])
        np.testing.assert_allclose(read_wfdb(base).signal_mv, signal_mv.T, atol=1e-3)

    def test_record_id_and_dataset(self, tmp_path):
        base = write_record(tmp_path, "named", distinct_leads(100, 1), ["II"])
        record = read_wfdb(base, dataset="mine", record_id="r-7")
        assert (record.record_id, record.dataset) == ("r-7", "mine")
        assert record.source_path == str(base)
        assert read_wfdb(base).record_id == "named"

    def test_invalid_lead_policy(self, tmp_path):
        base = write_record(tmp_path, "pol", distinct_leads(100, 1), ["II"])
        with pytest.raises(ValueError, match="lead_policy"):
            read_wfdb(base, lead_policy="auto")  # type: ignore[arg-type]

    def test_header_comments_kept(self, tmp_path):
        comments = ["Age: 61  Sex: M", "note"]
        base = write_record(tmp_path, "c", distinct_leads(100, 1), ["V2"], comments=comments)
        record = read_wfdb(base)
        assert record.metadata["header_comments"] == comments
        assert (record.age_years, record.sex) == (61, "M")


class TestParseHeaderComments:
    def test_ludb(self):
        info = parse_header_comments(
            [
                "<age>: 51",
                "<sex>: F",
                "<diagnoses>:",
                "Rhythm: Sinus bradycardia.",
                "STEMI: septal.",
            ]
        )
        assert (info.age_years, info.sex) == (51, "F")
        assert [lab.code for lab in info.labels] == ["sinus bradycardia", "stemi: septal"]

    def test_ptb(self):
        info = parse_header_comments(["age: 81", "sex: female", "ECG date: 01/10/1990"])
        assert (info.age_years, info.sex, info.labels) == (81, "F", ())

    def test_mitdb_line(self):
        info = parse_header_comments(["69 M 1085 1629 x1", "Aldomet, Inderal"])
        assert (info.age_years, info.sex) == (69, "M")

    def test_synthetic_labels(self):
        info = parse_header_comments(["synthetic ECG (tools.synth), seed 3", "labels: SR, RBBB"])
        assert [(lab.code, lab.vocabulary) for lab in info.labels] == [
            ("SR", "synthetic"),
            ("RBBB", "synthetic"),
        ]

    def test_labels_line_without_marker_ignored(self):
        assert parse_header_comments(["labels: SR"]).labels == ()

    def test_mitdb_unknown_age(self):
        info = parse_header_comments(["-1 M 742 654 x1"])
        assert (info.age_years, info.sex) == (None, "M")

    def test_european_st_t(self):
        info = parse_header_comments(["Age: 47  Sex: F"])
        assert (info.age_years, info.sex) == (47, "F")

    def test_unrelated_comments(self):
        info = parse_header_comments(["Produced by xform from record 30, beginning at 0"])
        assert (info.age_years, info.sex, info.labels) == (None, None, ())

    def test_empty(self):
        assert parse_header_comments([]).labels == ()


class TestLudbLabel:
    def test_header_and_table_spellings_agree(self):
        header = ludb_label("Undefined ischemia/scar/supp.NSTEMI: inferior wall.")
        table = ludb_label("Undefined ischemia/scar/supp.nstemi: inferior wall")
        assert header is not None and table is not None
        assert header.code == table.code

    def test_rhythm_prefix_removed(self):
        label = ludb_label("Rhythm: Atrial fibrillation. ")
        assert label is not None
        assert (label.code, label.name, label.vocabulary) == (
            "atrial fibrillation",
            "Atrial fibrillation",
            "LUDB",
        )

    def test_empty(self):
        assert ludb_label("  . ") is None


class TestParseAgeSex:
    @pytest.mark.parametrize(("value", "expected"), [("51\n", 51.0), ("-1", None), ("?", None)])
    def test_age(self, value, expected):
        assert parse_age(value) == expected

    def test_age_implausible(self):
        assert parse_age("300") is None

    @pytest.mark.parametrize(
        ("value", "expected"), [("F\n", "F"), ("male", "M"), ("Female", "F"), ("?", None)]
    )
    def test_sex(self, value, expected):
        assert parse_sex(value) == expected


class TestListRecords:
    def test_records_file_with_subfolder(self, tmp_path):
        (tmp_path / "sub").mkdir()
        (tmp_path / "RECORDS").write_text("a\n\nsub/\nb.hea\n")
        (tmp_path / "sub" / "RECORDS").write_text("c\n")
        assert list_records(tmp_path) == [tmp_path / "a", tmp_path / "sub" / "c", tmp_path / "b"]

    def test_glob_when_no_records_file(self, tmp_path):
        (tmp_path / "x").mkdir()
        for name in ("x/2.hea", "1.hea", "1.dat"):
            (tmp_path / name).write_text("")
        assert list_records(tmp_path) == [tmp_path / "1", tmp_path / "x" / "2"]


class TestWfdbDirDataset:
    def test_written_folder(self, tmp_path):
        (tmp_path / "deep").mkdir()
        write_record(tmp_path, "r1", distinct_leads(100, 2), ["I", "II"])
        write_record(tmp_path / "deep", "r2", distinct_leads(100, 2), ["V1", "V2"])
        ds = WfdbDirDataset(tmp_path, name="mine")
        assert len(ds) == 2
        assert [e.record_id for e in ds.entries()] == ["deep/r2", "r1"]
        records = list(ds)
        assert [r.lead_names for r in records] == [("V1", "V2"), ("I", "II")]
        assert all(r.dataset == "mine" for r in records)

    def test_missing_root(self, tmp_path):
        with pytest.raises(MissingFileError, match="does not exist"):
            WfdbDirDataset(tmp_path / "nope")

    @pytest.mark.data
    def test_qtdb_as_recorded(self, dataset_dir):
        ds = WfdbDirDataset(dataset_dir("qtdb"), lead_policy="as-recorded", name="qtdb")
        assert len(ds) == 53
        entry = next(ds.entries())
        record = ds.load(entry)
        assert record.record_id == entry.record_id == "sel100"
        assert record.lead_system == "as-recorded"


@pytest.mark.data
class TestLudbDataset:
    def test_all_records_labelled_from_table(self, dataset_dir):
        ds = LudbDataset(dataset_dir("ludb"))
        assert len(ds) == 100
        for entry in ds.entries():
            assert entry.labels, entry.record_id
            record = ds.load(entry)
            assert record.record_id == entry.path.name
            assert record.labels == entry.labels
            # Same codes from both spellings; ludb.csv also lists "Pacemaker presence,
            # undefined" for a few records whose header omits it.
            header_labels = parse_header_comments(record.metadata["header_comments"]).labels
            header_codes = {lab.code for lab in header_labels}
            assert header_codes <= {lab.code for lab in record.labels}
            assert record.metadata["ludb_statements"]
            assert record.age_years is not None and record.sex in ("M", "F")

    def test_without_table_labels_from_header(self, dataset_dir, tmp_path):
        source = dataset_dir("ludb") / "data"
        (tmp_path / "data").mkdir()
        for suffix in (".hea", ".dat"):
            shutil.copy(source / f"3{suffix}", tmp_path / "data" / f"3{suffix}")
        ds = LudbDataset(tmp_path)
        entry = next(ds.entries())
        assert entry.record_id == "3" and entry.labels == ()
        record = ds.load(entry)
        assert record.labels == read_wfdb(source / "3").labels
        assert record.labels
