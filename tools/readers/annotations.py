"""WFDB annotation files: beat labels, wave boundaries, rhythm changes, as typed numpy arrays.

Any annotator is read (``atr``, ``q1c``, ``q2c``, ``pu0``, ``pu1``, ``pu``, ``man``, LUDB's
per-lead ``i`` ... ``v6``). Waveform boundaries follow the WFDB convention used by LUDB,
QTDB and ecgpuwave: ``(`` marks a wave onset, a peak symbol (``p`` P wave, ``N`` QRS complex,
``t`` T wave) marks the wave, ``)`` marks its offset; either parenthesis may be missing.

References
----------
WFDB annotation codes: https://physionet.org/physiotools/wag/annot-5.htm;
Kalyakulina et al., "LUDB: a new open-access validation tool for electrocardiogram
delineation algorithms", IEEE Access 8 (2020); Laguna et al., "A database for evaluation of
algorithms for measurement of QT and other waveform intervals in the ECG", Computers in
Cardiology 24 (1997).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import wfdb

from tools.errors import CorruptFileError, MissingFileError, UnknownLeadError
from tools.leads import STANDARD_LEADS, canonical_lead
from tools.readers.wfdb_reader import record_base

#: WFDB beat annotation codes (annot-5): normal, bundle branch block, atrial/nodal/
#: supraventricular premature, ventricular, fusion, escape, paced, unclassifiable beats.
BEAT_SYMBOLS: tuple[str, ...] = (
    "N", "L", "R", "B", "A", "a", "J", "S", "V", "r", "F", "e", "j", "n", "E", "/", "f", "Q", "?",
)  # fmt: skip

#: Peak symbols of delineation annotators and the wave each names.
WAVE_PEAKS: tuple[str, ...] = ("p", "N", "t")
WAVE_ONSET = "("
WAVE_OFFSET = ")"

#: LUDB annotation extensions, one per lead, in canonical lead order.
LUDB_EXTENSIONS: tuple[str, ...] = (
    "i", "ii", "iii", "avr", "avl", "avf", "v1", "v2", "v3", "v4", "v5", "v6",
)  # fmt: skip


@dataclass(frozen=True, eq=False)
class Annotations:
    """Annotations of one record: file order (by sample), files concatenated lead by lead.

    Attributes
    ----------
    sample
        int64 sample index of each annotation.
    symbol
        str annotation code (``N``, ``(``, ``p`` ...).
    lead
        str canonical lead the annotation belongs to, ``""`` when not lead-specific.
    chan
        int64 WFDB ``chan`` field (signal number for multi-channel annotators like ``pu``).
    aux_note
        str auxiliary text (rhythm changes such as ``(AFIB``), ``""`` when none.
    extension
        Annotator name(s) the annotations came from (``"atr"``, ``"i+ii+...+v6"``).
    fs_hz
        Sampling rate the sample indices refer to, when known.
    """

    sample: np.ndarray
    symbol: np.ndarray
    lead: np.ndarray
    chan: np.ndarray
    aux_note: np.ndarray
    extension: str
    fs_hz: float | None

    def __len__(self) -> int:
        return int(self.sample.shape[0])

    def select(
        self, *, lead: str | None = None, symbols: Iterable[str] | None = None
    ) -> Annotations:
        """Subset by lead (any spelling, or ``""`` for non-lead-specific) and/or symbols."""
        keep = np.ones(len(self), dtype=bool)
        if lead is not None:
            keep &= self.lead == _lead_name(lead, None)
        if symbols is not None:
            keep &= np.isin(self.symbol, np.array(list(symbols), dtype=str))
        return _take(self, keep)


@dataclass(frozen=True, eq=False)
class Waves:
    """Delineated waves: one row per P wave, QRS complex or T wave.

    Attributes
    ----------
    lead
        str lead of each wave (``""`` when the annotator is not lead-specific).
    chan
        int64 WFDB channel of each wave.
    wave
        ``"p"``, ``"N"`` (QRS) or ``"t"``.
    onset, peak, offset
        int64 sample indices; ``-1`` where the boundary is not marked.
    """

    lead: np.ndarray
    chan: np.ndarray
    wave: np.ndarray
    onset: np.ndarray
    peak: np.ndarray
    offset: np.ndarray

    def __len__(self) -> int:
        return int(self.peak.shape[0])

    def select(self, *, lead: str | None = None, wave: str | None = None) -> Waves:
        """Subset by lead (any spelling) and/or wave type."""
        keep = np.ones(len(self), dtype=bool)
        if lead is not None:
            keep &= self.lead == _lead_name(lead, None)
        if wave is not None:
            keep &= self.wave == wave
        return Waves(*(getattr(self, f)[keep] for f in _WAVE_FIELDS))


_WAVE_FIELDS = ("lead", "chan", "wave", "onset", "peak", "offset")


def read_annotations(
    record_path: str | Path, extension: str, *, lead: str | None = None
) -> Annotations:
    """Read one WFDB annotation file.

    Parameters
    ----------
    record_path
        Record path without extension (``.hea`` is stripped if given).
    extension
        Annotator: ``"atr"``, ``"q1c"``, ``"pu0"``, ``"ii"`` ...
    lead
        Lead every annotation belongs to (any spelling, mapped to its canonical name; a
        Holter name such as ``"CM5"`` is kept as written). ``None``: not lead-specific.

    Raises
    ------
    MissingFileError
        The annotation file does not exist.
    CorruptFileError
        The file is not a readable WFDB annotation file.
    """
    base = record_base(record_path)
    ann_path = base.with_name(f"{base.name}.{extension}")
    if not ann_path.is_file():
        raise MissingFileError(ann_path, f"annotation file ({extension!r} annotator) not found")
    if ann_path.stat().st_size == 0:
        raise CorruptFileError(ann_path, "annotation file is empty (no end-of-file marker)")
    try:
        ann = wfdb.rdann(str(base), extension)
    except Exception as exc:  # wfdb raises bare IndexError/ValueError on corrupt files
        raise CorruptFileError(
            ann_path, f"not a readable WFDB annotation file ({type(exc).__name__}: {exc})"
        ) from exc
    _check_parsed(ann, ann_path)
    n = len(ann.sample)
    fs_hz = float(ann.fs) if ann.fs else None  # wfdb falls back on the header's fs
    return Annotations(
        sample=np.asarray(ann.sample, dtype=np.int64),
        symbol=_str_array(ann.symbol or [], n),
        lead=np.full(n, _lead_name(lead, ann_path), dtype=object).astype(str),
        chan=np.asarray(ann.chan if ann.chan is not None else np.zeros(n), dtype=np.int64),
        aux_note=_str_array([a.rstrip("\x00") for a in (ann.aux_note or [])], n),
        extension=extension,
        fs_hz=fs_hz,
    )


def read_ludb_annotations(record_path: str | Path) -> Annotations:
    """Merge LUDB's twelve per-lead annotation files (``N.i`` ... ``N.v6``) into one set.

    Each annotation's ``lead`` is the canonical name of the file's lead.

    Raises
    ------
    MissingFileError
        One of the twelve files is absent.
    """
    parts = [
        read_annotations(record_path, ext, lead=lead)
        for ext, lead in zip(LUDB_EXTENSIONS, STANDARD_LEADS, strict=True)
    ]
    fs = next((p.fs_hz for p in parts if p.fs_hz is not None), None)
    return Annotations(
        sample=np.concatenate([p.sample for p in parts]),
        symbol=np.concatenate([p.symbol for p in parts]),
        lead=np.concatenate([p.lead for p in parts]),
        chan=np.concatenate([p.chan for p in parts]),
        aux_note=np.concatenate([p.aux_note for p in parts]),
        extension="+".join(LUDB_EXTENSIONS),
        fs_hz=fs,
    )


def beat_samples(ann: Annotations) -> np.ndarray:
    """Sorted int64 sample indices of beat annotations (:data:`BEAT_SYMBOLS`).

    Non-beat codes (rhythm changes ``+``, noise ``~``, comments, wave boundaries) are left out.
    """
    return np.sort(ann.sample[np.isin(ann.symbol, np.array(BEAT_SYMBOLS))])


def wave_boundaries(ann: Annotations) -> Waves:
    """Pair each wave peak with its ``(`` onset and ``)`` offset, per lead and channel.

    A boundary counts only when it is the neighbour of the peak in the same lead and
    channel (after dropping other symbols), so a missing parenthesis gives ``-1`` and never
    borrows the next wave's boundary. Consecutive peaks of one type enclosed by a single
    ``(`` ... ``)`` (ecgpuwave marks a biphasic T wave with two ``t``) form one wave whose
    peak is the first mark. Linear in the number of annotations (vectorised).
    """
    keep = np.isin(ann.symbol, np.array([*WAVE_PEAKS, WAVE_ONSET, WAVE_OFFSET]))
    lead, chan = ann.lead[keep], ann.chan[keep]
    _, lead_code = np.unique(lead, return_inverse=True)
    group = lead_code.astype(np.int64) * (int(chan.max(initial=0)) + 1) + chan
    order = np.lexsort((ann.sample[keep], group))
    sym, smp, grp = ann.symbol[keep][order], ann.sample[keep][order], group[order]
    lead, chan = lead[order], chan[order]
    n = sym.shape[0]
    is_peak = np.isin(sym, np.array(WAVE_PEAKS))
    same_as_prev = np.zeros(n, dtype=bool)
    same_as_prev[1:] = is_peak[1:] & is_peak[:-1] & (sym[1:] == sym[:-1]) & (grp[1:] == grp[:-1])
    same_as_next = np.zeros(n, dtype=bool)
    same_as_next[:-1] = same_as_prev[1:]
    starts = np.flatnonzero(is_peak & ~same_as_prev)
    ends = np.flatnonzero(is_peak & ~same_as_next)
    onset = _neighbour(sym, smp, grp, starts, starts - 1, WAVE_ONSET)
    offset = _neighbour(sym, smp, grp, ends, ends + 1, WAVE_OFFSET)
    # Runs of several peaks: one wave when enclosed, otherwise one wave per peak.
    run_of = np.cumsum(is_peak & ~same_as_prev) - 1
    peaks = np.flatnonzero(is_peak)
    run = run_of[peaks]
    collapse = (ends > starts) & (onset >= 0) & (offset >= 0)
    first = peaks == starts[run]
    last = peaks == ends[run]
    emit = first | ~collapse[run]
    peaks, run, first, last = peaks[emit], run[emit], first[emit], last[emit]
    return Waves(
        lead=lead[peaks],
        chan=chan[peaks],
        wave=sym[peaks],
        onset=np.where(first, onset[run], -1).astype(np.int64),
        peak=smp[peaks].astype(np.int64),
        offset=np.where(last | collapse[run], offset[run], -1).astype(np.int64),
    )


def _neighbour(
    sym: np.ndarray,
    smp: np.ndarray,
    grp: np.ndarray,
    at: np.ndarray,
    nb: np.ndarray,
    symbol: str,
) -> np.ndarray:
    """Sample of neighbour ``nb`` of position ``at`` when it is ``symbol`` in the same group."""
    if sym.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    valid = (nb >= 0) & (nb < sym.shape[0])
    safe = np.clip(nb, 0, sym.shape[0] - 1)
    ok = valid & (sym[safe] == symbol) & (grp[safe] == grp[at])
    return np.where(ok, smp[safe], -1).astype(np.int64)


def _check_parsed(ann: Any, ann_path: Path) -> None:
    """Reject what wfdb parses from garbage: codes it does not know, samples out of order.

    WFDB annotation files are in canonical (time) order and every code has a mnemonic, so
    either failure means the file is not an annotation file (wfdb itself does not complain).
    """
    symbols = list(ann.symbol or [])
    if any(not isinstance(s, str) for s in symbols):
        raise CorruptFileError(ann_path, "file holds annotation codes WFDB does not define")
    if np.any(np.diff(np.asarray(ann.sample, dtype=np.int64)) < 0):
        raise CorruptFileError(ann_path, "annotation times are not in order: corrupt file")


def _take(ann: Annotations, keep: np.ndarray) -> Annotations:
    return Annotations(
        sample=ann.sample[keep],
        symbol=ann.symbol[keep],
        lead=ann.lead[keep],
        chan=ann.chan[keep],
        aux_note=ann.aux_note[keep],
        extension=ann.extension,
        fs_hz=ann.fs_hz,
    )


def _lead_name(lead: str | None, source: Path | None) -> str:
    """Canonical name of ``lead``; Holter names kept as written; ``None`` -> ``""``."""
    if lead is None or lead == "":
        return ""
    try:
        return canonical_lead(lead, source)
    except UnknownLeadError:
        return lead.strip()


def _str_array(values: list[str], n: int) -> np.ndarray:
    """A numpy str array of length ``n`` (WFDB leaves optional fields empty)."""
    if len(values) != n:
        values = [""] * n
    return np.array(values, dtype=str) if n else np.zeros(0, dtype=str)
