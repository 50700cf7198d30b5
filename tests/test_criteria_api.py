"""The criteria entry points: evaluate_criteria, evaluate_rule, explain, and their guarantees."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.measurement_builders import NORMAL_LEADS, fired, lead, measurements, st_leads
from tools.errors import DuplicateLeadError
from tools.leads import STANDARD_LEADS
from tools.measure.model import GlobalMeasurements, LeadMeasurements, Measurements, Statement
from tools.statements import (
    STATEMENTS,
    RuleResult,
    StatementError,
    UnknownStatementError,
    criteria_codes,
    evaluate_criteria,
    evaluate_rule,
    explain,
)

#: A record abnormal in many ways at once (LBBB excluded so ST/Q rules stay valid).
ABNORMAL_GLOBAL = {
    "pr_ms": 240.0, "qrs_ms": 140.0, "qtc_bazett_ms": 500.0, "qrs_axis_deg": -60.0,
    "heart_rate_bpm": 110.0, "beat_counts": {"normal": 10, "ventricular_premature": 2},
}  # fmt: skip
ABNORMAL_LEADS: dict[str, dict[str, Any]] = {
    "V1": {"qrs_morphology": "rsR'", "s_amplitude_mv": -2.0},
    "V5": {"r_amplitude_mv": 2.5, "t_polarity": "negative"},
    "V6": {"t_polarity": "negative"},
    **st_leads(0.3, ["II", "III", "aVF"]),
}


def _empty(record_id: str = "empty") -> Measurements:
    return Measurements(
        record_id=record_id,
        fs_hz=500.0,
        lead_names=list(STANDARD_LEADS),
        usable_leads=list(STANDARD_LEADS),
        global_=GlobalMeasurements(),
        leads=[LeadMeasurements(lead=n) for n in STANDARD_LEADS],
    )


class TestEvaluateCriteria:
    def test_normal_ecg(self) -> None:
        assert [s.code for s in evaluate_criteria(measurements())] == ["SR", "GEM:NAX"]

    def test_abnormal_ecg(self) -> None:
        codes = set(fired(measurements(global_=ABNORMAL_GLOBAL, leads=ABNORMAL_LEADS), sex="M"))
        expected = {"STACH", "PVC", "1AVB", "CRBBB", "GEM:LAD", "LVH", "LNGQT", "STE_",
                    "GEM:STE_INF", "INVT"}  # fmt: skip
        assert expected <= codes
        assert not codes & {"SR", "CLBBB", "IVCD", "AFIB", "GEM:NAX"}

    def test_every_statement_is_complete(self) -> None:
        m = measurements(global_=ABNORMAL_GLOBAL, leads=ABNORMAL_LEADS)
        for statement in evaluate_criteria(m):
            assert statement.name == STATEMENTS[statement.code].name
            assert statement.rule and statement.citation and statement.evidence
            assert any(e.met for e in statement.evidence)
            assert set(statement.leads) <= set(STANDARD_LEADS)

    def test_all_missing_fires_nothing(self) -> None:
        assert evaluate_criteria(_empty()) == []

    def test_all_missing_is_never_met(self) -> None:
        for code in criteria_codes():
            result = explain(code, _empty())
            assert not result.met and not result.assessable, code

    def test_nan_is_missing(self) -> None:
        m = measurements(global_={"pr_ms": float("nan"), "qrs_axis_deg": float("nan")})
        assert explain("1AVB", m).assessable is False
        assert "GEM:NAX" not in fired(m)

    def test_no_usable_leads(self) -> None:
        m = measurements(global_=ABNORMAL_GLOBAL, leads=ABNORMAL_LEADS, unusable=STANDARD_LEADS)
        codes = set(fired(m))
        assert not codes & {"CRBBB", "LVH", "STE_", "GEM:STE_INF", "INVT", "LVOLT"}
        assert {"1AVB", "GEM:LAD"} <= codes  # global measurements still speak

    def test_evidence_only_from_usable_leads(self) -> None:
        unusable = ["III", "V2", "V5"]
        m = measurements(global_=ABNORMAL_GLOBAL, leads=ABNORMAL_LEADS, unusable=unusable)
        for code in criteria_codes():
            result = explain(code, m)
            assert all(e.lead not in unusable for e in result.evidence), code
            assert not set(result.leads) & set(unusable), code

    def test_absent_leads(self) -> None:
        m = measurements(leads=st_leads(0.3, ["II", "III"]), drop=["aVF", "III"])
        assert "STE_" not in fired(m)

    def test_json_round_trip(self) -> None:
        statements = evaluate_criteria(measurements(global_=ABNORMAL_GLOBAL, leads=ABNORMAL_LEADS))
        payload = json.dumps([s.model_dump(mode="json") for s in statements])
        again = [Statement.model_validate(s) for s in json.loads(payload)]
        assert again == statements

    def test_lead_spellings_are_canonicalised(self) -> None:
        base = measurements(leads=st_leads(0.2, ["II", "III"]))
        renamed = base.model_copy(
            update={
                "leads": [lm.model_copy(update={"lead": lm.lead.upper()}) for lm in base.leads],
                "usable_leads": [n.lower() for n in base.usable_leads],
            }
        )
        assert fired(renamed)["GEM:STE_INF"].leads == ["II", "III"]

    def test_non_standard_leads_ignored(self) -> None:
        base = measurements()
        holter = base.model_copy(
            update={
                "leads": [*base.leads, LeadMeasurements(lead="CM5", j_level_mv=1.0)],
                "usable_leads": [*base.usable_leads, "CM5"],
            }
        )
        assert evaluate_criteria(holter) == evaluate_criteria(base)

    def test_duplicate_lead(self) -> None:
        base = measurements()
        twice = base.model_copy(update={"leads": [*base.leads, lead("V1")]})
        with pytest.raises(DuplicateLeadError, match=r"builder-test: lead V1 has two"):
            evaluate_criteria(twice)

    @pytest.mark.parametrize("sex", ["male", "m", ""])
    def test_bad_sex(self, sex: str) -> None:
        with pytest.raises(StatementError, match="builder-test: sex must be"):
            evaluate_criteria(measurements(), sex=sex)  # type: ignore[arg-type]

    @pytest.mark.parametrize("age", [-1.0, float("nan"), float("inf")])
    def test_bad_age(self, age: float) -> None:
        with pytest.raises(StatementError, match="age_years"):
            evaluate_criteria(measurements(), age_years=age)

    def test_deterministic_order(self) -> None:
        m = measurements(global_=ABNORMAL_GLOBAL, leads=ABNORMAL_LEADS)
        codes = [s.code for s in evaluate_criteria(m)]
        order = list(criteria_codes())
        assert codes == sorted(codes, key=order.index)


class TestEvaluateRule:
    def test_met(self) -> None:
        statement = evaluate_rule("1AVB", measurements(global_={"pr_ms": 220.0}))
        assert statement is not None and statement.code == "1AVB"

    def test_not_met(self) -> None:
        assert evaluate_rule("1AVB", measurements()) is None

    def test_no_criterion(self) -> None:
        assert evaluate_rule("ALMI", measurements()) is None

    def test_unknown(self) -> None:
        with pytest.raises(UnknownStatementError, match="'LBBB'"):
            evaluate_rule("LBBB", measurements())


class TestExplain:
    def test_not_met_has_evidence(self) -> None:
        result = explain("CLBBB", measurements())
        assert isinstance(result, RuleResult)
        assert not result.met and result.assessable and result.leads == []
        qrs = next(e for e in result.evidence if e.measure == "qrs_ms")
        assert qrs.value == 90.0 and not qrs.met and qrs.threshold == ">= 120 ms"

    def test_met_matches_statement(self) -> None:
        m = measurements(global_={"qtc_bazett_ms": 480.0})
        result = explain("LNGQT", m)
        assert result.to_statement() == evaluate_rule("LNGQT", m)

    def test_every_vocabulary_code_answers(self) -> None:
        m = measurements()
        for code in STATEMENTS:
            result = explain(code, m)
            assert result.code == code
            if code not in criteria_codes():
                assert not result.assessable and result.note

    def test_uses_demographics(self) -> None:
        m = measurements(global_={"qtc_bazett_ms": 452.0})
        assert explain("LNGQT", m, sex="M").met
        assert not explain("LNGQT", m, sex="F").met


def test_builder_normal_leads_cover_all_leads() -> None:
    assert list(NORMAL_LEADS) == list(STANDARD_LEADS)
