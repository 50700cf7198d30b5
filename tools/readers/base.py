"""The dataset protocol every reader implements: lazy entries, one record loaded at a time."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.errors import DatasetError, MissingFileError
from tools.record import ECGRecord, Label


@dataclass(frozen=True)
class DatasetEntry:
    """One record of a dataset, known from its metadata without reading samples.

    Attributes
    ----------
    record_id
        Identifier unique within the dataset.
    path
        File the samples live in (WFDB records: the path without extension).
    patient_id
        Patient identifier when the dataset has one.
    labels
        Labels from the dataset's tables (may be empty until the record is read).
    metadata
        Dataset-specific columns (folds, machine measurements, HDF5 row index).
    """

    record_id: str
    path: Path
    patient_id: str | None = None
    labels: tuple[Label, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)


class Dataset(ABC):
    """A dataset folder read lazily: ``len(ds)``, ``ds.entries()``, ``ds.load(entry)``.

    Iterating a dataset yields :class:`~tools.record.ECGRecord` objects one at a time; a
    record that cannot be read raises its :class:`~tools.errors.RecordError` from ``load``
    so a batch can record the failure and go on (use :meth:`entries` + :meth:`load`).
    """

    #: Registry name (``"ptbxl"``, ``"mimic"``); set by subclasses.
    name: str = ""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        if not self.root.exists():
            raise MissingFileError(self.root, f"{self.name} dataset folder does not exist")
        if not self.root.is_dir():
            raise DatasetError(self.root, f"{self.name} dataset root must be a folder")

    @abstractmethod
    def __len__(self) -> int:
        """Number of records (from the metadata table or the file listing)."""

    @abstractmethod
    def entries(self) -> Iterator[DatasetEntry]:
        """Every record's entry, in a stable order, without reading samples."""

    @abstractmethod
    def load(self, entry: DatasetEntry) -> ECGRecord:
        """Read one record's samples and metadata; raises a ``RecordError`` subclass."""

    def __iter__(self) -> Iterator[ECGRecord]:
        for entry in self.entries():
            yield self.load(entry)

    def get(self, record_id: str) -> ECGRecord:
        """Load the record with this id."""
        for entry in self.entries():
            if entry.record_id == str(record_id):
                return self.load(entry)
        raise MissingFileError(self.root, f"{self.name} has no record with id {record_id!r}")
