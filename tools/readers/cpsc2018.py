"""China Physiological Signal Challenge 2018 records in their original ``.mat`` layout.

Each record ``A0001.mat`` holds one MATLAB struct ``ECG`` with fields ``sex`` (``'Male'`` /
``'Female'``), ``age`` (years) and ``data`` (``12 x N`` doubles in mV, 500 Hz, leads I, II,
III, aVR, aVL, aVF, V1-V6). Labels live in the training set's ``REFERENCE.csv``
(``Recording,First_label,Second_label,Third_label``; class numbers 1-9, see
:data:`tools.vocabulary.CPSC2018_CLASSES`).

The unit was checked on real files: lead amplitudes sit around 0.1-2 mV (99th percentile of
|x| 0.1-3.9 across leads of the five shared records), i.e. the values are already millivolts.

References
----------
Liu F et al. "An open access database for evaluating the algorithms of electrocardiogram rhythm
and morphology abnormality detection." J Med Imaging Health Inform 2018;8(7):1368-1373.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import scipy.io

from tools.errors import CorruptFileError, DatasetError, MissingFileError
from tools.leads import STANDARD_LEADS
from tools.readers.arrays import canonical_signal
from tools.readers.base import Dataset, DatasetEntry
from tools.readers.cinc import parse_age, parse_sex
from tools.record import ECGRecord, Label
from tools.vocabulary import CPSC2018_CLASSES, label_name

#: Sampling rate of every CPSC 2018 record (Liu et al. 2018).
CPSC2018_FS_HZ = 500.0
#: Row order of ``ECG.data`` (Liu et al. 2018): the standard order.
CPSC2018_LEADS: tuple[str, ...] = STANDARD_LEADS
#: Name of the label table shipped with each training set.
REFERENCE_FILE = "REFERENCE.csv"

#: Record id -> class numbers (as strings, in the table's order).
ReferenceTable = dict[str, tuple[str, ...]]


def read_reference(path: str | Path) -> ReferenceTable:
    """Parse a CPSC 2018 ``REFERENCE.csv`` into record id -> class numbers.

    Raises
    ------
    MissingFileError
        The file does not exist.
    CorruptFileError
        A row names no record or holds a class that is not 1-9.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(path, "CPSC 2018 label table not found")
    try:
        rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    except UnicodeDecodeError:
        raise CorruptFileError(path, "label table is not a text CSV file") from None
    table: ReferenceTable = {}
    for number, row in enumerate(rows, start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells) or (number == 1 and cells[0].lower() == "recording"):
            continue
        record_id, codes = cells[0], tuple(cell for cell in cells[1:] if cell)
        bad = [code for code in codes if code not in CPSC2018_CLASSES]
        if not record_id or bad:
            raise CorruptFileError(
                path, f"line {number} {row!r}: need a record id and classes 1-9, got {bad}"
            )
        table[record_id] = tuple(dict.fromkeys(codes))
    return table


def cpsc2018_labels(codes: tuple[str, ...]) -> tuple[Label, ...]:
    """CPSC 2018 class numbers -> labels (vocabulary ``"CPSC2018"``, named)."""
    return tuple(Label(code, "CPSC2018", label_name("CPSC2018", code)) for code in codes)


def _mat_path(path: str | Path) -> Path:
    path = Path(path)
    return path if path.suffix.lower() == ".mat" else path.parent / f"{path.name}.mat"


def _field(struct: np.ndarray, name: str) -> np.ndarray | None:
    """One field of a loaded MATLAB struct, squeezed; ``None`` when absent or empty."""
    if struct.dtype.names is None or name not in struct.dtype.names:
        return None
    value = np.asarray(struct[name].flat[0]) if struct.size else np.asarray([])
    return value.squeeze() if value.size else None


def _load_struct(path: Path) -> np.ndarray:
    """The ``ECG`` struct of a CPSC 2018 file."""
    if not path.is_file():
        raise MissingFileError(path, "CPSC 2018 .mat file not found")
    try:
        contents = scipy.io.loadmat(path)
    except Exception as exc:  # scipy raises many types for non-MAT bytes; all mean corrupt
        raise CorruptFileError(path, f"not a readable MATLAB file: {exc}") from exc
    struct = contents.get("ECG")
    if not isinstance(struct, np.ndarray) or struct.dtype.names is None:
        keys = sorted(key for key in contents if not key.startswith("__"))
        raise CorruptFileError(
            path, f"no 'ECG' struct (variables: {keys}); is this a CPSC 2018 record?"
        )
    return struct


def _record_from_struct(path: Path, struct: np.ndarray, codes: tuple[str, ...]) -> ECGRecord:
    data = _field(struct, "data")
    if data is None or data.ndim != 2 or data.dtype.kind not in "iuf":
        raise CorruptFileError(path, "ECG.data is missing or not a numeric 2-D array")
    if data.shape[0] != len(CPSC2018_LEADS):
        raise CorruptFileError(
            path, f"ECG.data has shape {data.shape}, expected {len(CPSC2018_LEADS)} x samples"
        )
    signal, mapping = canonical_signal(data.astype(np.float64), CPSC2018_LEADS, path)
    sex = _field(struct, "sex")
    age = _field(struct, "age")
    return ECGRecord(
        record_id=path.stem,
        signal_mv=signal,
        fs_hz=CPSC2018_FS_HZ,
        lead_names=mapping.lead_names,
        source_path=str(path),
        dataset="cpsc2018",
        age_years=parse_age(age.item()) if age is not None and age.size == 1 else None,
        sex=parse_sex(str(sex.item())) if sex is not None and sex.size == 1 else None,
        labels=cpsc2018_labels(codes),
    )


def read_cpsc2018(path: str | Path, *, reference: str | Path | None = None) -> ECGRecord:
    """Read one CPSC 2018 ``.mat`` record into a canonical record.

    Parameters
    ----------
    path
        The ``.mat`` file (or its path without extension).
    reference
        A ``REFERENCE.csv`` to take labels from; by default the one beside the file, when
        present. A record absent from the table gets no labels.

    Raises
    ------
    MissingFileError, CorruptFileError
        Each naming the file (e.g. a ``.mat`` without the ``ECG`` struct).
    """
    mat_path = _mat_path(path)
    struct = _load_struct(mat_path)
    table_path = Path(reference) if reference is not None else mat_path.parent / REFERENCE_FILE
    table = read_reference(table_path) if reference is not None or table_path.is_file() else {}
    return _record_from_struct(mat_path, struct, table.get(mat_path.stem, ()))


class Cpsc2018Dataset(Dataset):
    """A CPSC 2018 folder: ``*.mat`` records (searched recursively) and any ``REFERENCE.csv``.

    ``.mat`` files with a ``.hea`` beside them are challenge records (use ``"cinc"``) and are
    skipped. Labels from every ``REFERENCE.csv`` under the root are merged and attached to
    the entries; a record labelled differently by two tables is a :class:`DatasetError`.
    """

    name = "cpsc2018"

    def __init__(self, root: str | Path) -> None:
        super().__init__(root)
        mats = sorted(self.root.rglob("*.mat"))
        self._files = [path for path in mats if not path.with_suffix(".hea").exists()]
        if not self._files:
            raise DatasetError(self.root, "no CPSC 2018 .mat records (without .hea) found")
        self._reference = self._merged_reference()

    def _merged_reference(self) -> ReferenceTable:
        merged: ReferenceTable = {}
        origin: dict[str, Path] = {}
        for table_path in sorted(self.root.rglob(REFERENCE_FILE)):
            for record_id, codes in read_reference(table_path).items():
                if record_id in merged and merged[record_id] != codes:
                    raise DatasetError(
                        self.root,
                        f"record {record_id} is labelled {merged[record_id]} in "
                        f"{origin[record_id]} but {codes} in {table_path}",
                    )
                merged[record_id], origin[record_id] = codes, table_path
        return merged

    @property
    def reference(self) -> Mapping[str, tuple[str, ...]]:
        """Merged label table: record id -> class numbers."""
        return self._reference

    def __len__(self) -> int:
        return len(self._files)

    def entries(self) -> Iterator[DatasetEntry]:
        for path in self._files:
            codes = self._reference.get(path.stem, ())
            metadata: dict[str, Any] = {"labelled": path.stem in self._reference}
            yield DatasetEntry(path.stem, path, labels=cpsc2018_labels(codes), metadata=metadata)

    def load(self, entry: DatasetEntry) -> ECGRecord:
        struct = _load_struct(entry.path)
        return _record_from_struct(entry.path, struct, self._reference.get(entry.record_id, ()))
