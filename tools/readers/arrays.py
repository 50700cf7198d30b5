"""NumPy (``.npy``/``.npz``) and CSV recordings, and in-memory arrays, as ECG records.

Nothing is guessed: the sampling rate must be given (or stored in the ``.npz``), lead names
must be given or come from the CSV header / ``.npz``, and the array's orientation must agree
with the number of lead names. Leads are mapped onto the canonical order with
:func:`tools.leads.map_leads`, so MIMIC's aVF-before-aVL order is reordered, not mislabelled.

File layouts
------------
``.npy``
    One 2-D numeric array, ``[leads, samples]`` or ``[samples, leads]``.
``.npz``
    Key ``signal`` (or the only array besides the optional ones), optional ``fs_hz`` (scalar)
    and ``lead_names`` (strings). A stored value that disagrees with an argument is an error.
``.csv``
    A header row of lead names, one column per lead, an optional leading ``time``/``t``
    column (dropped), then numeric rows. Empty cells are missing samples (NaN).
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from tools.errors import (
    CorruptFileError,
    LeadError,
    MissingFileError,
    SignalValueError,
    UnknownLeadError,
)
from tools.leads import LeadMapping, canonical_lead, map_leads
from tools.record import ECGRecord
from tools.units import mv_factor

Layout = Literal["leads-first", "samples-first", "auto"]

#: First bytes of every ``.npy`` file (NumPy format specification, NEP 1).
NPY_MAGIC = b"\x93NUMPY"
#: First bytes of a zip archive (``.npz``): a local file header or an empty archive.
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
#: ``.npz`` keys that describe the signal rather than hold it.
NPZ_META_KEYS = ("fs_hz", "lead_names")
#: A CSV header cell naming a time axis: ``t``, ``time``, ``time_s``, ``Time (ms)``.
TIME_COLUMN = re.compile(r"^(t|time)(\s*[_(\[].*)?$", re.IGNORECASE)
#: Largest finite float32: records store float32, so larger samples would become infinite.
FLOAT32_MAX = float(np.finfo(np.float32).max)
#: Column delimiters recognised in CSV exports (comma first: it wins a tie).
CSV_DELIMITERS = (",", ";", "\t")


def canonical_signal(
    signal: np.ndarray, lead_names: Sequence[str], source: str | Path | None = None
) -> tuple[np.ndarray, LeadMapping]:
    """Reorder ``[leads, samples]`` rows from file order into the canonical lead order.

    Returns the reordered rows (Frank leads dropped) and the
    :class:`~tools.leads.LeadMapping` used; raises the mapping's
    :class:`~tools.errors.UnknownLeadError` or :class:`~tools.errors.DuplicateLeadError`, and
    :class:`~tools.errors.SignalValueError` for infinite samples or samples too large for the
    record's float32 (NaN is allowed: it marks missing samples).
    """
    mapping = map_leads(list(lead_names), source)
    out_of_range = (np.abs(signal) > FLOAT32_MAX).any(axis=1)
    if out_of_range.any():
        bad = ", ".join(str(lead_names[int(i)]) for i in np.flatnonzero(out_of_range))
        raise SignalValueError(
            source, f"lead(s) {bad} contain infinite or out-of-range (> 3.4e38) values"
        )
    return signal[list(mapping.channel_index)], mapping


def orient(
    signal: np.ndarray, n_leads: int, layout: Layout, source: str | Path | None = None
) -> np.ndarray:
    """Return ``signal`` as ``[leads, samples]`` given the number of leads it must hold.

    With ``layout="auto"`` the axis whose length equals ``n_leads`` is the lead axis; a square
    array (both axes match) is ambiguous and refused.
    """
    if signal.ndim == 1 and n_leads == 1:
        signal = signal[np.newaxis, :]
    if signal.ndim != 2:
        raise SignalValueError(
            source, f"signal must be 2-D (leads x samples), got shape {signal.shape}"
        )
    rows, cols = signal.shape
    if layout == "auto":
        if rows == n_leads and cols == n_leads:
            raise SignalValueError(
                source,
                f"shape {signal.shape} is ambiguous for {n_leads} leads: pass "
                "layout='leads-first' or 'samples-first'",
            )
        if rows == n_leads:
            layout = "leads-first"
        elif cols == n_leads:
            layout = "samples-first"
        else:
            raise SignalValueError(
                source, f"shape {signal.shape} has no axis of length {n_leads} (one per lead name)"
            )
    lead_axis_length = rows if layout == "leads-first" else cols
    if lead_axis_length != n_leads:
        raise SignalValueError(
            source,
            f"layout {layout!r} of shape {signal.shape} gives {lead_axis_length} leads but "
            f"{n_leads} lead names were given",
        )
    return signal if layout == "leads-first" else signal.T


def record_from_array(
    signal: np.ndarray,
    fs_hz: float,
    lead_names: Sequence[str],
    record_id: str = "array",
    *,
    layout: Layout = "auto",
    unit: str = "mV",
    source_path: str | Path | None = None,
    dataset: str = "array",
    metadata: dict[str, Any] | None = None,
) -> ECGRecord:
    """Build a canonical :class:`~tools.record.ECGRecord` from an in-memory array.

    Parameters
    ----------
    signal
        Real numeric samples, ``[leads, samples]`` or ``[samples, leads]`` (see ``layout``).
    fs_hz
        Sampling rate in Hz (> 0).
    lead_names
        One name per lead in array order, any spelling (``"AVF"``, ``"v1"``); MIMIC order is
        reordered to the canonical I, II, III, aVR, aVL, aVF, V1-V6.
    record_id
        Identifier stored on the record.
    layout
        Orientation of ``signal``; ``"auto"`` uses the axis matching ``len(lead_names)``.
    unit
        Unit of the samples (``"mV"``, ``"uV"``, ``"V"``); converted to mV.
    source_path, dataset, metadata
        Stored on the record; ``source_path`` also names the source in error messages.

    Raises
    ------
    SignalValueError
        fs <= 0, non-numeric or infinite samples, a shape that disagrees with the lead names,
        or an all-NaN lead.
    LeadError
        An unknown or duplicated lead name.
    """
    source = source_path if source_path is not None else record_id
    fs_hz = float(fs_hz)
    if not math.isfinite(fs_hz) or fs_hz <= 0:
        raise SignalValueError(source, f"sampling rate must be > 0 Hz, got {fs_hz}")
    array = np.asarray(signal)
    if array.dtype.kind not in "iuf":
        raise SignalValueError(source, f"samples must be real numbers, got dtype {array.dtype}")
    names = [str(name) for name in lead_names]
    if not names:
        raise LeadError(source, "no lead names given")
    leads_first = orient(array, len(names), layout, source)
    values = leads_first.astype(np.float64) * mv_factor(unit, source)
    ordered, mapping = canonical_signal(values, names, source)
    if not mapping.lead_names:
        raise LeadError(source, f"none of the leads {names} is one of the 12 standard leads")
    return ECGRecord(
        record_id=str(record_id),
        signal_mv=ordered,
        fs_hz=fs_hz,
        lead_names=mapping.lead_names,
        source_path=str(source_path) if source_path is not None else None,
        dataset=dataset,
        original_lead_names=mapping.original_names,
        dropped_leads=mapping.dropped,
        metadata=dict(metadata or {}),
    )


def read_array(
    path: str | Path,
    *,
    fs_hz: float | None = None,
    lead_names: Sequence[str] | None = None,
    record_id: str | None = None,
    layout: Layout = "auto",
    unit: str = "mV",
) -> ECGRecord:
    """Read a ``.npy``, ``.npz`` or ``.csv`` recording into a canonical record.

    Parameters
    ----------
    path
        The file; its suffix picks the format.
    fs_hz
        Sampling rate in Hz. Required unless an ``.npz`` stores ``fs_hz``; when both are
        given they must agree.
    lead_names
        Lead names in file order. Required for ``.npy``; for ``.csv``/``.npz`` they may come
        from the header / stored ``lead_names`` and must agree when both are given.
    record_id
        Defaults to the file stem.
    layout
        Orientation of ``.npy``/``.npz`` arrays (CSV columns are always leads).
    unit
        Unit of the stored samples.

    Raises
    ------
    MissingFileError, CorruptFileError, SignalValueError, LeadError
        Each naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(path, "file does not exist")
    if path.stat().st_size == 0:
        raise CorruptFileError(path, "file is empty")
    suffix = path.suffix.lower()
    time_column: str | None = None
    if suffix == ".npy":
        signal, stored_fs, stored_names = _load_npy(path), None, None
    elif suffix == ".npz":
        signal, stored_fs, stored_names = _load_npz(path)
    elif suffix == ".csv":
        if layout == "leads-first":
            raise SignalValueError(
                path, "CSV columns are leads: layout='leads-first' contradicts it"
            )
        signal, stored_names, time_column = _load_csv(path)
        stored_fs, layout = None, "samples-first"
    else:
        raise CorruptFileError(path, f"unsupported suffix {suffix!r}: expected .npy, .npz or .csv")
    fs = _agree_fs(path, fs_hz, stored_fs)
    names = _agree_names(path, lead_names, stored_names)
    metadata: dict[str, Any] = {"file_format": suffix[1:], "unit": unit}
    if time_column is not None:
        metadata["time_column"] = time_column
    return record_from_array(
        signal,
        fs,
        names,
        record_id if record_id is not None else path.stem,
        layout=layout,
        unit=unit,
        source_path=path,
        metadata=metadata,
    )


def _agree_fs(path: Path, given: float | None, stored: float | None) -> float:
    """The one sampling rate: given and stored must match when both exist."""
    if given is None:
        if stored is None:
            raise SignalValueError(path, "sampling rate unknown: pass fs_hz (it is never guessed)")
        return stored
    if stored is not None and not math.isclose(given, stored):
        raise SignalValueError(path, f"fs_hz={given} disagrees with the stored fs_hz={stored}")
    return float(given)


def _agree_names(
    path: Path, given: Sequence[str] | None, stored: Sequence[str] | None
) -> list[str]:
    """The one list of lead names: given and stored must name the same leads in order."""
    if given is None:
        if stored is None:
            raise LeadError(path, "lead names unknown: pass lead_names (they are never guessed)")
        return [str(name) for name in stored]
    if stored is not None and not _same_leads(path, given, stored):
        raise LeadError(
            path, f"lead_names {list(given)} disagree with the file's lead names {list(stored)}"
        )
    return [str(name) for name in given]


def _same_leads(path: Path, first: Sequence[str], second: Sequence[str]) -> bool:
    """True when two name lists spell the same leads in the same order."""
    if len(first) != len(second):
        return False
    try:
        return [canonical_lead(a, path) for a in first] == [canonical_lead(b, path) for b in second]
    except UnknownLeadError:
        return [a.strip() for a in first] == [b.strip() for b in second]


def _load_npy(path: Path) -> np.ndarray:
    """Read a ``.npy`` array without unpickling anything."""
    with path.open("rb") as handle:
        if handle.read(len(NPY_MAGIC)) != NPY_MAGIC:
            raise CorruptFileError(path, "not a NumPy .npy file (bad magic bytes)")
    try:
        return np.asarray(np.load(path, allow_pickle=False))
    except Exception as exc:  # numpy's header parser raises many types on bad bytes
        raise CorruptFileError(path, f"unreadable .npy array: {exc}") from exc


def _load_npz(path: Path) -> tuple[np.ndarray, float | None, list[str] | None]:
    """Read the signal and the optional ``fs_hz``/``lead_names`` from an ``.npz``."""
    with path.open("rb") as handle:
        if handle.read(4) not in ZIP_MAGICS:
            raise CorruptFileError(path, "not a NumPy .npz file (not a zip archive)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: np.asarray(archive[key]) for key in archive.files}
    except Exception as exc:  # zipfile, zlib and numpy's header parser raise many types
        raise CorruptFileError(path, f"unreadable .npz archive: {exc}") from exc
    signal_keys = [key for key in arrays if key not in NPZ_META_KEYS]
    if "signal" in arrays:
        signal = arrays["signal"]
    elif len(signal_keys) == 1:
        signal = arrays[signal_keys[0]]
    else:
        raise CorruptFileError(
            path, f"no 'signal' array and not exactly one array to use (keys: {sorted(arrays)})"
        )
    stored_fs: float | None = None
    if "fs_hz" in arrays:
        fs_array = arrays["fs_hz"]
        if fs_array.size != 1 or fs_array.dtype.kind not in "iuf":
            raise CorruptFileError(path, f"stored fs_hz must be one number, got {fs_array!r}")
        stored_fs = float(fs_array.reshape(()))
    stored_names: list[str] | None = None
    if "lead_names" in arrays:
        names_array = arrays["lead_names"]
        if names_array.dtype.kind not in "US" or names_array.ndim != 1:
            raise CorruptFileError(path, "stored lead_names must be a 1-D array of strings")
        stored_names = [str(name) for name in names_array.astype(str)]
    return signal, stored_fs, stored_names


def _load_csv(path: Path) -> tuple[np.ndarray, list[str] | None, str | None]:
    """Parse a CSV into ``[samples, columns]`` floats, the header names and the time column."""
    numbered = _csv_rows(path)
    header: list[str] | None = [cell.strip() for cell in numbered[0][1]]
    if all(_is_number(cell) for cell in numbered[0][1]):
        header = None
    else:
        numbered = numbered[1:]
    if not numbered:
        raise CorruptFileError(path, "CSV has a header but no samples")
    width = len(numbered[0][1]) if header is None else len(header)
    for line, row in numbered:
        if len(row) != width:
            raise CorruptFileError(
                path, f"ragged CSV: line {line} has {len(row)} fields, expected {width}"
            )
    values = _csv_floats(path, numbered)
    time_column = None
    if header is not None and TIME_COLUMN.match(header[0]):
        time_column, header, values = header[0], header[1:], values[:, 1:]
    if values.shape[1] == 0:
        raise CorruptFileError(path, "CSV has no lead columns")
    return values, header, time_column


def _csv_rows(path: Path) -> list[tuple[int, list[str]]]:
    """Non-blank CSV rows with their 1-based line numbers, split on the header's delimiter."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorruptFileError(
            path, f"not a text CSV file ({exc.reason} at byte {exc.start})"
        ) from None
    lines = [(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not lines:
        raise CorruptFileError(path, "file is empty (no CSV rows)")
    delimiter = max(CSV_DELIMITERS, key=lines[0][1].count)
    return [(number, next(csv.reader([line], delimiter=delimiter))) for number, line in lines]


def _csv_floats(path: Path, numbered: list[tuple[int, list[str]]]) -> np.ndarray:
    """Convert string cells to float64; empty cells become NaN; name the first bad cell."""
    cells = np.char.strip(np.asarray([row for _, row in numbered], dtype=str))
    cells = np.where(cells == "", "nan", cells)
    try:
        return cells.astype(np.float64)
    except ValueError:
        bad_row, bad_col = next(
            (r, c) for r, c in np.ndindex(cells.shape) if not _is_number(str(cells[r, c]))
        )
        raise CorruptFileError(
            path,
            f"non-numeric value {str(cells[bad_row, bad_col])!r} at line "
            f"{numbered[bad_row][0]}, column {bad_col + 1}",
        ) from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
