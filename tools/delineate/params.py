"""Every constant of the delineator, in one place, each with a one-line justification.

Durations are in milliseconds and converted to samples at the record's rate, so the same
numbers serve 250 Hz (QTDB), 360 Hz (MIT-BIH) and 500 Hz (LUDB, PTB-XL) records.
"""

from __future__ import annotations

from typing import NamedTuple

# --- Smoothing (zero-phase Gaussian kernels) ------------------------------------------------
#: QRS scale: a 3 ms Gaussian has its -3 dB point near 44 Hz, the usual 40 Hz ECG low-pass.
FINE_SIGMA_MS = 3.0
#: P/T scale: 10 ms (-3 dB near 13 Hz) keeps P and T waves (< 10 Hz) and drops QRS ripple.
COARSE_SIGMA_MS = 10.0

# --- Leads ---------------------------------------------------------------------------------
#: A lead whose smoothed peak-to-peak is below this is flat (lead off): 0.02 mV is under a
#: fifth of the smallest QRS an electrocardiograph prints legibly (0.1 mV = 1 mm).
FLAT_LEAD_MV = 0.02

# --- QRS core (multi-lead slope envelope) -------------------------------------------------
#: Half width searched around each R fiducial for the QRS slope maximum: the fiducial lies
#: inside the QRS, which lasts at most ~200 ms even in bundle-branch block.
QRS_SEARCH_HALF_MS = 100.0
#: Window half width used to measure per-lead QRS slope scales and the envelope: covers the
#: widest QRS (~200 ms) around the fiducial.
QRS_HALF_WIDTH_MS = 160.0
#: The QRS core is where the normalised multi-lead slope envelope exceeds this fraction of its
#: maximum; 0.15 spans notched/slurred complexes (LBBB) yet stops before P and T slopes.
CORE_FRACTION = 0.15
#: Smoothing of the envelope before thresholding, so a notch does not split the core.
ENVELOPE_SIGMA_MS = 6.0

#: Per-lead QRS boundaries may reach this far into neighbouring activity on the envelope
#: (a T wave right after the QRS at fast rates, a steep P before it): room for slurred ends
#: (98.6 % of LUDB expert offsets lie before that activity starts).
ACTIVITY_MARGIN_MS = 24.0

# --- QRS peaks -----------------------------------------------------------------------------
#: Smallest deflection labelled as a Q, R, S or R' wave: it must deviate at least 0.03 mV
#: from the QRS-onset level for at least 6 ms (IEC 60601-2-51:2003, Annex GG.5, minimum
#: wave). A relative threshold would hide the small initial r of an rS in a deep complex
#: (e.g. III in left anterior fascicular block) and turn it into a false Q wave.
QRS_WAVE_MIN_MV = 0.03
QRS_WAVE_MIN_MS = 6.0

# --- T wave --------------------------------------------------------------------------------
#: The T search starts this long after the lead's QRS offset (the J point is followed by at
#: least a short ST segment; starting at J would pick up the end of the S wave).
T_SEARCH_START_MS = 40.0
#: The T peak search ends at this fraction of the RR interval after the R fiducial: on LUDB
#: and QTDB the T peak lies within 0.46 sqrt(RR) s of R in 99.9 % of beats, inside 0.7 RR
#: for RR >= 0.45 s (the T offset itself may lie later; its scorer searches up to the next
#: QRS) ...
T_SEARCH_RR_FRACTION = 0.7
#: ... and never later than this after R (0.46 sqrt(RR) reaches 650 ms at RR = 2 s, 30 bpm).
T_SEARCH_MAX_MS = 650.0
#: A T offset past the next beat's P peak is re-placed to end at least this long before that
#: P onset: none, since where T and P meet (fast rates) experts end T at the P onset itself.
T_END_BEFORE_P_MS = 0.0
#: A T wave whose both phases are below this is flat: 0.05 mV = 0.5 mm, within pen width.
T_FLAT_MV = 0.05
#: ... or below this fraction of the lead's QRS peak-to-peak (scale-free flatness).
T_FLAT_FRACTION = 0.04
#: Each lead's T peak is its largest T deflection weighted by closeness (Gaussian, this
#: sigma) to the multi-lead T maximum: T waves of all leads peak within ~60 ms of each other,
#: so a small lead does not lock onto a U wave or the next P.
T_CONSENSUS_SIGMA_MS = 60.0
#: The multi-lead T maximum weighs each lead's |T| by 1 / its QRS amplitude, floored here: a
#: lead whose QRS is near-isoelectric (a lead perpendicular to the QRS axis) would otherwise
#: weigh 1000x and drag the T time onto its own P wave (synthetic LBBB, axis 0, aVF).
T_CONSENSUS_MIN_QRS_MV = 0.1
#: Expected T peak time after R is this times sqrt(RR in s), in s (Bazett-type scaling; the
#: median on LUDB and QTDB is 0.28-0.29, the 1st-99th percentiles 0.21-0.41) ...
T_PEAK_RR_COEF = 0.29
#: ... with this spread (Gaussian SD, same units): generous, so long QT still wins when it is
#: the only wave, while the next beat's P wave at fast rates loses to a smaller T wave.
T_PEAK_RR_SPREAD = 0.08
#: The opposite phase of a biphasic T is searched within this distance of the main phase.
T_PHASE_MS = 140.0
#: ... and must return towards the baseline on its far side by this fraction of its height
#: (a level step after a T wave, a misjudged baseline, is not a second phase).
T_PHASE_RETURN = 0.5
#: A T wave is biphasic when its smaller phase reaches this fraction of its larger phase.
T_BIPHASIC_RATIO = 0.5

# --- P wave --------------------------------------------------------------------------------
#: The P search starts this long before the QRS onset: PR up to ~350 ms (first-degree AV
#: block) minus the shortest QRS-to-P gap.
P_SEARCH_MS = 320.0
#: ... and ends this long before the QRS onset: on LUDB the P peak precedes the QRS onset by
#: >= 50 ms in 99.5 % of beats (a dip just before the QRS is not a P wave).
P_GAP_MS = 44.0
#: P timing deviations are measured in units of this tolerance: sinus PR varies by < 20 ms
#: beat to beat, fibrillation waves keep no fixed timing to the QRS.
P_TIMING_TOLERANCE_MS = 30.0
#: A lead keeps its own P candidate when it lies this close to the beat's multi-lead P time
#: (LUDB experts' P peaks of one beat spread over leads with an SD of ~12 ms; P lasts ~100 ms).
P_AGREE_MS = 60.0
#: A lead whose P wave is smaller than this fraction of the beat's largest P (mV) is nearly
#: isoelectric: its P boundaries follow the other leads' (a 0.05 mV P beside a 0.2 mV one is
#: within the noise of its slopes).
P_WEAK_FRACTION = 0.25
#: The isoelectric TP stretch before a P wave is sought this far before its peak (ms): from
#: past the P onset (P lasts ~120 ms, peaks mid-wave) back to 240 ms, within the TP segment
#: at rates up to ~120/min ...
P_BASELINE_MS = (240.0, 60.0)
#: ... as the flattest stretch of this length (ms): two P/T-scale smoothing widths.
P_BASELINE_FLAT_MS = 40.0
#: A record has no P waves when, in the median lead and beat with a TP stretch, the flattest
#: stretch still moves at more than exp(-1.79) = 1/6 of the P candidate's steepest slope (log
#: ratio). Fitted on the LUDB training half: midway between its largest sinus-rhythm value
#: (-1.88) and the atrial fibrillation records above it (-1.70, -1.55), the interval with the
#: best training P detection F1. Records where the T wave runs into the P wave (sinus
#: tachycardia, 2:1 flutter) mostly have no TP stretch and get no verdict.
P_BASELINE_ACTIVITY_MAX = -1.79
#: Number of P presence features (see tools.delineate.pwave.p_presence_features).
N_PRESENCE_FEATURES = 10
#: A P wave stands alone: the rest of its search window (farther than this from its peak)
#: is baseline, unlike flutter or fibrillation waves, which fill the whole window.
P_ISOLATION_MS = 60.0

# --- Median beat ---------------------------------------------------------------------------
#: Median-beat window before and after the R fiducial: holds a long PR and a long QT.
MEDIAN_PRE_MS = 450.0
MEDIAN_POST_MS = 700.0

# --- Global (CSE) boundaries ---------------------------------------------------------------
#: Global onsets are the k-th earliest lead onset and offsets the k-th latest lead offset,
#: with k = ceil(fraction * usable leads): k = 2 of 12 leads ignores one outlier lead and
#: still follows the earliest onset (CSE convention); with 2 leads k = 1 (the earliest).
GLOBAL_ORDER_FRACTION = 0.12
#: Boundaries given a global (CSE) value: P on/off, QRS on/off, T off.
N_FUSED_BOUNDARIES = 5

# --- Boundary scorers (see tools.delineate.scorer) ------------------------------------------
#: Floor of the log slope features, relative to the wave's maximum slope: slopes under 2 %
#: of the wave's steepest are baseline (the 5 % onset threshold of Martínez et al. 2004 lies
#: just above it, so the scorer can still resolve it).
LOG_FLOOR = 0.02
#: Spacing of the scorer's taps and of its position prior: 4 ms is one sample at 250 Hz.
TAP_STEP_MS = 4.0
#: After the best-scoring position, the boundary is the score-weighted mean position within
#: this radius (sub-sample, and less jumpy between two near-equal candidates).
SOFT_RADIUS_MS = 8.0


class BoundarySpec(NamedTuple):
    """Design of one boundary scorer: where it searches and what it looks at.

    ``window_ms`` is the search range relative to the anchor; ``taps_ms`` the first and last
    feature tap relative to each candidate position; ``channels`` the feature channels
    (see :func:`tools.delineate.scorer.boundary_features`).
    """

    window_ms: tuple[float, float]
    taps_ms: tuple[float, float]
    channels: tuple[str, ...]


#: Search windows were set from the spread of the expert marks of the LUDB training half
#: around the anchors (QRS core edges for QRS, wave peaks for P and T): about 1 % of QRS
#: marks fall outside (more P and T marks where the peak anchor is misplaced) and cannot be
#: reached; taps span the wave edge.
#: All values are multiples of TAP_STEP_MS, so candidates fall on the 4 ms fitting grid.
BOUNDARY_SPECS: dict[str, BoundarySpec] = {
    "qrs_on": BoundarySpec((-80.0, 60.0), (-60.0, 60.0), ("fine", "coarse", "dev", "env")),
    "qrs_off": BoundarySpec((-48.0, 72.0), (-60.0, 60.0), ("fine", "coarse", "dev", "env")),
    "t_on": BoundarySpec((-200.0, -8.0), (-60.0, 60.0), ("fine", "coarse", "level", "env")),
    "t_off": BoundarySpec((8.0, 240.0), (-80.0, 80.0), ("fine", "coarse", "level", "envc")),
    "p_on": BoundarySpec((-120.0, -4.0), (-40.0, 40.0), ("fine", "coarse", "level", "envc")),
    "p_off": BoundarySpec((4.0, 120.0), (-40.0, 40.0), ("fine", "coarse", "level", "env")),
}
