"""MIMIC-IV-ECG: ~800k 10 s 12-lead ECGs in WFDB format with machine reports and measurements.

Layout (MIMIC-IV-ECG 1.0)::

    record_list.csv            subject_id, study_id, file_name, ecg_time, path
    machine_measurements.csv   subject_id, study_id, cart_id, ecg_time, report_0..report_17,
                               bandwidth, filtering, rr_interval, p_onset, p_end, qrs_onset,
                               qrs_end, t_end, p_axis, qrs_axis, t_axis
    files/pNNNN/pNNNNNNNN/sNNNNNNNN/NNNNNNNN.{hea,dat}   500 Hz, 5000 samples, mV,
                               leads I, II, III, aVR, aVF, aVL, V1-V6 (aVF before aVL)

Nothing is read eagerly: ``record_list.csv`` is streamed in chunks, and the measurement row of
a study is found through a byte-offset index of ``machine_measurements.csv`` (two int64
arrays, ~13 MB for 800k rows) built on first use, so memory does not grow with the table.

References
----------
Gow et al., "MIMIC-IV-ECG: Diagnostic Electrocardiogram Matched Subset" (PhysioNet, 2023),
https://physionet.org/content/mimic-iv-ecg/
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from tools.errors import DatasetError, MissingFileError
from tools.readers.base import Dataset, DatasetEntry
from tools.readers.wfdb_reader import read_wfdb
from tools.record import ECGRecord

RECORD_LIST_CSV = "record_list.csv"
MEASUREMENTS_CSV = "machine_measurements.csv"

#: MIMIC-IV-ECG's marker for a measurement the machine could not make (e.g. no P wave).
MISSING_MEASUREMENT = 29999.0

#: Machine measurement columns -> metadata keys with units: intervals in ms from the start
#: of the 10 s strip (rr_interval: ms between beats), axes in degrees.
MEASUREMENT_KEYS: dict[str, str] = {
    "rr_interval": "rr_interval_ms",
    "p_onset": "p_onset_ms",
    "p_end": "p_end_ms",
    "qrs_onset": "qrs_onset_ms",
    "qrs_end": "qrs_end_ms",
    "t_end": "t_end_ms",
    "p_axis": "p_axis_deg",
    "qrs_axis": "qrs_axis_deg",
    "t_axis": "t_axis_deg",
}
#: Text columns of the measurement table kept as they are.
TEXT_KEYS: tuple[str, ...] = ("cart_id", "bandwidth", "filtering")
#: Report statement columns (``report_0`` ... ``report_17``).
REPORT_COLUMNS: tuple[str, ...] = tuple(f"report_{k}" for k in range(18))
#: Separator between report statements: each statement is a sentence.
REPORT_SEPARATOR = ". "

_RECORD_LIST_COLUMNS = ("subject_id", "study_id", "path")


class MimicDataset(Dataset):
    """MIMIC-IV-ECG studies, streamed: record id = ``study_id``, patient = ``subject_id``.

    Parameters
    ----------
    root
        Folder holding ``record_list.csv``, ``files/`` and (optionally)
        ``machine_measurements.csv``.
    chunk_rows
        Rows of ``record_list.csv`` read at a time.

    Notes
    -----
    Entry metadata: ``ecg_time``, ``file_name``, ``report`` (the non-empty ``report_k``
    statements, stripped of final periods and joined with ``". "``, so the machine's
    statements read as sentences; ``None`` when there are none), ``cart_id``, ``bandwidth``,
    ``filtering`` and the measurements as floats under unit-named keys
    (:data:`MEASUREMENT_KEYS`); the marker 29999 and empty cells become ``None``.
    :meth:`load` moves ``report`` onto ``ECGRecord.report``.
    """

    name = "mimic"

    def __init__(self, root: str | Path, *, chunk_rows: int = 10_000) -> None:
        super().__init__(root)
        self.record_list = self.root / RECORD_LIST_CSV
        if not self.record_list.is_file():
            raise MissingFileError(self.record_list, "MIMIC-IV-ECG record list not found")
        self.chunk_rows = chunk_rows
        measurements = self.root / MEASUREMENTS_CSV
        self._measurements = CsvRowIndex(measurements) if measurements.is_file() else None
        self._length: int | None = None

    def __len__(self) -> int:
        if self._length is None:
            self._length = sum(len(chunk) for chunk in self._chunks())
        return self._length

    def entries(self) -> Iterator[DatasetEntry]:
        for chunk in self._chunks():
            numeric = pd.to_numeric(chunk["study_id"], errors="coerce")
            if numeric.isna().any():
                bad = chunk["study_id"][numeric.isna()].iloc[0]
                raise DatasetError(self.record_list, f"study_id {bad!r} is not a number")
            studies = numeric.astype("int64").tolist()
            rows = self._measurements.rows(studies) if self._measurements else [None] * len(chunk)
            for record, measured in zip(chunk.to_dict("records"), rows, strict=True):
                yield self._entry(record, measured)

    def load(self, entry: DatasetEntry) -> ECGRecord:
        record = read_wfdb(entry.path, dataset=self.name, record_id=entry.record_id)
        metadata = dict(entry.metadata)
        return replace(
            record,
            report=metadata.pop("report", None),
            patient_id=entry.patient_id,
            metadata={**record.metadata, **metadata},
        )

    def get(self, record_id: str) -> ECGRecord:
        """Load the study with this ``study_id``; measurements are looked up for it alone."""
        for chunk in self._chunks():
            match = chunk[chunk["study_id"].str.strip() == str(record_id).strip()]
            if not match.empty:
                row = match.iloc[0].to_dict()
                measured = (
                    self._measurements.rows([int(row["study_id"])])[0]
                    if self._measurements
                    else None
                )
                return self.load(self._entry(row, measured))
        raise MissingFileError(self.record_list, f"mimic has no study with id {record_id!r}")

    def _chunks(self) -> Iterator[pd.DataFrame]:
        try:
            reader = pd.read_csv(self.record_list, chunksize=self.chunk_rows, dtype=str)
            for chunk in reader:
                missing = [c for c in _RECORD_LIST_COLUMNS if c not in chunk]
                if missing:
                    raise DatasetError(
                        self.record_list, f"record list lacks column(s) {', '.join(missing)}"
                    )
                yield chunk
        except (ValueError, pd.errors.ParserError) as exc:
            raise DatasetError(self.record_list, f"cannot parse the record list ({exc})") from exc

    def _entry(self, row: dict[str, Any], measured: dict[str, str] | None) -> DatasetEntry:
        blank = [c for c in _RECORD_LIST_COLUMNS if _text(row.get(c)) is None]
        if blank:
            raise DatasetError(
                self.record_list, f"row {row} has no value in column(s) {', '.join(blank)}"
            )
        metadata: dict[str, Any] = {
            "ecg_time": _text(row.get("ecg_time")),
            "file_name": _text(row.get("file_name")),
        }
        metadata.update(measurement_metadata(measured or {}))
        return DatasetEntry(
            record_id=str(row["study_id"]).strip(),
            path=self.root / str(row["path"]).strip(),
            patient_id=str(row["subject_id"]).strip(),
            metadata=metadata,
        )


def measurement_metadata(row: dict[str, str]) -> dict[str, Any]:
    """One ``machine_measurements.csv`` row as metadata (see :class:`MimicDataset` notes)."""
    statements = [s.strip().rstrip(".").strip() for c in REPORT_COLUMNS if (s := row.get(c))]
    metadata: dict[str, Any] = {"report": REPORT_SEPARATOR.join(s for s in statements if s) or None}
    for column in TEXT_KEYS:
        metadata[column] = _text(row.get(column))
    for column, key in MEASUREMENT_KEYS.items():
        metadata[key] = _measurement(row.get(column))
    return metadata


class CsvRowIndex:
    """Find rows of a large CSV by integer key without holding the table in memory.

    The first pass records, for every row, its key and the byte offset where it starts
    (quoted fields spanning lines are handled by the ``csv`` module); a lookup seeks there
    and parses that one row.
    """

    def __init__(self, path: Path, key_column: str = "study_id") -> None:
        self.path = path
        self.key_column = key_column
        self._keys: np.ndarray | None = None
        self._offsets: np.ndarray | None = None
        self._header: list[str] = []

    def rows(self, keys: Sequence[int]) -> list[dict[str, str] | None]:
        """The row of each key (first one when a key repeats), ``None`` when absent."""
        index_keys, offsets = self._index()
        wanted = np.asarray(keys, dtype=np.int64)
        result: list[dict[str, str] | None] = [None] * len(wanted)
        if len(index_keys) == 0:
            return result
        pos = np.clip(np.searchsorted(index_keys, wanted), 0, len(index_keys) - 1)
        found = index_keys[pos] == wanted
        with self.path.open("rb") as handle:
            for i in np.argsort(offsets[pos], kind="stable"):  # read in file order
                if found[i]:
                    handle.seek(int(offsets[pos[i]]))
                    values = next(csv.reader(_lines(handle, [0])), [])
                    result[i] = dict(zip(self._header, values, strict=False))
        return result

    def _index(self) -> tuple[np.ndarray, np.ndarray]:
        if self._keys is None or self._offsets is None:
            keys, offsets = self._scan()
            order = np.argsort(keys, kind="stable")
            self._keys, self._offsets = keys[order], offsets[order]
        return self._keys, self._offsets

    def _scan(self) -> tuple[np.ndarray, np.ndarray]:
        """Key and start offset of every row, in file order.

        A row ends at a line end where the number of ``"`` seen since the row began is
        even (outside quotes; an escaped quote ``""`` adds two), so quoted fields spanning
        lines are handled without running the ``csv`` parser on every row.
        """
        keys: list[int] = []
        offsets: list[int] = []
        with self.path.open("rb") as handle:
            header = handle.readline()
            names = next(csv.reader([header.decode("utf-8", errors="replace")]), [])
            self._header = [name.lstrip("\ufeff").strip() for name in names]
            if self.key_column not in self._header:
                raise DatasetError(self.path, f"table lacks the {self.key_column!r} column")
            key_at = self._header.index(self.key_column)
            position = start = len(header)
            pending, quotes = b"", 0
            for raw in handle:
                position += len(raw)
                pending += raw
                quotes += raw.count(b'"')
                if quotes % 2:
                    continue  # inside a quoted field: the row goes on
                key = _key_field(pending, key_at)
                if key:
                    try:
                        keys.append(int(float(key)))
                    except ValueError:
                        raise DatasetError(
                            self.path,
                            f"row at byte {start}: {self.key_column} {key!r} is not a number",
                        ) from None
                    offsets.append(start)
                start, pending, quotes = position, b"", 0
        return np.asarray(keys, dtype=np.int64), np.asarray(offsets, dtype=np.int64)


def _key_field(row: bytes, key_at: int) -> str:
    """Field ``key_at`` of one CSV row (fast split unless quotes are involved)."""
    if b'"' not in row:
        fields = row.split(b",", key_at + 1)
        return fields[key_at].decode().strip() if len(fields) > key_at else ""
    values = next(csv.reader(io.StringIO(row.decode("utf-8", errors="replace"))), [])
    return values[key_at].strip() if len(values) > key_at else ""


def _lines(handle: BinaryIO, position: list[int]) -> Iterator[str]:
    """Decoded lines of a binary file, advancing ``position[0]`` by each line's bytes."""
    for raw in handle:
        position[0] += len(raw)
        yield raw.decode("utf-8", errors="replace")


def _measurement(value: str | None) -> float | None:
    try:
        number = float(value) if value is not None else math.nan
    except ValueError:
        return None
    if math.isnan(number) or number == MISSING_MEASUREMENT:
        return None
    return number


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None
