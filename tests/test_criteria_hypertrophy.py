"""Voltage criteria: LVH (Sokolow-Lyon, Cornell), RVH, low QRS voltage."""

from __future__ import annotations

import pytest

from tests.measurement_builders import fired, lead, measurements
from tools.leads import LIMB_LEADS, PRECORDIAL_LEADS
from tools.statements import explain
from tools.statements.criteria.hypertrophy import qrs_peak_to_peak_mv


def _sokolow(s_v1: float, r_v5: float) -> dict[str, dict[str, float]]:
    return {"V1": {"s_amplitude_mv": s_v1}, "V5": {"r_amplitude_mv": r_v5}}


def _cornell(r_avl: float, s_v3: float) -> dict[str, dict[str, float]]:
    return {"aVL": {"r_amplitude_mv": r_avl}, "V3": {"s_amplitude_mv": s_v3}}


class TestSokolowLyon:
    @pytest.mark.parametrize(("r_v5", "met"), [(2.0, True), (1.9, True), (1.8, False)])
    def test_edges(self, r_v5: float, met: bool) -> None:
        # S V1 1.6 + R V5: 3.6 / 3.5 (>=, as published) / 3.4 mV.
        assert ("LVH" in fired(measurements(leads=_sokolow(-1.6, r_v5)))) is met

    def test_uses_taller_of_v5_v6(self) -> None:
        leads = {"V1": {"s_amplitude_mv": -1.6}, "V6": {"r_amplitude_mv": 2.0}}
        statement = fired(measurements(leads=leads))["LVH"]
        assert {"V1", "V5", "V6"} == set(statement.leads)
        sokolow = next(e for e in statement.evidence if e.measure == "sokolow_lyon_mv")
        assert sokolow.value == pytest.approx(3.6) and sokolow.met

    def test_positive_s_convention(self) -> None:
        assert "LVH" in fired(measurements(leads=_sokolow(1.6, 2.0)))

    def test_v1_unusable(self) -> None:
        m = measurements(leads=_sokolow(-1.6, 2.0), unusable=["V1"])
        result = explain("LVH", m)
        assert not result.met and not result.assessable  # Cornell alone not met, Sokolow unknown

    def test_s_v1_missing_is_not_zero(self) -> None:
        m = measurements(leads={"V1": {"s_amplitude_mv": None}, "V5": {"r_amplitude_mv": 3.6}})
        assert "LVH" not in fired(m)


class TestCornell:
    @pytest.mark.parametrize(
        ("r_avl", "s_v3", "sex", "met"),
        [(1.2, -1.0, "F", True), (1.0, -1.0, "F", False), (1.2, -1.0, "M", False),
         (1.5, -1.4, "M", True), (1.4, -1.4, "M", False), (1.5, -1.4, None, True),
         (1.2, -1.0, None, False)],
    )  # fmt: skip
    def test_sex_limits(self, r_avl: float, s_v3: float, sex: str | None, met: bool) -> None:
        m = measurements(leads=_cornell(r_avl, s_v3))
        assert ("LVH" in fired(m, sex=sex)) is met

    def test_unknown_sex_says_so(self) -> None:
        result = explain("LVH", measurements(leads=_cornell(1.2, -1.0)))
        cornell = next(e for e in result.evidence if e.measure == "cornell_mv")
        assert "sex unknown" in cornell.threshold and "2.8" in cornell.threshold

    def test_leads(self) -> None:
        statement = fired(measurements(leads=_cornell(1.5, -1.4)), sex="M")["LVH"]
        assert statement.leads == ["aVL", "V3"]


RAD = {"qrs_axis_deg": 110.0}


class TestRightVentricularHypertrophy:
    @pytest.mark.parametrize(
        ("r_v1", "s_v1", "met"),
        [(0.8, -0.9, True), (0.7, -0.9, True), (0.6, -0.5, True), (0.6, -0.8, False),
         (0.6, 0.0, True)],
    )  # fmt: skip
    def test_voltage(self, r_v1: float, s_v1: float, met: bool) -> None:
        leads = {"V1": {"r_amplitude_mv": r_v1, "s_amplitude_mv": s_v1, "qrs_morphology": "Rs"}}
        assert ("RVH" in fired(measurements(global_=RAD, leads=leads))) is met

    def test_needs_right_axis(self) -> None:
        leads = {"V1": {"r_amplitude_mv": 1.0, "s_amplitude_mv": -0.2}}
        assert "RVH" not in fired(measurements(leads=leads))

    def test_not_in_wide_qrs(self) -> None:
        leads = {"V1": {"r_amplitude_mv": 1.0, "s_amplitude_mv": -0.2}}
        m = measurements(global_={**RAD, "qrs_ms": 125.0}, leads=leads)
        assert "RVH" not in fired(m)

    def test_statement_leads(self) -> None:
        leads = {"V1": {"r_amplitude_mv": 1.0, "s_amplitude_mv": -0.2}}
        assert fired(measurements(global_=RAD, leads=leads))["RVH"].leads == ["V1"]


class TestQrsPeakToPeak:
    def test_basic(self) -> None:
        assert qrs_peak_to_peak_mv(lead("V2")) == pytest.approx(1.6)

    def test_qs_has_no_r(self) -> None:
        lm = lead("V1", qrs_morphology="QS", r_amplitude_mv=None, s_amplitude_mv=None,
                  q_amplitude_mv=-0.7)  # fmt: skip
        assert qrs_peak_to_peak_mv(lm) == pytest.approx(0.7)

    def test_pure_r_has_no_negative_wave(self) -> None:
        lm = lead("V6", qrs_morphology="R", q_amplitude_mv=None, s_amplitude_mv=None)
        assert qrs_peak_to_peak_mv(lm) == pytest.approx(1.1)

    def test_unknown_side_is_not_zero(self) -> None:
        lm = lead("V6", qrs_morphology=None, q_amplitude_mv=None, s_amplitude_mv=None)
        assert qrs_peak_to_peak_mv(lm) is None


class TestLowVoltage:
    @staticmethod
    def _low(names: tuple[str, ...], r: float, s: float) -> dict[str, dict[str, float | None]]:
        return {n: {"r_amplitude_mv": r, "s_amplitude_mv": s, "q_amplitude_mv": None}
                for n in names}  # fmt: skip

    def test_limb(self) -> None:
        statement = fired(measurements(leads=self._low(LIMB_LEADS, 0.3, -0.1)))["LVOLT"]
        assert statement.leads == list(LIMB_LEADS)

    def test_limb_one_lead_at_limit(self) -> None:
        leads = self._low(LIMB_LEADS, 0.3, -0.1)
        leads["aVF"] = {"r_amplitude_mv": 0.4, "s_amplitude_mv": -0.1, "q_amplitude_mv": None}
        assert "LVOLT" not in fired(measurements(leads=leads))

    def test_precordial(self) -> None:
        statement = fired(measurements(leads=self._low(PRECORDIAL_LEADS, 0.5, -0.4)))["LVOLT"]
        assert statement.leads == list(PRECORDIAL_LEADS)

    def test_precordial_just_misses(self) -> None:
        assert "LVOLT" not in fired(measurements(leads=self._low(PRECORDIAL_LEADS, 0.6, -0.4)))

    def test_unusable_limb_lead_blocks(self) -> None:
        m = measurements(leads=self._low(LIMB_LEADS, 0.3, -0.1), unusable=["aVL"])
        result = explain("LVOLT", m)
        assert not result.met and not result.assessable
        assert all(e.lead != "aVL" for e in result.evidence)
