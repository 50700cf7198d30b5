"""Lead names and orders: the one place that knows how ECG leads are spelled and ordered.

The canonical order is the standard 12-lead order I, II, III, aVR, aVL, aVF, V1-V6 (PTB-XL's
file order). A record may hold fewer leads, always in this order. Readers map a file's own
spellings and order onto it with :func:`map_leads`; a name that is not a known spelling is an
error, never a guess.

Ambulatory and arrhythmia databases (MIT-BIH, QTDB, SVDB, CPSC 2021) record bipolar Holter
leads (CM5, CC5, ML5, "ECG") that are not any of the 12; :func:`as_recorded_leads` keeps those
under their recorded names for tools that only need one or two channels (R-peak detection).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from tools.errors import DuplicateLeadError, UnknownLeadError

#: The canonical 12-lead order (PTB-XL's file order, and GEM's rendering order).
STANDARD_LEADS: tuple[str, ...] = (
    "I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6",
)  # fmt: skip
LIMB_LEADS: tuple[str, ...] = STANDARD_LEADS[:6]
PRECORDIAL_LEADS: tuple[str, ...] = STANDARD_LEADS[6:]

#: MIMIC-IV-ECG's file order: aVF comes before aVL. GEM was grounded on MIMIC files.
MIMIC_LEADS: tuple[str, ...] = (
    "I", "II", "III", "aVR", "aVF", "aVL", "V1", "V2", "V3", "V4", "V5", "V6",
)  # fmt: skip

#: Frank orthogonal leads found in PTB (15-lead) files: known, not standard, dropped.
FRANK_LEADS: tuple[str, ...] = ("vx", "vy", "vz")

_CANONICAL_INDEX = {name: i for i, name in enumerate(STANDARD_LEADS)}


def _spellings() -> dict[str, str]:
    """Every accepted spelling (normalised key) -> canonical name."""
    table: dict[str, str] = {}
    for name in STANDARD_LEADS:
        table[_key(name)] = name
        table[_key(f"lead {name}")] = name
    # European notation D1-D3 for the Einthoven leads.
    for i, name in enumerate(("I", "II", "III"), start=1):
        table[f"d{i}"] = name
        table[f"d{'i' * i}"] = name
    # UK/IEC notation C1-C6 for the chest leads.
    for i in range(1, 7):
        table[f"c{i}"] = f"V{i}"
    return table


def _modified() -> dict[str, str]:
    """Modified (Mason-Likar torso-placed) leads, conventionally analysed as the standard lead."""
    table = {"mli": "I", "mlii": "II", "mliii": "III"}
    for i in range(1, 7):
        table[f"modv{i}"] = f"V{i}"
        table[f"mv{i}"] = f"V{i}"
    return table


def _key(name: str) -> str:
    """Normalise a spelling: lower case, no spaces, dots, dashes or underscores."""
    return re.sub(r"[\s._\-]+", "", name.strip().lower())


SPELLINGS: dict[str, str] = _spellings()
MODIFIED_LEADS: dict[str, str] = _modified()


def canonical_lead(name: str, source: str | Path | None = None) -> str:
    """Return the canonical name of one lead spelling.

    Parameters
    ----------
    name
        A lead name as written in a file: ``"AVR"``, ``"avr"``, ``"aVR"``, ``"v1"``,
        ``"MLII"`` (modified lead II, mapped to ``"II"``), ``"D3"``, ``"C4"``.
    source
        Record the name belongs to, for the error message.

    Raises
    ------
    UnknownLeadError
        When ``name`` is not a known spelling of a standard lead.
    """
    key = _key(name)
    if key in SPELLINGS:
        return SPELLINGS[key]
    if key in MODIFIED_LEADS:
        return MODIFIED_LEADS[key]
    raise UnknownLeadError(
        source,
        f"lead name {name!r} is not a spelling of any of the 12 standard leads "
        f"({', '.join(STANDARD_LEADS)}); for Holter/arrhythmia recordings read the record "
        "with lead_policy='as-recorded'",
    )


@dataclass(frozen=True)
class LeadMapping:
    """How a file's channels map onto canonical leads.

    Attributes
    ----------
    channel_index
        For each kept lead, in canonical order, the index of its channel in the file.
    lead_names
        Canonical names of the kept leads, in canonical order.
    original_names
        The file's own names for the kept leads, in the same order as ``lead_names``.
    dropped
        The file's names of channels that are known but not standard (Frank vx/vy/vz).
    """

    channel_index: tuple[int, ...]
    lead_names: tuple[str, ...]
    original_names: tuple[str, ...]
    dropped: tuple[str, ...]


def map_leads(names: Sequence[str], source: str | Path | None = None) -> LeadMapping:
    """Map a file's channel names onto the canonical 12-lead order.

    Parameters
    ----------
    names
        Channel names in file order (any spelling; MIMIC's aVF-before-aVL order is fine).
    source
        Record the names belong to, for error messages.

    Returns
    -------
    LeadMapping
        Channel indices to take, in canonical order, and the dropped Frank leads.

    Raises
    ------
    UnknownLeadError
        A name is not a known spelling of a standard or Frank lead.
    DuplicateLeadError
        Two channels map onto the same lead.
    """
    kept: dict[str, tuple[int, str]] = {}
    dropped: list[str] = []
    for channel, raw in enumerate(names):
        if _key(raw) in FRANK_LEADS:
            dropped.append(raw)
            continue
        lead = canonical_lead(raw, source)
        if lead in kept:
            first = kept[lead][1]
            raise DuplicateLeadError(source, f"channels {first!r} and {raw!r} are both lead {lead}")
        kept[lead] = (channel, raw)
    ordered = sorted(kept.items(), key=lambda item: _CANONICAL_INDEX[item[0]])
    return LeadMapping(
        channel_index=tuple(channel for _, (channel, _) in ordered),
        lead_names=tuple(lead for lead, _ in ordered),
        original_names=tuple(raw for _, (_, raw) in ordered),
        dropped=tuple(dropped),
    )


def as_recorded_leads(names: Sequence[str]) -> tuple[str, ...]:
    """Keep channel names as recorded (stripped), made unique by a ``#n`` suffix.

    For ambulatory records whose leads are not standard (``CM5``, ``ECG``), e.g. SVDB's two
    channels both named ``ECG`` become ``("ECG", "ECG#2")``.
    """
    seen: dict[str, int] = {}
    result: list[str] = []
    for raw in names:
        name = raw.strip() or "?"
        seen[name] = seen.get(name, 0) + 1
        result.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return tuple(result)


def is_canonical_order(lead_names: Sequence[str]) -> bool:
    """True when every name is a canonical lead, unique, and in canonical order."""
    try:
        positions = [_CANONICAL_INDEX[name] for name in lead_names]
    except KeyError:
        return False
    return all(a < b for a, b in pairwise(positions))


def lead_index(lead_names: Sequence[str], lead: str) -> int | None:
    """Index of ``lead`` (any spelling) in ``lead_names``, or ``None`` when absent."""
    try:
        name = canonical_lead(lead)
    except UnknownLeadError:
        name = lead
    try:
        return list(lead_names).index(name)
    except ValueError:
        return None
