"""Lead mentions in free text: single leads, lists, ranges, lead groups and exceptions.

``"lead I"``, ``"leads II, III and aVF"``, ``"V1-V3"``, ``"V1 to V4"``, ``"V1-3"``,
``"inferior leads"``, ``"inferior and lateral leads"``, ``"precordial leads V1-V4"`` (the list
wins over the group), ``"all leads except aVR"``. Group memberships follow the criteria's
territories (:mod:`tools.statements.territories`). A bare Roman numeral (``I``, ``II``,
``III``) counts as a lead only after "lead(s)", "in" or "on", or in a list with an
unambiguous lead (``"II, III and aVF"``), so "Mobitz type II" names no lead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from tools.leads import LIMB_LEADS, PRECORDIAL_LEADS, STANDARD_LEADS
from tools.statements.territories import TERRITORY_LEADS


def _union(*groups: Iterable[str]) -> tuple[str, ...]:
    members = {lead for group in groups for lead in group}
    return tuple(lead for lead in STANDARD_LEADS if lead in members)


_T = TERRITORY_LEADS
#: Group word -> its leads (canonical order).
LEAD_GROUPS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "inferior": _T["inferior"],
        "lateral": _T["lateral"],
        "high lateral": ("I", "aVL"),
        "low lateral": ("V5", "V6"),
        "septal": _T["septal"],
        "anterior": _T["anterior"],
        "anteroseptal": _union(_T["septal"], _T["anterior"]),
        "anterolateral": _union(_T["anterior"], _T["lateral"]),
        "inferolateral": _union(_T["inferior"], _T["lateral"]),
        "precordial": PRECORDIAL_LEADS,
        "chest": PRECORDIAL_LEADS,
        "right precordial": ("V1", "V2", "V3"),
        "left precordial": ("V5", "V6"),
        "limb": LIMB_LEADS,
        "extremity": LIMB_LEADS,
        "frontal": LIMB_LEADS,
        "all": STANDARD_LEADS,
    }
)

_B, _A = r"(?<![A-Za-z0-9])", r"(?![A-Za-z0-9])"
_LEAD = rf"{_B}(?:[aA][vV][rRlLfF]|[vV][1-6]|III|II|I){_A}"
_RANGE_SEP = r"\s*(?:-|–|—|to|through|thru)\s*"
_ITEM = rf"{_LEAD}(?:{_RANGE_SEP}(?:{_LEAD}|[1-6]{_A}))?"
_LIST_SEP = r"\s*(?:,\s*(?:and\s+|or\s+|&\s*)?|and\s+|or\s+|&\s*|/\s*|as\s+well\s+as\s+|plus\s+)"
_LIST_RE = re.compile(rf"(?P<prefix>{_B}(?i:leads?)\s+)?(?P<list>{_ITEM}(?:{_LIST_SEP}{_ITEM})*)")
_ITEM_RE = re.compile(rf"(?P<a>{_LEAD})(?:{_RANGE_SEP}(?P<b>{_LEAD}|[1-6]{_A}))?")
_GROUP_WORD = (
    r"high[-\s]lateral|low[-\s]lateral|right\s+precordial|left\s+precordial|antero[-\s]?septal"
    r"|antero[-\s]?lateral|infero[-\s]?lateral|inferior|lateral|septal|anterior|precordial"
    r"|chest|limb|extremity|frontal(?:[-\s]plane)?"
)
_GROUP_RE = re.compile(
    rf"{_B}(?:(?P<all>all\s+(?:of\s+)?(?:the\s+)?(?:12\s+|twelve\s+)?leads|every\s+lead|each\s+lead)"
    rf"|(?P<groups>{_GROUP_WORD})\s+leads?){_A}",
    re.IGNORECASE,
)
#: "inferior and" / "inferior," before a group: "inferior and lateral leads" is two groups.
_EARLIER_GROUP_RE = re.compile(rf"{_B}(?:{_GROUP_WORD})\s*(?:,|and|or|/|&)\s*$", re.IGNORECASE)
#: How far back (characters) the words of a joined group phrase are looked for.
_EARLIER_GROUP_CHARS = 40
#: Most groups joined in one phrase ("inferior, lateral and septal leads").
_MAX_JOINED_GROUPS = 4
_EXCEPT_RE = re.compile(
    r"\s*+(?:,\s*+)?(?:\(\s*+)?(?:except(?:\s+for)?|other\s+than|apart\s+from|excluding|besides|but\s+not)\s+",
    re.IGNORECASE,
)
_SEP_RE = re.compile(r"\s*(?:,|/|&|\band\b|\bor\b)", re.IGNORECASE)
_THEN_LIST_RE = re.compile(r"\s*[(:]?\s*")
_BEFORE_ROMAN_RE = re.compile(r"(?:\b(?:in|on|at)\s+)$", re.IGNORECASE)
_UNAMBIGUOUS = re.compile(r"[aA][vV]|[vV][1-6]")


@dataclass(frozen=True)
class LeadMention:
    """Leads named at ``[start, end)`` of the text (canonical names, canonical order)."""

    start: int
    end: int
    leads: tuple[str, ...]
    #: Leads an "except" clause took out of a group ("all leads except aVR": aVR).
    excepted: tuple[str, ...] = ()


def _canonical(token: str) -> str:
    if token[0] in "aA":
        return "aV" + token[2].upper()
    if token[0] in "vV":
        return "V" + token[1]
    return token


def _expand(a: str, b: str) -> tuple[str, ...]:
    """Leads from ``a`` to ``b`` inclusive within the limb or the precordial leads."""
    for family in (PRECORDIAL_LEADS, LIMB_LEADS):
        if a in family and b in family:
            i, j = family.index(a), family.index(b)
            return family[min(i, j) : max(i, j) + 1]
    return (a, b)


def _list_leads(text: str) -> tuple[str, ...]:
    leads: list[str] = []
    for item in _ITEM_RE.finditer(text):
        a = _canonical(item.group("a"))
        b_text = item.group("b")
        if b_text is None:
            leads.append(a)
        elif b_text.isdigit():
            leads.extend(_expand(a, f"V{b_text}") if a.startswith("V") else (a,))
        else:
            leads.extend(_expand(a, _canonical(b_text)))
    return _union(leads)


def _accept_list(text: str, match: re.Match[str]) -> bool:
    if match.group("prefix") or _UNAMBIGUOUS.search(match.group("list")):
        return True
    return _BEFORE_ROMAN_RE.search(text, max(0, match.start() - 8), match.start()) is not None


def _lists(text: str) -> list[LeadMention]:
    return [
        LeadMention(m.start(), m.end(), _list_leads(m.group("list")))
        for m in _LIST_RE.finditer(text)
        if _accept_list(text, m)
    ]


def _group_key(word: str) -> str:
    """``"Antero-septal"`` -> ``"anteroseptal"``, ``"high  lateral"`` -> ``"high lateral"``."""
    key = re.sub(r"[-\s]+", " ", word.strip().lower())
    key = key.replace("antero ", "antero").replace("infero ", "infero")
    return key.replace("frontal plane", "frontal")


def _group(text: str, match: re.Match[str]) -> tuple[int, tuple[str, ...]]:
    """Start and leads of a group phrase, with the groups joined before it ("inferior and")."""
    if match.group("all"):
        return match.start(), STANDARD_LEADS
    start, keys = match.start(), [_group_key(match.group("groups"))]
    for _ in range(_MAX_JOINED_GROUPS - 1):
        earlier = _EARLIER_GROUP_RE.search(text, max(0, start - _EARLIER_GROUP_CHARS), start)
        if earlier is None:
            break
        start = earlier.start()
        keys.append(_group_key(_SEP_RE.split(earlier.group())[0]))
    return start, _union(*(LEAD_GROUPS[k] for k in keys if k in LEAD_GROUPS))


def _follower(
    lists: list[LeadMention], group_start: int, group_end: int, list_start: int
) -> LeadMention | None:
    """The lead list that directly follows a group (its "leads" word may open the list)."""
    for mention in lists:
        if group_start <= mention.start <= list_start and mention.end > group_end:
            return mention
    return None


def find_leads(text: str) -> list[LeadMention]:
    """Every lead mention in ``text``, in order, with groups resolved to their leads.

    A group directly followed by a lead list ("precordial leads V1-V4", "inferior leads (II,
    III, aVF)") is one mention with the list's leads; "all leads except aVR" removes aVR.
    """
    lists = _lists(text)
    by_start = {m.start: m for m in lists}
    consumed: set[int] = set()
    mentions: list[LeadMention] = []
    for g in _GROUP_RE.finditer(text):
        start, leads = _group(text, g)
        end = g.end()
        after = _THEN_LIST_RE.match(text, end)
        follower = _follower(lists, g.start(), end, after.end() if after else end)
        if follower is not None:
            leads, end = follower.leads, follower.end
            consumed.add(follower.start)
        exception = _EXCEPT_RE.match(text, end)
        excepted: tuple[str, ...] = ()
        if exception is not None and exception.end() in by_start:
            removed = by_start[exception.end()]
            excepted = tuple(n for n in leads if n in removed.leads)
            leads = tuple(n for n in leads if n not in removed.leads)
            end = removed.end
            consumed.add(removed.start)
        mentions.append(LeadMention(start, end, leads, excepted))
    mentions += [m for m in lists if m.start not in consumed]
    mentions.sort(key=lambda m: (m.start, -m.end))
    kept: list[LeadMention] = []
    for m in mentions:  # drop a mention inside an earlier one ("leads V1" in a group phrase)
        if not kept or m.end > kept[-1].end:
            kept.append(m)
    return kept
