"""Conduction criteria: 1AVB, LBBB, RBBB, IRBBB, IVCD, LAFB, LPFB, WPW (Surawicz 2009)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.measurement_builders import fired, measurements
from tools.statements import explain
from tools.statements.criteria._morphology import (
    has_r_prime,
    is_qr,
    is_qs_or_rs,
    is_rs,
    parse_qrs,
)

LBBB_LEADS: dict[str, dict[str, Any]] = {
    "V1": {"qrs_morphology": "QS", "r_amplitude_mv": None},
    "V2": {"qrs_morphology": "rS"},
    "I": {"qrs_morphology": "R", "q_amplitude_mv": None, "s_amplitude_mv": None},
    "aVL": {"qrs_morphology": "R"},
    "V5": {"qrs_morphology": "R", "q_amplitude_mv": None},
    "V6": {"qrs_morphology": "R", "q_amplitude_mv": None},
}
RBBB_LEADS: dict[str, dict[str, Any]] = {
    "V1": {"qrs_morphology": "rsR'", "r_prime_amplitude_mv": 0.7},
    "I": {"qrs_morphology": "qRS"},
    "V6": {"qrs_morphology": "qRs"},
}
LAFB_LEADS: dict[str, dict[str, Any]] = {
    "aVL": {"qrs_morphology": "qR"},
    "II": {"qrs_morphology": "rS"},
    "III": {"qrs_morphology": "rS"},
    "aVF": {"qrs_morphology": "rS"},
}
LPFB_LEADS: dict[str, dict[str, Any]] = {
    "I": {"qrs_morphology": "rS"},
    "aVL": {"qrs_morphology": "rS"},
    "III": {"qrs_morphology": "qR"},
    "aVF": {"qrs_morphology": "qR"},
}


class TestParseQrs:
    @pytest.mark.parametrize(
        ("label", "waves"),
        [("rsR'", ("r", "s", "R'")), ("QS", ("QS",)), ("qRs", ("q", "R", "s")),
         ("rSr’", ("r", "S", "r'")), ("R", ("R",))],
    )  # fmt: skip
    def test_basic(self, label: str, waves: tuple[str, ...]) -> None:
        assert parse_qrs(label) == waves

    @pytest.mark.parametrize("label", [None, "", "notched", "M", "qR?"])
    def test_unreadable(self, label: str | None) -> None:
        assert parse_qrs(label) is None

    def test_patterns(self) -> None:
        assert is_qr(("q", "R")) and not is_qr(("QS",)) and not is_qr(("R", "s"))
        assert is_rs(("r", "S")) and not is_rs(("q", "r", "S")) and not is_rs(("R", "s"))
        assert is_qs_or_rs(("QS",)) and has_r_prime(("r", "S", "R'"))


class TestFirstDegreeAVBlock:
    @pytest.mark.parametrize(("pr_ms", "met"), [(201.0, True), (200.0, False), (199.0, False)])
    def test_edges(self, pr_ms: float, met: bool) -> None:
        assert ("1AVB" in fired(measurements(global_={"pr_ms": pr_ms}))) is met

    def test_evidence(self) -> None:
        statement = fired(measurements(global_={"pr_ms": 240.0}))["1AVB"]
        (evidence,) = statement.evidence
        assert (evidence.measure, evidence.value, evidence.unit) == ("pr_ms", 240.0, "ms")
        assert evidence.threshold == "> 200 ms" and evidence.met

    def test_pr_missing(self) -> None:
        result = explain("1AVB", measurements(global_={"pr_ms": None}))
        assert not result.met and not result.assessable


class TestLeftBundleBranchBlock:
    def test_basic(self) -> None:
        statement = fired(measurements(global_={"qrs_ms": 121.0}, leads=LBBB_LEADS))["CLBBB"]
        assert set(statement.leads) == {"V1", "V2", "I", "aVL", "V5", "V6"}
        assert statement.citation.startswith("Surawicz")

    def test_qrs_just_short(self) -> None:
        codes = set(fired(measurements(global_={"qrs_ms": 118.0}, leads=LBBB_LEADS)))
        assert not codes & {"CLBBB", "IVCD", "CRBBB"}

    def test_q_in_v6(self) -> None:
        leads = {**LBBB_LEADS, "V6": {"qrs_morphology": "qR"}}
        m = measurements(global_={"qrs_ms": 140.0}, leads=leads)
        assert "CLBBB" not in fired(m)
        assert "IVCD" in fired(m)

    def test_rsr_in_v1_is_not_lbbb(self) -> None:
        leads = {**LBBB_LEADS, "V1": {"qrs_morphology": "rsR'"}}
        assert "CLBBB" not in fired(measurements(global_={"qrs_ms": 140.0}, leads=leads))

    def test_lateral_leads_unusable(self) -> None:
        m = measurements(global_={"qrs_ms": 140.0}, leads=LBBB_LEADS, unusable=["I", "V5"])
        result = explain("CLBBB", m)
        assert not result.met and not result.assessable
        assert all(e.lead not in {"I", "V5"} for e in result.evidence)

    def test_morphology_unreadable(self) -> None:
        leads = {n: {"qrs_morphology": None} for n in ("V1", "V2", "I", "V5", "V6")}
        result = explain("CLBBB", measurements(global_={"qrs_ms": 140.0}, leads=leads))
        assert not result.met and not result.assessable


class TestRightBundleBranchBlock:
    def test_basic(self) -> None:
        statement = fired(measurements(global_={"qrs_ms": 121.0}, leads=RBBB_LEADS))["CRBBB"]
        assert set(statement.leads) == {"V1", "I", "V6"}

    @pytest.mark.parametrize(
        ("qrs_ms", "expected"), [(121.0, "CRBBB"), (120.0, "CRBBB"), (118.0, "IRBBB"),
                                 (110.0, "IRBBB"), (109.0, None)],
    )  # fmt: skip
    def test_duration_edges(self, qrs_ms: float, expected: str | None) -> None:
        codes = set(fired(measurements(global_={"qrs_ms": qrs_ms}, leads=RBBB_LEADS)))
        assert codes & {"CRBBB", "IRBBB", "IVCD", "CLBBB"} == ({expected} if expected else set())

    def test_r_prime_in_v2_only(self) -> None:
        leads = {**RBBB_LEADS, "V1": {"qrs_morphology": "rS"}, "V2": {"qrs_morphology": "rSR'"}}
        statement = fired(measurements(global_={"qrs_ms": 130.0}, leads=leads))["CRBBB"]
        assert "V2" in statement.leads and "V1" not in statement.leads

    def test_no_s_in_v6(self) -> None:
        leads = {**RBBB_LEADS, "V6": {"qrs_morphology": "qR"}}
        assert "CRBBB" not in fired(measurements(global_={"qrs_ms": 130.0}, leads=leads))

    def test_v1_v2_unusable(self) -> None:
        m = measurements(global_={"qrs_ms": 130.0}, leads=RBBB_LEADS, unusable=["V1", "V2"])
        result = explain("CRBBB", m)
        assert not result.met and not result.assessable
        assert "CRBBB" not in fired(m)


class TestNonspecificIVCD:
    @pytest.mark.parametrize(("qrs_ms", "met"), [(111.0, True), (121.0, True), (110.0, False)])
    def test_edges(self, qrs_ms: float, met: bool) -> None:
        assert ("IVCD" in fired(measurements(global_={"qrs_ms": qrs_ms}))) is met

    def test_short_pr_is_preexcitation(self) -> None:
        codes = set(fired(measurements(global_={"qrs_ms": 130.0, "pr_ms": 100.0})))
        assert "IVCD" not in codes and "WPW" in codes

    def test_pr_unmeasured_does_not_block(self) -> None:
        assert "IVCD" in fired(measurements(global_={"qrs_ms": 130.0, "pr_ms": None}))


class TestLeftAnteriorFascicularBlock:
    def _m(self, **global_: Any) -> Any:
        return measurements(global_={"qrs_axis_deg": -60.0, **global_}, leads=LAFB_LEADS)

    def test_basic(self) -> None:
        codes = set(fired(self._m()))
        assert {"LAFB", "GEM:LAD"} <= codes

    @pytest.mark.parametrize(("axis", "met"), [(-45.0, True), (-90.0, True), (-44.0, False),
                                               (300.0, True)])  # fmt: skip
    def test_axis_edges(self, axis: float, met: bool) -> None:
        assert ("LAFB" in fired(self._m(qrs_axis_deg=axis))) is met

    def test_wide_qrs(self) -> None:
        assert "LAFB" not in fired(self._m(qrs_ms=121.0))

    def test_no_q_in_avl(self) -> None:
        m = measurements(
            global_={"qrs_axis_deg": -60.0}, leads={**LAFB_LEADS, "aVL": {"qrs_morphology": "R"}}
        )
        assert "LAFB" not in fired(m)

    def test_avl_unusable(self) -> None:
        m = measurements(global_={"qrs_axis_deg": -60.0}, leads=LAFB_LEADS, unusable=["aVL"])
        result = explain("LAFB", m)
        assert not result.met and not result.assessable
        assert result.note and "aVL" in result.note


class TestLeftPosteriorFascicularBlock:
    def test_basic(self) -> None:
        m = measurements(global_={"qrs_axis_deg": 120.0}, leads=LPFB_LEADS)
        assert {"LPFB", "GEM:RAD"} <= set(fired(m))

    @pytest.mark.parametrize(("axis", "met"), [(90.0, True), (180.0, True), (85.0, False)])
    def test_axis_edges(self, axis: float, met: bool) -> None:
        m = measurements(global_={"qrs_axis_deg": axis}, leads=LPFB_LEADS)
        assert ("LPFB" in fired(m)) is met

    def test_needs_qr_inferior(self) -> None:
        leads = {**LPFB_LEADS, "III": {"qrs_morphology": "Rs"}}
        assert "LPFB" not in fired(measurements(global_={"qrs_axis_deg": 120.0}, leads=leads))


class TestWolffParkinsonWhite:
    @pytest.mark.parametrize(
        ("pr_ms", "qrs_ms", "met"),
        [(110.0, 125.0, True), (119.0, 121.0, True), (120.0, 125.0, False),
         (110.0, 120.0, False), (None, 125.0, False)],
    )  # fmt: skip
    def test_edges(self, pr_ms: float | None, qrs_ms: float, met: bool) -> None:
        m = measurements(global_={"pr_ms": pr_ms, "qrs_ms": qrs_ms})
        assert ("WPW" in fired(m)) is met

    def test_pr_missing_not_assessable(self) -> None:
        result = explain("WPW", measurements(global_={"pr_ms": None, "qrs_ms": 125.0}))
        assert not result.assessable
