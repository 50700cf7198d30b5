"""PhysioNet/CinC Challenge reader: real shared records and synthetic headers in tmp_path."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import wfdb

from tools.errors import (
    CorruptFileError,
    DatasetError,
    HeaderMismatchError,
    MissingFileError,
    UnknownLeadError,
)
from tools.leads import MIMIC_LEADS, STANDARD_LEADS
from tools.readers.cinc import (
    CincDataset,
    cinc_labels,
    parse_age,
    parse_sex,
    read_cinc,
    read_cinc_header,
)
from tools.vocabulary import (
    CODE15_LABELS,
    SNOMED_EQUIVALENT,
    SNOMED_SCORED,
    SNOMED_UNSCORED,
    label_abbreviation,
    label_name,
)

N_SHARED_RECORDS = 25


def _header_comments(path: Path) -> dict[str, str]:
    """Independent parse of '# Key: value' lines, for comparison with the reader."""
    out = {}
    for line in path.read_text().splitlines():
        if line.startswith("#") and ":" in line:
            key, value = line[1:].split(":", 1)
            out[key.strip()] = value.strip()
    return out


def write_cinc(
    folder: Path,
    name: str,
    val: np.ndarray,
    leads: tuple[str, ...],
    *,
    gains: list[float] | None = None,
    baselines: list[int] | None = None,
    units: list[str] | None = None,
    comments: tuple[str, ...] = ("Age: 50", "Sex: Female", "Dx: 426783006"),
    fs_hz: int = 500,
    n_samples: int | None = None,
) -> Path:
    """Write a challenge-style record (.mat with 'val' + WFDB .hea) and return the .hea."""
    folder.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(folder / f"{name}.mat", {"val": val})
    gains = gains or [1000.0] * len(leads)
    baselines = baselines or [0] * len(leads)
    units = units or ["mV"] * len(leads)
    n = val.shape[1] if n_samples is None else n_samples
    lines = [f"{name} {len(leads)} {fs_hz} {n}"]
    for lead, gain, base, unit in zip(leads, gains, baselines, units, strict=True):
        lines.append(f"{name}.mat 16x1+24 {gain}({base})/{unit} 16 0 0 0 0 {lead}")
    lines += [f"# {c}" for c in comments]
    header = folder / f"{name}.hea"
    header.write_text("\n".join(lines) + "\n")
    return header


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


class TestLabelName:
    def test_each_vocabulary(self):
        assert label_name("SNOMED-CT", "426783006") == "sinus rhythm"
        assert label_name("SNOMED-CT", "67741000119109") == "left atrial enlargement"
        assert label_name("CPSC2018", 2) == "atrial fibrillation"
        assert label_name("CPSC2018", " 9 ") == "ST-segment elevation"
        assert label_name("CODE-15", "1dAVb") == "first degree atrioventricular block"

    def test_unknown(self):
        assert label_name("SNOMED-CT", "1") is None
        assert label_name("CPSC2018", 10) is None
        assert label_name("SCP-ECG", "NORM") is None

    def test_abbreviation(self):
        assert label_abbreviation("SNOMED-CT", "164889003") == "AF"
        assert label_abbreviation("CPSC2018", "3") == "I-AVB"
        assert label_abbreviation("LUDB", "x") is None

    def test_tables_consistent(self):
        assert not set(SNOMED_SCORED) & set(SNOMED_UNSCORED)
        assert len(SNOMED_SCORED) == 30  # the challenge scores 30 codes (26 classes)
        for code, pooled in SNOMED_EQUIVALENT.items():
            assert code in SNOMED_SCORED and pooled in SNOMED_SCORED
        abbreviations = [term.abbreviation for term in SNOMED_SCORED.values()]
        assert len(set(abbreviations)) == len(abbreviations)
        assert list(CODE15_LABELS) == ["1dAVb", "RBBB", "LBBB", "SB", "ST", "AF"]


class TestParseHelpers:
    def test_sex_spellings(self):
        assert parse_sex("Male") == "M"
        assert parse_sex(" female ") == "F"
        assert parse_sex("F") == "F"
        assert parse_sex("Unknown") is None
        assert parse_sex(None) is None

    def test_age_values(self):
        assert parse_age("78") == 78.0
        assert parse_age("NaN") is None
        assert parse_age("Unknown") is None
        assert parse_age(-1) is None
        assert parse_age(np.uint8(52)) == 52.0

    def test_labels_named_deduplicated_unknown_kept(self):
        labels = cinc_labels("164889003, 164889003,999999999,Unknown")
        assert [label.code for label in labels] == ["164889003", "999999999"]
        assert labels[0].name == "atrial fibrillation"
        assert labels[1].name is None
        assert {label.vocabulary for label in labels} == {"SNOMED-CT"}

    def test_labels_empty(self):
        assert cinc_labels(None) == ()
        assert cinc_labels("") == ()


class TestReadCincShared:
    def test_all_records(self, dataset_dir):
        folder = dataset_dir("cinc2021")
        headers = sorted(folder.glob("*.hea"))
        assert len(headers) == N_SHARED_RECORDS
        for header in headers:
            record = read_cinc(header)
            comments = _header_comments(header)
            assert record.record_id == header.stem
            assert record.lead_names == STANDARD_LEADS
            assert record.fs_hz == 500.0
            assert record.n_samples == int(header.read_text().split()[3])
            assert record.signal_mv.dtype == np.float32
            expected_codes = [c.strip() for c in comments["Dx"].split(",")]
            assert [label.code for label in record.labels] == expected_codes
            for label in record.labels:
                assert label.name == label_name("SNOMED-CT", label.code)
            assert record.sex == {"Male": "M", "Female": "F"}[comments["Sex"]]
            assert record.age_years == float(comments["Age"])
            assert record.dataset == "cinc"

    def test_samples_match_wfdb(self, dataset_dir):
        folder = dataset_dir("cinc2021")
        record = read_cinc(folder / "E07500.hea")
        direct = wfdb.rdrecord(str(folder / "E07500"))
        order = [direct.sig_name.index(lead) for lead in record.lead_names]
        np.testing.assert_allclose(record.signal_mv, direct.p_signal[:, order].T, rtol=0, atol=1e-6)

    def test_lowercase_unit_header(self, dataset_dir):
        # The PTB-XL-derived records write "/mv"; the unit table must still give mV.
        folder = dataset_dir("cinc2021")
        assert "/mv" in (folder / "HR06000.hea").read_text()
        record = read_cinc(folder / "HR06000")
        val = scipy.io.loadmat(folder / "HR06000.mat")["val"]
        np.testing.assert_allclose(record.signal_mv[0], val[0] / 1000.0, atol=1e-6)

    def test_path_forms_agree(self, dataset_dir):
        folder = dataset_dir("cinc2021")
        a = read_cinc(folder / "JS20000.hea")
        b = read_cinc(folder / "JS20000.mat")
        c = read_cinc(folder / "JS20000")
        assert np.array_equal(a.signal_mv, b.signal_mv)
        assert np.array_equal(a.signal_mv, c.signal_mv)
        assert a.labels == b.labels == c.labels


class TestReadCincSynthetic:
    def test_mimic_order_gain_baseline_units(self, tmp_path, rng):
        val = rng.integers(-3000, 3000, size=(12, 250)).astype(np.int16)
        gains = [1000.0 + 100 * i for i in range(12)]
        baselines = [10 * i - 50 for i in range(12)]
        units = ["uV" if i % 2 else "mV" for i in range(12)]
        header = write_cinc(
            tmp_path, "X1", val, MIMIC_LEADS, gains=gains, baselines=baselines, units=units
        )
        record = read_cinc(header)
        assert record.lead_names == STANDARD_LEADS
        factors = np.where(np.arange(12) % 2, 1e-3, 1.0)
        expected = (val - np.array(baselines)[:, None]) / np.array(gains)[:, None]
        expected *= factors[:, None]
        for lead in STANDARD_LEADS:
            row = MIMIC_LEADS.index(lead)
            np.testing.assert_allclose(record.lead(lead), expected[row], rtol=1e-6, atol=1e-9)
        assert record.original_lead_names == STANDARD_LEADS

    def test_unknown_demographics(self, tmp_path, rng):
        val = rng.integers(-100, 100, size=(12, 100)).astype(np.int16)
        comments = ("Age: NaN", "Sex: Unknown", "Dx: 426783006", "Rx: aspirin")
        record = read_cinc(write_cinc(tmp_path, "X2", val, STANDARD_LEADS, comments=comments))
        assert record.age_years is None
        assert record.sex is None
        assert record.metadata["rx"] == "aspirin"

    def test_invalid_sample_is_nan(self, tmp_path, rng):
        val = rng.integers(-100, 100, size=(12, 100)).astype(np.int16)
        val[3, 10:13] = -32768
        record = read_cinc(write_cinc(tmp_path, "X3", val, STANDARD_LEADS))
        assert record.nan_counts == {"aVR": 3}

    def test_fewer_leads(self, tmp_path, rng):
        val = rng.integers(-100, 100, size=(2, 100)).astype(np.int16)
        record = read_cinc(write_cinc(tmp_path, "X4", val, ("II", "I")))
        assert record.lead_names == ("I", "II")
        np.testing.assert_allclose(record.lead("I"), val[1] / 1000.0, atol=1e-7)

    def test_sample_count_mismatch(self, tmp_path, rng):
        val = rng.integers(-100, 100, size=(12, 100)).astype(np.int16)
        header = write_cinc(tmp_path, "X5", val, STANDARD_LEADS, n_samples=5000)
        with pytest.raises(HeaderMismatchError, match=r"X5\.mat.*5000 samples"):
            read_cinc(header)

    def test_missing_mat(self, tmp_path, rng):
        val = rng.integers(-100, 100, size=(12, 100)).astype(np.int16)
        header = write_cinc(tmp_path, "X6", val, STANDARD_LEADS)
        (tmp_path / "X6.mat").unlink()
        with pytest.raises(MissingFileError, match=r"X6\.mat"):
            read_cinc(header)

    def test_unknown_lead(self, tmp_path, rng):
        val = rng.integers(-100, 100, size=(2, 100)).astype(np.int16)
        header = write_cinc(tmp_path, "X7", val, ("I", "CM5"))
        with pytest.raises(UnknownLeadError, match=r"X7\.hea.*CM5"):
            read_cinc(header)


class TestReadCincHeader:
    def test_signal_count_mismatch(self, tmp_path):
        (tmp_path / "Y.hea").write_text("Y 3 500 100\nY.mat 16 1000(0)/mV 16 0 0 0 0 I\n")
        with pytest.raises(CorruptFileError, match=r"Y\.hea.*3 signals but 1"):
            read_cinc_header(tmp_path / "Y.hea")

    def test_bad_gain_field(self, tmp_path):
        (tmp_path / "Y.hea").write_text("Y 1 500 100\nY.mat 16 abc/mV 16 0 0 0 0 I\n")
        with pytest.raises(CorruptFileError, match=r"Y\.hea.*malformed gain"):
            read_cinc_header(tmp_path / "Y.hea")

    def test_missing_lead_name(self, tmp_path):
        (tmp_path / "Y.hea").write_text("Y 1 500 100\nY.mat 16 1000/mV\n")
        with pytest.raises(CorruptFileError, match=r"Y\.hea.*no lead name"):
            read_cinc_header(tmp_path / "Y.hea")

    def test_bad_rate(self, tmp_path):
        (tmp_path / "Y.hea").write_text("Y 1 0 100\nY.mat 16 1000/mV 16 0 0 0 0 I\n")
        with pytest.raises(CorruptFileError, match=r"Y\.hea.*fs > 0"):
            read_cinc_header(tmp_path / "Y.hea")

    def test_defaults(self, tmp_path):
        (tmp_path / "Y.hea").write_text("Y 1 500/1000 100\nY.mat 16 0 16 7 0 0 0 V1\n")
        header = read_cinc_header(tmp_path / "Y.hea")
        assert header.fs_hz == 500.0
        assert header.gains == (200.0,)  # WFDB: gain 0 means the default 200
        assert header.baselines == (7,)  # baseline defaults to the ADC zero
        assert header.units == ("mV",)


class TestCincDataset:
    def test_shared_folder(self, dataset_dir):
        dataset = CincDataset(dataset_dir("cinc2021"))
        assert dataset.name == "cinc"
        assert len(dataset) == N_SHARED_RECORDS
        ids = [entry.record_id for entry in dataset.entries()]
        assert ids == sorted(ids)
        assert ids == [entry.record_id for entry in dataset.entries()]  # stable order
        record = dataset.get("HR06002")
        assert [label.code for label in record.labels] == ["426177001", "426783006", "713426002"]

    def test_recursive_and_lazy(self, tmp_path, rng):
        val = rng.integers(-100, 100, size=(12, 50)).astype(np.int16)
        write_cinc(tmp_path / "g1", "A1", val, STANDARD_LEADS)
        write_cinc(tmp_path / "g2" / "deep", "B1", val, STANDARD_LEADS)
        (tmp_path / "g2" / "deep" / "B1.mat").write_bytes(b"not a mat file")
        dataset = CincDataset(tmp_path)
        assert len(dataset) == 2  # listing does not read the (corrupt) signal
        entries = list(dataset.entries())
        assert [entry.record_id for entry in entries] == ["A1", "B1"]
        assert dataset.load(entries[0]).n_samples == 50
        with pytest.raises(CorruptFileError, match=r"B1\.mat"):
            dataset.load(entries[1])

    def test_duplicate_ids(self, tmp_path, rng):
        val = rng.integers(-100, 100, size=(12, 50)).astype(np.int16)
        write_cinc(tmp_path / "a", "A1", val, STANDARD_LEADS)
        write_cinc(tmp_path / "b", "A1", val, STANDARD_LEADS)
        with pytest.raises(DatasetError, match="'A1' appears twice"):
            CincDataset(tmp_path)

    def test_empty_folder(self, tmp_path):
        with pytest.raises(DatasetError, match=r"no challenge headers"):
            CincDataset(tmp_path)

    def test_copy_of_shared_record_reads_same(self, dataset_dir, tmp_path):
        folder = dataset_dir("cinc2021")
        for suffix in (".hea", ".mat"):
            shutil.copy(folder / f"E07502{suffix}", tmp_path / f"E07502{suffix}")
        copied = CincDataset(tmp_path).get("E07502")
        original = read_cinc(folder / "E07502")
        assert np.array_equal(copied.signal_mv, original.signal_mv)
