"""PhysioNet/CinC Challenge 2020/2021 records: a WFDB-style ``.hea`` beside a MATLAB ``.mat``.

Each record is ``<id>.hea`` (a WFDB header whose signal lines name ``<id>.mat``, with gain,
baseline and unit per lead) and ``<id>.mat`` holding one integer array ``val``
``[leads, samples]``. The header's comment lines carry the labels and demographics::

    # Age: 78            (may be NaN or Unknown)
    # Sex: Male          (Male / Female / Unknown)
    # Dx: 67741000119109,426177001   (SNOMED CT codes)
    # Rx: Unknown
    # Hx: Unknown

The header is parsed here (strictly: every inconsistency is a typed error) and ``val`` is read
with :func:`scipy.io.loadmat`; physical values are ``(val - baseline) / gain`` in the header's
unit, converted to mV (WFDB signal specification, Moody, PhysioNet).

References
----------
Perez Alday EA et al. "Classification of 12-lead ECGs: the PhysioNet/Computing in Cardiology
Challenge 2020." Physiol Meas 2020;41:124003.
Reyna MA et al. "Will two do? Varying dimensions in electrocardiography: the PhysioNet/Computing
in Cardiology Challenge 2021." Computing in Cardiology 2021;48.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.io

from tools.errors import CorruptFileError, DatasetError, HeaderMismatchError, MissingFileError
from tools.readers.arrays import canonical_signal
from tools.readers.base import Dataset, DatasetEntry
from tools.record import ECGRecord, Label, Sex
from tools.units import mv_factor
from tools.vocabulary import label_name

#: WFDB's gain when a header gives none or 0 (ADC units per physical unit; WFDB spec).
WFDB_DEFAULT_GAIN = 200.0
#: WFDB format-16 value that marks a missing sample (-2**15; read as NaN, as wfdb does).
WFDB_FMT16_INVALID = -32768
#: ``gain(baseline)/unit`` field of a WFDB signal line, e.g. ``1000.0(0)/mV``.
GAIN_FIELD = re.compile(
    r"^(?P<gain>[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)(\((?P<baseline>[-+]?\d+)\))?"
    r"(/(?P<unit>\S+))?$"
)
#: Record-name prefixes of the challenge's source databases (Reyna et al. 2021, Table 1).
CINC_SOURCES: dict[str, str] = {
    "A": "CPSC 2018",
    "Q": "CPSC 2018 extra",
    "I": "St Petersburg INCART",
    "S": "PTB",
    "HR": "PTB-XL",
    "E": "Georgia 12-lead ECG Challenge (G12EC)",
    "JS": "Chapman-Shaoxing and Ningbo",
}
#: Header comment values that mean "not recorded".
UNKNOWN_VALUES = frozenset({"", "unknown", "nan", "none", "n/a", "na"})


@dataclass(frozen=True)
class CincHeader:
    """What a challenge ``.hea`` says, validated (one entry per signal line)."""

    path: Path
    record_name: str
    fs_hz: float
    n_samples: int | None
    signal_file: str
    lead_names: tuple[str, ...]
    gains: tuple[float, ...]
    baselines: tuple[int, ...]
    units: tuple[str, ...]
    comments: dict[str, str] = field(default_factory=dict)


def parse_sex(text: str | None) -> Sex | None:
    """``"Male"``/``"M"`` -> ``"M"``, ``"Female"``/``"F"`` -> ``"F"``, anything else ``None``."""
    key = (text or "").strip().lower()
    if key in {"male", "m"}:
        return "M"
    if key in {"female", "f"}:
        return "F"
    return None


def parse_age(value: Any) -> float | None:
    """Age in years from a header string or number; ``NaN``, ``Unknown`` or < 0 -> ``None``."""
    try:
        age = float(str(value).strip())
    except ValueError:
        return None
    return age if math.isfinite(age) and age >= 0 else None


def cinc_paths(path: str | Path) -> tuple[Path, str]:
    """Header path and record id for a record given as ``.hea``, ``.mat`` or the bare stem."""
    path = Path(path)
    stem = path.with_suffix("") if path.suffix.lower() in {".hea", ".mat"} else path
    return stem.parent / f"{stem.name}.hea", stem.name


def read_cinc_header(path: str | Path) -> CincHeader:
    """Parse and validate a challenge header (no samples are read).

    Raises
    ------
    MissingFileError
        The ``.hea`` does not exist (a ``.mat`` alone has no gain, leads or labels).
    CorruptFileError
        The header is not a valid WFDB header for one ``.mat`` signal file.
    """
    header_path, _ = cinc_paths(path)
    if not header_path.is_file():
        raise MissingFileError(
            header_path,
            "challenge header (.hea) not found; a .mat needs its .hea beside it for gains, "
            "lead names and labels",
        )
    try:
        text = header_path.read_text(encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise CorruptFileError(header_path, "header is not a text file") from None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    body = [line for line in lines if not line.startswith("#")]
    if not body:
        raise CorruptFileError(header_path, "header is empty (no record line)")
    name, n_sig, fs_hz, n_samples = _record_line(header_path, body[0])
    signal_lines = body[1:]
    if len(signal_lines) != n_sig:
        raise CorruptFileError(
            header_path, f"record line declares {n_sig} signals but {len(signal_lines)} follow"
        )
    signals = [_signal_line(header_path, i + 1, line) for i, line in enumerate(signal_lines)]
    files = {signal[0] for signal in signals}
    if len(files) != 1:
        raise CorruptFileError(header_path, f"signals span several files {sorted(files)}")
    return CincHeader(
        path=header_path,
        record_name=name,
        fs_hz=fs_hz,
        n_samples=n_samples,
        signal_file=signals[0][0],
        lead_names=tuple(signal[1] for signal in signals),
        gains=tuple(signal[2] for signal in signals),
        baselines=tuple(signal[3] for signal in signals),
        units=tuple(signal[4] for signal in signals),
        comments=_comments(lines),
    )


def _record_line(path: Path, line: str) -> tuple[str, int, float, int | None]:
    """``name n_sig fs[/counter] [n_samples ...]`` -> its values."""
    fields = line.split()
    if len(fields) < 3:
        raise CorruptFileError(path, f"record line {line!r} lacks the signal count and rate")
    try:
        n_sig = int(fields[1])
        fs_hz = float(fields[2].split("/")[0].split("(")[0])
        n_samples = int(fields[3]) if len(fields) > 3 else None
    except ValueError:
        raise CorruptFileError(path, f"record line {line!r} is not 'name n_sig fs n'") from None
    if n_sig <= 0 or not math.isfinite(fs_hz) or fs_hz <= 0:
        raise CorruptFileError(path, f"record line {line!r} needs n_sig > 0 and fs > 0")
    return fields[0], n_sig, fs_hz, n_samples


def _signal_line(path: Path, number: int, line: str) -> tuple[str, str, float, int, str]:
    """``file fmt gain(baseline)/unit res zero init checksum block desc`` -> its values."""
    fields = line.split()
    if len(fields) < 9:
        raise CorruptFileError(
            path, f"signal line {number} {line!r} has no lead name (needs 9 fields)"
        )
    match = GAIN_FIELD.match(fields[2])
    try:
        adc_zero = int(fields[4])
    except ValueError:
        match = None
    if match is None:
        raise CorruptFileError(path, f"signal line {number} has a malformed gain/zero: {line!r}")
    gain = float(match["gain"]) or WFDB_DEFAULT_GAIN
    baseline = int(match["baseline"]) if match["baseline"] is not None else adc_zero
    unit = match["unit"] or "mV"
    return fields[0], " ".join(fields[8:]), gain, baseline, unit


def _comments(lines: list[str]) -> dict[str, str]:
    """``# Key: value`` comment lines -> ``{"key": "value"}`` (lower-case keys)."""
    comments: dict[str, str] = {}
    for line in lines:
        if line.startswith("#") and ":" in line:
            key, value = line.lstrip("#").split(":", 1)
            comments[key.strip().lower()] = value.strip()
    return comments


def _read_val(header: CincHeader) -> tuple[Path, np.ndarray]:
    """Load the ``val`` array the header points to and check it against the header."""
    mat_path = header.path.parent / header.signal_file
    if not mat_path.is_file():
        raise MissingFileError(mat_path, f"signal file named by {header.path.name} not found")
    try:
        contents = scipy.io.loadmat(mat_path)
    except Exception as exc:  # scipy raises many types for non-MAT bytes; all mean corrupt
        raise CorruptFileError(mat_path, f"not a readable MATLAB file: {exc}") from exc
    val = contents.get("val")
    if not isinstance(val, np.ndarray) or val.ndim != 2 or val.dtype.kind not in "iuf":
        raise CorruptFileError(mat_path, "has no numeric 2-D 'val' array (leads x samples)")
    n_leads, n_samples = len(header.lead_names), header.n_samples
    if val.shape[0] != n_leads or (n_samples is not None and val.shape[1] != n_samples):
        raise HeaderMismatchError(
            mat_path,
            f"'val' has shape {val.shape} but {header.path.name} declares {n_leads} leads x "
            f"{n_samples} samples",
        )
    return mat_path, val


def _to_mv(header: CincHeader, val: np.ndarray) -> np.ndarray:
    """``(val - baseline) / gain`` per lead, in mV; format-16 invalid samples -> NaN."""
    gains = np.asarray(header.gains, dtype=np.float64)[:, np.newaxis]
    baselines = np.asarray(header.baselines, dtype=np.float64)[:, np.newaxis]
    factors = np.array([mv_factor(u, header.path) for u in header.units])[:, np.newaxis]
    signal = (val.astype(np.float64) - baselines) / gains * factors
    if val.dtype.kind == "i":
        signal[val == WFDB_FMT16_INVALID] = np.nan
    return signal


def cinc_labels(dx: str | None) -> tuple[Label, ...]:
    """SNOMED CT labels from a ``# Dx:`` value (comma-separated codes, order kept, no repeats)."""
    codes = [code.strip() for code in (dx or "").split(",")]
    unique = dict.fromkeys(code for code in codes if code.lower() not in UNKNOWN_VALUES)
    return tuple(Label(code, "SNOMED-CT", label_name("SNOMED-CT", code)) for code in unique)


def _source_database(record_id: str) -> str | None:
    prefix = re.match(r"[A-Za-z]+", record_id)
    return CINC_SOURCES.get(prefix.group(0).upper()) if prefix else None


def read_cinc(path: str | Path) -> ECGRecord:
    """Read one PhysioNet/CinC Challenge 2020/2021 record into a canonical record.

    Parameters
    ----------
    path
        The record's ``.hea``, its ``.mat``, or the path without extension.

    Returns
    -------
    ECGRecord
        Leads in canonical order, mV, SNOMED CT labels named from
        :mod:`tools.vocabulary` (``name=None`` for codes outside the table), age and sex,
        and the other header comments (``rx``, ``hx``, ``sx``) in ``metadata``.

    Raises
    ------
    MissingFileError, CorruptFileError, HeaderMismatchError, LeadError
        Each naming the file.
    """
    header = read_cinc_header(path)
    _, record_id = cinc_paths(path)
    mat_path, val = _read_val(header)
    signal, mapping = canonical_signal(_to_mv(header, val), header.lead_names, header.path)
    comments = header.comments
    metadata: dict[str, Any] = {
        key: value for key, value in comments.items() if key not in {"age", "sex", "dx"}
    }
    metadata["header_path"] = str(header.path)
    source = _source_database(record_id)
    if source is not None:
        metadata["source_database"] = source
    return ECGRecord(
        record_id=record_id,
        signal_mv=signal,
        fs_hz=header.fs_hz,
        lead_names=mapping.lead_names,
        source_path=str(mat_path),
        dataset="cinc",
        original_lead_names=mapping.original_names,
        dropped_leads=mapping.dropped,
        age_years=parse_age(comments.get("age")),
        sex=parse_sex(comments.get("sex")),
        labels=cinc_labels(comments.get("dx")),
        metadata=metadata,
    )


class CincDataset(Dataset):
    """A folder (searched recursively) of challenge ``.hea`` + ``.mat`` records.

    Entries are the ``*.hea`` files in sorted path order; listing reads no signal and no
    header, so ``len`` is instant. Labels come with :meth:`load` (or :func:`read_cinc_header`).

    Raises
    ------
    DatasetError
        The folder holds no ``.hea`` file, or two headers share a record id.
    """

    name = "cinc"

    def __init__(self, root: str | Path) -> None:
        super().__init__(root)
        self._headers = sorted(self.root.rglob("*.hea"))
        if not self._headers:
            raise DatasetError(self.root, "no challenge headers (*.hea) found under this folder")
        seen: dict[str, Path] = {}
        for header in self._headers:
            if header.stem in seen:
                raise DatasetError(
                    self.root,
                    f"record id {header.stem!r} appears twice: {seen[header.stem]} and {header}",
                )
            seen[header.stem] = header

    def __len__(self) -> int:
        return len(self._headers)

    def entries(self) -> Iterator[DatasetEntry]:
        for header in self._headers:
            yield DatasetEntry(record_id=header.stem, path=header.with_suffix(""))

    def load(self, entry: DatasetEntry) -> ECGRecord:
        return read_cinc(entry.path)
