"""The phrasing table: one sentence, the measurement set it is read against, and the verdict
each claim must get.

Each row lists every claim the sentence must yield as ``(key, verdict)``, where the key is the
feature (numeric claims and lead findings) or the statement code (diagnoses); a row fails on a
missing, extra or differently judged claim. The measurement sets are the normal adult ECG of
:mod:`tests.verify_builders` (sinus 70 bpm, PR 160, QRS 90 with per-beat QRS 86-96 ms, QT 380,
QTc 410, axis +45, T negative only in aVR and V1) and the variants in :data:`VARIANTS`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import pytest

from agent.verify import verify_text
from tests.measurement_builders import st_leads
from tests.verify_builders import verify_measurements
from tools.measure.model import Measurements

S, C, U = "supported", "contradicted", "unverifiable"  # the verdicts

_INFERIOR = ("II", "III", "aVF")
_LATERAL_V = ("V5", "V6")

#: Variant name -> the measurement set.
VARIANTS: dict[str, Callable[[], Measurements]] = {
    "normal": verify_measurements,
    "ste_inferior": lambda: verify_measurements(leads=st_leads(0.2, _INFERIOR, st_j60_mv=0.22)),
    "std_lateral": lambda: verify_measurements(
        leads=st_leads(-0.1, _LATERAL_V, st_j60_mv=-0.1, st_form="horizontal")
    ),
    "twi_lateral": lambda: verify_measurements(
        leads={n: {"t_polarity": "negative", "t_amplitude_mv": -0.3} for n in _LATERAL_V}
    ),
    "ste_twi_lateral": lambda: verify_measurements(
        leads={
            n: {"j_level_mv": 0.2, "st_j60_mv": 0.2, "t_polarity": "negative"} for n in _LATERAL_V
        }
    ),
    "q_inferior": lambda: verify_measurements(
        leads={
            n: {"qrs_morphology": "Qr", "q_duration_ms": 40.0, "q_amplitude_mv": -0.4}
            for n in _INFERIOR
        }
    ),
    "flat_avl": lambda: verify_measurements(
        leads={"aVL": {"t_polarity": "flat", "t_amplitude_mv": 0.02}}
    ),
    "lvh": lambda: verify_measurements(
        leads={"V1": {"s_amplitude_mv": -2.0}, "V5": {"r_amplitude_mv": 2.2}}
    ),
    "long_pr": lambda: verify_measurements(global_={"pr_ms": 230.0}),
    "flutter": lambda: verify_measurements(
        global_={"atrial_periodicity": 0.65, "atrial_correlation": 0.99, "atrial_rate_bpm": 300.0}
    ),
    "fast_non_sinus": lambda: verify_measurements(
        global_={"heart_rate_bpm": 150.0, "rr_mean_ms": 400.0, "p_axis_deg": -80.0}
    ),
    "left_axis": lambda: verify_measurements(global_={"qrs_axis_deg": -50.0}),
    "brady": lambda: verify_measurements(global_={"heart_rate_bpm": 50.0, "rr_mean_ms": 1200.0}),
    "pvc4": lambda: verify_measurements(beat_types={4: "ventricular_premature"}),
    "v2v3_unusable": lambda: verify_measurements(unusable=["V2", "V3"]),
    "v6_dropped": lambda: verify_measurements(drop=["V6"]),
}


class Row(NamedTuple):
    text: str
    expected: list[tuple[str, str]]  # (feature or statement code, verdict)
    variant: str = "normal"


# fmt: off
ROWS: list[Row] = [
    # --- global numbers, units -------------------------------------------------------------
    Row("Heart rate of about 70 bpm.", [("heart_rate_bpm", S)]),
    Row("The heart rate is 90 bpm.", [("heart_rate_bpm", C)]),
    Row("The ventricular rate is 72 beats per minute.", [("heart_rate_bpm", S)]),
    Row("HR 68/min.", [("heart_rate_bpm", S)]),
    Row("The heart rate is 74.", [("heart_rate_bpm", S)]),
    Row("A rate of 110 bpm.", [("heart_rate_bpm", C)]),
    Row("PR interval 0.16 s.", [("pr_ms", S)]),
    Row("PR interval 0.24 s.", [("pr_ms", C)]),
    Row("The PR interval measures approximately 170 ms.", [("pr_ms", S)]),
    Row("QRS duration 0.09 s.", [("qrs_ms", S)]),
    Row("QRS duration of 120 ms.", [("qrs_ms", C)]),
    Row("QT interval 380 ms and QTc 410 ms.", [("qt_ms", S), ("qtc_ms", S)]),
    Row("QTc of 480 ms.", [("qtc_ms", C)]),
    Row("QTcF 400 ms.", [("qtc_fridericia_ms", S)]),
    Row("The QRS axis is -45°.", [("qrs_axis_deg", C)]),
    Row("The electrical axis is +60 degrees.", [("qrs_axis_deg", S)]),
    Row("Axis -30.", [("qrs_axis_deg", C)]),
    Row("P wave duration 100 ms.", [("p_duration_ms", S)]),
    Row("RR interval ~850 ms.", [("rr_ms", S)]),
    Row("The atrial rate is 300 bpm.", [("atrial_rate_bpm", U)]),
    # --- ranges, lists, bounds --------------------------------------------------------------
    Row("RR intervals range from 830 to 885 ms.", [("rr_ms", S)]),
    Row("The heart rate varies between 60 and 90 bpm.", [("heart_rate_bpm", C)]),
    Row("QRS durations in lead I range from 86 to 96 ms.", [("qrs_ms", S)]),
    Row("QRS durations in lead I range from 92 to 132 ms.", [("qrs_ms", C)]),
    Row("QRS durations in lead II were 86, 90 and 96 ms.", [("qrs_ms", S)]),
    Row("QRS durations in leads I and II range from 0.086 to 0.096 s.", [("qrs_ms", S)]),
    Row("The PR interval is 120-200 ms.", [("pr_ms", S)]),
    Row("The PR interval is between 200 and 240 ms.", [("pr_ms", C)]),
    Row("QRS duration > 120 ms.", [("qrs_ms", C)]),
    Row("QRS duration less than 0.12 s.", [("qrs_ms", S)]),
    Row("QTc at least 450 ms.", [("qtc_ms", C)]),
    Row("No ST elevation greater than 1 mm in V1-V3.", [("st_elevation_mv", S)]),
    Row("No ST elevation greater than 1 mm in II, III and aVF.", [("st_elevation_mv", C)],
        "ste_inferior"),
    Row("QRS duration is not 90 ms.", [("qrs_ms", U)]),
    # --- amplitudes: mm, mV, µV ---------------------------------------------------------------
    Row("ST elevation of 2 mm in II, III and aVF.", [("st_elevation_mv", S)], "ste_inferior"),
    Row("ST elevation of 2 mm in II, III and aVF.", [("st_elevation_mv", C)]),
    Row("ST depression of 0.1 mV in V5 and V6.", [("st_depression_mv", S)], "std_lateral"),
    Row("R wave amplitude of 1.4 mV in V5.", [("r_amplitude_mv", S)]),
    Row("The R wave in V5 measures 25 mm.", [("r_amplitude_mv", C)]),
    Row("S wave depth of 1.2 mV in V2.", [("s_amplitude_mv", S)]),
    Row("T wave amplitude of 300 µV in lead II.", [("t_amplitude_mv", S)]),
    Row("P wave amplitude 0.15 mV in lead II.", [("p_amplitude_mv", S)]),
    Row("T wave amplitude of -0.3 mV in lead II.", [("t_amplitude_mv", C)]),
    Row("ST elevation of 2 mm.", [("st_elevation_mv", U)]),
    # --- per-lead and per-beat numbers ------------------------------------------------------
    Row("In lead V1, the QRS duration is 88 ms.", [("qrs_ms", S)]),
    Row("QRS duration of 130 ms in V1.", [("qrs_ms", C)]),
    Row("QRS 95 ms in V1 and 110 ms in V6.", [("qrs_ms", S), ("qrs_ms", C)]),
    Row("The third beat in lead I has a QRS duration of 90 ms.", [("qrs_ms", S)]),
    Row("The 2nd beat in lead I has a QRS duration of 120 ms.", [("qrs_ms", C)]),
    Row("Beat 15 in lead I has a QRS duration of 90 ms.", [("qrs_ms", U)]),
    Row("The fourth beat is a premature ventricular contraction.", [("PVC", S)], "pvc4"),
    Row("The fourth beat is a premature ventricular contraction.", [("PVC", C)]),
    Row("QRS duration of 90 ms in V6.", [("qrs_ms", U)], "v6_dropped"),
    # --- lead findings ------------------------------------------------------------------------
    Row("T wave inversion in the inferior leads.", [("t_inversion", C)]),
    Row("T wave inversion in V5 and V6.", [("t_inversion", S)], "twi_lateral"),
    Row("T waves are inverted in leads V1-V3.", [("t_inversion", C)]),
    Row("T waves are not inverted in V5-V6.", [("t_inversion", S)]),
    Row("T wave inversion in lead V2 is absent.", [("t_inversion", S)]),
    Row("Possible T wave inversion in V1 to V3.", [("t_inversion", U)]),
    Row("Upright T waves in all leads except aVR.", [("t_upright", S)]),
    Row("ST elevation in the inferior leads.", [("st_elevation", S)], "ste_inferior"),
    Row("ST elevation in the inferior leads.", [("st_elevation", C)]),
    Row("No ST elevation in leads II, III and aVF.", [("st_elevation", S)]),
    Row("No ST elevation in leads II, III and aVF.", [("st_elevation", C)], "ste_inferior"),
    Row("Horizontal ST depression in the lateral precordial leads V5-V6.",
        [("st_depression", S)], "std_lateral"),
    Row("Pathological Q waves in II, III and aVF.", [("q_wave", S)], "q_inferior"),
    Row("Pathological Q waves in II, III and aVF.", [("q_wave", C)]),
    Row("Small septal q waves in V5 and V6.", []),
    Row("Flat T waves in lead aVL.", [("t_flat", S)], "flat_avl"),
    Row("Flat T waves in lead II.", [("t_flat", C)]),
    Row("ST elevation in V2 and V3.", [("st_elevation", U)], "v2v3_unusable"),
    Row("ST elevation and T wave inversion in V5 and V6.",
        [("st_elevation", S), ("t_inversion", S)], "ste_twi_lateral"),
    Row("Upsloping ST segments in lead I.", [("st_form_upslope", S)]),
    Row("Horizontal ST segments in lead I.", [("st_form_horizontal", C)]),
    # --- diagnoses ----------------------------------------------------------------------------
    Row("Sinus rhythm.", [("SR", S)]),
    Row("Atrial fibrillation.", [("AFIB", C)]),
    Row("No evidence of atrial fibrillation.", [("AFIB", S)]),
    Row("Possible LVH.", [("LVH", U)]),
    Row("Possible LVH.", [("LVH", S)], "lvh"),
    Row("LVH is unlikely.", [("LVH", S)]),
    Row("LVH is unlikely.", [("LVH", U)], "lvh"),
    Row("Left bundle branch block.", [("CLBBB", C)]),
    Row("LBBB is absent.", [("CLBBB", S)]),
    Row("IRBBB.", [("IRBBB", C)]),
    Row("This rules out RBBB.", [("CRBBB", S)]),
    Row("Cannot exclude inferior MI.", [("IMI", U)]),
    Row("First-degree AV block.", [("1AVB", S)], "long_pr"),
    Row("Normal ECG.", [("NORM", U)]),
    Row("Atrial flutter.", [("AFLT", C)]),
    Row("Atrial flutter.", [("AFLT", S)], "flutter"),
    Row("Atrial flutter.", [("AFLT", U)], "fast_non_sinus"),
    Row("Left axis deviation.", [("GEM:LAD", C)]),
    Row("Left axis deviation.", [("GEM:LAD", S)], "left_axis"),
    Row("Sinus bradycardia.", [("SBRAD", S)], "brady"),
    Row("Sinus rhythm without ST elevation.", [("SR", S), ("STE_", S)]),
    Row("Inferior ST elevation.", [("GEM:STE_INF", S)], "ste_inferior"),
    Row("Mobitz type II second degree AV block.", [("2AVB", U)]),
    # --- qualitative intervals ----------------------------------------------------------------
    Row("Narrow QRS complexes.", [("qrs_ms", S)]),
    Row("Wide QRS complexes.", [("qrs_ms", C)]),
    Row("The PR interval is normal.", [("pr_ms", S)]),
    Row("Normal QTc.", [("qtc_ms", S)]),
    Row("The PR interval is within normal limits.", [("pr_ms", S)]),
    # --- mixed sentences -----------------------------------------------------------------------
    Row("Sinus rhythm at 70 bpm with a PR interval of 0.16 s, QRS of 90 ms and T wave "
        "inversion in V1.",
        [("SR", S), ("heart_rate_bpm", S), ("pr_ms", S), ("qrs_ms", S), ("t_inversion", S)]),
    Row("There is no ST elevation, but T wave inversion is seen in V5 and V6.",
        [("STE_", S), ("t_inversion", C)]),
    Row("Sinus rhythm; possible LVH; no evidence of LBBB.", [("SR", S), ("LVH", U), ("CLBBB", S)]),
    Row("Recorded at 25 mm/s and 10 mm/mV on a 12-lead ECG.", []),
    Row("The patient is 62 years old and weighs 80 kg.", []),
]
# fmt: on


def _verdicts(text: str, m: Measurements) -> list[tuple[str, str]]:
    verification = verify_text(text, m)
    keys = [
        (c.claim.statement_code if c.claim.kind == "diagnosis" else c.claim.feature) or "?"
        for c in verification.checks
    ]
    return sorted(zip(keys, (c.verdict for c in verification.checks), strict=True))


def test_table_is_large_enough() -> None:
    assert len(ROWS) >= 60
    assert {row.variant for row in ROWS} == set(VARIANTS)


@pytest.mark.parametrize("row", ROWS, ids=[f"{r.variant}:{r.text[:48]}" for r in ROWS])
def test_phrasing(row: Row) -> None:
    assert _verdicts(row.text, VARIANTS[row.variant]()) == sorted(row.expected)
