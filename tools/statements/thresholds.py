"""Every numeric threshold the criteria use, named, with its source.

Comparison direction is part of each constant's name or comment (``> 200 ms``: strictly
greater). Amplitudes are in mV (1 mm at standard gain = 0.1 mV), durations in ms, angles in
degrees in the frontal plane (range -180..+180, positive clockwise/inferior).
"""

from __future__ import annotations

from typing import Final

# --- Sources (cited by the rules in Statement.citation) --------------------------------------

MASON_2007: Final = (
    "Mason JW, Hancock EW, Gettes LS. AHA/ACCF/HRS recommendations for the standardization and "
    "interpretation of the ECG, part II: diagnostic statement list. Circulation 2007;115:1325-32"
)
SURAWICZ_2009: Final = (
    "Surawicz B et al. AHA/ACCF/HRS recommendations for the standardization and interpretation "
    "of the ECG, part III: intraventricular conduction disturbances. "
    "Circulation 2009;119:e235-e240"
)
RAUTAHARJU_2009: Final = (
    "Rautaharju PM et al. AHA/ACCF/HRS recommendations for the standardization and "
    "interpretation of the ECG, part IV: the ST segment, T and U waves, and the QT interval. "
    "Circulation 2009;119:e241-e250"
)
HANCOCK_2009: Final = (
    "Hancock EW et al. AHA/ACCF/HRS recommendations for the standardization and interpretation "
    "of the ECG, part V: ECG changes associated with cardiac chamber hypertrophy. "
    "Circulation 2009;119:e251-e261"
)
THYGESEN_2018: Final = (
    "Thygesen K et al. Fourth universal definition of myocardial infarction (2018). "
    "Circulation 2018;138:e618-e651"
)
SOKOLOW_LYON_1949: Final = (
    "Sokolow M, Lyon TP. The ventricular complex in left ventricular hypertrophy as obtained by "
    "unipolar precordial and limb leads. Am Heart J 1949;37:161-86"
)
CASALE_1987: Final = (
    "Casale PN et al. Improved sex-specific criteria of left ventricular hypertrophy for clinical "
    "and computer interpretation of electrocardiograms (Cornell voltage). "
    "Circulation 1987;75:565-72"
)
STRAUSS_2011: Final = (
    "Strauss DG, Selvester RH, Wagner GS. Defining left bundle branch block in the era of "
    "cardiac resynchronization therapy. Am J Cardiol 2011;107:927-34"
)
DASH_2009: Final = (
    "Dash S, Chon KH, Lu S, Raeder EA. Automatic real time detection of atrial fibrillation. "
    "Ann Biomed Eng 2009;37:1701-9"
)
CHOU_2008: Final = (
    "Surawicz B, Knilans TK. Chou's Electrocardiography in Clinical Practice, 6th ed. Saunders 2008"
)

# --- Rate and rhythm --------------------------------------------------------------------------

#: Sinus tachycardia: rate > 100 bpm (Mason 2007).
SINUS_TACHY_ABOVE_BPM: Final = 100.0
#: Sinus bradycardia: rate < 60 bpm (Mason 2007; the conventional limit PTB-XL/CinC label by).
SINUS_BRADY_BELOW_BPM: Final = 60.0
#: Sinus origin: a P wave before >= 90% of beats (a few missed P detections or ectopics allowed).
SINUS_P_FRACTION_MIN: Final = 0.9
#: Sinus origin: frontal P axis 0..+90 deg, i.e. P upright in I and II (Chou 2008).
SINUS_P_AXIS_MIN_DEG: Final = 0.0
SINUS_P_AXIS_MAX_DEG: Final = 90.0
#: Sinus arrhythmia: longest minus shortest RR > 120 ms (Chou 2008) ...
SINUS_ARRHYTHMIA_RR_RANGE_ABOVE_MS: Final = 120.0
#: ... or > 10% of the mean RR (the relative form, for fast rates).
SINUS_ARRHYTHMIA_RR_RANGE_ABOVE_FRACTION: Final = 0.10
#: Atrial fibrillation: P wave before <= 20% of beats ("no P waves"; tolerates spurious P
#: detections on fibrillatory waves).
AF_P_FRACTION_MAX: Final = 0.2
#: Atrial fibrillation: normalised RMSSD of RR (RMSSD / mean RR) > 0.1 (Dash 2009).
AF_RR_IRREGULARITY_ABOVE: Final = 0.1
#: Atrial flutter: regular atrial activity at 240-340/min (Mason 2007) ...
AFLT_ATRIAL_RATE_MIN_BPM: Final = 240.0
AFLT_ATRIAL_RATE_MAX_BPM: Final = 340.0
#: ... seen as flutter waves: TQ-interval periodicity >= 0.42 (tools.measure.atrial; synthetic
#: flutter 0.45-0.79 and LUDB's typical flutter 0.78, against <= 0.34 for synthetic and <= 0.38
#: for LUDB/PTB-XL/CinC sinus rhythm and AF) ...
AFLT_PERIODICITY_MIN: Final = 0.42
#: ... with a near-identical wave one cycle later: correlation >= 0.85 (flutter >= 0.95).
AFLT_CORRELATION_MIN: Final = 0.85
#: Fewest beats for a rhythm-regularity statement (5 RR intervals; a 10 s ECG at 30 bpm).
RHYTHM_MIN_BEATS: Final = 6
#: Premature complexes: one classified premature beat is enough to report it (Mason 2007).
PREMATURE_MIN_COUNT: Final = 1

# --- AV and intraventricular conduction -------------------------------------------------------

#: First-degree AV block: PR > 200 ms (Mason 2007).
PR_LONG_ABOVE_MS: Final = 200.0
#: Pre-excitation: PR < 120 ms ... (Surawicz 2009)
WPW_PR_BELOW_MS: Final = 120.0
#: ... with QRS > 120 ms (Surawicz 2009; the delta wave itself is not measured).
WPW_QRS_ABOVE_MS: Final = 120.0
#: Complete bundle branch block: QRS >= 120 ms in adults (Surawicz 2009).
BBB_QRS_MIN_MS: Final = 120.0
#: Incomplete RBBB: 110 <= QRS < 120 ms in adults (Surawicz 2009).
IRBBB_QRS_MIN_MS: Final = 110.0
#: Nonspecific IVCD: QRS > 110 ms in adults without BBB morphology (Surawicz 2009).
IVCD_QRS_ABOVE_MS: Final = 110.0
#: Fascicular blocks: QRS < 120 ms (Surawicz 2009).
FASCICULAR_QRS_BELOW_MS: Final = 120.0
#: LAFB: frontal axis -45 .. -90 deg (Surawicz 2009).
LAFB_AXIS_MIN_DEG: Final = -90.0
LAFB_AXIS_MAX_DEG: Final = -45.0
#: LPFB: frontal axis +90 .. +180 deg (Surawicz 2009).
LPFB_AXIS_MIN_DEG: Final = 90.0
LPFB_AXIS_MAX_DEG: Final = 180.0

# --- Frontal QRS axis (Surawicz 2009) ---------------------------------------------------------

#: Normal adult axis -30 .. +90 deg; left axis deviation below -30 (to -90) ...
NORMAL_AXIS_MIN_DEG: Final = -30.0
#: ... right axis deviation above +90 (to +180).
NORMAL_AXIS_MAX_DEG: Final = 90.0
#: Upper end of right axis deviation (the axis range is -180..+180).
RIGHT_AXIS_MAX_DEG: Final = 180.0
#: Below -90 (to -180): extreme ("northwest") axis.
EXTREME_AXIS_BELOW_DEG: Final = -90.0

# --- Hypertrophy and voltage ------------------------------------------------------------------

#: Sokolow-Lyon: S V1 + R V5 or V6 >= 3.5 mV (Sokolow & Lyon 1949, as in Hancock 2009).
SOKOLOW_LYON_MIN_MV: Final = 3.5
#: Cornell voltage: R aVL + S V3 > 2.8 mV in men ...
CORNELL_MEN_ABOVE_MV: Final = 2.8
#: ... and > 2.0 mV in women (Casale 1987). Sex unknown: the men's limit (fewer false calls).
CORNELL_WOMEN_ABOVE_MV: Final = 2.0
#: RVH: R in V1 >= 0.7 mV ... (Hancock 2009)
RVH_R_V1_MIN_MV: Final = 0.7
#: ... or R/S in V1 > 1, each with right axis deviation and QRS < 120 ms (Hancock 2009).
RVH_RS_RATIO_V1_ABOVE: Final = 1.0
#: Low voltage: QRS peak-to-peak < 0.5 mV in every limb lead ... (Chou 2008)
LOW_VOLTAGE_LIMB_BELOW_MV: Final = 0.5
#: ... or < 1.0 mV in every precordial lead (Chou 2008).
LOW_VOLTAGE_PRECORDIAL_BELOW_MV: Final = 1.0

# --- ST segment (Fourth Universal Definition of MI, Thygesen 2018) ----------------------------

#: New J-point elevation >= 0.1 mV in two contiguous leads other than V2-V3.
STE_MIN_MV: Final = 0.1
#: V2-V3: >= 0.2 mV in men >= 40 years ...
STE_V2V3_MEN_40_MIN_MV: Final = 0.2
#: ... >= 0.25 mV in men < 40 years (also used when sex or a man's age is unknown) ...
STE_V2V3_MEN_UNDER_40_MIN_MV: Final = 0.25
#: ... >= 0.15 mV in women regardless of age.
STE_V2V3_WOMEN_MIN_MV: Final = 0.15
#: Age that splits the two male V2-V3 limits.
STE_MEN_AGE_SPLIT_YEARS: Final = 40.0
#: Leads with the sex- and age-specific limit.
STE_V2V3_LEADS: Final = ("V2", "V3")
#: New horizontal or downsloping ST depression >= 0.05 mV in two contiguous leads.
STD_MIN_MV: Final = 0.05

# --- Q waves of prior infarction (Thygesen 2018) ----------------------------------------------

#: Any Q wave in V2-V3 > 20 ms (or QS).
Q_V2V3_ABOVE_MS: Final = 20.0
#: Elsewhere: Q >= 30 ms ...
Q_MIN_MS: Final = 30.0
#: ... and >= 0.1 mV deep (or QS) ...
Q_MIN_DEPTH_MV: Final = 0.1
#: ... in leads I, II, aVL, aVF, V4-V6 (III, aVR and V1 may show normal Q waves).
Q_ELIGIBLE_LEADS: Final = ("I", "II", "aVL", "aVF", "V4", "V5", "V6")

# --- QT and T wave (Rautaharju 2009) ----------------------------------------------------------

#: Prolonged QTc (Bazett): >= 450 ms in men ...
QTC_LONG_MEN_MIN_MS: Final = 450.0
#: ... >= 460 ms in women; sex unknown: the women's limit (fewer false calls).
QTC_LONG_WOMEN_MIN_MS: Final = 460.0
#: T inversion is not reported from leads where a negative T is normal (Rautaharju 2009).
T_INVERSION_EXCLUDED_LEADS: Final = ("aVR", "III", "V1")
