"""Frontal QRS axis criteria (Surawicz 2009): normal, left, right, extreme."""

from __future__ import annotations

import pytest

from tests.measurement_builders import fired, measurements
from tools.statements import explain
from tools.statements.criteria.axis import wrap_axis_deg

AXIS_CODES = {"GEM:NAX", "GEM:LAD", "GEM:RAD", "GEM:EAD"}


class TestWrapAxisDeg:
    @pytest.mark.parametrize(
        ("angle", "wrapped"),
        [(45.0, 45.0), (180.0, 180.0), (-180.0, 180.0), (270.0, -90.0), (-200.0, 160.0),
         (540.0, 180.0)],
    )  # fmt: skip
    def test_basic(self, angle: float, wrapped: float) -> None:
        assert wrap_axis_deg(angle) == pytest.approx(wrapped)

    @pytest.mark.parametrize("angle", [None, float("nan")])
    def test_missing(self, angle: float | None) -> None:
        assert wrap_axis_deg(angle) is None


class TestAxisStatements:
    @pytest.mark.parametrize(
        ("axis", "code"),
        [(45.0, "GEM:NAX"), (-30.0, "GEM:NAX"), (90.0, "GEM:NAX"), (-31.0, "GEM:LAD"),
         (-90.0, "GEM:LAD"), (91.0, "GEM:RAD"), (180.0, "GEM:RAD"), (-91.0, "GEM:EAD"),
         (-150.0, "GEM:EAD"), (300.0, "GEM:LAD"), (200.0, "GEM:EAD")],
    )  # fmt: skip
    def test_exactly_one(self, axis: float, code: str) -> None:
        codes = set(fired(measurements(global_={"qrs_axis_deg": axis})))
        assert codes & AXIS_CODES == {code}

    def test_evidence_value_is_wrapped(self) -> None:
        statement = fired(measurements(global_={"qrs_axis_deg": 300.0}))["GEM:LAD"]
        assert statement.evidence[0].value == pytest.approx(-60.0)
        assert statement.evidence[0].unit == "deg"
        assert statement.leads == []

    @pytest.mark.parametrize("code", sorted(AXIS_CODES))
    def test_missing_axis(self, code: str) -> None:
        result = explain(code, measurements(global_={"qrs_axis_deg": None}))
        assert not result.met and not result.assessable
