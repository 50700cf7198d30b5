"""The case table: SQLite ``cases.sqlite``, the source of truth of a case base.

Tables
------
``cases``
    ``row`` (the vector's position in ``index.faiss``, 0-based, assigned in insertion order),
    ``case_id``, ``dataset``, ``patient_id``, ``labels`` (JSON list of ``{code, vocabulary,
    name}``), ``report``, ``measurements`` (JSON object of key measurements), ``embedding``
    (float32 little-endian BLOB). ``(dataset, case_id)`` is unique.
``failures``
    Records that could not be read, measured or embedded: ``dataset``, ``case_id``,
    ``error_type``, ``message``.
``settings``
    Key/value: ``embedding_version``, ``embedding_dim``, ``measurement_version``.

Each batch is written in one transaction, so an interrupted build leaves whole batches.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from tools.cases.model import CaseBaseError, CaseLabel

DB_NAME = "cases.sqlite"
#: Vectors read per query when streaming the table into an index (32 MB at 484 dims).
READ_CHUNK_ROWS = 16_384
#: SQLite's default limit of host parameters per statement is 32766 (>= 3.32); stay well below.
MAX_SQL_PARAMS = 900

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cases (
    row INTEGER PRIMARY KEY,
    case_id TEXT NOT NULL,
    dataset TEXT NOT NULL,
    patient_id TEXT,
    labels TEXT NOT NULL,
    report TEXT,
    measurements TEXT NOT NULL,
    embedding BLOB NOT NULL,
    UNIQUE (dataset, case_id)
);
CREATE INDEX IF NOT EXISTS cases_patient ON cases (patient_id);
CREATE TABLE IF NOT EXISTS failures (
    dataset TEXT NOT NULL,
    case_id TEXT NOT NULL,
    error_type TEXT NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (dataset, case_id)
);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class CaseRow:
    """One case ready to store (JSON-native fields, float32 embedding)."""

    case_id: str
    dataset: str
    patient_id: str | None
    labels: tuple[CaseLabel, ...]
    report: str | None
    measurements: dict[str, float | None]
    embedding: np.ndarray


@dataclass(frozen=True)
class FailureRow:
    """A record the build skipped, with the error that stopped it."""

    case_id: str
    dataset: str
    error_type: str
    message: str


@dataclass(frozen=True)
class StoredCase:
    """A case read back from the table (without its embedding)."""

    row: int
    case_id: str
    dataset: str
    patient_id: str | None
    labels: list[CaseLabel]
    report: str | None
    measurements: dict[str, float | None]


class CaseStore:
    """The SQLite table of one case-base folder.

    Parameters
    ----------
    folder
        The case-base folder (``cases.sqlite`` lives inside).
    create
        Create the folder and the tables when missing; otherwise a missing table is an error.
    """

    def __init__(self, folder: str | Path, *, create: bool = False) -> None:
        self.folder = Path(folder)
        self.path = self.folder / DB_NAME
        if not self.path.is_file():
            if not create:
                raise CaseBaseError(self.folder, f"not a case base: {DB_NAME} is missing")
            self.folder.mkdir(parents=True, exist_ok=True)
        try:
            # Callers serialise access (CaseBase holds a lock), so any thread may use it.
            self._db = sqlite3.connect(self.path, check_same_thread=False)
            if create:
                self._db.executescript(_SCHEMA)
            self._db.execute("SELECT count(*) FROM cases").fetchone()
        except sqlite3.DatabaseError as exc:
            raise CaseBaseError(self.path, f"cannot read the case table ({exc})") from exc

    # ---- lifecycle -------------------------------------------------------------------------
    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def __enter__(self) -> CaseStore:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ---- settings --------------------------------------------------------------------------
    def settings(self) -> dict[str, str]:
        """The ``settings`` table as a dict."""
        return dict(self._db.execute("SELECT key, value FROM settings").fetchall())

    def write_settings(self, values: dict[str, str | int]) -> None:
        """Insert or replace settings (one transaction)."""
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)",
                [(k, str(v)) for k, v in values.items()],
            )

    # ---- writing ---------------------------------------------------------------------------
    def add_batch(self, cases: Sequence[CaseRow], failures: Sequence[FailureRow]) -> None:
        """Append cases (rows numbered after the last) and failures in one transaction.

        A case already stored (same dataset and id) is skipped; a case that succeeds after an
        earlier failure replaces the failure.
        """
        with self._db:
            next_row = self.count()
            for case in cases:
                inserted = self._db.execute(
                    "INSERT OR IGNORE INTO cases (row, case_id, dataset, patient_id, labels, "
                    "report, measurements, embedding) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        next_row,
                        case.case_id,
                        case.dataset,
                        case.patient_id,
                        json.dumps([label.model_dump() for label in case.labels]),
                        case.report,
                        json.dumps(case.measurements),
                        np.ascontiguousarray(case.embedding, dtype="<f4").tobytes(),
                    ),
                ).rowcount
                next_row += inserted
                self._db.execute(
                    "DELETE FROM failures WHERE dataset = ? AND case_id = ?",
                    (case.dataset, case.case_id),
                )
            self._db.executemany(
                "INSERT OR REPLACE INTO failures (dataset, case_id, error_type, message) "
                "VALUES (?, ?, ?, ?)",
                [(f.dataset, f.case_id, f.error_type, f.message) for f in failures],
            )

    # ---- reading ---------------------------------------------------------------------------
    def count(self) -> int:
        """Number of stored cases (= rows of the index)."""
        return int(self._db.execute("SELECT count(*) FROM cases").fetchone()[0])

    def failure_count(self) -> int:
        """Number of failure rows."""
        return int(self._db.execute("SELECT count(*) FROM failures").fetchone()[0])

    def dataset_counts(self) -> dict[str, int]:
        """Cases per dataset."""
        rows = self._db.execute("SELECT dataset, count(*) FROM cases GROUP BY dataset ORDER BY 1")
        return {str(name): int(n) for name, n in rows}

    def failure_counts(self) -> dict[str, int]:
        """Failures per error type."""
        rows = self._db.execute(
            "SELECT error_type, count(*) FROM failures GROUP BY error_type ORDER BY 1"
        )
        return {str(name): int(n) for name, n in rows}

    def failures(self) -> list[FailureRow]:
        """Every failure row, in insertion order."""
        rows = self._db.execute(
            "SELECT case_id, dataset, error_type, message FROM failures ORDER BY rowid"
        )
        return [FailureRow(*row) for row in rows]

    def known_ids(self, dataset: str, *, with_failures: bool = True) -> set[str]:
        """Case ids of ``dataset`` already stored (and, by default, already failed)."""
        ids = {r[0] for r in self._db.execute("SELECT case_id FROM cases WHERE dataset = ?",
                                              (dataset,))}  # fmt: skip
        if with_failures:
            ids |= {r[0] for r in self._db.execute(
                "SELECT case_id FROM failures WHERE dataset = ?", (dataset,))}  # fmt: skip
        return ids

    def iter_embeddings(
        self, chunk_rows: int = READ_CHUNK_ROWS, *, start_row: int = 0
    ) -> Iterator[np.ndarray]:
        """The embeddings from ``start_row`` on, in row order, as float32 ``[chunk, dim]``."""
        cursor = self._db.execute(
            "SELECT embedding FROM cases WHERE row >= ? ORDER BY row", (start_row,)
        )
        while True:
            blobs = cursor.fetchmany(chunk_rows)
            if not blobs:
                return
            yield np.stack([np.frombuffer(b[0], dtype="<f4") for b in blobs]).astype(np.float32)

    def embeddings(self, rows: Sequence[int] | None = None) -> np.ndarray:
        """Embeddings of the given rows (all rows when ``None``), float32 ``[n, dim]``."""
        if rows is None:
            blocks = list(self.iter_embeddings())
            return np.concatenate(blocks) if blocks else np.zeros((0, 0), dtype=np.float32)
        found: dict[int, np.ndarray] = {}
        for part in _chunks(list(rows), MAX_SQL_PARAMS):
            marks = ",".join("?" * len(part))
            for row, blob in self._db.execute(
                f"SELECT row, embedding FROM cases WHERE row IN ({marks})", part
            ):
                found[int(row)] = np.frombuffer(blob, dtype="<f4")
        missing = [r for r in rows if r not in found]
        if missing:
            raise CaseBaseError(self.path, f"rows {missing[:5]} are not in the case table")
        return np.stack([found[r] for r in rows]).astype(np.float32)

    def rows_of(self, case_id: str, dataset: str | None = None) -> list[int]:
        """Rows holding ``case_id`` (in any dataset unless one is given)."""
        if dataset is None:
            query = self._db.execute("SELECT row FROM cases WHERE case_id = ?", (case_id,))
        else:
            query = self._db.execute(
                "SELECT row FROM cases WHERE case_id = ? AND dataset = ?", (case_id, dataset)
            )
        return [int(r[0]) for r in query]

    def patient_count(self, patient_id: str) -> int:
        """Number of cases of one patient."""
        query = self._db.execute("SELECT count(*) FROM cases WHERE patient_id = ?", (patient_id,))
        return int(query.fetchone()[0])

    def identities(self, rows: Sequence[int]) -> dict[int, tuple[str, str | None]]:
        """``row -> (case_id, patient_id)`` for these rows (cheap: what exclusions need)."""
        result: dict[int, tuple[str, str | None]] = {}
        for part in _chunks(list(rows), MAX_SQL_PARAMS):
            marks = ",".join("?" * len(part))
            query = self._db.execute(
                f"SELECT row, case_id, patient_id FROM cases WHERE row IN ({marks})", part
            )
            result.update({int(row): (case_id, patient) for row, case_id, patient in query})
        return result

    def fetch(self, rows: Sequence[int]) -> dict[int, StoredCase]:
        """The cases at these rows (absent rows are left out)."""
        result: dict[int, StoredCase] = {}
        for part in _chunks(list(rows), MAX_SQL_PARAMS):
            marks = ",".join("?" * len(part))
            query = self._db.execute(
                "SELECT row, case_id, dataset, patient_id, labels, report, measurements "
                f"FROM cases WHERE row IN ({marks})",
                part,
            )
            for row, case_id, dataset, patient, labels, report, measures in query:
                result[int(row)] = StoredCase(
                    row=int(row),
                    case_id=case_id,
                    dataset=dataset,
                    patient_id=patient,
                    labels=[CaseLabel(**item) for item in json.loads(labels)],
                    report=report,
                    measurements=_measurements(json.loads(measures)),
                )
        return result


def _measurements(values: dict[str, Any]) -> dict[str, float | None]:
    return {k: None if v is None else float(v) for k, v in values.items()}


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
