"""What the case base hands out (pydantic, JSON-native) and the errors it raises."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tools.errors import DatasetError


class CaseBaseError(DatasetError):
    """A case-base folder is missing, incomplete, or cannot be read or written."""


class CaseBaseVersionError(CaseBaseError):
    """A case base was built with another embedding version or dimension."""

    def __init__(self, source: str | Path, problem: str) -> None:
        super().__init__(source, f"{problem}; rebuild it with `gem-agent index build`")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CaseLabel(_Model):
    """One label of a stored case, as its dataset states it."""

    code: str
    vocabulary: str
    name: str | None = None


class SimilarCase(_Model):
    """One retrieved case.

    Attributes
    ----------
    case_id, dataset, patient_id
        The case's record id, the dataset it came from, its patient when known.
    rank
        1 for the nearest case.
    similarity
        Cosine similarity of the embeddings (1 = identical, 0 = unrelated).
    distance
        Cosine distance, ``1 - similarity``.
    labels, report
        The dataset's labels and free-text report (``None`` when it has none).
    measurements
        Key global measurements of the case (see ``tools.cases.embedding.KEY_MEASUREMENTS``).
    """

    case_id: str
    dataset: str
    patient_id: str | None = None
    rank: int
    similarity: float
    distance: float
    labels: list[CaseLabel] = Field(default_factory=list)
    report: str | None = None
    measurements: dict[str, float | None] = Field(default_factory=dict)


class CaseBaseInfo(_Model):
    """What a case-base folder holds and how it was built.

    Attributes
    ----------
    path
        The folder.
    embedding_version, embedding_dim, measurement_version
        What the stored vectors were computed with.
    compatible
        Whether this code can search the base (same embedding version and dimension).
    metric
        ``"inner_product"`` on L2-normalised vectors (cosine similarity).
    index_type, index_setting
        The FAISS index in ``index.faiss`` (``flat``, ``hnsw``, ``ivf``) and the setting it was
        chosen by (``auto`` or the type itself); empty when no index has been written yet.
    n_cases, n_failures, n_indexed
        Rows of the case table, of the failure table, vectors in ``index.faiss``.
    datasets
        Cases per dataset.
    failures_by_type
        Failures per error type (``MissingFileError``...).
    build
        Settings of the last build (dataset, root, workers, batch size, limit, index params).
    """

    path: str
    embedding_version: str
    embedding_dim: int
    measurement_version: str
    compatible: bool
    metric: str
    index_type: str
    index_setting: str
    n_cases: int
    n_failures: int
    n_indexed: int
    datasets: dict[str, int] = Field(default_factory=dict)
    failures_by_type: dict[str, int] = Field(default_factory=dict)
    build: dict[str, Any] = Field(default_factory=dict)
