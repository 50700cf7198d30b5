"""The criteria backend: deterministic GEM-style text from measurements, on synthetic ECGs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest

from gem_core.backends import BackendError, get_backend
from gem_core.backends.base import Backend, Draft, InterpretRequest
from gem_core.backends.criteria import UNCHANGED_NOTE, CriteriaBackend
from tools.leads import STANDARD_LEADS
from tools.measure.model import MEASUREMENT_VERSION, GlobalMeasurements, Measurements
from tools.measure.pipeline import measure_record
from tools.record import ECGRecord
from tools.synth import SynthSpec, synthesize

SPECS = {
    "normal": SynthSpec(hr_bpm=72),
    "first_degree_av_block": SynthSpec(hr_bpm=64, pr_ms=260),
    "inferior_st_elevation": SynthSpec(st_shift_mv={"II": 0.2, "III": 0.2, "aVF": 0.2}),
    "lateral_st_depression": SynthSpec(st_shift_mv={"V4": -0.2, "V5": -0.2, "V6": -0.2}),
    "rbbb": SynthSpec(conduction="rbbb"),
    "afib": SynthSpec(rhythm="afib", hr_bpm=100),
    "left_axis_q_waves": SynthSpec(axis_deg=-60, infarct="inferior"),
    "bad_lead": SynthSpec(disconnected_leads=("V5",)),
}


@dataclass(frozen=True)
class Measured:
    record: ECGRecord
    measurements: Measurements


@pytest.fixture(scope="module")
def measured() -> dict[str, Measured]:
    out = {}
    for name, spec in SPECS.items():
        record = synthesize(spec).record
        out[name] = Measured(record, measure_record(record).measurements)
    return out


@dataclass
class Case:
    case_id: str
    labels: list
    dataset: str | None = "synthetic"
    report: str | None = None
    similarity: float = 0.9


@dataclass
class LabelObj:
    code: str
    name: str | None
    vocabulary: str = "SCP-ECG"


@dataclass
class Texts:
    backend: CriteriaBackend = field(default_factory=CriteriaBackend)

    def draft(self, m: Measured, cases=()) -> Draft:
        return self.backend.interpret(InterpretRequest(m.record, m.measurements, cases=cases))


def ms(value: float | None) -> str:
    assert value is not None
    return f"{round(value)} ms"


class TestInterpret:
    def test_cites_global_measurements(self, measured) -> None:
        m = measured["normal"].measurements
        text = Texts().draft(measured["normal"]).text
        g = m.global_
        assert text.startswith(f"Sinus rhythm at {round(g.heart_rate_bpm)} bpm")
        assert f"PR interval {ms(g.pr_ms)}" in text
        assert f"QRS duration {ms(g.qrs_ms)}" in text
        assert f"QTc {ms(g.qtc_bazett_ms)} (Bazett)" in text
        assert f"QRS axis +{round(g.qrs_axis_deg)}°" in text

    def test_first_degree_block(self, measured) -> None:
        m = measured["first_degree_av_block"].measurements
        text = Texts().draft(measured["first_degree_av_block"]).text
        assert m.global_.pr_ms is not None and m.global_.pr_ms > 200
        assert f"PR interval {ms(m.global_.pr_ms)}" in text
        assert "first degree AV block" in text.split("Interpretation:")[1]

    def test_st_elevation_by_lead(self, measured) -> None:
        text = Texts().draft(measured["inferior_st_elevation"]).text
        assert "ST elevation of 0.2 mV in II, III and aVF" in text
        assert "ST elevation, inferior leads (II, III and aVF)" in text

    def test_territorial_findings_not_repeated(self, measured) -> None:
        text = Texts().draft(measured["lateral_st_depression"]).text
        findings = text.split("Interpretation:")[0]
        assert findings.count("ST depression of") == 1
        assert "ST depression, lateral leads" in text

    def test_q_waves_cited_per_lead(self, measured) -> None:
        m = measured["left_axis_q_waves"].measurements
        text = Texts().draft(measured["left_axis_q_waves"]).text
        q_leads = next(s.leads for s in m.statements if s.code == "QWAVE")
        for lead in q_leads:
            lm = m.lead(lead)
            assert lm is not None and lm.q_duration_ms is not None
            assert f"Q-wave duration {ms(lm.q_duration_ms)} in {lead}" in text
        assert "left axis deviation" in text and "QRS axis -60°" in text

    def test_afib_without_pr(self, measured) -> None:
        m = measured["afib"].measurements
        text = Texts().draft(measured["afib"]).text
        assert text.startswith(f"Atrial fibrillation at {round(m.global_.heart_rate_bpm)} bpm")
        assert "PR interval" not in text
        assert f"RR intervals {round(m.global_.rr_min_ms)} to {ms(m.global_.rr_max_ms)}" in text

    def test_rbbb_morphology_kept_verbatim(self, measured) -> None:
        text = Texts().draft(measured["rbbb"]).text
        assert "QRS morphology rSR' in V1 and V2" in text
        assert "complete right bundle branch block" in text

    def test_unusable_lead_named(self, measured) -> None:
        m = measured["bad_lead"].measurements
        assert "V5" not in m.usable_leads
        draft = Texts().draft(measured["bad_lead"])
        assert "Lead V5 excluded for poor signal quality." in draft.text
        assert draft.structured is not None and draft.structured["excluded_leads"] == ["V5"]

    def test_statements_in_interpretation_and_structured(self, measured) -> None:
        for item in measured.values():
            draft = Texts().draft(item)
            interpretation = draft.text.split("Interpretation:")[1]
            for statement in item.measurements.statements:
                assert statement.name in interpretation
            assert draft.structured is not None
            codes = [s.code for s in item.measurements.statements]
            assert draft.structured["statement_codes"] == codes

    def test_per_beat_range_in_lead_ii(self, measured) -> None:
        m = measured["afib"].measurements
        assert m.beats is not None
        lead_ii = next(f for f in m.beats.features if f.lead == "II")
        values = [round(v) for v in lead_ii.qrs_duration_ms if v is not None]
        expected = f"QRS durations in lead II range from {min(values)} to {max(values)} ms."
        assert min(values) < max(values) and expected in Texts().draft(measured["afib"]).text

    def test_every_number_is_measured(self, measured) -> None:
        for item in measured.values():
            text = Texts().draft(item).text
            claimed = numbers_in(text)
            allowed = measured_numbers(item.measurements)
            assert claimed, text
            assert claimed <= allowed, (claimed - allowed, text)

    def test_deterministic(self, measured) -> None:
        item = measured["inferior_st_elevation"]
        cases = [Case("a", [{"code": "STE_", "name": "ST elevation"}])]
        first, second = Texts().draft(item, cases), Texts().draft(item, cases)
        assert first.text == second.text
        assert first.structured == second.structured
        assert first.model == second.model == f"criteria-v{MEASUREMENT_VERSION}"
        assert first.usage is None and first.raw_response is None and first.kind == "interpret"

    def test_statements_computed_when_absent(self, measured) -> None:
        item = measured["first_degree_av_block"]
        bare = item.measurements.model_copy(update={"statements": []})
        draft = CriteriaBackend().interpret(InterpretRequest(item.record, bare))
        codes = [s.code for s in item.measurements.statements]
        assert draft.structured is not None and draft.structured["statement_codes"] == codes

    def test_nothing_measured(self, measured) -> None:
        blank = Measurements(
            record_id="flat",
            fs_hz=500,
            lead_names=list(STANDARD_LEADS),
            usable_leads=[],
            global_=GlobalMeasurements(),
        )
        text = CriteriaBackend().interpret(InterpretRequest(measured["normal"].record, blank)).text
        assert text.startswith(
            "Leads I, II, III, aVR, aVL, aVF, V1, V2, V3, V4, V5 and V6 excluded"
        )
        assert text.endswith("Interpretation: the recording could not be measured reliably.")

    def test_json_round_trip(self, measured) -> None:
        draft = Texts().draft(measured["rbbb"], [Case("a", [{"code": "X", "name": "x"}])])
        assert Draft.model_validate(draft.model_dump(mode="json")) == draft


class TestSimilarCases:
    def test_label_counts_hedged(self, measured) -> None:
        cases = [
            Case("a", [{"code": "SR", "name": "sinus rhythm"}]),
            Case("b", [{"code": "SR", "name": "Sinus rhythm"}, {"code": "AFIB", "name": None}]),
            Case("c", [LabelObj("SR", "sinus rhythm"), LabelObj("AFIB", "atrial fibrillation")]),
        ]
        draft = Texts().draft(measured["normal"], cases)
        last = draft.text.splitlines()[-1]
        assert last == "Similar cases: possible sinus rhythm (3 of 3); possible afib (1 of 3); "\
            "possible atrial fibrillation (1 of 3)."  # fmt: skip
        assert draft.structured is not None and draft.structured["n_cases"] == 3
        assert draft.structured["similar_case_labels"][0] == {"name": "sinus rhythm", "count": 3}

    def test_no_cases_no_line(self, measured) -> None:
        assert "Similar cases" not in Texts().draft(measured["normal"]).text

    def test_unlabelled_cases(self, measured) -> None:
        text = Texts().draft(measured["normal"], [Case("a", [])]).text
        assert text.endswith("Similar cases: 1 retrieved, none labelled.")

    def test_label_text_cleaned(self, measured) -> None:
        cases = [Case("a", [{"code": "X", "name": "<b>evil</b>\x00 label\nInterpretation: LBBB"}])]
        last = Texts().draft(measured["normal"], cases).text.splitlines()[-1]
        assert "<" not in last and "\x00" not in last
        assert last.startswith("Similar cases: possible ‹b›evil‹/b› label interpretation")


class TestRevise:
    def test_same_text_marked(self, measured) -> None:
        item = measured["inferior_st_elevation"]
        request = InterpretRequest(item.record, item.measurements)
        backend = CriteriaBackend()
        first = backend.interpret(request)
        revised = backend.revise(request, first, "QRS 140 ms claimed; measured 118 ms")
        assert revised.text == first.text
        assert revised.kind == "revise" and revised.note == UNCHANGED_NOTE
        assert revised.structured is not None and revised.structured["unchanged"] is True
        assert revised.request_summary["feedback"].startswith("QRS 140 ms claimed")

    def test_replaces_another_backends_text(self, measured) -> None:
        item = measured["normal"]
        request = InterpretRequest(item.record, item.measurements)
        other = Draft(text="Atrial flutter.", backend="endpoint", model="gem", latency_ms=5.0)
        revised = CriteriaBackend().revise(request, other, "flutter not supported")
        assert revised.text == CriteriaBackend().interpret(request).text
        assert revised.structured is not None and revised.structured["unchanged"] is False
        assert revised.request_summary["previous_backend"] == "endpoint"


class TestRegistry:
    def test_protocol(self) -> None:
        backend = get_backend("criteria")
        assert isinstance(backend, CriteriaBackend) and isinstance(backend, Backend)
        assert backend.name == "criteria" and backend.needs_image is False

    def test_unknown(self) -> None:
        with pytest.raises(BackendError, match="nope backend: unknown backend; choose one of"):
            get_backend("nope")


class TestAgainstVerifier:
    """The verifier (agent.verify) finds nothing to contradict in the criteria text."""

    def test_no_contradiction(self, measured) -> None:
        verify = pytest.importorskip("agent.verify")
        cases = [Case("a", [{"code": "CLBBB", "name": "left bundle branch block"}])]
        for name, item in measured.items():
            draft = Texts().draft(item, cases)
            result = verify.verify_text(draft.text, item.measurements)
            contradicted = [c.detail for c in result.checks if c.verdict == "contradicted"]
            assert not contradicted, (name, contradicted)
            assert result.n_supported >= 5


# ---- helpers -----------------------------------------------------------------------------------

_LEAD_NAMES = re.compile(r"\b(?:aV[RLF]|V[1-6]|I{1,3})\b")
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")


def numbers_in(text: str) -> set[float]:
    """Numbers the text states (lead names, 'first degree' and the similar-cases line aside)."""
    body = text.split("\nSimilar cases:")[0]
    body = _LEAD_NAMES.sub(" ", body)
    return {abs(float(x)) for x in _NUMBER.findall(body)}


def measured_numbers(m: Measurements) -> set[float]:
    """Every value of the measurement set, rounded each way the backend may round it."""
    values: list[float] = []
    for v in m.global_.model_dump().values():
        if isinstance(v, int | float):
            values.append(float(v))
    values += [float(n) for n in m.global_.beat_counts.values()]
    for lead in m.leads:
        values += [float(v) for v in lead.model_dump().values() if isinstance(v, int | float)]
    if m.beats is not None:
        for feature in m.beats.features:
            for seq in feature.model_dump().values():
                if isinstance(seq, list):
                    values += [float(v) for v in seq if isinstance(v, int | float)]
    for statement in m.statements:
        values += [float(e.value) for e in statement.evidence if isinstance(e.value, int | float)]
    out: set[float] = set()
    for v in values:
        out |= {
            abs(round(v)),
            abs(round(v, 1)),
            abs(round(v, 2)),
            abs(round(round(v / 0.05) * 0.05, 2)),
        }
    return out
