"""Lead mentions: single leads, lists, ranges, groups, exceptions, and what is not a lead."""

from __future__ import annotations

import pytest

from agent.verify.leads import LEAD_GROUPS, find_leads
from tools.leads import LIMB_LEADS, PRECORDIAL_LEADS, STANDARD_LEADS


def _leads(text: str) -> list[tuple[str, ...]]:
    return [m.leads for m in find_leads(text)]


class TestFindLeads:
    @pytest.mark.parametrize(
        ("text", "leads"),
        [
            ("lead I", ("I",)),
            ("Lead aVR", ("aVR",)),
            ("in AVL", ("aVL",)),
            ("in avf", ("aVF",)),
            ("leads II, III and aVF", ("II", "III", "aVF")),
            ("leads II, III, and aVF", ("II", "III", "aVF")),
            ("in II, III and aVF", ("II", "III", "aVF")),
            ("V1-V3", ("V1", "V2", "V3")),
            ("V1–V3", ("V1", "V2", "V3")),
            ("V1 to V4", ("V1", "V2", "V3", "V4")),
            ("V1 through V4", ("V1", "V2", "V3", "V4")),
            ("V1-3", ("V1", "V2", "V3")),
            ("V4-V2", ("V2", "V3", "V4")),
            ("leads I-III", ("I", "II", "III")),
            ("leads I and aVL", ("I", "aVL")),
            ("V5/V6", ("V5", "V6")),
            ("in lead aVL and V5-V6", ("aVL", "V5", "V6")),
        ],
    )
    def test_lists_and_ranges(self, text: str, leads: tuple[str, ...]) -> None:
        assert _leads(text) == [leads]

    @pytest.mark.parametrize(
        ("text", "leads"),
        [
            ("inferior leads", ("II", "III", "aVF")),
            ("the lateral leads", ("I", "aVL", "V5", "V6")),
            ("septal leads", ("V1", "V2")),
            ("anterior leads", ("V3", "V4")),
            ("anteroseptal leads", ("V1", "V2", "V3", "V4")),
            ("antero-septal leads", ("V1", "V2", "V3", "V4")),
            ("high lateral leads", ("I", "aVL")),
            ("precordial leads", PRECORDIAL_LEADS),
            ("chest leads", PRECORDIAL_LEADS),
            ("limb leads", LIMB_LEADS),
            ("all leads", STANDARD_LEADS),
            ("all 12 leads", STANDARD_LEADS),
            ("every lead", STANDARD_LEADS),
            ("inferior and lateral leads", ("I", "II", "III", "aVL", "aVF", "V5", "V6")),
            ("precordial leads V1-V4", ("V1", "V2", "V3", "V4")),
            ("inferior leads (II, III, aVF)", ("II", "III", "aVF")),
            ("all leads except aVR", tuple(n for n in STANDARD_LEADS if n != "aVR")),
            ("all leads except aVR and V1", tuple(n for n in STANDARD_LEADS if n not in
                                                  ("aVR", "V1"))),
        ],
    )  # fmt: skip
    def test_groups(self, text: str, leads: tuple[str, ...]) -> None:
        assert _leads(text) == [leads]

    @pytest.mark.parametrize(
        "text", ["Mobitz type II", "I think so", "V4R", "V7", "12-lead ECG", "aVX", "class III"]
    )
    def test_not_leads(self, text: str) -> None:
        assert find_leads(text) == []

    def test_two_mentions_keep_their_positions(self) -> None:
        text = "ST elevation in V2-V4 and T inversion in lead III"
        found = find_leads(text)
        assert [text[m.start : m.end] for m in found] == ["V2-V4", "lead III"]

    def test_groups_use_the_criteria_territories(self) -> None:
        from tools.statements.territories import TERRITORY_LEADS

        for territory, leads in TERRITORY_LEADS.items():
            assert LEAD_GROUPS[territory] == leads
