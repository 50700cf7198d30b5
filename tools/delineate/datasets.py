"""Expert-annotated delineation sets (LUDB, QTDB) for training, tests and benchmarks.

Reads the databases in their PhysioNet layout with the project's readers and returns signals
with their expert wave marks (:class:`~tools.delineate.reference.Waves`). Records of LUDB are split
in two fixed halves: the scorers are fitted on one and every reported number comes from the
other.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tools.delineate.reference import Waves, parse_waves
from tools.errors import CorruptFileError
from tools.readers.annotations import Waves as ReaderWaves
from tools.readers.annotations import read_annotations, read_ludb_annotations, wave_boundaries
from tools.readers.wfdb_reader import read_wfdb

#: QTDB context kept around the annotated beats (ms): room for the first P and the last T.
QTDB_MARGIN_MS = 2000.0


@dataclass(frozen=True)
class AnnotatedRecord:
    """A record with expert wave marks: one :class:`Waves` per lead (QTDB: one, global)."""

    record_id: str
    signal_mv: np.ndarray
    fs_hz: float
    lead_names: tuple[str, ...]
    waves: tuple[Waves, ...]


def is_training_record(record_id: str | int) -> bool:
    """LUDB split: ids 1, 5, 9, ... (``(id // 2) % 2 == 0``) train; 3, 7, 11, ... are held out.

    The shared copy of LUDB holds the odd ids; this interleaved rule gives two halves of 50
    with the same mix of rhythms over the id range.
    """
    return (int(record_id) // 2) % 2 == 0


def _triples(waves: ReaderWaves, wave: str) -> np.ndarray:
    sel = waves.select(wave=wave)
    return np.stack([sel.onset, sel.peak, sel.offset], axis=1).astype(np.int64).reshape(-1, 3)


def reader_waves(waves: ReaderWaves) -> Waves:
    """Convert the annotation reader's waves (one lead or annotator) to :class:`Waves`."""
    return Waves(p=_triples(waves, "p"), qrs=_triples(waves, "N"), t=_triples(waves, "t"))


def ludb_record_ids(folder: Path) -> list[int]:
    """Record ids present in a LUDB ``data`` folder (or its parent), sorted."""
    data = folder / "data" if (folder / "data").is_dir() else folder
    return sorted(int(p.stem) for p in data.glob("*.hea") if p.stem.isdigit())


def load_ludb(folder: Path, record_id: int | str) -> AnnotatedRecord:
    """One LUDB record (12 leads, 500 Hz, 10 s) with its per-lead expert marks."""
    data = folder / "data" if (folder / "data").is_dir() else folder
    path = data / str(record_id)
    record = read_wfdb(path, dataset="ludb")
    waves = wave_boundaries(read_ludb_annotations(path))
    per_lead = tuple(reader_waves(waves.select(lead=name)) for name in record.lead_names)
    return AnnotatedRecord(
        str(record_id), record.signal_mv, record.fs_hz, record.lead_names, per_lead
    )


def qtdb_record_ids(folder: Path) -> list[str]:
    """QTDB records with manual ``.q1c`` marks, sorted."""
    return sorted(p.stem for p in folder.glob("*.q1c"))


def load_qtdb(folder: Path, record_id: str) -> AnnotatedRecord:
    """The annotated stretch of one QTDB record (2 leads, 250 Hz) with its ``.q1c`` marks.

    The signal is cut to the annotated beats plus :data:`QTDB_MARGIN_MS` each side and the
    marks are shifted accordingly. The marks are global (made viewing both leads).
    """
    path = folder / record_id
    record = read_wfdb(path, lead_policy="as-recorded", dataset="qtdb")
    ann = read_annotations(path, "q1c")
    if len(ann) == 0:
        raise CorruptFileError(f"{path}.q1c", "no annotations")
    fs = record.fs_hz
    margin = round(QTDB_MARGIN_MS * fs / 1000.0)
    start = max(int(ann.sample.min()) - margin, 0)
    stop = min(int(ann.sample.max()) + margin, record.signal_mv.shape[1])
    waves = parse_waves(ann.sample, ann.symbol.tolist())  # any beat symbol is a QRS (A, V ...)
    shifted = Waves(*(np.where(w >= 0, w - start, -1) for w in (waves.p, waves.qrs, waves.t)))
    signal = record.signal_mv[:, start:stop]
    return AnnotatedRecord(record_id, signal, fs, record.lead_names, (shifted,))
