"""The statement vocabulary: lookups, and consistency with PTB-XL, CinC and the criteria."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from tools.statements import (
    CATEGORIES,
    OWN_PREFIX,
    STATEMENTS,
    StatementError,
    UnknownStatementError,
    criteria_codes,
    find_by_phrase,
    find_by_scp,
    find_by_snomed,
    get_statement,
    normalise_phrase,
    ptbxl_superclass,
    statements_by_category,
)

#: Statements the project must name (the issue's list), with PTB-XL codes where they exist.
REQUIRED = [
    "SR", "STACH", "SBRAD", "SARRH", "AFIB", "AFLT", "PAC", "PVC", "1AVB", "CLBBB", "CRBBB",
    "IRBBB", "IVCD", "LAFB", "LPFB", "WPW", "GEM:LAD", "GEM:RAD", "LVH", "RVH", "LVOLT",
    "LNGQT", "STE_", "STD_", "INVT", "IMI", "AMI", "ASMI", "ALMI", "ILMI", "LMI", "NST_", "ISC_",
    "GEM:STE_INF", "GEM:STE_LAT", "GEM:STE_SEP", "GEM:STE_ANT",
    "GEM:STD_INF", "GEM:STD_LAT", "GEM:STD_SEP", "GEM:STD_ANT",
]  # fmt: skip


def _scp_table(folder: Path) -> dict[str, dict[str, str]]:
    with (folder / "scp_statements.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    return {row[0]: dict(zip(header[1:], row[1:], strict=False)) for row in rows[1:] if row}


class TestGetStatement:
    def test_basic(self) -> None:
        entry = get_statement("AFIB")
        assert entry.name == "atrial fibrillation"
        assert entry.category == "rhythm"
        assert "164889003" in entry.snomed

    def test_own_code(self) -> None:
        entry = get_statement("GEM:LAD")
        assert not entry.is_scp
        assert entry.category == "axis"

    @pytest.mark.parametrize("code", ["XYZ", "afib", "", "LAD"])
    def test_unknown(self, code: str) -> None:
        with pytest.raises(UnknownStatementError, match="not in the vocabulary"):
            get_statement(code)


class TestStatementsByCategory:
    @pytest.mark.parametrize("category", CATEGORIES)
    def test_every_category_filled(self, category: str) -> None:
        entries = statements_by_category(category)  # type: ignore[arg-type]
        assert entries
        assert all(e.category == category for e in entries)

    def test_partition(self) -> None:
        total = sum(len(statements_by_category(c)) for c in CATEGORIES)
        assert total == len(STATEMENTS)

    def test_unknown_category(self) -> None:
        with pytest.raises(StatementError, match="unknown category 'morphology'"):
            statements_by_category("morphology")  # type: ignore[arg-type]


class TestFindBySnomed:
    @pytest.mark.parametrize(
        ("snomed", "code"),
        [
            ("164889003", "AFIB"), (164889003, "AFIB"), ("270492004", "1AVB"),
            ("164947007", "1AVB"), ("713427006", "CRBBB"), ("59118001", "CRBBB"),
            ("733534002", "CLBBB"), ("164909002", "CLBBB"), ("426783006", "SR"),
            ("39732003", "GEM:LAD"), ("704997005", "GEM:STD_INF"), (" 17338001 ", "PVC"),
        ],
    )  # fmt: skip
    def test_known(self, snomed: str | int, code: str) -> None:
        entry = find_by_snomed(snomed)
        assert entry is not None and entry.code == code

    @pytest.mark.parametrize("snomed", ["0", "", "6374002"])
    def test_unmapped(self, snomed: str) -> None:
        assert find_by_snomed(snomed) is None


class TestFindByScp:
    @pytest.mark.parametrize(
        ("scp", "code"), [("AFIB", "AFIB"), ("LPR", "1AVB"), ("VCLVH", "LVH"), ("IMI", "IMI")]
    )
    def test_known(self, scp: str, code: str) -> None:
        entry = find_by_scp(scp)
        assert entry is not None and entry.code == code

    def test_unknown(self) -> None:
        assert find_by_scp("NOPE") is None


class TestFindByPhrase:
    @pytest.mark.parametrize(
        ("phrase", "code"),
        [
            ("atrial fibrillation", "AFIB"), ("Atrial Fibrillation", "AFIB"), ("afib", "AFIB"),
            ("A-fib", "AFIB"), ("AF", "AFIB"), ("first degree AV block", "1AVB"),
            ("1st degree atrioventricular block", "1AVB"), ("first-degree AV block", "1AVB"),
            ("prolonged PR interval", "1AVB"), ("complete left bundle branch block", "CLBBB"),
            ("LBBB", "CLBBB"), ("right bundle branch block", "CRBBB"),
            ("incomplete RBBB", "IRBBB"), ("left anterior hemiblock", "LAFB"),
            ("Wolff-Parkinson-White syndrome", "WPW"), ("left axis deviation", "GEM:LAD"),
            ("LVH", "LVH"), ("low QRS voltage", "LVOLT"), ("prolonged QT", "LNGQT"),
            ("QTc prolongation", "LNGQT"), ("T wave inversion", "INVT"),
            ("T-wave inversions", "INVT"), ("inferior ST elevation", "GEM:STE_INF"),
            ("ST-segment elevation", "STE_"), ("ST depression", "STD_"),
            ("pathological Q waves", "QWAVE"), ("inferior MI", "IMI"),
            ("anteroseptal myocardial infarction", "ASMI"), ("normal sinus rhythm", "SR"),
            ("sinus tachycardia.", "STACH"), ("  sinus   bradycardia ", "SBRAD"),
            ("PVCs", "PVC"), ("premature atrial contractions", "PAC"),
            ("ischaemic ST-T changes", "ISC_"), ("no man’s land axis", "GEM:EAD"),
        ],
    )  # fmt: skip
    def test_known(self, phrase: str, code: str) -> None:
        entry = find_by_phrase(phrase)
        assert entry is not None and entry.code == code

    @pytest.mark.parametrize(
        "phrase", ["atrial fibrillation with RVR", "no atrial fibrillation", "", "fib"]
    )
    def test_not_exact(self, phrase: str) -> None:
        assert find_by_phrase(phrase) is None


class TestNormalisePhrase:
    def test_basic(self) -> None:
        assert normalise_phrase("1st-degree A-V block.") == "1st degree a v block"

    def test_british_spelling(self) -> None:
        assert normalise_phrase("Ischaemia") == normalise_phrase("ischemia")


class TestPtbxlSuperclass:
    @pytest.mark.parametrize(
        ("code", "superclass"),
        [("CLBBB", "CD"), ("IMI", "MI"), ("LVH", "HYP"), ("NORM", "NORM"), ("LNGQT", "STTC"),
         ("AFIB", None), ("GEM:LAD", None)],
    )  # fmt: skip
    def test_known(self, code: str, superclass: str | None) -> None:
        assert ptbxl_superclass(code) == superclass

    def test_unknown(self) -> None:
        with pytest.raises(UnknownStatementError, match="'ZZZ'"):
            ptbxl_superclass("ZZZ")


class TestConsistency:
    @pytest.mark.parametrize("code", REQUIRED)
    def test_required_present(self, code: str) -> None:
        assert code in STATEMENTS

    def test_rule_codes_in_vocabulary(self) -> None:
        assert set(criteria_codes()) <= set(STATEMENTS)

    def test_required_statements_without_a_rule(self) -> None:
        without_rule = {c for c in REQUIRED if c not in criteria_codes()}
        # Ischemia/MI subsets with no direct criterion.
        assert without_rule == {"ALMI", "ILMI", "NST_", "ISC_"}

    def test_keys_match_codes(self) -> None:
        assert all(key == entry.code for key, entry in STATEMENTS.items())

    def test_own_codes_prefixed(self) -> None:
        for entry in STATEMENTS.values():
            assert entry.is_scp != entry.code.startswith(OWN_PREFIX)
            if not entry.is_scp:
                assert entry.superclass is None

    def test_snomed_codes_unique(self) -> None:
        counts = Counter(c for e in STATEMENTS.values() for c in e.snomed)
        assert [c for c, n in counts.items() if n > 1] == []

    def test_snomed_codes_are_digits(self) -> None:
        assert all(c.isdigit() for e in STATEMENTS.values() for c in e.snomed)

    def test_synonyms_unique_across_statements(self) -> None:
        owner: dict[str, str] = {}
        for entry in STATEMENTS.values():
            for phrase in {normalise_phrase(p) for p in entry.phrases}:
                assert phrase, f"{entry.code} has an empty phrase"
                assert owner.setdefault(phrase, entry.code) == entry.code, phrase

    def test_every_phrase_finds_its_statement(self) -> None:
        for entry in STATEMENTS.values():
            for phrase in entry.phrases:
                found = find_by_phrase(phrase)
                assert found is not None and found.code == entry.code

    def test_snomed_codes_have_names(self) -> None:
        vocabulary = pytest.importorskip("tools.vocabulary")
        for entry in STATEMENTS.values():
            for code in entry.snomed:
                assert vocabulary.label_name("SNOMED-CT", code), (entry.code, code)

    def test_scp_codes_exist_in_ptbxl(self, dataset_dir) -> None:
        table = _scp_table(dataset_dir("ptbxl"))
        for entry in STATEMENTS.values():
            if entry.is_scp:
                assert entry.code in table, entry.code
            for alias in entry.scp_aliases:
                assert alias in table and alias not in STATEMENTS, alias

    def test_superclass_matches_ptbxl(self, dataset_dir) -> None:
        table = _scp_table(dataset_dir("ptbxl"))
        for entry in STATEMENTS.values():
            if entry.is_scp:
                expected = table[entry.code]["diagnostic_class"] or None
                assert entry.superclass == expected, entry.code
