"""ST elevation/depression in two contiguous leads (Fourth UDMI) and the lead territories."""

from __future__ import annotations

from typing import Any

import pytest

from tests.measurement_builders import fired, measurements, st_leads
from tools.statements import explain
from tools.statements.criteria._base import RuleInput
from tools.statements.criteria.ischemia import st_elevation_limit
from tools.statements.territories import (
    TERRITORY_LEADS,
    are_contiguous,
    contiguous_positive,
)

STE_CODES = {"STE_", "GEM:STE_INF", "GEM:STE_LAT", "GEM:STE_SEP", "GEM:STE_ANT"}
STD_CODES = {"STD_", "GEM:STD_INF", "GEM:STD_LAT", "GEM:STD_SEP", "GEM:STD_ANT"}
LBBB_V1_V6: dict[str, dict[str, Any]] = {
    "V1": {"qrs_morphology": "QS"}, "V2": {"qrs_morphology": "QS"}, "I": {"qrs_morphology": "R"},
    "aVL": {"qrs_morphology": "R"}, "V5": {"qrs_morphology": "R"}, "V6": {"qrs_morphology": "R"},
}  # fmt: skip


def _ste(names: list[str], j: float, **kw: Any) -> set[str]:
    return set(fired(measurements(leads=st_leads(j, names)), **kw)) & STE_CODES


class TestTerritories:
    def test_every_lead_but_avr_has_a_territory(self) -> None:
        leads = [n for group in TERRITORY_LEADS.values() for n in group]
        assert len(leads) == len(set(leads)) == 11 and "aVR" not in leads

    @pytest.mark.parametrize(
        ("a", "b", "contiguous"),
        [("II", "III", True), ("III", "aVF", True), ("I", "aVL", True), ("V5", "V6", True),
         ("I", "V6", True), ("V2", "V3", True), ("V4", "V5", True), ("II", "V1", False),
         ("aVR", "II", False), ("V1", "V3", False), ("II", "aVL", False)],
    )  # fmt: skip
    def test_are_contiguous(self, a: str, b: str, contiguous: bool) -> None:
        assert are_contiguous(a, b) is contiguous
        assert are_contiguous(b, a) is contiguous

    def test_contiguous_positive(self) -> None:
        assert contiguous_positive(["II", "aVF", "V1"]) == ("II", "aVF")
        assert contiguous_positive(["II"]) == ()


class TestStElevation:
    def test_inferior(self) -> None:
        statements = fired(measurements(leads=st_leads(0.15, ["II", "III"])))
        assert set(statements) & STE_CODES == {"STE_", "GEM:STE_INF"}
        assert statements["GEM:STE_INF"].leads == ["II", "III"]
        values = {e.lead: e.value for e in statements["GEM:STE_INF"].evidence if e.met}
        assert values == {"II": 0.15, "III": 0.15, None: 90.0}  # QRS confounder check

    @pytest.mark.parametrize(("j", "met"), [(0.1, True), (0.09, False)])
    def test_limit_edge(self, j: float, met: bool) -> None:
        assert bool(_ste(["II", "aVF"], j)) is met

    def test_one_lead_only(self) -> None:
        assert _ste(["II"], 0.3) == set()

    def test_two_non_contiguous_leads(self) -> None:
        assert _ste(["II", "V1"], 0.3) == set()
        assert _ste(["aVR", "II"], 0.3) == set()

    def test_unusable_lead_does_not_fire(self) -> None:
        m = measurements(leads=st_leads(0.3, ["II", "III"]), unusable=["III"])
        assert not set(fired(m)) & STE_CODES
        result = explain("GEM:STE_INF", m)
        assert all(e.lead != "III" for e in result.evidence)
        assert not result.assessable  # II up, III unknown, aVF normal: cannot tell

    def test_missing_j_level_does_not_fire(self) -> None:
        m = measurements(leads={**st_leads(0.3, ["II"]), "III": {"j_level_mv": None}})
        assert "STE_" not in fired(m)

    def test_cross_territory_neighbours(self) -> None:
        assert _ste(["V4", "V5"], 0.12) == {"STE_", "GEM:STE_ANT", "GEM:STE_LAT"}

    def test_lateral_leads_listed(self) -> None:
        statement = fired(measurements(leads=st_leads(0.2, ["I", "aVL"])))["GEM:STE_LAT"]
        assert statement.leads == ["I", "aVL"]


class TestStElevationV2V3:
    @pytest.mark.parametrize(
        ("j", "sex", "age", "met"),
        [(0.16, "F", 30.0, True), (0.14, "F", 70.0, False), (0.21, "M", 50.0, True),
         (0.19, "M", 40.0, False), (0.21, "M", 39.0, False), (0.26, "M", 25.0, True),
         (0.21, "M", None, False), (0.26, "M", None, True), (0.21, None, None, False),
         (0.26, None, 60.0, True)],
    )  # fmt: skip
    def test_sex_and_age_limits(self, j: float, sex: str | None, age: float | None,
                                met: bool) -> None:  # fmt: skip
        codes = _ste(["V2", "V3"], j, sex=sex, age_years=age)
        assert codes == ({"STE_", "GEM:STE_SEP", "GEM:STE_ANT"} if met else set())

    def test_split_localisation(self) -> None:
        statements = fired(measurements(leads=st_leads(0.3, ["V2", "V3"])))
        assert statements["GEM:STE_SEP"].leads == ["V2"]
        assert statements["GEM:STE_ANT"].leads == ["V3"]
        assert statements["STE_"].leads == ["V2", "V3"]

    def test_unknown_sex_is_stated(self) -> None:
        m = measurements(leads=st_leads(0.3, ["V2", "V3"]))
        limit, population = st_elevation_limit(RuleInput.build(m), "V2")
        assert limit == 0.25 and "sex unknown" in population
        v2 = next(e for e in explain("STE_", m).evidence if e.lead == "V2")
        assert "sex unknown" in v2.threshold


class TestQrsConfounder:
    def test_lbbb_stops_st_rules(self) -> None:
        leads = {**LBBB_V1_V6, **st_leads(0.3, ["V1", "V2", "V3"])}
        m = measurements(global_={"qrs_ms": 150.0}, leads=leads)
        codes = set(fired(m))
        assert "CLBBB" in codes and not codes & STE_CODES

    def test_rbbb_keeps_st_rules(self) -> None:
        leads = {"V1": {"qrs_morphology": "rsR'"}, **st_leads(0.2, ["II", "aVF"])}
        codes = set(fired(measurements(global_={"qrs_ms": 140.0}, leads=leads)))
        assert {"CRBBB", "GEM:STE_INF"} <= codes

    def test_unmeasured_qrs(self) -> None:
        m = measurements(global_={"qrs_ms": None}, leads=st_leads(0.3, ["II", "III"]))
        result = explain("GEM:STE_INF", m)
        assert not result.met and not result.assessable


class TestStDepression:
    @staticmethod
    def _std(names: list[str], j: float, form: str | None) -> set[str]:
        leads = st_leads(j, names, st_form=form)
        return set(fired(measurements(leads=leads))) & STD_CODES

    @pytest.mark.parametrize("form", ["horizontal", "declination"])
    def test_basic(self, form: str) -> None:
        assert self._std(["V5", "V6"], -0.1, form) == {"STD_", "GEM:STD_LAT"}

    @pytest.mark.parametrize(("j", "met"), [(-0.05, True), (-0.04, False)])
    def test_depth_edge(self, j: float, met: bool) -> None:
        assert bool(self._std(["II", "aVF"], j, "horizontal")) is met

    def test_upsloping_does_not_count(self) -> None:
        assert self._std(["II", "aVF"], -0.2, "upslope") == set()

    def test_form_missing(self) -> None:
        m = measurements(leads=st_leads(-0.2, ["II", "aVF"], st_form=None))
        result = explain("GEM:STD_INF", m)
        assert not result.met and not result.assessable

    def test_evidence_lists_depth(self) -> None:
        statement = fired(measurements(leads=st_leads(-0.1, ["V3", "V4"], st_form="horizontal")))
        depths = {e.lead: e.value for e in statement["GEM:STD_ANT"].evidence
                  if e.measure == "st_depression_mv" and e.met}  # fmt: skip
        assert depths == {"V3": pytest.approx(0.1), "V4": pytest.approx(0.1)}


#: Flutter waves as the measurement reports them (tools.measure.atrial).
FLUTTER_WAVES = {"atrial_periodicity": 0.65, "atrial_correlation": 0.99, "atrial_rate_bpm": 300.0}


class TestFlutterBaseline:
    def test_st_shift_with_flutter_waves_not_assessable(self) -> None:
        m = measurements(global_=FLUTTER_WAVES, leads=st_leads(0.2, ["II", "III", "aVF"]))
        assert not set(fired(m)) & STE_CODES
        result = explain("GEM:STE_INF", m)
        assert not result.met and not result.assessable
        assert result.note and "flutter" in result.note

    def test_no_st_shift_with_flutter_waves_not_met(self) -> None:
        result = explain("STE_", measurements(global_=FLUTTER_WAVES))
        assert not result.met and result.assessable

    def test_same_shift_without_flutter_fires(self) -> None:
        m = measurements(leads=st_leads(0.2, ["II", "III", "aVF"]))
        assert "GEM:STE_INF" in set(fired(m))
