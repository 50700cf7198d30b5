"""Rhythm: sinus rhythm and rate, sinus arrhythmia, atrial fibrillation and flutter, premature
complexes.

Atrial flutter is read from the flutter-wave periodicity of the TQ intervals
(:mod:`tools.measure.atrial`). With 2:1 conduction the TQ interval cannot hold two flutter
waves; the periodicity is then unmeasured and the rule is not assessable unless sinus P waves
account for the atrial activity.
"""

from __future__ import annotations

from tools.measure.model import BeatType
from tools.statements import thresholds as th
from tools.statements.criteria._base import (
    Check,
    Finding,
    Rule,
    RuleInput,
    State,
    all_of,
    any_of,
    compare,
    number,
    state_of,
    within,
)


def flutter_waves(inp: RuleInput) -> tuple[State, tuple[Check, ...]]:
    """Flutter waves in the TQ intervals: periodic, near-identical, at 240-340/min."""
    g = inp.g
    evidence = (
        compare("atrial_periodicity", g.atrial_periodicity, ">=", th.AFLT_PERIODICITY_MIN, None),
        compare("atrial_correlation", g.atrial_correlation, ">=", th.AFLT_CORRELATION_MIN, None),
        within(
            "atrial_rate_bpm",
            g.atrial_rate_bpm,
            th.AFLT_ATRIAL_RATE_MIN_BPM,
            th.AFLT_ATRIAL_RATE_MAX_BPM,
            "/min",
        ),
    )
    if number(g.atrial_periodicity) is None:
        return None, evidence[:1]
    # measured: a missing rate or correlation means "no periodic component", i.e. not met
    return all(e.met for e in evidence), evidence


def no_flutter_waves(inp: RuleInput) -> tuple[State, tuple[Check, ...]]:
    """False when flutter waves were found (their "P waves" and "PR" are F waves), else True:
    unmeasured periodicity (fast rates) does not block the P-wave statements."""
    found, evidence = inp.memo("flutter_waves", lambda: flutter_waves(inp))
    return found is not True, (evidence if found is not None else ())


def _sinus_origin(inp: RuleInput) -> tuple[State, list[Check]]:
    """P before (nearly) every beat, with a sinus P axis (else an upright P in lead II), and
    no flutter waves."""
    g = inp.g
    p_fraction = compare("p_wave_fraction", g.p_wave_fraction, ">=", th.SINUS_P_FRACTION_MIN, None)
    if number(g.p_axis_deg) is not None:
        axis = within(
            "p_axis_deg", g.p_axis_deg, th.SINUS_P_AXIS_MIN_DEG, th.SINUS_P_AXIS_MAX_DEG, "deg"
        )
    else:
        lead_ii = inp.lead("II")
        p_ii = lead_ii.p_amplitude_mv if lead_ii is not None else None
        axis = compare("p_amplitude_mv", p_ii, ">", 0.0, "mV", lead="II", note="upright P")
    no_flutter, flutter_evidence = no_flutter_waves(inp)
    evidence = [p_fraction, axis]
    state = all_of((*(state_of(e) for e in evidence), no_flutter))
    return state, [*evidence, *flutter_evidence]


def _sinus_with_rate(inp: RuleInput, rate: Check) -> Finding:
    sinus, evidence = _sinus_origin(inp)
    return Finding(all_of((sinus, state_of(rate))), (*evidence, rate))


def sinus_rhythm(inp: RuleInput) -> Finding:
    """Sinus P waves at 60-100 bpm (Mason 2007)."""
    rate = within(
        "heart_rate_bpm",
        inp.g.heart_rate_bpm,
        th.SINUS_BRADY_BELOW_BPM,
        th.SINUS_TACHY_ABOVE_BPM,
        "bpm",
    )
    return _sinus_with_rate(inp, rate)


def sinus_tachycardia(inp: RuleInput) -> Finding:
    """Sinus P waves at > 100 bpm (Mason 2007)."""
    rate = compare("heart_rate_bpm", inp.g.heart_rate_bpm, ">", th.SINUS_TACHY_ABOVE_BPM, "bpm")
    return _sinus_with_rate(inp, rate)


def sinus_bradycardia(inp: RuleInput) -> Finding:
    """Sinus P waves at < 60 bpm (Mason 2007)."""
    rate = compare("heart_rate_bpm", inp.g.heart_rate_bpm, "<", th.SINUS_BRADY_BELOW_BPM, "bpm")
    return _sinus_with_rate(inp, rate)


def _beats_enough(inp: RuleInput) -> tuple[State, Check]:
    """Enough beats to judge regularity; too few makes the rule not assessable (not "no")."""
    evidence = compare("n_beats", inp.g.n_beats, ">=", th.RHYTHM_MIN_BEATS, None)
    return (True if evidence.met else None), evidence


def _classified_count(inp: RuleInput, beat_type: BeatType) -> int | None:
    """Beats of one type, ``None`` when the beats were not classified (empty counts)."""
    counts = inp.g.beat_counts
    if sum(counts.values()) == 0:
        return None
    return counts.get(beat_type, 0)


def _premature_total(inp: RuleInput) -> int | None:
    sv = _classified_count(inp, "supraventricular_premature")
    v = _classified_count(inp, "ventricular_premature")
    return None if sv is None or v is None else sv + v


def sinus_arrhythmia(inp: RuleInput) -> Finding:
    """Sinus P waves with RR range > 120 ms or > 10% of the mean RR, no premature beats."""
    g = inp.g
    sinus, evidence = _sinus_origin(inp)
    rr_min, rr_max, rr_mean = number(g.rr_min_ms), number(g.rr_max_ms), number(g.rr_mean_ms)
    rr_range = None if rr_min is None or rr_max is None else rr_max - rr_min
    absolute = compare("rr_range_ms", rr_range, ">", th.SINUS_ARRHYTHMIA_RR_RANGE_ABOVE_MS, "ms")
    relative_value = None if rr_range is None or not rr_mean else rr_range / rr_mean
    relative = compare(
        "rr_range_fraction", relative_value, ">", th.SINUS_ARRHYTHMIA_RR_RANGE_ABOVE_FRACTION, None
    )
    premature = compare("premature_beats", _premature_total(inp), "<", 1, None)
    enough, beats = _beats_enough(inp)
    evidence += [beats, absolute, relative, premature]
    variation = any_of((state_of(absolute), state_of(relative)))
    state = all_of((sinus, enough, variation, state_of(premature)))
    return Finding(state, tuple(evidence))


def atrial_fibrillation(inp: RuleInput) -> Finding:
    """No P waves and irregularly irregular RR (normalised RMSSD > 0.1, Dash 2009), and no
    organised flutter waves (flutter with variable AV conduction is irregular too)."""
    g = inp.g
    enough, beats = _beats_enough(inp)
    evidence = (
        compare("p_wave_fraction", g.p_wave_fraction, "<=", th.AF_P_FRACTION_MAX, None),
        compare("rr_irregularity", g.rr_irregularity, ">", th.AF_RR_IRREGULARITY_ABOVE, None),
        beats,
    )
    no_flutter, flutter_evidence = no_flutter_waves(inp)
    state = all_of((*(state_of(e) for e in evidence[:2]), enough, no_flutter))
    return Finding(state, (*evidence, *flutter_evidence))


def atrial_flutter(inp: RuleInput) -> Finding:
    """Flutter waves at 240-340/min in the TQ intervals (Mason 2007).

    Unmeasured periodicity (2:1 conduction leaves no room for two flutter waves) gives "not
    assessable", except that sinus P waves or atrial fibrillation account for the atrial
    activity and give "not met".
    """
    found, evidence = inp.memo("flutter_waves", lambda: flutter_waves(inp))
    if found is not None:
        return Finding(found, evidence)
    sinus, sinus_evidence = _sinus_origin(inp)
    fibrillation = atrial_fibrillation(inp)
    if sinus is True or fibrillation.state is True:
        explained = (*evidence, *sinus_evidence, *fibrillation.evidence)
        return Finding(False, explained, note="atrial activity explained without flutter")
    return Finding(None, evidence, note="TQ intervals too short to pair two flutter waves")


def _premature(inp: RuleInput, beat_type: BeatType) -> Finding:
    count = _classified_count(inp, beat_type)
    evidence = compare(f"beat_counts.{beat_type}", count, ">=", th.PREMATURE_MIN_COUNT, "beats")
    note = "beats not classified" if count is None else None
    return Finding(state_of(evidence), (evidence,), note=note)


def premature_atrial_complexes(inp: RuleInput) -> Finding:
    """At least one beat classified supraventricular premature, with P waves (not in AF).

    In atrial fibrillation the early beats are the fibrillation's own irregularity, not
    premature atrial complexes: the rule needs the P waves that AF lacks.
    """
    found = _premature(inp, "supraventricular_premature")
    organised = compare(
        "p_wave_fraction", inp.g.p_wave_fraction, ">", th.AF_P_FRACTION_MAX, None,
        note="P waves present: early beats in AF are its irregularity",
    )  # fmt: skip
    state = all_of((found.state, state_of(organised)))
    return Finding(state, (*found.evidence, organised), note=found.note)


def premature_ventricular_complexes(inp: RuleInput) -> Finding:
    """At least one beat classified ventricular premature."""
    return _premature(inp, "ventricular_premature")


RULES: tuple[Rule, ...] = (
    Rule("SR", "sinus P waves, rate 60-100 bpm", th.MASON_2007, sinus_rhythm),
    Rule("STACH", "sinus P waves, rate > 100 bpm", th.MASON_2007, sinus_tachycardia),
    Rule("SBRAD", "sinus P waves, rate < 60 bpm", th.MASON_2007, sinus_bradycardia),
    Rule("SARRH", "sinus P waves, RR range > 120 ms or > 10%", th.CHOU_2008, sinus_arrhythmia),
    Rule("AFIB", "no P waves, irregular RR (nRMSSD)", th.DASH_2009, atrial_fibrillation),
    Rule("AFLT", "periodic flutter waves at 240-340/min", th.MASON_2007, atrial_flutter),
    Rule(
        "PAC",
        "supraventricular premature beats, P waves present",
        th.MASON_2007,
        premature_atrial_complexes,
    ),
    Rule("PVC", "ventricular premature beats", th.MASON_2007, premature_ventricular_complexes),
)
