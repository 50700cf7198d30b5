"""Readers: every dataset GEM names, read into one :class:`~tools.record.ECGRecord`.

Two entry points:

- :func:`open_record` reads one file (format inferred from its suffix and siblings), or one
  record of a dataset by id.
- :func:`open_dataset` opens a dataset folder by name; it is lazy, has a length, and yields
  records one at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tools.errors import DatasetError, MissingFileError
from tools.readers.base import Dataset, DatasetEntry
from tools.record import ECGRecord

#: Holter/arrhythmia databases whose leads are not the standard 12: kept as recorded.
AMBULATORY_DATASETS = ("qtdb", "mitdb", "svdb", "cpsc2021", "ltst", "edb")


def _dataset_factories() -> dict[str, Callable[..., Dataset]]:
    from tools.readers.cinc import CincDataset
    from tools.readers.code15 import Code15Dataset
    from tools.readers.cpsc2018 import Cpsc2018Dataset
    from tools.readers.mimic import MimicDataset
    from tools.readers.ptbxl import PtbxlDataset
    from tools.readers.wfdb_dir import LudbDataset, WfdbDirDataset

    factories: dict[str, Callable[..., Dataset]] = {
        "ptbxl": PtbxlDataset,
        "mimic": MimicDataset,
        "cinc": CincDataset,
        "cpsc2018": Cpsc2018Dataset,
        "code15": Code15Dataset,
        "ludb": LudbDataset,
        "wfdb-dir": WfdbDirDataset,
        "dir": WfdbDirDataset,
    }
    for name in AMBULATORY_DATASETS:
        factories[name] = lambda root, _n=name, **kw: WfdbDirDataset(
            root, lead_policy="as-recorded", name=_n, **kw
        )
    return factories


def dataset_names() -> list[str]:
    """Names :func:`open_dataset` accepts."""
    return sorted(_dataset_factories())


def open_dataset(name: str, root: str | Path, **options: Any) -> Dataset:
    """Open a dataset folder by name.

    Parameters
    ----------
    name
        One of :func:`dataset_names`: ``ptbxl``, ``mimic``, ``cinc``, ``cpsc2018``, ``code15``,
        ``ludb``, ``wfdb-dir`` (any folder of WFDB records), or a Holter database name
        (``qtdb``, ``mitdb``, ``svdb``, ``cpsc2021``) read with its leads as recorded.
    root
        The dataset's folder, in the dataset's own layout.
    options
        Reader options, e.g. ``fs_hz=100`` for PTB-XL.
    """
    factories = _dataset_factories()
    if name not in factories:
        raise DatasetError(root, f"unknown dataset {name!r}; choose one of {dataset_names()}")
    return factories[name](root, **options)


def open_record(
    source: str | Path,
    *,
    dataset: str | None = None,
    root: str | Path | None = None,
    **options: Any,
) -> ECGRecord:
    """Read one record.

    Parameters
    ----------
    source
        A file path (``.hea`` with ``.dat`` or ``.mat``, a CPSC 2018 ``.mat``, ``.npy``,
        ``.npz``, ``.csv``; a WFDB path may omit the extension), or a record id when
        ``dataset`` and ``root`` are given.
    dataset, root
        Read record ``source`` (an id) from this dataset folder.
    options
        Passed to the reader: ``lead_policy`` for WFDB, ``fs_hz``/``lead_names`` for arrays.

    Raises
    ------
    tools.errors.RecordError
        Any subclass, naming the file and the problem.
    """
    if dataset is not None and root is not None:
        return open_dataset(dataset, root, **options).get(str(source))
    path = Path(source)
    reader = _reader_for(path, dataset)
    return reader(path, **options)


def _reader_for(path: Path, dataset: str | None) -> Callable[..., ECGRecord]:
    from tools.readers.arrays import read_array
    from tools.readers.cinc import read_cinc
    from tools.readers.cpsc2018 import read_cpsc2018
    from tools.readers.wfdb_reader import read_wfdb

    suffix = path.suffix.lower()
    if suffix in {".npy", ".npz", ".csv"}:
        return read_array
    stem = path.with_suffix("") if suffix in {".hea", ".mat", ".dat"} else path
    has_header = stem.with_suffix(".hea").exists()
    if suffix == ".mat" and not has_header:
        return read_cpsc2018
    if has_header and stem.with_suffix(".mat").exists():
        return read_cinc
    if has_header:
        if dataset in AMBULATORY_DATASETS:
            return lambda p, **kw: read_wfdb(p, lead_policy="as-recorded", **kw)
        return read_wfdb
    raise MissingFileError(
        path,
        "no such record: expected a WFDB header (.hea), a CPSC 2018 .mat, or .npy/.npz/.csv",
    )


__all__ = [
    "AMBULATORY_DATASETS",
    "Dataset",
    "DatasetEntry",
    "dataset_names",
    "open_dataset",
    "open_record",
]
