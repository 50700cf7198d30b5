"""Rhythm criteria: sinus rate, sinus arrhythmia, atrial fibrillation, premature beats."""

from __future__ import annotations

import pytest

from tests.measurement_builders import fired, measurements
from tools.statements import explain

AF = {"p_wave_fraction": 0.0, "p_axis_deg": None, "pr_ms": None, "rr_irregularity": 0.15}


class TestSinusRhythm:
    def test_basic(self) -> None:
        result = explain("SR", measurements())
        assert result.met and result.assessable
        assert {e.measure for e in result.evidence} == {
            "p_wave_fraction", "p_axis_deg", "heart_rate_bpm",
        }  # fmt: skip

    @pytest.mark.parametrize(("hr", "code"), [(60.0, "SR"), (100.0, "SR"), (101.0, "STACH"),
                                              (59.0, "SBRAD")])  # fmt: skip
    def test_rate_edges(self, hr: float, code: str) -> None:
        codes = set(fired(measurements(global_={"heart_rate_bpm": hr})))
        assert codes & {"SR", "STACH", "SBRAD"} == {code}

    def test_too_few_p_waves(self) -> None:
        m = measurements(global_={"p_wave_fraction": 0.85})
        assert not set(fired(m)) & {"SR", "STACH", "SBRAD", "SARRH"}
        assert explain("SR", m).assessable

    @pytest.mark.parametrize("p_axis", [-30.0, 120.0])
    def test_ectopic_p_axis(self, p_axis: float) -> None:
        assert "SR" not in fired(measurements(global_={"p_axis_deg": p_axis}))

    def test_p_axis_missing_uses_lead_ii(self) -> None:
        m = measurements(global_={"p_axis_deg": None})
        result = explain("SR", m)
        assert result.met
        assert any(e.lead == "II" and e.measure == "p_amplitude_mv" for e in result.evidence)

    def test_p_axis_missing_inverted_p_in_ii(self) -> None:
        m = measurements(global_={"p_axis_deg": None}, leads={"II": {"p_amplitude_mv": -0.1}})
        assert not explain("SR", m).met

    def test_p_axis_missing_and_lead_ii_unusable(self) -> None:
        m = measurements(global_={"p_axis_deg": None}, unusable=["II"])
        result = explain("SR", m)
        assert not result.met and not result.assessable

    def test_rate_missing(self) -> None:
        result = explain("SR", measurements(global_={"heart_rate_bpm": None}))
        assert not result.met and not result.assessable


class TestSinusArrhythmia:
    def test_absolute_range(self) -> None:
        # 125 ms at a slow rate is only 8% of the mean RR: the absolute limit fires it.
        m = measurements(global_={"rr_mean_ms": 1500.0, "rr_min_ms": 1440.0, "rr_max_ms": 1565.0,
                                  "heart_rate_bpm": 40.0})  # fmt: skip
        codes = set(fired(m))
        assert {"SARRH", "SBRAD"} <= codes

    def test_relative_range(self) -> None:
        m = measurements(global_={"rr_mean_ms": 600.0, "rr_min_ms": 560.0, "rr_max_ms": 630.0,
                                  "heart_rate_bpm": 100.0})  # fmt: skip
        result = explain("SARRH", m)
        assert result.met
        absolute = next(e for e in result.evidence if e.measure == "rr_range_ms")
        assert absolute.value == pytest.approx(70.0) and not absolute.met

    def test_just_misses(self) -> None:
        m = measurements(global_={"rr_mean_ms": 857.0, "rr_min_ms": 820.0, "rr_max_ms": 900.0})
        assert "SARRH" not in fired(m)

    def test_premature_beats_exclude(self) -> None:
        m = measurements(
            global_={
                "rr_min_ms": 600.0,
                "rr_max_ms": 1000.0,
                "beat_counts": {"normal": 11, "ventricular_premature": 1},
            }
        )
        assert "SARRH" not in fired(m)
        assert "PVC" in fired(m)

    def test_unclassified_beats_not_assessable(self) -> None:
        m = measurements(global_={"rr_min_ms": 600.0, "rr_max_ms": 1000.0, "beat_counts": {}})
        result = explain("SARRH", m)
        assert not result.met and not result.assessable

    def test_no_p_waves(self) -> None:
        m = measurements(global_={**AF, "rr_min_ms": 600.0, "rr_max_ms": 1000.0})
        assert "SARRH" not in fired(m)


class TestAtrialFibrillation:
    def test_basic(self) -> None:
        codes = set(fired(measurements(global_=AF)))
        assert "AFIB" in codes
        assert not codes & {"SR", "STACH", "SBRAD", "SARRH", "1AVB"}

    @pytest.mark.parametrize(("irregularity", "met"), [(0.11, True), (0.1, False), (0.09, False)])
    def test_irregularity_edge(self, irregularity: float, met: bool) -> None:
        m = measurements(global_={**AF, "rr_irregularity": irregularity})
        assert explain("AFIB", m).met is met

    def test_p_waves_present(self) -> None:
        m = measurements(global_={**AF, "p_wave_fraction": 0.5})
        assert "AFIB" not in fired(m)

    def test_too_few_beats(self) -> None:
        result = explain("AFIB", measurements(global_={**AF, "n_beats": 5}))
        assert not result.met and not result.assessable

    def test_irregularity_missing(self) -> None:
        result = explain("AFIB", measurements(global_={**AF, "rr_irregularity": None}))
        assert not result.met and not result.assessable


#: Flutter waves as the measurement reports them (4:1 flutter at 300/min).
FLUTTER = {
    "atrial_periodicity": 0.65, "atrial_correlation": 0.99, "atrial_rate_bpm": 297.0,
    "p_axis_deg": -84.0, "pr_ms": 310.0, "heart_rate_bpm": 75.0,
}  # fmt: skip
#: Sinus rhythm whose TQ intervals were measured and hold no periodic atrial activity.
SINUS_MEASURED = {"atrial_periodicity": 0.0, "atrial_correlation": 0.6, "atrial_rate_bpm": None}


class TestAtrialFlutter:
    def test_flutter_waves_met(self) -> None:
        result = explain("AFLT", measurements(global_=FLUTTER))
        assert result.met and result.assessable
        measures = {e.measure for e in result.evidence}
        assert {"atrial_periodicity", "atrial_correlation", "atrial_rate_bpm"} <= measures
        assert result.citation and "Mason" in result.citation

    @pytest.mark.parametrize(
        ("field", "value"),
        [("atrial_periodicity", 0.41), ("atrial_correlation", 0.84),
         ("atrial_rate_bpm", 230.0), ("atrial_rate_bpm", 350.0), ("atrial_rate_bpm", None)],
    )  # fmt: skip
    def test_each_part_must_hold(self, field: str, value: float | None) -> None:
        result = explain("AFLT", measurements(global_={**FLUTTER, field: value}))
        assert not result.met and result.assessable

    def test_rate_edges_inclusive(self) -> None:
        for rate in (240.0, 340.0):
            assert "AFLT" in fired(measurements(global_={**FLUTTER, "atrial_rate_bpm": rate}))

    def test_measured_without_periodicity_is_not_met(self) -> None:
        result = explain("AFLT", measurements(global_=SINUS_MEASURED))
        assert not result.met and result.assessable

    def test_unmeasured_with_sinus_p_waves_is_not_met(self) -> None:
        result = explain("AFLT", measurements())
        assert not result.met and result.assessable
        assert result.note and "explained" in result.note

    def test_unmeasured_with_af_is_not_met(self) -> None:
        result = explain("AFLT", measurements(global_=AF))
        assert not result.met and result.assessable

    def test_unmeasured_without_sinus_p_is_not_assessable(self) -> None:
        # 2:1 flutter at 150/min: no room for two F waves, the "P" axis is not sinus
        m = measurements(global_={"p_axis_deg": -80.0, "heart_rate_bpm": 150.0})
        result = explain("AFLT", m)
        assert not result.met and not result.assessable
        assert result.note and "too short" in result.note

    def test_flutter_waves_rule_out_af(self) -> None:
        # variable AV conduction: irregular RR without P waves, but organised F waves
        m = measurements(global_={**AF, **FLUTTER, "p_axis_deg": None, "pr_ms": None})
        codes = set(fired(m))
        assert "AFLT" in codes and "AFIB" not in codes
        assert explain("AFIB", m).assessable

    def test_flutter_silences_the_p_wave_statements(self) -> None:
        sinus_axis = {**FLUTTER, "p_axis_deg": 60.0, "pr_ms": 230.0}
        codes = set(fired(measurements(global_=sinus_axis)))
        assert "AFLT" in codes
        assert not codes & {"SR", "STACH", "SBRAD", "SARRH", "1AVB"}
        assert not set(fired(measurements(global_={**sinus_axis, "pr_ms": 100.0,
                                                   "qrs_ms": 130.0}))) & {"WPW"}  # fmt: skip

    def test_unmeasured_periodicity_does_not_block_sinus(self) -> None:
        # sinus tachycardia: TQ too short to measure, the P-wave statements stand
        m = measurements(global_={"heart_rate_bpm": 130.0, "pr_ms": 230.0})
        assert {"STACH", "1AVB"} <= set(fired(m))


class TestPrematureComplexes:
    @pytest.mark.parametrize(
        ("beat_type", "code"),
        [("supraventricular_premature", "PAC"), ("ventricular_premature", "PVC")],
    )
    def test_one_beat_fires(self, beat_type: str, code: str) -> None:
        m = measurements(global_={"beat_counts": {"normal": 11, beat_type: 1}})
        statement = fired(m)[code]
        assert statement.evidence[0].value == 1.0
        assert {"PAC", "PVC"} & set(fired(m)) == {code}

    def test_none_classified_premature(self) -> None:
        result = explain("PVC", measurements())
        assert not result.met and result.assessable

    def test_not_classified(self) -> None:
        result = explain("PAC", measurements(global_={"beat_counts": {}}))
        assert not result.met and not result.assessable
        assert result.note == "beats not classified"
