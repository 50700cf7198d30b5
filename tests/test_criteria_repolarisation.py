"""Repolarisation criteria: prolonged QTc (sex-specific) and T-wave inversion."""

from __future__ import annotations

from typing import Any

import pytest

from tests.measurement_builders import fired, measurements
from tools.statements import explain


def _negative_t(*names: str) -> dict[str, dict[str, Any]]:
    return {n: {"t_polarity": "negative", "t_amplitude_mv": -0.2} for n in names}


class TestProlongedQt:
    @pytest.mark.parametrize(
        ("qtc", "sex", "met"),
        [(451.0, "M", True), (450.0, "M", True), (449.0, "M", False), (455.0, "F", False),
         (460.0, "F", True), (455.0, None, False), (461.0, None, True)],
    )  # fmt: skip
    def test_sex_limits(self, qtc: float, sex: str | None, met: bool) -> None:
        m = measurements(global_={"qtc_bazett_ms": qtc})
        assert ("LNGQT" in fired(m, sex=sex)) is met

    def test_unknown_sex_is_stated(self) -> None:
        result = explain("LNGQT", measurements(global_={"qtc_bazett_ms": 455.0}))
        assert "sex unknown" in result.evidence[0].threshold
        assert "460" in result.evidence[0].threshold

    def test_uses_bazett_only(self) -> None:
        m = measurements(global_={"qtc_bazett_ms": None, "qtc_fridericia_ms": 500.0})
        result = explain("LNGQT", m)
        assert not result.met and not result.assessable


class TestTWaveInversion:
    def test_lateral(self) -> None:
        statement = fired(measurements(leads=_negative_t("V4", "V5", "V6")))["INVT"]
        assert statement.leads == ["V4", "V5", "V6"]
        assert all(e.value == "negative" for e in statement.evidence if e.met)

    def test_inferior(self) -> None:
        assert fired(measurements(leads=_negative_t("II", "aVF")))["INVT"].leads == ["II", "aVF"]

    @pytest.mark.parametrize("names", [("III", "aVF"), ("V1", "V2"), ("aVR",), ("V5",),
                                       ("II", "V2")])  # fmt: skip
    def test_does_not_fire(self, names: tuple[str, ...]) -> None:
        assert "INVT" not in fired(measurements(leads=_negative_t(*names)))

    def test_baseline_negative_v1_and_avr_are_normal(self) -> None:
        result = explain("INVT", measurements())
        assert result.assessable and not result.met

    def test_polarity_missing(self) -> None:
        leads = _negative_t("V5")
        leads.update({"V4": {"t_polarity": None}, "V6": {"t_polarity": None}})
        result = explain("INVT", measurements(leads=leads))
        assert not result.met and not result.assessable

    def test_unusable_leads_do_not_fire(self) -> None:
        m = measurements(leads=_negative_t("V4", "V5"), unusable=["V4"])
        assert "INVT" not in fired(m)
