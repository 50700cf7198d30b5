"""Similar-case retrieval: ECG embeddings and a FAISS + SQLite case base.

>>> from tools.cases import builtin_case_base, embed_record
>>> base = builtin_case_base()                      # doctest: +SKIP
>>> base.search(embed_record(record), k=5)          # doctest: +SKIP

- :func:`embed_measurements` / :func:`embed_record`: a unit-norm vector from the measurements
  and median beats (layout in :mod:`tools.cases.embedding`).
- :func:`build_case_base`: measure and embed a dataset into a case-base folder (parallel,
  resumable); ``gem-agent index build`` on the command line.
- :class:`CaseBase`: open a folder, ``search`` it, describe it with ``info``.
- :func:`builtin_case_base`: a small synthetic base built on first use.
"""

from tools.cases.build import BuildProgress, build_case_base
from tools.cases.builtin import builtin_case_base
from tools.cases.casebase import CaseBase, case_base_info
from tools.cases.embedding import (
    EMBEDDING_DIM,
    EMBEDDING_VERSION,
    embed_measurements,
    embed_record,
)
from tools.cases.index import EXACT_MAX_CASES, INDEX_SETTINGS, choose_index_type
from tools.cases.model import (
    CaseBaseError,
    CaseBaseInfo,
    CaseBaseVersionError,
    CaseLabel,
    SimilarCase,
)

__all__ = [
    "EMBEDDING_DIM",
    "EMBEDDING_VERSION",
    "EXACT_MAX_CASES",
    "INDEX_SETTINGS",
    "BuildProgress",
    "CaseBase",
    "CaseBaseError",
    "CaseBaseInfo",
    "CaseBaseVersionError",
    "CaseLabel",
    "SimilarCase",
    "build_case_base",
    "builtin_case_base",
    "case_base_info",
    "choose_index_type",
    "embed_measurements",
    "embed_record",
]
