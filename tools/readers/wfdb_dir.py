"""Folders of WFDB records: any PhysioNet database, and LUDB with its diagnosis table.

Holter and arrhythmia databases (MIT-BIH, QTDB, SVDB, CPSC 2021) record bipolar leads that
are not among the 12 standard ones: read them with ``WfdbDirDataset(root,
lead_policy="as-recorded")``.

References
----------
Kalyakulina et al., "LUDB: a new open-access validation tool for electrocardiogram
delineation algorithms", IEEE Access 8 (2020); https://physionet.org/content/ludb/
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from tools.errors import DatasetError
from tools.readers.base import Dataset, DatasetEntry
from tools.readers.wfdb_reader import LeadPolicy, ludb_label, parse_age, parse_sex, read_wfdb
from tools.record import ECGRecord, Label

RECORDS_FILE = "RECORDS"
HEADER_SUFFIX = ".hea"

LUDB_CSV = "ludb.csv"
#: ``ludb.csv`` columns that hold diagnosis statements (several per cell, one per line).
LUDB_STATEMENT_COLUMNS: tuple[str, ...] = (
    "Rhythms",
    "Electric axis of the heart",
    "Conduction abnormalities",
    "Extrasystolies",
    "Hypertrophies",
    "Cardiac pacing",
    "Ischemia",
    "Non-specific repolarization abnormalities",
    "Other states",
)


def list_records(root: Path) -> list[Path]:
    """Record paths (without ``.hea``) under ``root``, in a stable order.

    From ``RECORDS`` when the folder has one (PhysioNet's index: one record per line,
    relative to the folder; a line ending in ``/`` names a sub-folder, listed the same way),
    else every ``*.hea`` below ``root``, sorted.
    """
    index = root / RECORDS_FILE
    if not index.is_file():
        return sorted(p.with_suffix("") for p in root.rglob(f"*{HEADER_SUFFIX}"))
    records: list[Path] = []
    for line in index.read_text(encoding="utf-8", errors="replace").splitlines():
        name = line.strip()
        if not name or name.startswith("#"):
            continue
        if name.endswith("/"):
            records.extend(list_records(root / name.rstrip("/")))
        else:
            records.append(root / name.removesuffix(HEADER_SUFFIX))
    return records


class WfdbDirDataset(Dataset):
    """Every WFDB record under a folder, read with one lead policy.

    Parameters
    ----------
    root
        Database folder.
    lead_policy
        ``"standard"`` (map onto the 12 canonical leads) or ``"as-recorded"`` (Holter DBs).
    name
        Dataset name stored on entries and records.

    Notes
    -----
    Record ids are paths relative to ``root`` without extension (``data/1``, ``sel100``).
    """

    def __init__(
        self,
        root: str | Path,
        *,
        lead_policy: LeadPolicy = "standard",
        name: str = "wfdb-dir",
    ) -> None:
        self.name = name
        super().__init__(root)
        self.lead_policy: LeadPolicy = lead_policy
        self._records = list_records(self.root)

    def __len__(self) -> int:
        return len(self._records)

    def entries(self) -> Iterator[DatasetEntry]:
        for path in self._records:
            yield DatasetEntry(record_id=self._record_id(path), path=path)

    def load(self, entry: DatasetEntry) -> ECGRecord:
        return read_wfdb(
            entry.path, lead_policy=self.lead_policy, dataset=self.name, record_id=entry.record_id
        )

    def _record_id(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()


class LudbDataset(WfdbDirDataset):
    """The Lobachevsky University ECG Database: 12 leads, 500 Hz, 10 s.

    Records come from ``RECORDS`` (else ``data/*.hea``); the record id is the LUDB number
    (``"1"``). Labels come from the ``ludb.csv`` row when the table is present, otherwise
    from the header's ``<diagnoses>`` comments; both spellings give the same label codes
    (see :func:`tools.readers.wfdb_reader.ludb_label`). Entry metadata holds each
    statement's table column under ``ludb_statements``.
    """

    def __init__(self, root: str | Path) -> None:
        super().__init__(root, lead_policy="standard", name="ludb")
        if not (self.root / RECORDS_FILE).is_file():
            self._records = sorted(
                p.with_suffix("") for p in (self.root / "data").glob(f"*{HEADER_SUFFIX}")
            )
        self._table = _read_ludb_table(self.root / LUDB_CSV)

    def entries(self) -> Iterator[DatasetEntry]:
        for path in self._records:
            record_id = path.name
            labels, metadata = self._table.get(record_id, ((), {}))
            yield DatasetEntry(record_id=record_id, path=path, labels=labels, metadata=metadata)

    def load(self, entry: DatasetEntry) -> ECGRecord:
        record = super().load(entry)
        metadata = dict(entry.metadata)
        age, sex = metadata.pop("age_years", None), metadata.pop("sex", None)
        return replace(
            record,
            labels=entry.labels or record.labels,
            age_years=record.age_years if record.age_years is not None else age,
            sex=record.sex if record.sex is not None else sex,
            metadata={**record.metadata, **metadata},
        )

    def _record_id(self, path: Path) -> str:
        return path.name


def _read_ludb_table(path: Path) -> dict[str, tuple[tuple[Label, ...], dict[str, Any]]]:
    """``ludb.csv`` as record id -> (labels, metadata); empty when the table is absent."""
    if not path.is_file():
        return {}
    try:
        table = pd.read_csv(path, dtype=str)
    except Exception as exc:
        raise DatasetError(path, f"cannot parse the LUDB diagnosis table ({exc})") from exc
    if "ID" not in table:
        raise DatasetError(path, "LUDB table lacks the 'ID' column")
    result: dict[str, tuple[tuple[Label, ...], dict[str, Any]]] = {}
    for row in table.to_dict("records"):
        labels: list[Label] = []
        statements: dict[str, list[str]] = {}
        for column in LUDB_STATEMENT_COLUMNS:
            cell = row.get(column)
            for line in str(cell).splitlines() if isinstance(cell, str) else []:
                label = ludb_label(line)
                if label is not None:
                    labels.append(label)
                    statements.setdefault(column, []).append(label.name or label.code)
        metadata: dict[str, Any] = {
            "ludb_statements": statements,
            "age_years": parse_age(row.get("Age")),
            "sex": parse_sex(row.get("Sex")),
        }
        result[str(row["ID"]).strip()] = (tuple(labels), metadata)
    return result
