"""Claim extraction: what a claim is about, where it is, and what it is not."""

from __future__ import annotations

import pytest

from agent.verify import Claim, claims_from_codes, extract_claims


def _one(text: str) -> Claim:
    (claim,) = extract_claims(text)
    return claim


class TestExtractClaims:
    def test_span_is_the_claim_text(self) -> None:
        text = "Sinus rhythm. QRS durations in lead I range from 92 to 132 ms; no LBBB."
        for claim in extract_claims(text):
            assert text[claim.span[0] : claim.span[1]] == claim.text
        assert [c.text for c in extract_claims(text)] == [
            "Sinus rhythm", "QRS durations in lead I range from 92 to 132 ms", "no LBBB",
        ]  # fmt: skip

    def test_range_claim(self) -> None:
        claim = _one("QRS durations in lead I range from 92 to 132 ms.")
        assert (claim.kind, claim.feature, claim.leads) == ("numeric", "qrs_ms", ["I"])
        assert (claim.value_low, claim.value_high, claim.unit, claim.spread) == (
            92.0, 132.0, "ms", True,
        )  # fmt: skip

    def test_seconds_and_millimetres_are_converted(self) -> None:
        pr, st = extract_claims("PR 0.18 s. ST elevation of 2 mm in V2-V4.")
        assert (pr.feature, pr.value_low, pr.unit) == ("pr_ms", 180.0, "ms")
        assert (st.feature, st.value_low, st.unit) == ("st_elevation_mv", 0.2, "mV")
        assert st.leads == ["V2", "V3", "V4"]

    def test_fronted_lead(self) -> None:
        claim = _one("In lead II, the PR interval is 160 ms.")
        assert claim.leads == ["II"] and claim.text.startswith("lead II")

    def test_leads_go_to_the_nearest_claim(self) -> None:
        qrs1, qrs2, twi = extract_claims("QRS 90 ms in V1 and 100 ms in V6 with T inversion in V5.")
        assert (qrs1.leads, qrs2.leads, twi.leads) == (["V1"], ["V6"], ["V5"])

    def test_leads_in_a_previous_clause_belong_to_their_claim(self) -> None:
        st, qrs = extract_claims("ST elevation in V1, QRS 90 ms.")
        assert (st.leads, qrs.leads) == (["V1"], [])

    def test_joined_findings_share_leads(self) -> None:
        st, twi = extract_claims("ST elevation and T wave inversion in V5 and V6.")
        assert st.leads == twi.leads == ["V5", "V6"]
        assert st.kind == twi.kind == "lead_finding"

    def test_beat_index(self) -> None:
        claim = _one("The third beat in lead V1 has a QRS duration of 120 ms.")
        assert (claim.beat, claim.leads, claim.value_low) == (3, ["V1"], 120.0)

    @pytest.mark.parametrize(("text", "beat"), [("beat 7", 7), ("the 11th beat", 11),
                                                ("the twelfth complex", 12)])  # fmt: skip
    def test_beat_phrasings(self, text: str, beat: int) -> None:
        assert _one(f"In {text} of lead II the QRS duration is 90 ms.").beat == beat

    def test_finding_without_leads_is_its_diagnosis(self) -> None:
        claim = _one("T wave inversion.")
        assert (claim.kind, claim.statement_code, claim.leads) == ("diagnosis", "INVT", [])

    def test_territorial_finding_keeps_its_code(self) -> None:
        claim = _one("Inferior ST elevation.")
        assert (claim.kind, claim.statement_code) == ("diagnosis", "GEM:STE_INF")

    def test_finding_with_group_keeps_the_vocabulary_code(self) -> None:
        claim = _one("ST elevation in the inferior leads.")
        assert (claim.kind, claim.feature, claim.statement_code) == (
            "lead_finding", "st_elevation", "GEM:STE_INF",
        )  # fmt: skip
        assert claim.leads == ["II", "III", "aVF"]

    def test_inline_negation(self) -> None:
        claim = _one("The T waves are not inverted in V5.")
        assert claim.negated and claim.feature == "t_inversion"

    def test_negated_bound(self) -> None:
        claim = _one("No ST elevation greater than 1 mm in V1-V3.")
        assert claim.negated and (claim.value_low, claim.value_high) == (0.1, None)

    @pytest.mark.parametrize(
        ("text", "code"),
        [
            ("IRBBB", "IRBBB"),
            ("RBBB", "CRBBB"),
            ("incomplete RBBB", "IRBBB"),
            ("complete right bundle branch block", "CRBBB"),
            ("1st-degree AV block", "1AVB"),
            ("a-fib", "AFIB"),
            ("Atrial Fibrillation", "AFIB"),
            ("ischaemic changes", "ISC_"),
            ("Wolff-Parkinson-White pattern", "WPW"),
        ],
    )
    def test_vocabulary(self, text: str, code: str) -> None:
        assert [c.statement_code for c in extract_claims(f"{text}.")] == [code]

    @pytest.mark.parametrize("text", ["af", "sr", "lad", "the afib-like noise"])
    def test_acronyms_keep_their_case(self, text: str) -> None:
        codes = [c.statement_code for c in extract_claims(text)]
        assert codes == (["AFIB"] if "afib" in text else [])

    def test_one_claim_per_statement_per_clause(self) -> None:
        assert [c.statement_code for c in extract_claims("2nd degree AV block, Mobitz type I.")] \
            == ["2AVB", "2AVB"]  # fmt: skip
        assert [c.statement_code for c in extract_claims("Mobitz II second degree AV block.")] \
            == ["2AVB"]  # fmt: skip

    def test_normal_feature_is_not_a_normal_ecg(self) -> None:
        text = "The QT interval is within normal limits."
        assert [c.statement_code for c in extract_claims(text)] == []
        assert _one("ECG within normal limits.").statement_code == "NORM"

    @pytest.mark.parametrize(
        "text",
        ["QRS 90", "PR interval 160", "The T wave is 0.3", "a 10 s recording", "sinus rhythm 75"],
    )
    def test_numbers_without_units_are_not_claims(self, text: str) -> None:
        assert [c.kind for c in extract_claims(text)] == (["diagnosis"] if "sinus" in text else [])

    def test_bpm_alone_is_heart_rate(self) -> None:
        assert _one("Regular at 75 bpm.").feature == "heart_rate_bpm"


class TestClaimsFromCodes:
    def test_codes(self) -> None:
        claims = claims_from_codes(["SR", "CLBBB"])
        assert [(c.kind, c.statement_code, c.negated) for c in claims] == [
            ("diagnosis", "SR", False), ("diagnosis", "CLBBB", False),
        ]  # fmt: skip

    def test_empty(self) -> None:
        assert claims_from_codes([]) == []
