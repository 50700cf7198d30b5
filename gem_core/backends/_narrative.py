"""The criteria backend's text: a GEM-style interpretation written from the measurements.

Every number in the text is a measured value, rounded as a clinician reads it off paper
(intervals to the ms, rate to the bpm, axes to the degree, amplitudes to 0.05 mV): the
verifier finds nothing to contradict. Statement names come from the vocabulary, so the
verifier maps them back to the same codes. Neighbours' labels are hedged ("possible ..."):
they describe other patients, and the verifier never counts a hedged mention as contradicted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from gem_core.prompting import (
    CaseLike,
    case_labels,
    clean_text,
    fmt_bpm,
    fmt_deg,
    fmt_ms,
    fmt_mv,
    interval_parts,
    join_leads,
    round_mv,
)
from tools.measure.model import Evidence, GlobalMeasurements, Measurements, Statement

#: Rhythm statements that name the underlying rhythm (the others are added beats/variability).
PRIMARY_RHYTHMS: tuple[str, ...] = ("SR", "STACH", "SBRAD", "AFIB")
#: Global measures already stated in the rate/interval/axis sentences (not repeated as evidence).
STATED_GLOBALLY = frozenset(
    {
        "heart_rate_bpm", "pr_ms", "qrs_ms", "qtc_bazett_ms", "qrs_axis_deg", "p_axis_deg",
        "n_beats", "p_wave_fraction", "premature_beats",
    }
)  # fmt: skip
#: More lead groups than this in one finding: the per-lead values are left out (too long).
MAX_LEAD_GROUPS = 3
#: Neighbour labels named in the similar-cases sentence.
MAX_CASE_LABEL_NAMES = 3
#: Lead whose per-beat ranges are quoted first (the rhythm strip), then the usual fallbacks.
RANGE_LEADS: tuple[str, ...] = ("II", "V5", "I", "V2")


Phrase = Callable[[float | str], str | None]


def _num(value: float | str) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _st_level(value: float | str) -> str | None:
    v = _num(value)
    if v is None or round_mv(v) == 0:
        return None
    return f"ST elevation of {fmt_mv(v)}" if v > 0 else f"ST depression of {fmt_mv(-v)}"


def _mv_phrase(template: str) -> Phrase:
    def phrase(value: float | str) -> str | None:
        v = _num(value)
        return template.format(fmt_mv(abs(v))) if v is not None and round_mv(v) != 0 else None

    return phrase


def _ms_phrase(template: str) -> Phrase:
    def phrase(value: float | str) -> str | None:
        v = _num(value)
        return template.format(fmt_ms(v)) if v is not None else None

    return phrase


def _t_polarity(value: float | str) -> str | None:
    return "T-wave inversion" if value == "negative" else f"{value} T wave"


def _ratio(value: float | str) -> str | None:
    v = _num(value)
    return f"R/S ratio {v:.1f}" if v is not None else None


#: Per-lead evidence measure -> phrase (measures not listed are not written out). Left out on
#: purpose: ``st_form`` (the criteria read the median beat, GEM's feature is per beat, and the
#: two disagree on noisy records) and ``qrs_peak_to_peak_mv`` (GEM's "QRS amplitude" is a
#: different measure): a reader would check them against the other definition.
LEAD_PHRASES: dict[str, Phrase] = {
    "j_level_mv": _st_level,
    "st_depression_mv": _mv_phrase("ST depression of {}"),
    "t_polarity": _t_polarity,
    "q_duration_ms": _ms_phrase("Q-wave duration {}"),
    "q_depth_mv": _mv_phrase("Q-wave depth {}"),
    "qrs_morphology": lambda value: f"QRS morphology {value}",
    "r_amplitude_mv": _mv_phrase("R-wave amplitude {}"),
    "r_s_ratio": _ratio,
    "p_amplitude_mv": _mv_phrase("P-wave amplitude {}"),
}
#: Global evidence measure -> phrase (derived voltages, rhythm irregularity, beat counts).
GLOBAL_PHRASES: dict[str, Phrase] = {
    "sokolow_lyon_mv": _mv_phrase("Sokolow-Lyon voltage {}"),
    "cornell_mv": _mv_phrase("Cornell voltage {}"),
    "rr_range_ms": _ms_phrase("RR intervals varying over {}"),
    "rr_irregularity": lambda v: f"RR irregularity index {float(v):.2f}",
}


def narrative(
    measurements: Measurements, statements: Sequence[Statement], cases: Sequence[CaseLike]
) -> str:
    """The interpretation paragraph, then a line on similar cases when there are any."""
    g = measurements.global_
    sentences = [
        _rhythm_sentence(g, statements),
        _interval_sentence(g),
        _axis_sentence(g),
        *_beat_range_sentences(measurements),
        *_finding_sentences(statements),
        _excluded_sentence(measurements),
        _interpretation_sentence(statements, g),
    ]
    paragraph = " ".join(s for s in sentences if s)
    similar = similar_cases_sentence(cases)
    return f"{paragraph}\n{similar}" if similar else paragraph


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _rhythm_sentence(g: GlobalMeasurements, statements: Sequence[Statement]) -> str | None:
    primary = next((s for s in statements if s.code in PRIMARY_RHYTHMS), None)
    hr = g.heart_rate_bpm
    if primary is not None:
        text = _cap(primary.name) + (f" at {fmt_bpm(hr)}" if hr is not None else "")
    elif hr is not None:
        text = f"Heart rate {fmt_bpm(hr)}"
    else:
        return None
    if g.rr_min_ms is not None and g.rr_max_ms is not None:
        text += f", RR intervals {round(g.rr_min_ms)} to {fmt_ms(g.rr_max_ms)}"
    return text + "."


def _interval_sentence(g: GlobalMeasurements) -> str | None:
    parts = interval_parts(g, prose=True)
    return ", ".join(parts) + "." if parts else None


def _axis_sentence(g: GlobalMeasurements) -> str | None:
    axes = (("QRS axis", g.qrs_axis_deg), ("P axis", g.p_axis_deg), ("T axis", g.t_axis_deg))
    parts = [f"{label} {fmt_deg(v)}" for label, v in axes if v is not None]
    return ", ".join(parts) + "." if parts else None


def _beat_range_sentences(measurements: Measurements) -> list[str]:
    """GEM-style per-beat ranges of QRS duration and PR interval in one lead."""
    if measurements.beats is None or not measurements.beats.features:
        return []
    by_lead = {
        f.lead: f for f in measurements.beats.features if f.lead in measurements.usable_leads
    }
    lead = next((name for name in RANGE_LEADS if name in by_lead), None)
    if lead is None:
        return []
    features = by_lead[lead]
    sentences = []
    for label, values in (
        ("QRS durations", features.qrs_duration_ms),
        ("PR intervals", features.pr_ms),
    ):
        known = [round(v) for v in values if v is not None]
        if len(known) < 2:
            continue
        low, high = min(known), max(known)
        if low == high:
            sentences.append(f"{label} in lead {lead} are {low} ms on every measured beat.")
        else:
            sentences.append(f"{label} in lead {lead} range from {low} to {high} ms.")
    return sentences


def _finding_sentences(statements: Sequence[Statement]) -> list[str]:
    """One sentence of evidence per statement; a finding already written for a lead (the
    territorial ST statements repeat the non-specific one) is not written again."""
    written: set[tuple[str, str | None]] = set()
    sentences: list[str] = []
    for statement in statements:
        sentence = _evidence_sentence(statement, written)
        if sentence:
            sentences.append(sentence)
    return sentences


def _evidence_sentence(statement: Statement, written: set[tuple[str, str | None]]) -> str | None:
    met = [e for e in statement.evidence if e.met and e.value is not None]
    parts: list[str] = []
    for e in met:
        if e.lead is not None or e.measure in STATED_GLOBALLY:
            continue
        phrase = _global_phrase(e)
        if phrase and (phrase, None) not in written:
            written.add((phrase, None))
            parts.append(phrase)
    parts += _lead_groups(statement, met, written)
    return _cap("; ".join(parts)) + "." if parts else None


def _global_phrase(e: Evidence) -> str | None:
    if e.measure.startswith("beat_counts.") and isinstance(e.value, int | float):
        kind = e.measure.split(".", 1)[1].replace("_", " ")
        return f"{round(e.value)} {kind} beats"
    phrase = GLOBAL_PHRASES.get(e.measure)
    return phrase(e.value) if phrase and e.value is not None else None


def _lead_phrases(lead: str, met: list[Evidence], numeric: bool) -> tuple[str, ...]:
    """Phrases of one lead's evidence (only the non-numeric ones unless ``numeric``)."""
    phrases: list[str] = []
    for e in met:
        write = LEAD_PHRASES.get(e.measure)
        if e.lead != lead or write is None or e.value is None:
            continue
        if not numeric and isinstance(e.value, int | float):
            continue
        phrase = write(e.value)
        if phrase and phrase not in phrases:
            phrases.append(phrase)
    return tuple(phrases)


def _lead_groups(
    statement: Statement, met: list[Evidence], written: set[tuple[str, str | None]]
) -> list[str]:
    """``<finding> in <leads>`` for the statement's leads, leads with equal findings merged.

    Each finding names its leads (``ST depression of 0.15 mV in V4 and V5; downsloping ST
    segment in V4 and V5``), so every number is tied to the leads it was measured in.

    When the values differ in more than MAX_LEAD_GROUPS ways, only the non-numeric findings
    (morphology, polarity, ST form) are written, or nothing. Findings in ``written`` are
    skipped; the ones returned are added to it.
    """
    for numeric in (True, False):
        groups: dict[tuple[str, ...], list[str]] = {}
        for lead in statement.leads:
            phrases = _lead_phrases(lead, met, numeric)
            key = " and ".join(phrases)
            if phrases and (key, lead) not in written:
                groups.setdefault(phrases, []).append(lead)
        if len(groups) <= MAX_LEAD_GROUPS:
            for phrases, leads in groups.items():
                written.update((" and ".join(phrases), lead) for lead in leads)
            return [
                f"{phrase} in {join_leads(leads)}"
                for phrases, leads in groups.items()
                for phrase in phrases
            ]
    return []


def _excluded_sentence(measurements: Measurements) -> str | None:
    excluded = [n for n in measurements.lead_names if n not in measurements.usable_leads]
    if not excluded:
        return None
    word = "Lead" if len(excluded) == 1 else "Leads"
    return f"{word} {join_leads(excluded)} excluded for poor signal quality."


def _interpretation_sentence(statements: Sequence[Statement], g: GlobalMeasurements) -> str:
    if statements:
        items = [f"{s.name} ({join_leads(s.leads)})" if s.leads else s.name for s in statements]
        return "Interpretation: " + "; ".join(items) + "."
    if g.heart_rate_bpm is None and g.qrs_ms is None:
        return "Interpretation: the recording could not be measured reliably."
    return "Interpretation: the measurements meet none of the implemented diagnostic criteria."


def similar_case_labels(cases: Sequence[CaseLike]) -> list[tuple[str, int]]:
    """Label names of the cases with the number of cases carrying each, most frequent first."""
    counts: Counter[str] = Counter()
    for case in cases:
        names = {clean_text(name, 60).lower(): None for _, name in case_labels(case)}
        counts.update(name for name in names if name)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def similar_cases_sentence(cases: Sequence[CaseLike]) -> str | None:
    """``Similar cases: possible sinus rhythm (4 of 5); ...`` (hedged: other patients)."""
    if not cases:
        return None
    labels = similar_case_labels(cases)[:MAX_CASE_LABEL_NAMES]
    if not labels:
        return f"Similar cases: {len(cases)} retrieved, none labelled."
    n = len(cases)
    return (
        "Similar cases: " + "; ".join(f"possible {name} ({k} of {n})" for name, k in labels) + "."
    )
