"""CODE-15%: 345,779 Brazilian 12-lead exams in HDF5 parts with one metadata table.

Layout (Ribeiro et al. 2020/2021, zenodo record 4916206)::

    exams.csv           exam_id, age, is_male, nn_predicted_age, 1dAVb, RBBB, LBBB, SB, ST, AF,
                        patient_id, death, timey, normal_ecg, trace_file
    exams_part0.hdf5    tracings [N, 4096, 12] float32 (mV, 400 Hz, leads I, II, III, aVR,
                        aVL, aVF, V1-V6) and exam_id [N]
    exams_part1.hdf5    ...

Each tracing is zero-padded symmetrically to 4096 samples (a 10 s exam is 4000 samples with
48 zeros on each side; 7 s exams get more). The reader strips leading and trailing columns
that are zero in every lead and records the padding in ``metadata``.

Reading streams: each load opens its HDF5 part, reads one row, and closes it; a dataset keeps
only the small per-part ``exam_id`` index in memory.

References
----------
Ribeiro AH et al. "Automatic diagnosis of the 12-lead ECG using a deep neural network."
Nat Commun 2020;11:1760. Lima EM et al. "Deep neural network-estimated electrocardiographic age
as a mortality predictor." Nat Commun 2021;12:5117 (CODE-15% release).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pandas as pd

from tools.errors import (
    CorruptFileError,
    DatasetError,
    MissingFileError,
    SignalValueError,
)
from tools.leads import STANDARD_LEADS
from tools.readers.arrays import canonical_signal
from tools.readers.base import Dataset, DatasetEntry
from tools.record import ECGRecord, Label
from tools.vocabulary import CODE15_LABELS, label_name

#: Sampling rate of every CODE-15% tracing (Ribeiro et al. 2020).
CODE15_FS_HZ = 400.0
#: Column order of the tracings' last axis (Ribeiro et al. 2020): the standard order.
CODE15_LEADS: tuple[str, ...] = STANDARD_LEADS
#: Name of the metadata table.
EXAMS_FILE = "exams.csv"
#: Columns the dataset cannot work without.
REQUIRED_COLUMNS = ("exam_id", "trace_file")
#: Further exams.csv columns copied into ``metadata`` when present.
EXTRA_COLUMNS = ("nn_predicted_age", "death", "timey", "normal_ecg")


def read_exams(path: str | Path) -> pd.DataFrame:
    """Read and validate ``exams.csv`` (one row per exam, unique integer ``exam_id``).

    Raises
    ------
    MissingFileError
        The table does not exist.
    CorruptFileError
        It is not a CSV table, lacks ``exam_id``/``trace_file``, or repeats an exam id.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(path, "CODE-15% table exams.csv not found")
    try:
        table = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise CorruptFileError(path, f"not a readable CSV table: {exc}") from exc
    missing = [column for column in REQUIRED_COLUMNS if column not in table.columns]
    if missing:
        raise CorruptFileError(path, f"missing column(s) {missing}")
    if not pd.api.types.is_integer_dtype(table["exam_id"]):
        raise CorruptFileError(path, "column exam_id must hold integers only")
    duplicated = table["exam_id"][table["exam_id"].duplicated()]
    if not duplicated.empty:
        raise CorruptFileError(path, f"exam_id {int(duplicated.iloc[0])} appears more than once")
    return table


def _flag(value: Any) -> bool:
    """exams.csv booleans: True/False (any case), 1/0; missing -> False."""
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1"}
    if isinstance(value, bool | np.bool_):
        return bool(value)
    return isinstance(value, int | float | np.number) and value == 1


def _plain(value: Any) -> Any:
    """numpy scalars -> Python; NaN -> None (for JSON-ready metadata)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def exam_fields(row: Mapping[str, Any]) -> dict[str, Any]:
    """Labels, demographics and extras of one exams.csv row, as record keyword arguments."""
    labels = tuple(
        Label(code, "CODE-15", label_name("CODE-15", code))
        for code in CODE15_LABELS
        if code in row and _flag(row[code])
    )
    age = _plain(row.get("age"))
    is_male = row.get("is_male")
    patient = _plain(row.get("patient_id"))
    has_sex = is_male is not None and not (isinstance(is_male, float) and math.isnan(is_male))
    return {
        "labels": labels,
        "age_years": float(age) if isinstance(age, int | float) and age >= 0 else None,
        "sex": ("M" if _flag(is_male) else "F") if has_sex else None,
        "patient_id": str(int(patient)) if isinstance(patient, int | float) else None,
        "metadata": {column: _plain(row[column]) for column in EXTRA_COLUMNS if column in row},
    }


def strip_padding(
    signal: np.ndarray, source: str | Path | None = None
) -> tuple[np.ndarray, int, int]:
    """Drop leading/trailing samples that are zero in every lead of ``[leads, samples]``.

    Returns the trimmed signal and the number of samples removed at the start and the end.
    An all-zero tracing raises :class:`~tools.errors.SignalValueError`.
    """
    nonzero = np.any(signal != 0, axis=0)
    if not nonzero.any():
        raise SignalValueError(source, "tracing is zero in every lead (empty exam)")
    start = int(np.argmax(nonzero))
    end = signal.shape[1] - int(np.argmax(nonzero[::-1]))
    return signal[:, start:end], start, signal.shape[1] - end


def _exam_ids(handle: h5py.File, path: Path) -> np.ndarray:
    ids = handle.get("exam_id")
    if not isinstance(ids, h5py.Dataset) or ids.ndim != 1 or ids.dtype.kind not in "iu":
        raise CorruptFileError(path, "has no 1-D integer 'exam_id' dataset")
    return np.asarray(ids[()])


def read_exam_ids(hdf5_path: str | Path) -> np.ndarray:
    """The ``exam_id`` index of one HDF5 part (row order of its tracings)."""
    path = Path(hdf5_path)
    with _open(path) as handle:
        return _exam_ids(handle, path)


def _open(path: Path) -> h5py.File:
    if not path.is_file():
        raise MissingFileError(path, "CODE-15% HDF5 part not found")
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise CorruptFileError(path, f"not a readable HDF5 file: {exc}") from exc


def read_tracing(
    hdf5_path: str | Path, exam_id: int, *, exam_ids: np.ndarray | None = None
) -> tuple[np.ndarray, int]:
    """Read one exam's raw tracing as ``[12, 4096]`` and its row in the file.

    Parameters
    ----------
    hdf5_path
        An ``exams_part{i}.hdf5`` file.
    exam_id
        The exam to read.
    exam_ids
        The file's ``exam_id`` index when already known (saves reading it).

    Raises
    ------
    CorruptFileError
        Not HDF5, no ``tracings`` ``[N, samples, 12]`` or no ``exam_id`` of length N.
    MissingFileError
        The file does not exist or does not hold ``exam_id``.
    """
    path = Path(hdf5_path)
    with _open(path) as handle:
        tracings = handle.get("tracings")
        if not isinstance(tracings, h5py.Dataset):
            raise CorruptFileError(path, "has no 'tracings' dataset; is this a CODE-15% part?")
        ids = exam_ids if exam_ids is not None else _exam_ids(handle, path)
        shape = tracings.shape
        if len(shape) != 3 or shape[2] != len(CODE15_LEADS) or shape[0] != len(ids):
            raise CorruptFileError(
                path, f"tracings have shape {shape}, expected ({len(ids)}, samples, 12)"
            )
        rows = np.flatnonzero(ids == exam_id)
        if rows.size == 0:
            raise MissingFileError(path, f"exam id {exam_id} is not in this file")
        try:
            tracing = np.asarray(tracings[int(rows[0])])
        except OSError as exc:
            raise CorruptFileError(path, f"cannot read tracing of exam {exam_id}: {exc}") from exc
    if tracing.dtype.kind not in "iuf":
        raise CorruptFileError(path, f"tracings are not numeric (dtype {tracing.dtype})")
    return tracing.T, int(rows[0])


def _record(
    path: Path, exam_id: int, tracing: np.ndarray, row: int, fields: Mapping[str, Any]
) -> ECGRecord:
    source = f"{path}#exam_id={exam_id}"
    trimmed, pad_start, pad_end = strip_padding(tracing, source)
    signal, mapping = canonical_signal(trimmed.astype(np.float64), CODE15_LEADS, path)
    metadata = {
        **fields.get("metadata", {}),
        "trace_file": path.name,
        "hdf5_row": row,
        "n_samples_stored": int(tracing.shape[1]),
        "pad_start_samples": pad_start,
        "pad_end_samples": pad_end,
    }
    return ECGRecord(
        record_id=str(exam_id),
        signal_mv=signal,
        fs_hz=CODE15_FS_HZ,
        lead_names=mapping.lead_names,
        source_path=str(path),
        dataset="code15",
        age_years=fields.get("age_years"),
        sex=fields.get("sex"),
        labels=fields.get("labels", ()),
        patient_id=fields.get("patient_id"),
        metadata=metadata,
    )


def _exam_id(value: int | str, source: Path) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise MissingFileError(source, f"exam id {value!r} is not an integer") from None


def read_code15(
    hdf5_path: str | Path, exam_id: int | str, *, exams_csv: str | Path | None = None
) -> ECGRecord:
    """Read one CODE-15% exam into a canonical record (padding stripped, 400 Hz, mV).

    Parameters
    ----------
    hdf5_path
        The ``exams_part{i}.hdf5`` holding the exam.
    exam_id
        The exam's id.
    exams_csv
        Table for labels and demographics; by default ``exams.csv`` beside the HDF5 file when
        it exists. (It is read whole: for many exams use :class:`Code15Dataset`.)

    Raises
    ------
    MissingFileError, CorruptFileError, SignalValueError
        Each naming the file.
    """
    path = Path(hdf5_path)
    exam = _exam_id(exam_id, path)
    tracing, row = read_tracing(path, exam)
    table_path = Path(exams_csv) if exams_csv is not None else path.parent / EXAMS_FILE
    fields: dict[str, Any] = {}
    if exams_csv is not None or table_path.is_file():
        table = read_exams(table_path)
        match = table[table["exam_id"] == exam]
        if not match.empty:
            fields = exam_fields(match.iloc[0].to_dict())
    return _record(path, exam, tracing, row, fields)


class Code15Dataset(Dataset):
    """A CODE-15% folder: ``exams.csv`` plus any of its ``exams_part{i}.hdf5`` files.

    Exams whose part file is absent (partial downloads are common) are left out of the
    dataset and their part names listed in :attr:`missing_trace_files`. Entries carry labels,
    demographics and extras from the table; ``metadata["trace_file"]`` names the part.

    Raises
    ------
    MissingFileError
        No ``exams.csv`` in the root.
    DatasetError
        None of the parts the table names is present.
    """

    name = "code15"

    def __init__(self, root: str | Path) -> None:
        super().__init__(root)
        table = read_exams(self.root / EXAMS_FILE)
        present = {path.name: path for path in sorted(self.root.rglob("*.hdf5"))}
        names = table["trace_file"].astype(str).str.strip()
        available = names.isin(present.keys())
        self.missing_trace_files: list[str] = sorted(set(names[~available]))
        if not available.any():
            raise DatasetError(
                self.root, f"none of the HDF5 parts named in {EXAMS_FILE} is present here"
            )
        self._table = table[available.to_numpy()].reset_index(drop=True)
        self._paths = [present[name] for name in names[available]]
        self._exam_ids: dict[Path, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self._table)

    def entries(self) -> Iterator[DatasetEntry]:
        columns = {column: self._table[column].to_numpy() for column in self._table.columns}
        for index, path in enumerate(self._paths):
            fields = exam_fields({column: values[index] for column, values in columns.items()})
            metadata = {
                **fields["metadata"],
                "age_years": fields["age_years"],
                "sex": fields["sex"],
                "trace_file": path.name,
            }
            yield DatasetEntry(
                record_id=str(int(columns["exam_id"][index])),
                path=path,
                patient_id=fields["patient_id"],
                labels=fields["labels"],
                metadata=metadata,
            )

    def load(self, entry: DatasetEntry) -> ECGRecord:
        exam = _exam_id(entry.record_id, entry.path)
        if entry.path not in self._exam_ids:
            self._exam_ids[entry.path] = read_exam_ids(entry.path)
        tracing, row = read_tracing(entry.path, exam, exam_ids=self._exam_ids[entry.path])
        extras = {key: entry.metadata[key] for key in EXTRA_COLUMNS if key in entry.metadata}
        fields = {
            "labels": entry.labels,
            "patient_id": entry.patient_id,
            "age_years": entry.metadata.get("age_years"),
            "sex": entry.metadata.get("sex"),
            "metadata": extras,
        }
        return _record(entry.path, exam, tracing, row, fields)
