"""Where a batch's records come from: a dataset folder, a list file, or records in memory.

Sources are streamed: :meth:`Source.items` yields one :class:`~agent.batch.model.BatchItem`
at a time from the dataset's metadata (or the list file), never reading samples; workers load
each record with a :class:`RecordLoader` built from the picklable :class:`SourceSpec`.

=================  ==========================================================================
``--dataset``      SOURCE
=================  ==========================================================================
``ptbxl``          PTB-XL folder (``ptbxl_database.csv``); keys are ``ecg_id``
``mimic``          MIMIC-IV-ECG folder (``record_list.csv``)
``cinc``           PhysioNet/CinC Challenge folder (``.mat`` + ``.hea``)
``cpsc2018``       CPSC 2018 folder of ``.mat``
``code15``         CODE-15% folder (``exams.csv`` + HDF5)
``ludb``           LUDB folder; keys are the record numbers
``wfdb-dir``       any folder of WFDB records; keys are paths relative to it (``data/1``)
``list``           a text file of record paths, one per line (relative to the file's
                   folder; ``#`` comments); keys are the paths as written
``auto``           a file: ``list``; a folder: by its marker file (``ptbxl_database.csv``,
                   ``ludb.csv``, ``record_list.csv``, ``exams.csv``), ``cinc`` when its
                   headers sit beside ``.mat`` files, else ``wfdb-dir``
=================  ==========================================================================
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sized
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.batch.model import BatchError, BatchItem

if TYPE_CHECKING:
    from tools.readers.base import Dataset
    from tools.record import ECGRecord

AUTO = "auto"
LIST = "list"
MEMORY = "memory"
#: Marker files of dataset layouts, checked in this order by ``--dataset auto``.
DATASET_MARKERS: tuple[tuple[str, str], ...] = (
    ("ptbxl_database.csv", "ptbxl"),
    ("ludb.csv", "ludb"),
    ("record_list.csv", "mimic"),
    ("exams.csv", "code15"),
)
#: Folder entries ``auto`` looks at for a header beside a ``.mat`` file (CinC layout).
AUTO_SCAN_ENTRIES = 200


@dataclass(frozen=True)
class SourceSpec:
    """How a worker loads items: picklable, so it can travel to worker processes.

    Attributes
    ----------
    kind
        A dataset name of :func:`tools.readers.open_dataset`, ``"list"`` or ``"memory"``.
    root
        The dataset folder or list file (``None`` for in-memory records).
    options
        Reader options (``{"fs_hz": 100}`` for PTB-XL's 100 Hz records).
    """

    kind: str
    root: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        """JSON-native description for ``summary.json``."""
        return {"kind": self.kind, "root": self.root, "options": self.options}


class RecordLoader:
    """Reads the record of an item (in a worker): the dataset is opened once, on first use."""

    def __init__(self, spec: SourceSpec) -> None:
        self.spec = spec
        self._dataset: Dataset | None = None

    def load(self, item: BatchItem) -> ECGRecord:
        """The item's record; raises the reader's ``RecordError`` when it cannot be read."""
        from tools.readers import open_dataset, open_record

        if item.record is not None:
            return item.record
        if item.entry is not None:
            if self._dataset is None:
                self._dataset = open_dataset(
                    self.spec.kind, str(self.spec.root), **self.spec.options
                )
            return self._dataset.load(item.entry)
        if item.path is not None:
            return open_record(item.path, **self.spec.options)
        raise BatchError(item.key, "batch item has no entry, path or record")


@dataclass
class Source:
    """Items of a batch, streamed: ``ids`` keeps only those keys, ``limit`` the first K.

    ``limit`` counts after the ``ids`` filter, in the source's stable order, so a rerun with
    the same limit selects the same records (and a larger limit extends the batch).
    """

    spec: SourceSpec
    ids: frozenset[str] | None = None
    limit: int | None = None
    _keys: Callable[[], Iterator[BatchItem]] | None = field(default=None, repr=False)
    _size: int | None = None

    def items(self) -> Iterator[BatchItem]:
        """Every selected item, in the source's order (each key once)."""
        raw = self._keys() if self._keys is not None else self._raw_items()
        selected = (it for it in _unique(raw) if self.ids is None or it.key in self.ids)
        yield from selected if self.limit is None else islice(selected, max(self.limit, 0))

    @property
    def reiterable(self) -> bool:
        """False for a one-shot iterable of records (it can be read only once)."""
        return self.spec.kind != MEMORY or self._size is not None

    def count(self) -> int | None:
        """How many items :meth:`items` yields (``None`` for a one-shot iterable)."""
        if not self.reiterable:
            return None
        if self.ids is None and self._size is not None:
            return self._size if self.limit is None else min(self._size, max(self.limit, 0))
        return sum(1 for _ in self.items())

    def _raw_items(self) -> Iterator[BatchItem]:
        if self.spec.kind == LIST:
            return _list_items(Path(str(self.spec.root)))
        from tools.readers import open_dataset

        ds = open_dataset(self.spec.kind, str(self.spec.root), **self.spec.options)
        return (BatchItem(key=e.record_id, entry=e) for e in ds.entries())

    def describe(self) -> dict[str, Any]:
        """JSON-native description for ``summary.json``."""
        ids = None if self.ids is None else len(self.ids)
        return {**self.spec.describe(), "ids": ids, "limit": self.limit}


def _unique(items: Iterable[BatchItem]) -> Iterator[BatchItem]:
    seen: set[str] = set()
    for item in items:
        if item.key not in seen:
            seen.add(item.key)
            yield item


def _list_items(path: Path) -> Iterator[BatchItem]:
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise BatchError(path, f"cannot read the list of records ({exc.strerror})") from None
    with handle:
        for line in handle:
            name = line.strip()
            if name and not name.startswith("#"):
                full = Path(name) if Path(name).is_absolute() else path.parent / name
                yield BatchItem(key=name, path=str(full))


def read_ids(path: str | Path) -> frozenset[str]:
    """Record ids from a text file, one per line (blank lines and ``#`` comments skipped)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise BatchError(path, f"cannot read the ids file ({exc.strerror})") from None
    ids = (line.strip() for line in text.splitlines())
    return frozenset(i for i in ids if i and not i.startswith("#"))


def infer_dataset(path: Path) -> str:
    """The ``--dataset`` that ``auto`` picks for ``path`` (see the module table)."""
    if path.is_file():
        return LIST
    if not path.is_dir():
        raise BatchError(path, "no such file or folder")
    for marker, name in DATASET_MARKERS:
        if (path / marker).is_file():
            return name
    with os.scandir(path) as entries:
        for entry in islice(entries, AUTO_SCAN_ENTRIES):
            if entry.name.endswith(".hea") and (path / (entry.name[:-4] + ".mat")).is_file():
                return "cinc"
    return "wfdb-dir"


def open_source(
    source: str | Path | Iterable[Any],
    *,
    dataset: str = AUTO,
    ids: Iterable[str] | None = None,
    limit: int | None = None,
    options: dict[str, Any] | None = None,
) -> Source:
    """The batch source for a folder, a list file, or an iterable of records or paths.

    Parameters
    ----------
    source
        A dataset folder or list file (read as ``dataset``), or an iterable of
        :class:`~tools.record.ECGRecord` objects and/or record paths (keys: record ids and
        paths as given).
    dataset
        A dataset name of :func:`tools.readers.open_dataset`, ``"list"`` or ``"auto"``.
    ids
        Keep only these record ids.
    limit
        Keep only the first ``limit`` records (after ``ids``).
    options
        Reader options.

    Raises
    ------
    BatchError
        Unknown dataset name, or a missing source.
    tools.errors.DatasetError
        The folder is not a readable dataset of that kind.
    """
    from tools.readers import dataset_names

    selected = None if ids is None else frozenset(str(i) for i in ids)
    options = dict(options or {})
    if not isinstance(source, str | Path):
        return _iterable_source(source, selected, limit, options)
    path = Path(source)
    kind = infer_dataset(path) if dataset == AUTO else dataset
    if kind != LIST and kind not in dataset_names():
        choices = ", ".join([*dataset_names(), LIST, AUTO])
        raise BatchError(path, f"unknown dataset {kind!r}; choose one of {choices}")
    if kind == LIST and not path.is_file():
        raise BatchError(path, "a list source must be a text file of record paths")
    spec = SourceSpec(kind=kind, root=str(path.resolve()), options=options)
    size = None
    if kind != LIST:
        from tools.readers import open_dataset

        size = len(open_dataset(kind, path, **options))
    return Source(spec=spec, ids=selected, limit=limit, _size=size)


def _iterable_source(
    values: Iterable[Any], ids: frozenset[str] | None, limit: int | None, options: dict[str, Any]
) -> Source:
    from tools.record import ECGRecord

    def items() -> Iterator[BatchItem]:
        for value in values:
            if isinstance(value, ECGRecord):
                yield BatchItem(key=value.record_id, record=value)
            elif isinstance(value, str | os.PathLike):
                yield BatchItem(key=str(value), path=str(value))
            else:
                raise BatchError(
                    None,
                    f"cannot interpret a {type(value).__name__}: give "
                    "ECGRecord objects or record paths",
                )

    size = len(values) if isinstance(values, Sized) else None
    return Source(
        spec=SourceSpec(kind=MEMORY, options=options), ids=ids, limit=limit, _keys=items, _size=size
    )
