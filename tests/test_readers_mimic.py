"""MimicDataset on a tiny tree written in MIMIC-IV-ECG's exact layout."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import wfdb

from tools.errors import DatasetError, MissingFileError
from tools.leads import MIMIC_LEADS, STANDARD_LEADS
from tools.readers.mimic import MEASUREMENT_KEYS, CsvRowIndex, MimicDataset

#: (subject_id, study_id) of the written studies: two subjects, three studies.
STUDIES = ((10000032, 40689238), (10000032, 44458630), (10000117, 45090959))

MEASUREMENT_COLUMNS = [
    "subject_id", "study_id", "cart_id", "ecg_time",
    *[f"report_{k}" for k in range(18)],
    "bandwidth", "filtering", "rr_interval", "p_onset", "p_end", "qrs_onset", "qrs_end",
    "t_end", "p_axis", "qrs_axis", "t_axis",
]  # fmt: skip


def study_signal(study_id: int) -> np.ndarray:
    """[5000, 12] in mV, MIMIC column order; lead k of every study has offset k/10 mV."""
    rng = np.random.default_rng(study_id % 1000)
    return np.round(rng.normal(0, 0.2, (5000, 12)) + np.arange(12) / 10, 3)


def measurement_row(subject: int, study: int, reports: list[str], **values: str) -> dict:
    row = dict.fromkeys(MEASUREMENT_COLUMNS, "")
    row.update(subject_id=str(subject), study_id=str(study), cart_id="6848296")
    row.update(ecg_time="2180-07-23 08:44:00", bandwidth="0.005-150 Hz", filtering="60 Hz notch")
    row.update({f"report_{k}": text for k, text in enumerate(reports)})
    row.update(rr_interval="659", p_onset="40", p_end="128", qrs_onset="170", qrs_end="258")
    row.update(t_end="518", p_axis="81", qrs_axis="77", t_axis="79")
    row.update(values)
    return row


def write_mimic(root: Path) -> Path:
    """record_list.csv, machine_measurements.csv (other row order) and the WFDB files."""
    with (root / "record_list.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["subject_id", "study_id", "file_name", "ecg_time", "path"])
        for subject, study in STUDIES:
            folder = root / "files" / f"p{str(subject)[:4]}" / f"p{subject}" / f"s{study}"
            folder.mkdir(parents=True)
            wfdb.wrsamp(
                str(study),
                fs=500,
                units=["mV"] * 12,
                sig_name=list(MIMIC_LEADS),
                p_signal=study_signal(study),
                fmt=["16"] * 12,
                adc_gain=[200.0] * 12,
                baseline=[0] * 12,
                write_dir=str(folder),
            )
            relative = folder.relative_to(root) / str(study)
            writer.writerow([subject, study, study, "2180-07-23 08:44:00", relative.as_posix()])
    rows = [
        measurement_row(*STUDIES[2], ["Sinus rhythm", "Normal ECG"], p_onset="29999"),
        measurement_row(
            *STUDIES[0],
            ["Sinus rhythm.", "Possible left atrial abnormality, borderline", "", "Borderline ECG"],
            p_axis="29999",
        ),
        measurement_row(*STUDIES[1], ["Atrial fibrillation\nwith rapid ventricular response"]),
    ]
    with (root / "machine_measurements.csv").open("w", newline="") as handle:
        table = csv.DictWriter(handle, fieldnames=MEASUREMENT_COLUMNS)
        table.writeheader()
        table.writerows(rows)
    return root


@pytest.fixture
def mimic_root(tmp_path: Path) -> Path:
    return write_mimic(tmp_path)


class TestMimicEntries:
    def test_ids_and_patients(self, mimic_root):
        ds = MimicDataset(mimic_root)
        assert len(ds) == 3
        entries = list(ds.entries())
        assert [(e.patient_id, e.record_id) for e in entries] == [
            (str(sub), str(st)) for sub, st in STUDIES
        ]
        assert entries[0].path == mimic_root / "files/p1000/p10000032/s40689238/40689238"

    def test_report_joined(self, mimic_root):
        entries = {e.record_id: e for e in MimicDataset(mimic_root).entries()}
        first = entries[str(STUDIES[0][1])].metadata["report"]
        assert first == "Sinus rhythm. Possible left atrial abnormality, borderline. Borderline ECG"
        multi_line = entries[str(STUDIES[1][1])].metadata["report"]
        assert multi_line == "Atrial fibrillation\nwith rapid ventricular response"

    def test_measurements_numeric_with_missing_marker(self, mimic_root):
        entries = {e.record_id: e.metadata for e in MimicDataset(mimic_root).entries()}
        first = entries[str(STUDIES[0][1])]
        assert first["rr_interval_ms"] == 659.0 and first["qrs_end_ms"] == 258.0
        assert first["p_axis_deg"] is None  # 29999
        assert entries[str(STUDIES[2][1])]["p_onset_ms"] is None
        assert entries[str(STUDIES[2][1])]["p_axis_deg"] == 81.0
        assert set(MEASUREMENT_KEYS.values()) <= set(first)
        assert (first["cart_id"], first["filtering"]) == ("6848296", "60 Hz notch")

    def test_streams_in_small_chunks(self, mimic_root):
        whole = [(e.record_id, e.metadata) for e in MimicDataset(mimic_root).entries()]
        chunked = [
            (e.record_id, e.metadata) for e in MimicDataset(mimic_root, chunk_rows=1).entries()
        ]
        assert chunked == whole

    def test_without_measurements(self, mimic_root):
        (mimic_root / "machine_measurements.csv").unlink()
        entry = next(MimicDataset(mimic_root).entries())
        assert entry.metadata["report"] is None and entry.metadata["rr_interval_ms"] is None

    def test_study_missing_from_measurements(self, mimic_root):
        table = mimic_root / "machine_measurements.csv"
        lines = table.read_text().splitlines(keepends=True)
        table.write_text("".join(line for line in lines if str(STUDIES[2][1]) not in line))
        entries = {e.record_id: e.metadata for e in MimicDataset(mimic_root).entries()}
        assert entries[str(STUDIES[2][1])]["report"] is None
        assert entries[str(STUDIES[0][1])]["report"] is not None


class TestMimicLoad:
    def test_leads_reordered(self, mimic_root):
        ds = MimicDataset(mimic_root)
        for entry in ds.entries():
            record = ds.load(entry)
            written = study_signal(int(entry.record_id))
            assert record.lead_names == STANDARD_LEADS
            assert record.original_lead_names == STANDARD_LEADS  # MIMIC already spells aVR
            assert (record.fs_hz, record.n_samples) == (500, 5000)
            for row, lead in enumerate(STANDARD_LEADS):
                expected = written[:, MIMIC_LEADS.index(lead)]
                np.testing.assert_allclose(record.signal_mv[row], expected, atol=5e-3)

    def test_record_fields(self, mimic_root):
        ds = MimicDataset(mimic_root)
        record = ds.get(str(STUDIES[1][1]))
        assert record.patient_id == str(STUDIES[1][0])
        assert record.dataset == "mimic"
        assert record.report is not None and record.report.startswith("Atrial fibrillation")
        assert "report" not in record.metadata
        assert record.metadata["t_end_ms"] == 518.0

    def test_get_unknown_study(self, mimic_root):
        with pytest.raises(MissingFileError, match="no study with id '123'"):
            MimicDataset(mimic_root).get("123")

    def test_missing_signal_file(self, mimic_root):
        ds = MimicDataset(mimic_root)
        entry = next(ds.entries())
        (entry.path.with_name(entry.path.name + ".dat")).unlink()
        with pytest.raises(MissingFileError, match=r"40689238\.dat: signal file"):
            ds.load(entry)


class TestMimicBadLayout:
    def test_missing_record_list(self, tmp_path):
        with pytest.raises(MissingFileError, match=r"record_list\.csv: MIMIC-IV-ECG record list"):
            MimicDataset(tmp_path)

    def test_record_list_without_path_column(self, tmp_path):
        (tmp_path / "record_list.csv").write_text("subject_id,study_id\n1,2\n")
        with pytest.raises(DatasetError, match=r"lacks column\(s\) path"):
            list(MimicDataset(tmp_path).entries())

    def test_blank_path(self, tmp_path):
        (tmp_path / "record_list.csv").write_text("subject_id,study_id,path\n1,2,\n")
        with pytest.raises(DatasetError, match=r"no value in column\(s\) path"):
            list(MimicDataset(tmp_path).entries())

    def test_non_numeric_study(self, tmp_path):
        (tmp_path / "record_list.csv").write_text("subject_id,study_id,path\n1,abc,files/x\n")
        with pytest.raises(DatasetError, match="study_id 'abc' is not a number"):
            list(MimicDataset(tmp_path).entries())


class TestCsvRowIndex:
    def test_quoted_newlines_and_order(self, tmp_path):
        table = tmp_path / "t.csv"
        table.write_text('study_id,text\n5,"two\nlines"\n3,plain\n5,duplicate\n')
        rows = CsvRowIndex(table).rows([3, 5, 4])
        assert rows == [
            {"study_id": "3", "text": "plain"},
            {"study_id": "5", "text": "two\nlines"},
            None,
        ]

    def test_missing_key_column(self, tmp_path):
        table = tmp_path / "t.csv"
        table.write_text("a,b\n1,2\n")
        with pytest.raises(DatasetError, match=r"t\.csv: table lacks the 'study_id' column"):
            CsvRowIndex(table).rows([1])

    def test_empty_table(self, tmp_path):
        table = tmp_path / "t.csv"
        table.write_text("study_id,text\n")
        assert CsvRowIndex(table).rows([1, 2]) == [None, None]
