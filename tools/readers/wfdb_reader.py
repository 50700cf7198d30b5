"""Read any WFDB record (PhysioNet's header + signal file format) into an :class:`ECGRecord`.

The header file is checked before wfdb reads the record (wfdb parses it once), and the
signal files' sizes are checked against the header's sample count afterwards (wfdb may
return short reads silently), so every way a record can be broken ends in a typed error from
:mod:`tools.errors` that names the file:

=====================================================  ===========================
problem                                                error
=====================================================  ===========================
no ``.hea`` / no signal file                           :class:`MissingFileError`
empty or unparseable header, not an ECG, unreadable    :class:`CorruptFileError`
signal file shorter than the header's sample count     :class:`HeaderMismatchError`
sampling rate <= 0, non-voltage unit, all-NaN lead     :class:`SignalValueError`
lead name not a known spelling / two channels one lead :class:`UnknownLeadError`,
                                                       :class:`DuplicateLeadError`
=====================================================  ===========================

Samples stored as WFDB's invalid value are read as NaN and kept (see ``ECGRecord.nan_counts``).

References
----------
WFDB header and signal file formats: https://physionet.org/physiotools/wag/header-5.htm,
https://physionet.org/physiotools/wag/signal-5.htm
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import wfdb

from tools.errors import (
    CorruptFileError,
    HeaderMismatchError,
    MissingFileError,
    SignalValueError,
)
from tools.leads import as_recorded_leads, map_leads
from tools.record import ECGRecord, Label, Sex
from tools.units import mv_factor

LeadPolicy = Literal["standard", "as-recorded"]

#: Bits one sample occupies in each WFDB storage format (signal-5 man page). Formats 310/311
#: pack three 10-bit samples into 4 bytes. FLAC formats (508/516/524) are compressed: their
#: size cannot be predicted, so they are not size-checked.
BITS_PER_SAMPLE: dict[str, float] = {
    "8": 8, "16": 16, "24": 24, "32": 32, "61": 16, "80": 8, "160": 16,
    "212": 12, "310": 32 / 3, "311": 32 / 3,
}  # fmt: skip

#: Oldest plausible age; header ages outside [0, this] (e.g. MIT-BIH's -1) mean "unknown".
MAX_AGE_YEARS = 120.0

_AGE_FIELD = re.compile(r"(?:^|[\s<])age>?\s*:\s*(-?\d+(?:\.\d+)?)", re.IGNORECASE)
_SEX_FIELD = re.compile(r"(?:^|[\s<])sex>?\s*:\s*(male|female|m|f)\b", re.IGNORECASE)
# MIT-BIH / QTDB first comment line: "<age> <sex> <ref> <ref> x<n>", e.g. "69 M 1085 1629 x1".
_MITDB_LINE = re.compile(r"^\s*(-?\d{1,3}|\?)\s+([MF?])(?:\s|$)")
_LUDB_DIAGNOSES = "<diagnoses>:"
#: ``write_synthetic`` states its labels as ``labels: SR, RBBB`` after this marker line.
_SYNTH_MARKER = "synthetic ecg (tools.synth)"
_SYNTH_LABELS = re.compile(r"^labels:\s*(.*)$", re.IGNORECASE)
_LUDB_RHYTHM_PREFIX = "rhythm:"


@dataclass(frozen=True)
class HeaderInfo:
    """Demographics and labels found in a WFDB header's comment lines."""

    age_years: float | None = None
    sex: Sex | None = None
    labels: tuple[Label, ...] = ()


def read_wfdb(
    path: str | Path,
    *,
    lead_policy: LeadPolicy = "standard",
    dataset: str = "wfdb",
    record_id: str | None = None,
) -> ECGRecord:
    """Read one WFDB record, in mV, with its leads in canonical order.

    Parameters
    ----------
    path
        Record path with or without the ``.hea`` (or ``.dat``) suffix: ``data/1``,
        ``data/1.hea``.
    lead_policy
        ``"standard"``: map every channel onto the canonical 12-lead names and order
        (MIMIC's aVF/aVL swap, lower-case LUDB names, ``MLII`` -> ``II``); PTB's Frank leads
        vx/vy/vz are dropped and listed in ``dropped_leads``. ``"as-recorded"``: keep the
        file's names and order (Holter leads such as ``CM5`` or two channels named ``ECG``).
    dataset
        Dataset name stored on the record.
    record_id
        Identifier; defaults to the record name (file stem).

    Returns
    -------
    ECGRecord
        float32 ``[leads, samples]`` in mV; age, sex and LUDB labels from header comments.

    Raises
    ------
    MissingFileError, CorruptFileError, HeaderMismatchError, SignalValueError, LeadError
        See the module docstring; every message names the file.
    """
    base = record_base(path)
    header = _read_record(base)
    names = [str(name) for name in header.sig_name]
    if lead_policy == "standard":
        mapping = map_leads(names, source=_header_path(base))
        channels = list(mapping.channel_index)
        lead_names, original, dropped = mapping.lead_names, mapping.original_names, mapping.dropped
    elif lead_policy == "as-recorded":
        channels = list(range(len(names)))
        lead_names, original, dropped = as_recorded_leads(names), tuple(names), ()
    else:
        raise ValueError(f"lead_policy must be 'standard' or 'as-recorded', got {lead_policy!r}")
    units = header.units or [None] * len(names)
    factors = np.array([mv_factor(units[c], _header_path(base)) for c in channels])
    signal_mv = (header.p_signal[:, channels].T * factors[:, None]).astype(np.float32)
    comments = [str(line) for line in (header.comments or [])]
    info = parse_header_comments(comments)
    return ECGRecord(
        record_id=record_id if record_id is not None else base.name,
        signal_mv=signal_mv,
        fs_hz=float(header.fs),
        lead_names=lead_names,
        source_path=str(base),
        dataset=dataset,
        lead_system=lead_policy,
        original_lead_names=original,
        dropped_leads=dropped,
        age_years=info.age_years,
        sex=info.sex,
        labels=info.labels,
        metadata=_header_metadata(header, comments),
    )


def record_base(path: str | Path) -> Path:
    """WFDB record path without a ``.hea`` or ``.dat`` suffix (``data/1.hea`` -> ``data/1``)."""
    path = Path(path)
    return path.with_suffix("") if path.suffix in (".hea", ".dat") else path


def read_header(base: Path) -> Any:
    """Parse and validate a WFDB header; returns ``wfdb.Record`` without samples.

    Raises
    ------
    MissingFileError
        No ``.hea`` file.
    CorruptFileError
        Empty file, not a WFDB header, or no signals declared.
    SignalValueError
        Sampling rate <= 0 or not finite.
    """
    hea = _check_header_file(base)
    try:
        header = wfdb.rdheader(str(base))
    except Exception as exc:  # wfdb raises bare IndexError/ValueError/HeaderSyntaxError
        raise CorruptFileError(
            hea, f"not a readable WFDB header ({type(exc).__name__}: {exc})"
        ) from exc
    _check_header_values(header, hea)
    return header


def check_signal_files(header: Any, base: Path) -> None:
    """Check that the header's signal files exist and hold its sample count.

    The expected size of each file is its byte offset plus ``sig_len`` frames of the bits of
    every channel stored in it (WFDB interleaves channels frame by frame).

    Raises
    ------
    MissingFileError
        A signal file named in the header does not exist.
    HeaderMismatchError
        A signal file is shorter than the header's sample count implies (truncated file).
    """
    for file_name in sorted(set(header.file_name)):
        data_path = base.parent / file_name
        if not data_path.is_file():
            raise MissingFileError(
                data_path, f"signal file named in {_header_path(base).name} does not exist"
            )
    if header.sig_len is None:
        return  # no sample count in the header: wfdb infers it from the file size
    frame_bits: dict[str, float] = {}
    offsets: dict[str, int] = {}
    for c, file_name in enumerate(header.file_name):
        bits = BITS_PER_SAMPLE.get(str(header.fmt[c]), math.nan)  # NaN: compressed, no check
        spf = header.samps_per_frame[c] if header.samps_per_frame else 1
        frame_bits[file_name] = frame_bits.get(file_name, 0.0) + bits * (spf or 1)
        offsets[file_name] = int((header.byte_offset or [0] * header.n_sig)[c] or 0)
    for file_name, bits in sorted(frame_bits.items()):
        if math.isnan(bits):
            continue
        expected = offsets[file_name] + math.floor(header.sig_len * bits / 8)
        size = (base.parent / file_name).stat().st_size
        if size < expected:
            raise HeaderMismatchError(
                base.parent / file_name,
                f"file has {size} bytes but the header ({header.sig_len} samples x "
                f"{header.n_sig} signals) needs {expected}: truncated file or wrong header",
            )


def _read_record(base: Path) -> Any:
    """``wfdb.Record`` with physical samples (invalid values as NaN), fully validated.

    The header is parsed once, by ``rdrecord``; when wfdb fails, :func:`read_header` and
    :func:`check_signal_files` run to say precisely what is wrong.
    """
    hea = _check_header_file(base)
    try:
        record = wfdb.rdrecord(str(base), physical=True, return_res=64)
    except FileNotFoundError as exc:
        raise MissingFileError(
            exc.filename or base, f"signal file named in {hea.name} does not exist"
        ) from exc
    except ValueError as exc:  # HeaderSyntaxError, or "Samples were not loaded correctly"
        check_signal_files(read_header(base), base)
        raise HeaderMismatchError(
            base, f"samples do not match the header ({exc}): truncated file or wrong header"
        ) from exc
    except Exception as exc:
        raise CorruptFileError(
            base, f"cannot read WFDB record ({type(exc).__name__}: {exc})"
        ) from exc
    _check_header_values(record, hea)
    check_signal_files(record, base)  # wfdb may return short reads without complaint
    samples = record.p_signal
    if samples is None or samples.ndim != 2 or samples.shape[1] != record.n_sig:
        raise CorruptFileError(base, "wfdb returned no samples for this record")
    if record.sig_len is not None and samples.shape[0] != record.sig_len:
        raise HeaderMismatchError(
            base, f"header says {record.sig_len} samples, the signal file holds {samples.shape[0]}"
        )
    return record


def _check_header_file(base: Path) -> Path:
    """The ``.hea`` path after checking it exists, is not empty, and declares fs > 0."""
    hea = _header_path(base)
    if not hea.is_file():
        raise MissingFileError(hea, "WFDB header file does not exist")
    if hea.stat().st_size == 0:
        raise CorruptFileError(hea, "WFDB header file is empty")
    declared = _declared_fs(hea)  # wfdb silently turns a negative fs into its default 250
    if declared is not None and (not math.isfinite(declared) or declared <= 0):
        raise SignalValueError(hea, f"sampling rate must be > 0 Hz, header says {declared:g}")
    return hea


def _check_header_values(header: Any, hea: Path) -> None:
    if not header.n_sig or not header.sig_name:
        raise CorruptFileError(hea, "header declares no signals (not an ECG record)")
    fs_hz = float(header.fs) if header.fs is not None else math.nan
    if not math.isfinite(fs_hz) or fs_hz <= 0:
        raise SignalValueError(hea, f"sampling rate must be > 0 Hz, header says {fs_hz:g}")


def _declared_fs(hea: Path) -> float | None:
    """The sampling rate written on the header's record line (``name nsig fs[/cf] ...``)."""
    with hea.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            tokens = line.split()
            if not tokens or tokens[0].startswith("#"):
                continue
            if len(tokens) < 3:
                return None
            try:
                return float(tokens[2].split("/")[0])
            except ValueError:
                return None
    return None


def parse_header_comments(comments: Sequence[str]) -> HeaderInfo:
    """Age, sex and diagnoses from WFDB header comments, in the conventions PhysioNet uses.

    Recognised: LUDB (``<age>: 51``, ``<sex>: F``, the lines after ``<diagnoses>:`` become
    LUDB labels), PTB (``age: 81``, ``sex: female``), European ST-T (``Age: 61  Sex: M``) and
    MIT-BIH/QTDB (first line ``69 M 1085 1629 x1``), and the ``labels:`` line of records written
    by :func:`tools.synth.write_synthetic` (vocabulary ``synthetic``). Unknown ages (``-1``,
    ``?``) give ``None``.
    """
    age: float | None = None
    sex: Sex | None = None
    labels: list[Label] = []
    in_diagnoses = False
    synthetic = False
    for line in comments:
        text = line.strip()
        if text.lower().startswith(_SYNTH_MARKER):
            synthetic = True
            continue
        if synthetic and (match := _SYNTH_LABELS.match(text)):
            codes = (code.strip() for code in match.group(1).split(","))
            labels.extend(Label(code, "synthetic") for code in codes if code)
            continue
        if in_diagnoses:
            label = ludb_label(text)
            if label is not None:
                labels.append(label)
            continue
        if text.lower().startswith(_LUDB_DIAGNOSES):
            in_diagnoses = True
            continue
        if age is None and (match := _AGE_FIELD.search(text)):
            age = parse_age(match.group(1))
        if sex is None and (match := _SEX_FIELD.search(text)):
            sex = parse_sex(match.group(1))
        if (match := _MITDB_LINE.match(text)) and age is None and sex is None:
            age, sex = parse_age(match.group(1)), parse_sex(match.group(2))
    return HeaderInfo(age_years=age, sex=sex, labels=tuple(labels))


def ludb_label(statement: str) -> Label | None:
    """One LUDB diagnosis statement as a label, header or ``ludb.csv`` spelling alike.

    The header writes ``Rhythm: Sinus bradycardia.`` and ``STEMI: septal.``; ``ludb.csv``
    writes ``Sinus bradycardia`` and ``Stemi: septal``. Both give the code
    ``"sinus bradycardia"`` / ``"stemi: septal"`` (lower case, no rhythm prefix, no final
    period); ``name`` keeps the statement as written. Empty text gives ``None``.
    """
    text = statement.strip().rstrip(".").strip()
    if text.lower().startswith(_LUDB_RHYTHM_PREFIX):
        text = text[len(_LUDB_RHYTHM_PREFIX) :].strip()
    if not text:
        return None
    return Label(code=text.lower(), vocabulary="LUDB", name=text)


def parse_age(value: object) -> float | None:
    """Age in years from a header/table value; ``None`` when missing or implausible."""
    try:
        age = float(str(value).strip())
    except ValueError:
        return None
    return age if 0 <= age <= MAX_AGE_YEARS else None


def parse_sex(value: object) -> Sex | None:
    """``"M"``/``"F"`` from ``M``, ``male``, ``F``, ``female`` (any case); else ``None``."""
    text = str(value).strip().lower()
    if text in ("m", "male"):
        return "M"
    if text in ("f", "female"):
        return "F"
    return None


def _header_path(base: Path) -> Path:
    return base.with_name(base.name + ".hea")


def _header_metadata(header: Any, comments: list[str]) -> dict[str, Any]:
    """Header facts worth keeping that the record type has no field for."""
    metadata: dict[str, Any] = {"header_comments": comments}
    if header.base_date is not None:
        metadata["base_date"] = str(header.base_date)
    if header.base_time is not None:
        metadata["base_time"] = str(header.base_time)
    return metadata
