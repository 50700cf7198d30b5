"""Lead-name spellings and orders."""

from __future__ import annotations

import pytest

from tools.errors import DuplicateLeadError, UnknownLeadError
from tools.leads import (
    MIMIC_LEADS,
    STANDARD_LEADS,
    as_recorded_leads,
    canonical_lead,
    is_canonical_order,
    lead_index,
    map_leads,
)


class TestCanonicalLead:
    @pytest.mark.parametrize(
        ("spelling", "expected"),
        [
            ("I", "I"), ("i", "I"), ("ii", "II"), ("III", "III"), ("aVR", "aVR"),
            ("AVR", "aVR"), ("avr", "aVR"), ("aVl", "aVL"), ("AVF", "aVF"), ("V1", "V1"),
            ("v6", "V6"), ("Lead II", "II"), ("D3", "III"), ("C4", "V4"), ("MLII", "II"),
            ("mod.V1", "V1"), (" v2 ", "V2"),
        ],
    )  # fmt: skip
    def test_spellings(self, spelling: str, expected: str) -> None:
        assert canonical_lead(spelling) == expected

    @pytest.mark.parametrize("name", ["CM5", "ECG", "V7", "aVX", "", "record 30, signal 0"])
    def test_unknown_is_error(self, name: str) -> None:
        with pytest.raises(UnknownLeadError, match="rec42"):
            canonical_lead(name, source="rec42")


class TestMapLeads:
    def test_mimic_order_is_reordered(self) -> None:
        mapping = map_leads(MIMIC_LEADS)
        assert mapping.lead_names == STANDARD_LEADS
        # aVL is channel 5 and aVF channel 4 in MIMIC's order.
        assert mapping.channel_index[4] == 5
        assert mapping.channel_index[5] == 4

    def test_ptb_frank_leads_dropped(self) -> None:
        names = [n.lower() for n in STANDARD_LEADS] + ["vx", "vy", "vz"]
        mapping = map_leads(names)
        assert mapping.lead_names == STANDARD_LEADS
        assert mapping.dropped == ("vx", "vy", "vz")
        assert mapping.original_names[3] == "avr"

    def test_subset_sorted_into_canonical_order(self) -> None:
        mapping = map_leads(["V5", "MLII"])
        assert mapping.lead_names == ("II", "V5")
        assert mapping.channel_index == (1, 0)

    def test_duplicate_is_error(self) -> None:
        with pytest.raises(DuplicateLeadError, match="both lead aVR"):
            map_leads(["I", "AVR", "avr"], source="x.hea")

    def test_unknown_is_error(self) -> None:
        with pytest.raises(UnknownLeadError, match="'CM5'"):
            map_leads(["I", "CM5"])


class TestAsRecorded:
    def test_duplicates_made_unique(self) -> None:
        assert as_recorded_leads(["ECG", "ECG"]) == ("ECG", "ECG#2")

    def test_names_kept(self) -> None:
        assert as_recorded_leads([" CM5", "CC5"]) == ("CM5", "CC5")


def test_is_canonical_order() -> None:
    assert is_canonical_order(STANDARD_LEADS)
    assert is_canonical_order(("II", "V5"))
    assert not is_canonical_order(MIMIC_LEADS)
    assert not is_canonical_order(("II", "II"))
    assert not is_canonical_order(("CM5",))


def test_lead_index() -> None:
    assert lead_index(STANDARD_LEADS, "avf") == 5
    assert lead_index(("I", "II"), "V1") is None
