"""Pathological Q waves by territory (Fourth UDMI) -> QWAVE, GEM:MI, IMI, LMI, ASMI, AMI."""

from __future__ import annotations

from typing import Any

import pytest

from tests.measurement_builders import fired, measurements
from tools.statements import explain

Q_CODES = {"QWAVE", "GEM:MI", "IMI", "LMI", "ASMI", "AMI"}


def _q(ms: float | None, depth: float | None = -0.2, morph: str = "Qr") -> dict[str, Any]:
    return {"q_duration_ms": ms, "q_amplitude_mv": depth, "qrs_morphology": morph}


def _codes(leads: dict[str, dict[str, Any]], **global_: Any) -> set[str]:
    return set(fired(measurements(global_=global_, leads=leads))) & Q_CODES


class TestInferiorQWaves:
    def test_basic(self) -> None:
        statements = fired(measurements(leads={"II": _q(35.0), "aVF": _q(40.0)}))
        assert set(statements) & Q_CODES == {"QWAVE", "GEM:MI", "IMI"}
        assert statements["IMI"].leads == ["II", "aVF"]
        durations = {e.lead: e.value for e in statements["IMI"].evidence
                     if e.measure == "q_duration_ms"}  # fmt: skip
        assert durations == {"II": 35.0, "aVF": 40.0}

    @pytest.mark.parametrize(
        ("ms", "depth", "met"),
        [(30.0, -0.1, True), (29.0, -0.2, False), (40.0, -0.09, False), (40.0, 0.15, True)],
    )
    def test_edges(self, ms: float, depth: float, met: bool) -> None:
        assert bool(_codes({"II": _q(ms, depth), "aVF": _q(ms, depth)})) is met

    def test_lead_iii_does_not_qualify(self) -> None:
        assert _codes({"II": _q(40.0), "III": _q(40.0)}) == set()

    def test_one_lead(self) -> None:
        assert _codes({"aVF": _q(60.0)}) == set()

    def test_unusable_partner(self) -> None:
        m = measurements(leads={"II": _q(40.0), "aVF": _q(40.0)}, unusable=["aVF"])
        assert not set(fired(m)) & Q_CODES

    def test_duration_missing_is_not_zero(self) -> None:
        m = measurements(leads={"II": _q(40.0), "aVF": _q(None)})
        result = explain("IMI", m)
        assert not result.met and not result.assessable


class TestAnteriorQWaves:
    @pytest.mark.parametrize(("ms", "met"), [(21.0, True), (20.0, False), (19.0, False)])
    def test_v2_v3_duration(self, ms: float, met: bool) -> None:
        leads = {"V2": _q(ms, -0.05, "qR"), "V3": _q(ms, -0.05, "qR")}
        assert _codes(leads) == ({"QWAVE", "GEM:MI", "ASMI", "AMI"} if met else set())

    def test_qs_complexes(self) -> None:
        qs = {"qrs_morphology": "QS", "q_duration_ms": None, "r_amplitude_mv": None}
        statements = fired(measurements(leads={"V2": qs, "V3": qs}))
        assert statements["ASMI"].leads == ["V2"] and statements["AMI"].leads == ["V3"]

    def test_qs_in_v1_alone_pairs_with_nothing(self) -> None:
        qs = {"qrs_morphology": "QS", "q_duration_ms": None}
        assert _codes({"V1": qs, "V2": qs}) == set()

    def test_anterolateral_neighbours(self) -> None:
        assert _codes({"V4": _q(35.0), "V5": _q(35.0)}) == {"QWAVE", "GEM:MI", "AMI", "LMI"}


class TestConfounder:
    def test_lbbb_qs_is_not_infarction(self) -> None:
        qs: dict[str, Any] = {"qrs_morphology": "QS", "q_duration_ms": None, "r_amplitude_mv": None}
        r_only: dict[str, Any] = {"qrs_morphology": "R"}
        leads = {"V1": qs, "V2": qs, "V3": qs, "I": r_only, "V5": r_only, "V6": r_only}
        m = measurements(global_={"qrs_ms": 150.0}, leads=leads)
        codes = set(fired(m))
        assert "CLBBB" in codes and not codes & Q_CODES

    def test_rbbb_keeps_q_criteria(self) -> None:
        leads = {"V1": {"qrs_morphology": "rsR'"}, "II": _q(40.0), "aVF": _q(40.0)}
        assert "IMI" in _codes(leads, qrs_ms=140.0)


class TestOnSyntheticEcgs:
    """The whole chain (synthetic signal -> delineation -> Q-wave criteria), both ways.

    The generator's infarct turns the initial QRS force away from the territory, so the
    territory's leads get Q waves of >= 30 ms and >= 0.1 mV; a left axis alone gives rS
    complexes in the inferior leads (small initial r, IEC minimum wave) and no Q waves.
    """

    @staticmethod
    def _statements(**spec: Any) -> set[str]:
        from tools.measure.pipeline import measure_record
        from tools.synth import SynthSpec, synthesize

        record = synthesize(SynthSpec(seed=3, **spec)).record
        return {s.code for s in measure_record(record).measurements.statements}

    @pytest.mark.parametrize(
        ("infarct", "expected", "absent"),
        [("inferior", "IMI", {"ASMI", "LMI"}), ("anteroseptal", "ASMI", {"IMI", "LMI"}),
         ("lateral", "LMI", {"IMI", "ASMI"})],
    )  # fmt: skip
    @pytest.mark.parametrize("axis_deg", [60.0, -40.0])
    def test_infarct_meets(
        self, infarct: str, expected: str, absent: set[str], axis_deg: float
    ) -> None:
        codes = self._statements(infarct=infarct, axis_deg=axis_deg)
        assert {"QWAVE", "GEM:MI", expected} <= codes
        assert not codes & absent

    @pytest.mark.parametrize("axis_deg", [75.0, 30.0, 0.0, -40.0, -60.0])
    def test_no_infarct_misses(self, axis_deg: float) -> None:
        assert not self._statements(axis_deg=axis_deg) & Q_CODES

    def test_left_axis_inferior_leads_are_rs(self) -> None:
        from tools.measure.pipeline import measure_record
        from tools.synth import SynthSpec, synthesize

        record = synthesize(SynthSpec(axis_deg=-45, seed=1)).record
        m = measure_record(record).measurements
        for lead in ("III", "aVF"):
            lm = m.lead(lead)
            assert lm is not None and lm.qrs_morphology is not None
            assert lm.qrs_morphology.startswith("rS"), (lead, lm.qrs_morphology)
            assert lm.q_duration_ms is None
