"""End to end on synthetic ECGs: a paragraph written from the measured values verifies without
contradiction, and altering three of its numbers contradicts exactly those three."""

from __future__ import annotations

import pytest

from agent.verify import Verification, extract_claims, feedback_text, verify_text
from tools.measure.model import Measurements
from tools.measure.pipeline import measure_record
from tools.synth import SynthSpec, synthesize

SPEC = SynthSpec(
    hr_bpm=75,
    st_shift_mv={"inferior": 0.2},
    t_inverted_leads=("V5", "V6"),
    disconnected_leads=("V2",),
    muscle_noise_mv=0.02,
)


@pytest.fixture(scope="module")
def measured() -> Measurements:
    return measure_record(synthesize(SPEC, seed=3).record).measurements


def _j_level(m: Measurements, lead: str) -> float:
    lm = m.lead(lead)
    assert lm is not None and lm.j_level_mv is not None
    return lm.j_level_mv


def _paragraph(
    m: Measurements, *, rate: float = 0.0, qrs_high: float = 0.0, st: float = 0.0
) -> str:
    """A GEM-style paragraph quoting ``m``; the keyword arguments alter three numbers."""
    g = m.global_
    assert m.beats is not None and g.heart_rate_bpm is not None
    ii = next(f for f in m.beats.features if f.lead == "II")
    qrs_ii = [v for v in ii.qrs_duration_ms if v is not None]
    j_ii = _j_level(m, "II")
    return (
        f"The ECG shows sinus rhythm with a heart rate of about {g.heart_rate_bpm + rate:.0f} bpm. "
        f"The PR interval is {g.pr_ms:.0f} ms, the QRS duration {g.qrs_ms:.0f} ms and the QTc "
        f"{g.qtc_bazett_ms:.0f} ms. The QRS axis is {g.qrs_axis_deg:+.0f} degrees. "
        f"QRS durations in lead II range from {min(qrs_ii):.0f} to {max(qrs_ii) + qrs_high:.0f} "
        f"ms. There is ST elevation of {j_ii + st:.2f} mV in leads II, III and aVF, with T wave "
        "inversion in V5 and V6. No evidence of LBBB."
    )


class TestTrueParagraph:
    def test_no_contradictions(self, measured: Measurements) -> None:
        verification = verify_text(_paragraph(measured), measured)
        assert verification.n_contradicted == 0
        assert verification.n_supported == len(verification.checks) >= 10
        assert verification.grounding_score == 1.0
        assert feedback_text(verification) == ""

    def test_claims_found(self, measured: Measurements) -> None:
        found = {(c.feature or c.statement_code) for c in extract_claims(_paragraph(measured))}
        assert {"SR", "heart_rate_bpm", "pr_ms", "qrs_ms", "qtc_ms", "qrs_axis_deg"} <= found
        assert {"st_elevation_mv", "t_inversion", "CLBBB"} <= found


@pytest.fixture(scope="module")
def altered(measured: Measurements) -> Verification:
    """The paragraph with the rate, the top of a QRS range and the ST level altered."""
    return verify_text(_paragraph(measured, rate=30, qrs_high=40, st=0.4), measured)


class TestAlteredParagraph:
    def test_exactly_the_altered_numbers_are_contradicted(self, altered: Verification) -> None:
        wrong = [str(c.claim.feature) for c in altered.checks if c.verdict == "contradicted"]
        assert sorted(wrong) == ["heart_rate_bpm", "qrs_ms", "st_elevation_mv"]
        assert altered.n_supported == len(altered.checks) - 3

    def test_the_range_claim_is_the_one_contradicted(self, altered: Verification) -> None:
        qrs = [c for c in altered.checks if c.claim.feature == "qrs_ms"]
        verdicts = {c.claim.spread: c.verdict for c in qrs}
        assert verdicts == {True: "contradicted", False: "supported"}

    def test_feedback_names_the_measured_values(
        self, altered: Verification, measured: Measurements
    ) -> None:
        text = feedback_text(altered)
        assert text.count("You wrote") == 3
        assert f"{measured.global_.heart_rate_bpm:.0f} bpm" in text
        assert f"{_j_level(measured, 'II'):.2f} mV" in text
        assert "range from" in text and "tolerance ±10 ms" in text

    def test_grounding_score(self, altered: Verification) -> None:
        assert altered.grounding_score == pytest.approx(
            altered.n_supported / (altered.n_supported + 3)
        )


class TestUnusableLead:
    """V2 is disconnected: the quality gate drops it, so claims about it cannot be checked."""

    def test_v2_is_unusable(self, measured: Measurements) -> None:
        assert "V2" not in measured.usable_leads

    @pytest.mark.parametrize(
        "text",
        [
            "QRS duration of 100 ms in lead V2.",
            "T wave inversion in V2.",
            "The third beat in V2 has a QRS duration of 100 ms.",
            "ST elevation of 1 mm in V2.",
        ],
    )
    def test_unverifiable(self, measured: Measurements, text: str) -> None:
        (check,) = verify_text(text, measured).checks
        assert check.verdict == "unverifiable"
        assert "V2" in check.detail

    def test_usable_neighbour_still_checked(self, measured: Measurements) -> None:
        (check,) = verify_text("T wave inversion in V2 and V5 and V6.", measured).checks
        assert check.verdict == "supported"


def _paragraph_from(m: Measurements) -> str:
    """A plain paragraph quoting whatever ``m`` measured (real records miss some values)."""
    g = m.global_
    parts = [
        f"The {label} is {value:.0f} {unit}."
        for label, value, unit in (
            ("heart rate", g.heart_rate_bpm, "bpm"),
            ("PR interval", g.pr_ms, "ms"),
            ("QRS duration", g.qrs_ms, "ms"),
            ("QTc", g.qtc_bazett_ms, "ms"),
            ("QRS axis", g.qrs_axis_deg, "degrees"),
        )
        if value is not None
    ]
    for entry in (m.beats.features if m.beats else [])[:3]:
        qrs = [v for v in entry.qrs_duration_ms if v is not None]
        if qrs:
            low, high = min(qrs), max(qrs)
            where = f"QRS durations in lead {entry.lead}"
            parts.append(f"{where} range from {low:.0f} to {high:.0f} ms.")
    inverted = [lm.lead for lm in m.leads if lm.t_polarity == "negative"]
    if inverted:
        parts.append(f"T wave inversion in leads {', '.join(inverted)}.")
    return " ".join(parts)


@pytest.mark.data
@pytest.mark.parametrize("record", ["1", "9", "23", "51"])
def test_real_records_verify_without_contradiction(dataset_dir, record: str) -> None:
    """LUDB records (sinus, RBBB, AF with LBBB): the paragraph of their own measurements."""
    from tools.readers import open_record

    path = dataset_dir("ludb") / "data" / f"{record}.hea"
    if not path.is_file():
        pytest.skip(f"LUDB record {record} not in this copy")
    m = measure_record(open_record(path)).measurements
    verification = verify_text(_paragraph_from(m), m)
    assert verification.checks and verification.n_contradicted == 0
