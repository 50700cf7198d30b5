"""Every number the synthetic ECG generator uses, in one place, each with its reason.

Geometry convention (stated once): the cardiac dipole is a 3-D vector ``(x, y, z)`` in mV with
``x`` pointing to the patient's left, ``y`` inferior (towards the feet) and ``z`` anterior.
Frontal-plane angles are measured from +x towards +y (the hexaxial convention: lead I at 0°,
aVF at +90°); transverse-plane angles from +x towards +z (V6 near 0°, V1 near 120°).
"""

from __future__ import annotations

import math

# ---- spec ranges ---------------------------------------------------------------------------
HR_RANGE_BPM = (30.0, 220.0)  # marked bradycardia to the fastest SVT a benchmark sweeps
PR_RANGE_MS = (80.0, 400.0)  # pre-excitation-short to marked first-degree AV block
P_RANGE_MS = (40.0, 160.0)  # P wave durations seen from infants to severe atrial enlargement
QRS_RANGE_MS = (70.0, 180.0)  # narrow normal QRS to very wide bundle branch block
QT_RANGE_MS = (120.0, 700.0)  # shortest QT at 220 bpm to marked long-QT at bradycardia
QTC_RANGE_MS = (300.0, 650.0)  # short-QT to extreme long-QT syndromes
AXIS_RANGE_DEG = (-180.0, 180.0)  # the whole frontal circle: -90..-180 is the extreme axis
AMPLITUDE_SCALE_RANGE = (0.2, 4.0)  # low-voltage QRS to marked LVH voltage
DURATION_RANGE_S = (1.0, 600.0)  # one beat's worth up to a 10-minute strip
FS_RANGE_HZ = (100.0, 2000.0)  # CODE-15 400 Hz / PTB 1000 Hz both inside; >= 100 keeps QRS shape
FLUTTER_RATE_RANGE_BPM = (200.0, 350.0)  # atypical (slow) to typical (~300/min) flutter
FLUTTER_RATIOS = (2, 3, 4)  # fixed AV conduction ratios seen in flutter
ST_SHIFT_MAX_MV = 1.0  # beyond 1 mV ST deviation is a monophasic current of injury, not ST
NOISE_MAX_MV = 5.0  # larger than any ECG wave: enough for "unreadable" quality tests
POWERLINE_FREQS_HZ = (50.0, 60.0)  # mains frequencies worldwide
DELTA_WAVE_RANGE_MS = (20.0, 80.0)  # pre-excitation delta waves last about 20-80 ms
RESPIRATORY_DEPTH_RANGE = (0.01, 0.2)  # barely visible to marked respiratory RR modulation

# ---- timing defaults -----------------------------------------------------------------------
DEFAULT_HR_BPM = 72.0  # textbook resting rate
DEFAULT_QTC_MS = 410.0  # middle of the normal QTc range (350-440 ms)
DEFAULT_QRS_MS = 90.0  # normal adult QRS (80-100 ms)
DEFAULT_BBB_QRS_MS = 140.0  # typical complete bundle branch block width
BBB_MIN_QRS_MS = 120.0  # complete BBB criterion (AHA/ACCF/HRS 2009 recommendations)
DEFAULT_IRBBB_QRS_MS = 110.0  # incomplete RBBB: 110-119 ms in adults (AHA/ACCF/HRS 2009)
IRBBB_MIN_QRS_MS = 100.0  # an RBBB pattern narrower than 100 ms is a normal rSr' variant
#: Pre-excitation: the normal activation that follows the delta wave needs at least this long
#: (the narrowest normal QRS).
PREEXCITED_MIN_NORMAL_MS = 60.0
DEFAULT_P_MS = 100.0  # normal P wave duration (< 120 ms)
PR_AT_REST_MS = 160.0  # normal PR at rest (120-200 ms)
PR_AT_MAX_RATE_MS = 100.0  # PR shortens with rate; 100 ms keeps the P visible at 220 bpm
PR_SHORTENING_FROM_BPM = 80.0  # PR is rate-independent below about 80 bpm
PR_SEGMENT_DEFAULT_MS = 40.0  # default P offset to QRS onset gap when P width is derived
PR_SEGMENT_MIN_MS = 20.0  # an explicit P must still end before the QRS starts
TP_GAP_MIN_MS = 20.0  # T offset to the next P/QRS onset: beats never touch or overlap
JT_MIN_MS = 50.0  # the shortest ST-T (J to T offset) that still draws a T wave
ST_SEGMENT_FRACTION = 0.3  # the flat ST segment is about the first third of JT
ST_RISE_MS = 20.0  # ST shifts build up over the last 20 ms of QRS (J displaced)
T_PEAK_FRACTION = 0.6  # T peaks after its midpoint: slow upstroke, faster downstroke
PVC_QRS_MS = 150.0  # ventricular ectopic QRS width (>= 120 ms by definition)
PREMATURE_COUPLING = 0.65  # premature beats come at 65% of the sinus cycle
PREMATURE_MAX_FRACTION = 0.9  # a beat later than 90% of the cycle is not premature
PAC_RESET_FRACTION = 1.05  # after a PAC the reset sinus node fires a little late
START_MARGIN_MS = 40.0  # first wave starts at least this far into the record

# ---- rhythm --------------------------------------------------------------------------------
SINUS_ARRHYTHMIA_DEPTH = 0.1  # respiratory RR modulation of +-10% (clear sinus arrhythmia)
RESPIRATION_PERIOD_S = (3.0, 5.0)  # 12-20 breaths/min, drawn per record
AF_RR_CV = 0.2  # AF RR coefficient of variation is typically 0.15-0.3
AF_WAVE_BAND_HZ = (4.0, 9.0)  # fibrillatory waves at 240-540/min
AF_WAVE_RMS_MV = 0.04  # f waves in V1: fine-to-medium (peak about 0.1-0.15 mV)
AF_WAVE_DIPOLE = (0.3, 0.8, 0.4)  # f waves are largest in V1 and the inferior leads
FLUTTER_WAVE_MV = 0.2  # typical flutter wave amplitude in II
FLUTTER_WAVE_VECTOR = (0.1, -1.0, 0.35)  # typical CCW flutter: negative in II/III/aVF, + in V1
FLUTTER_WAVE_SKEW = 2.5  # slow descent, sharp return: the sawtooth
FLUTTER_AV_DELAY_MS = 220.0  # F wave onset to conducted QRS onset
DEFAULT_FLUTTER_RATE_BPM = 300.0  # typical atrial flutter

# ---- geometry ------------------------------------------------------------------------------
#: Transverse-plane angles of V1..V6, from the inverse Dower transform's X and Z coefficients.
PRECORDIAL_ANGLES_DEG = (118.0, 90.0, 60.0, 32.0, 8.0, -12.0)
#: Precordial lead gains relative to lead I: chest electrodes sit closer to the heart.
PRECORDIAL_GAINS = (2.0, 2.8, 3.0, 2.7, 2.3, 1.8)
#: Frontal direction (deg) of each limb lead; I, II, III unit gain, augmented leads sqrt(3)/2.
LIMB_ANGLES_DEG = (0.0, 60.0, 120.0, -150.0, -30.0, 90.0)
LIMB_GAINS = (1.0, 1.0, 1.0, math.sqrt(3) / 2, math.sqrt(3) / 2, math.sqrt(3) / 2)
#: Where the R = S crossing sits between the transition lead and the lead before it.
TRANSITION_FRACTION = 0.3
DEFAULT_TRANSITION = {  # LBBB: late transition
    "normal": "V3", "rbbb": "V3", "lbbb": "V4", "irbbb": "V3", "lafb": "V3", "lpfb": "V3",
}  # fmt: skip
#: Below this fraction of the net QRS force pointing left, the transverse solve uses this floor
#: (an explicit transition lead is only accepted when the axis points at least this far left).
LEFTWARD_FLOOR = 0.25
#: Steepest transverse rotation used (deg from the frontal x axis) to keep forces bounded.
TRANSVERSE_MAX_DEG = 70.0

# ---- wave amplitudes (mV) and shapes -------------------------------------------------------
MAIN_QRS_MV = 1.1  # dominant ventricular force: R in II about 1-1.5 mV
SEPTAL_MV = 0.12  # septal force: small r in V1, q in V6 under 25% of R
TERMINAL_MV = 0.22  # terminal basal force: small s in I, V6; r in aVR
#: Necrosis (Q-wave infarction): the dead wall gives no early force, so the initial QRS
#: vector points away from it ("window" theory; Selvester et al. 1985), and the main force
#: starts late. Sizes chosen so the territory's leads show Q of about 35 ms and >= 0.3 mV in a
#: 90 ms QRS, clear of the Q-wave criteria (30 ms, 0.1 mV).
INFARCT_MV = 0.55
INFARCT_LENGTH = 0.5  # fraction of the QRS the initial (away) force lasts
INFARCT_MAIN_START = 0.3  # the main force starts 30% into the QRS (same end)
#: Direction of the initial force (x left, y inferior, z anterior) per infarcted territory.
INFARCT_DIRECTIONS = {
    "inferior": (0.0, -1.0, 0.0),
    "lateral": (-0.75, 0.25, 0.65),
    "anteroseptal": (0.3, 0.0, -1.0),  # posterior and a little leftward: no Q in V5, V6
    "anterior": (-0.35, 0.0, -0.95),
}
RBBB_RV_MV = 0.45  # late right ventricular force of RBBB: the R' in V1
#: Fascicular blocks: the first activated (still conducting) fascicle's region gives a larger
#: initial force than the septum; 0.25 mV puts an initial r (LAFB: II, III, aVF) or q (LPFB)
#: of about 0.1-0.25 mV in the limb leads, well above the 30 uV minimum wave.
FASCICULAR_INITIAL_MV = 0.18
#: Direction of that initial force (frontal deg): LAFB inferior-rightward (q in I and aVL,
#: r in II, III, aVF); LPFB superior-leftward (r in I and aVL, q in II, III, aVF).
FASCICULAR_INITIAL_DEG = {"lafb": 120.0, "lpfb": -60.0}
FASCICULAR_INITIAL_LENGTH = 0.22  # fraction of the QRS the initial force lasts
#: Frontal axis range each fascicular pattern is built for (inclusive): the block's axis
#: (LAFB -45..-90, LPFB +90..+180; Surawicz 2009) widened by 15 degrees on the normal side,
#: so that the pattern with an axis just short of the criterion is a buildable near miss.
FASCICULAR_AXIS_DEG = {"lafb": (-90.0, -30.0), "lpfb": (75.0, 180.0)}
#: Pre-excitation (delta wave): a slow force along the QRS axis and anterior (a left-sided
#: accessory pathway, the common type A pattern: delta and R positive in V1), growing over
#: the delta wave and fading as the normal activation takes over.
DELTA_MV = 0.35
DELTA_ANTERIOR = 0.6  # anterior share of the delta force
DELTA_POWER = 1.0  # a sine leaves the baseline at an angle: a visible, slurred upstroke
DELTA_PEAK = 0.3  # the delta force peaks 30% into the normal activation (with the R wave)
LBBB_INITIAL_MV = 0.55  # LBBB's first (septal, leftward) hump of the notched R
PVC_MV = 1.6  # ectopic ventricular beats are large
PVC_AXIS_DEG = 70.0  # outflow-tract PVC: inferior axis with LBBB-like precordial pattern
PVC_TRANSITION = "V4"
P_RA_MV = 0.13  # right atrial P component
P_LA_MV = 0.11  # left atrial P component: P in II about 0.15 mV
PAC_P_MV = 0.13  # ectopic atrial P
PAC_P_AXIS_DEG = -60.0  # low atrial focus: P inverted in II, III, aVF
P_RA_AXIS_DEG = 75.0  # right atrium depolarises first, inferiorly and anteriorly
P_LA_AXIS_DEG = 40.0  # then the left atrium, leftward and posteriorly
P_RA_ANTERIOR = 0.4  # anterior share of the RA force: positive first half of P in V1
P_LA_ANTERIOR = -0.5  # posterior share of the LA force: negative second half of P in V1
#: The atria lie posterior and high, farther from the chest electrodes than the ventricles:
#: atrial waves (P, f, F) reach V1-V6 at half the ventricular lead gain.
ATRIAL_PRECORDIAL_GAIN = 0.5
T_MV = 0.35  # T wave force: T in II about 0.3 mV
T_AXIS_LIMITS_DEG = (15.0, 50.0)  # a normal T axis stays near +15..+50 whatever the QRS axis
#: Anterior (z) share of the T force: upright T in V1-V6 (normal), secondary T inversion in
#: V1-V3 (RBBB), discordant upright T in V1-V3 (LBBB).
T_ANTERIOR_FRACTION = {
    "normal": 0.35, "rbbb": -0.6, "lbbb": 0.5, "irbbb": 0.35, "lafb": 0.35, "lpfb": 0.35,
}  # fmt: skip
T_INVERTED_MIN_MV = 0.2  # a requested precordial T inversion is at least this deep
T_SIGN_MARGIN = 0.15  # limb T inversions: every constrained lead at >= 15% of T force
SECONDARY_ST_FRACTION = 0.1  # LBBB/PVC: discordant ST at 10% of the main QRS force
#: ... sloping from J into the T wave (secondary ST-T change), level halfway to the T peak
SECONDARY_ST_RISE_FRACTION = 0.5
#: Kernel powers: QRS components are sharp (R peaks), P and T rounder.
QRS_POWER = 1.5
MAIN_QRS_POWER = 2.5
P_POWER = 1.5
T_POWER = 1.5

# ---- ground truth --------------------------------------------------------------------------
#: A component is part of a lead's wave when its projected peak reaches 10 uV (well below
#: what a reader sees, above float32 rounding of a 10 mV signal).
VISIBLE_MV = 0.01

# ---- noise ---------------------------------------------------------------------------------
WANDER_DRIFT_HZ = (0.03, 0.1)  # slow electrode drift
MUSCLE_BAND_HZ = (20.0, 150.0)  # surface EMG band that overlaps the QRS
LEAD_OFF_RAIL_MV = 5.0  # a lead-off channel saturated at the amplifier rail
LEAD_OFF_NOISE_MV = 1.0  # a floating input: large hum and drift, no ECG

# ---- storage -------------------------------------------------------------------------------
WFDB_GAIN_PER_MV = 1000.0  # 1 uV per ADC unit: quantisation error <= 0.5 uV
WFDB_FMT = "16"  # 16-bit: +-32.767 mV at 1 uV resolution

# ---- labels (vocabulary "synthetic") -------------------------------------------------------
LABEL_BRADY_BPM = 60.0  # sinus bradycardia below 60 bpm (AHA/ACCF/HRS 2009)
LABEL_TACHY_BPM = 100.0  # sinus tachycardia above 100 bpm
LABEL_1AVB_PR_MS = 200.0  # first-degree AV block: PR > 200 ms
LABEL_LAD_DEG = -30.0  # left axis deviation: axis < -30 degrees
LABEL_RAD_DEG = 90.0  # right axis deviation: axis > +90 degrees
LABEL_EAD_DEG = -90.0  # extreme ("northwest") axis: below -90 degrees
#: Fascicular block labels only where the axis meets the block's definition (Surawicz 2009):
#: LAFB -45..-90, LPFB +90..+180 degrees.
LABEL_FASCICULAR_AXIS_DEG = {"lafb": (-90.0, -45.0), "lpfb": (90.0, 180.0)}
LABEL_HIGH_VOLTAGE_SCALE = 1.5  # QRS voltage raised by half: LVH-voltage territory
LABEL_LOW_VOLTAGE_SCALE = 0.5  # QRS voltage halved: low-voltage territory
LABEL_ST_MV = 0.1  # ST deviation of >= 0.1 mV is significant (4th universal MI definition)
LABEL_LONG_QTC_MS = 460.0  # prolonged QTc (AHA/ACCF/HRS 2009, women's limit)
