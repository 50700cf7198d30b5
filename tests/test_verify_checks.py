"""Verdict rules, the grounding score, structured claims, the model round trip and feedback."""

from __future__ import annotations

import pytest

from agent.verify import (
    TOLERANCES,
    Claim,
    ClaimCheck,
    Verification,
    claims_from_codes,
    feedback_text,
    verify_claims,
    verify_text,
)
from agent.verify.verdicts import LeadOutcome, apply_scope, combine
from tests.verify_builders import verify_measurements
from tools.statements import StatementError


def _check(verdict: str, text: str = "x") -> ClaimCheck:
    claim = Claim(text=text, span=(0, len(text)), kind="diagnosis", statement_code="SR")
    return ClaimCheck.model_validate(
        {"claim": claim, "verdict": verdict, "rule": "r", "detail": "d"}
    )


class TestVerificationFromChecks:
    @pytest.mark.parametrize(
        ("verdicts", "counts", "score"),
        [
            ([], (0, 0, 0), None),
            (["unverifiable"] * 3, (0, 0, 3), None),
            (["supported"] * 3, (3, 0, 0), 1.0),
            (["contradicted"], (0, 1, 0), 0.0),
            (["supported", "supported", "contradicted", "unverifiable"], (2, 1, 1), 2 / 3),
        ],
    )
    def test_counts_and_score(self, verdicts, counts, score) -> None:
        v = Verification.from_checks(_check(x) for x in verdicts)
        assert (v.n_supported, v.n_contradicted, v.n_unverifiable) == counts
        assert v.grounding_score == (None if score is None else pytest.approx(score))
        assert len(v.checks) == len(verdicts)

    def test_json_round_trip(self) -> None:
        v = verify_text("Sinus rhythm at 90 bpm; QRS in V1 86-96 ms.", verify_measurements())
        again = Verification.model_validate(v.model_dump(mode="json"))
        assert again == v and again.checks[1].claim.span == v.checks[1].claim.span


class TestCombine:
    @pytest.mark.parametrize(
        ("states", "verdict"),
        [
            ([True], "supported"),
            ([False], "contradicted"),
            ([None], "unverifiable"),
            ([True, True, False], "supported"),
            ([True, False], "contradicted"),
            ([True, False, False], "contradicted"),
            ([True, None], "supported"),
            ([True, None, None], "unverifiable"),
            ([None, None, True, True], "supported"),
            ([], "unverifiable"),
        ],
    )
    def test_majority_of_assessed_leads(self, states, verdict) -> None:
        assert combine([LeadOutcome(f"L{i}", s, "") for i, s in enumerate(states)]) == verdict


class TestApplyScope:
    @pytest.mark.parametrize(
        ("verdict", "negated", "hedged", "result"),
        [
            ("supported", False, False, "supported"),
            ("contradicted", False, False, "contradicted"),
            ("supported", True, False, "contradicted"),
            ("contradicted", True, False, "supported"),
            ("unverifiable", True, False, "unverifiable"),
            ("supported", False, True, "supported"),
            ("contradicted", False, True, "unverifiable"),
            ("supported", True, True, "unverifiable"),
            ("contradicted", True, True, "supported"),
        ],
    )
    def test_table(self, verdict, negated, hedged, result) -> None:
        assert apply_scope(verdict, negated=negated, hedged=hedged) == result


class TestVerifyClaims:
    def test_structured_codes_checked_like_text(self) -> None:
        m = verify_measurements(global_={"pr_ms": 230.0})
        structured = verify_claims(claims_from_codes(["SR", "1AVB", "CLBBB", "AFLT"]), m)
        text = verify_text("Sinus rhythm. First degree AV block. LBBB. Atrial flutter.", m)
        assert [c.verdict for c in structured.checks] == [c.verdict for c in text.checks]
        assert [c.verdict for c in structured.checks] == [
            "supported", "supported", "contradicted", "contradicted",
        ]  # fmt: skip

    def test_unknown_code_is_unverifiable(self) -> None:
        (check,) = verify_claims(claims_from_codes(["NOT-A-CODE"]), verify_measurements()).checks
        assert check.verdict == "unverifiable" and "NOT-A-CODE" in check.detail

    def test_invalid_sex_is_a_typed_error(self) -> None:
        with pytest.raises(StatementError, match="sex must be"):
            verify_text("Sinus rhythm.", verify_measurements(), sex="X")  # type: ignore[arg-type]

    def test_sex_changes_the_criterion(self) -> None:
        m = verify_measurements(global_={"qtc_bazett_ms": 455.0})
        men = verify_text("Prolonged QT interval.", m, sex="M").checks[0]
        women = verify_text("Prolonged QT interval.", m, sex="F").checks[0]
        assert (men.verdict, women.verdict) == ("supported", "contradicted")

    def test_diagnosis_check_quotes_its_evidence(self) -> None:
        (check,) = verify_text("LBBB.", verify_measurements()).checks
        assert check.rule.startswith("criteria CLBBB")
        assert isinstance(check.measured, str) and "qrs_ms" in check.measured

    def test_numeric_check_reports_tolerance_and_value(self) -> None:
        (check,) = verify_text("QRS duration 130 ms.", verify_measurements()).checks
        assert check.tolerance == TOLERANCES["qrs_ms"].describe("ms") == "±10 ms"
        assert check.measured == 90.0 and "130 ms" in check.detail

    def test_tolerance_edges(self) -> None:
        m = verify_measurements()  # QRS 90 ms, tolerance 10 ms
        assert verify_text("QRS duration 100 ms.", m).checks[0].verdict == "supported"
        assert verify_text("QRS duration 101 ms.", m).checks[0].verdict == "contradicted"

    def test_amplitude_tolerance_is_relative_for_large_waves(self) -> None:
        m = verify_measurements(leads={"V5": {"r_amplitude_mv": 3.0}})  # 20% of 3 mV = 0.6 mV
        assert verify_text("R wave of 3.5 mV in V5.", m).checks[0].verdict == "supported"
        assert verify_text("R wave of 3.7 mV in V5.", m).checks[0].verdict == "contradicted"

    def test_axis_difference_wraps_around(self) -> None:
        m = verify_measurements(global_={"qrs_axis_deg": 175.0})
        assert verify_text("QRS axis -175°.", m).checks[0].verdict == "supported"


class TestFeedbackText:
    def test_empty_when_nothing_contradicted(self) -> None:
        v = verify_text("Sinus rhythm at 70 bpm.", verify_measurements())
        assert v.n_contradicted == 0 and feedback_text(v) == ""

    def test_lists_each_contradiction_with_measured_values(self) -> None:
        text = "Heart rate 110 bpm. QRS durations in lead I range from 92 to 132 ms. LBBB."
        v = verify_text(text, verify_measurements())
        feedback = feedback_text(v)
        lines = feedback.splitlines()
        assert len(lines) == 1 + v.n_contradicted == 4
        assert lines[1].startswith('1. You wrote: "Heart rate 110 bpm"') and "70 bpm" in lines[1]
        assert "86–96 ms" in lines[2] and "±10 ms" in lines[2]
        assert "criteria CLBBB" in lines[3] and "qrs_ms" in lines[3]

    def test_long_claims_are_shortened(self) -> None:
        claim = Claim(text="QRS " * 200, span=(0, 800), kind="numeric", feature="qrs_ms",
                      value_low=1.0, value_high=1.0, unit="ms")  # fmt: skip
        check = ClaimCheck(claim=claim, verdict="contradicted", measured=90.0, rule="r",
                           detail="d")  # fmt: skip
        line = feedback_text(Verification.from_checks([check])).splitlines()[1]
        assert len(line) < 300 and "90 ms" in line
