"""The shape of one vocabulary entry: :class:`StatementDef`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: Statement families (the criteria modules follow the same split).
Category = Literal[
    "rhythm",
    "conduction",
    "axis",
    "hypertrophy",
    "ischemia",
    "infarction",
    "repolarisation",
    "other",
]
CATEGORIES: tuple[Category, ...] = (
    "rhythm",
    "conduction",
    "axis",
    "hypertrophy",
    "ischemia",
    "infarction",
    "repolarisation",
    "other",
)

#: PTB-XL diagnostic superclasses (``diagnostic_class`` of scp_statements.csv).
Superclass = Literal["NORM", "MI", "STTC", "CD", "HYP"]

#: Prefix of the codes this project defines where SCP-ECG (as PTB-XL uses it) has none.
#: No SCP-ECG code contains a colon, so the two namespaces cannot collide.
OWN_PREFIX = "GEM:"


@dataclass(frozen=True, slots=True)
class StatementDef:
    """One diagnostic statement of the vocabulary.

    Attributes
    ----------
    code
        SCP-ECG code exactly as PTB-XL writes it (``"1AVB"``, ``"CLBBB"``, ``"STE_"``), or a
        project code starting with :data:`OWN_PREFIX` where PTB-XL has none.
    name
        Human-readable name.
    category
        Statement family.
    snomed
        SNOMED CT concept ids as the PhysioNet/CinC Challenge 2020/2021 headers write them;
        the first is the preferred one. A code belongs to one statement only.
    superclass
        PTB-XL diagnostic superclass, ``None`` for form and rhythm statements and own codes.
    synonyms
        Phrasings for exact (normalised) free-text matching; the name is matched too.
    scp_aliases
        Other PTB-XL codes that mean this statement for label mapping (``LPR`` -> ``1AVB``).
    """

    code: str
    name: str
    category: Category
    snomed: tuple[str, ...] = ()
    superclass: Superclass | None = None
    synonyms: tuple[str, ...] = ()
    scp_aliases: tuple[str, ...] = ()

    @property
    def is_scp(self) -> bool:
        """True for SCP-ECG (PTB-XL) codes, False for the project's own codes."""
        return not self.code.startswith(OWN_PREFIX)

    @property
    def phrases(self) -> tuple[str, ...]:
        """The name followed by the synonyms."""
        return (self.name, *self.synonyms)
