"""Every signal-quality threshold, in one place, each with its one-line justification.

Amplitudes are in mV, durations in s, fractions in [0, 1]. "Degraded" means the lead can be
measured with care (the report says why); "unusable" means it must not be measured.
Calibrated so that none of the 100 LUDB records (clean, 12-lead, 500 Hz) is unusable; the
faults the tests inject (flat, clipped, disconnected, 50/60 Hz, muscle noise, wander, NaN runs)
are caught.
"""

from __future__ import annotations

# ---- record ------------------------------------------------------------------------------
#: Shortest record worth measuring: 4 s holds 3 RR intervals at 45 bpm, the minimum for a
#: rate and a regularity estimate.
MIN_DURATION_S = 4.0

#: Fewer QRS complexes than this on the usable leads of a long-enough record: no rate, no
#: rhythm, no per-beat measurement (asystole or a detector failure; the reader must look).
MIN_QRS_COMPLEXES = 2

# ---- missing samples -------------------------------------------------------------------------
#: Any NaN run degrades a lead (the gap is interpolated for measurement).
NAN_DEGRADED_FRACTION = 0.0
#: Half a lead missing leaves too few complete beats for per-lead measurement.
NAN_UNUSABLE_FRACTION = 0.5

# ---- flat line and low amplitude --------------------------------------------------------------
#: Peak-to-peak over the whole lead below 20 microvolts is no ECG: the smallest real QRS
#: (a lead perpendicular to the axis) still shows P/T waves and noise above 50 microvolts.
FLAT_PTP_MV = 0.02
#: A 100 ms window whose peak-to-peak is below 3 microvolts (1-3 ADC steps of a 12-lead
#: recorder) is flat ...
FLAT_WINDOW_S = 0.1
FLAT_WINDOW_PTP_MV = 0.003
#: ... and flat windows count only in runs of at least 1.5 s: longer than the TP segment of a
#: coarsely quantised lead at 30 bpm, so only dropouts and disconnections count.
FLAT_MIN_RUN_S = 1.5
#: Flat for a tenth of the record: a dropout the reader must know about.
FLAT_DEGRADED_FRACTION = 0.1
#: Flat for half the record: too little signal left to measure.
FLAT_UNUSABLE_FRACTION = 0.5
#: A flat lead held this far from 0 mV sits at an amplifier rail: an electrode is off.
RAIL_OFFSET_MV = 2.0

# ---- clipping ----------------------------------------------------------------------------
#: Samples within 1/10000 of the range from the lead's max or min are "at the rail": a rail
#: holds one exact ADC value, while even a smooth, noise-free peak moves more than that
#: between samples (a looser tolerance flags the flat tops of synthetic or filtered T waves).
CLIP_TOLERANCE_FRACTION = 1e-4
#: A rail lies away from the baseline: an extreme within 5% of the range from the lead's
#: median is where a noise-free lead rests between beats, not a saturated amplifier.
CLIP_RAIL_FROM_BASELINE_FRACTION = 0.05
#: Only runs of at least 8 ms at the rail count: a clipped R peak is cut flat for tens of ms.
CLIP_MIN_RUN_S = 0.008
#: ... and at least 3 such runs (peaks cut beat after beat; a single flat stretch is not
#: clipping) unless the unusable fraction is reached.
CLIP_MIN_RUNS = 3
#: 0.5% of samples at a rail means the peaks are cut (5 ms per beat at 60 bpm).
CLIP_DEGRADED_FRACTION = 0.005
#: A tenth of the samples at a rail: amplitudes and morphology are lost.
CLIP_UNUSABLE_FRACTION = 0.1

# ---- spectral: mains, wander, muscle ---------------------------------------------------------
#: Mains frequencies checked (Europe/Asia 50 Hz, Americas 60 Hz).
POWERLINE_HZ = (50.0, 60.0)
#: Half-width of the band integrated around a mains line: mains drift is under 0.5 Hz.
POWERLINE_HALF_BAND_HZ = 1.0
#: Background for the mains estimate: the spectrum 2-6 Hz either side of the line.
POWERLINE_BACKGROUND_HZ = (2.0, 6.0)
#: Mains sinusoid amplitude (peak) from which a lead is degraded: 0.05 mV is half a millimetre
#: at 10 mm/mV, visible hum; IEC 60601-2-25 allows a recorder 0.025 mV of its own noise.
POWERLINE_DEGRADED_MV = 0.05
#: Low-pass corner of the baseline estimate: respiration and electrode drift lie below 0.5 Hz,
#: the slowest heart rates (30 bpm) at 0.5 Hz and above.
BASELINE_CUTOFF_HZ = 0.5
#: Baseline excursion (peak-to-peak) from which a lead is degraded: 1 mV (a full 10 mm box)
#: shifts ST and J-point levels by far more than the 0.1 mV ST criteria.
BASELINE_DEGRADED_MV = 1.0
#: Muscle (EMG) band: 25 Hz upward holds little QRS energy and most surface-EMG energy
#: (20-150 Hz); the top is capped below Nyquist.
MUSCLE_BAND_HZ = (25.0, 150.0)
#: Window for the running RMS of the EMG band ...
MUSCLE_WINDOW_S = 0.05
#: ... skipping windows within 80 ms of an R peak (the QRS has high-frequency content of its
#: own; 80 ms covers a wide QRS about its peak) ...
MUSCLE_QRS_GUARD_S = 0.08
#: ... when at least this many beat-free windows (0.5 s) remain; the median of their RMS is
#: the noise level.
MUSCLE_MIN_WINDOWS = 10
#: Without beats: the 25th percentile over all windows (skips the QRS windows while they fill
#: under three quarters of the record).
MUSCLE_PERCENTILE = 25
#: EMG-band RMS from which a lead is degraded: 0.025 mV is twice the high-frequency noise of
#: the noisiest clean LUDB leads and visibly fuzzes the trace.
MUSCLE_DEGRADED_MV = 0.025
#: QRS amplitude / EMG RMS below which a lead is unusable: at 3 the noise peaks (about 3 RMS)
#: reach the QRS and neither R peaks nor wave boundaries can be placed.
MUSCLE_UNUSABLE_SNR = 3.0
#: Block length for the typical QRS peak-to-peak amplitude (one beat per block at >= 30 bpm).
AMPLITUDE_BLOCK_S = 2.5

# ---- beat-locked checks ---------------------------------------------------------------------
#: Band of the beat-locked ratio: 8-40 Hz holds the QRS's steep slopes, not P/T or drift,
#: and gives noise many degrees of freedom (a stable ratio); capped below Nyquist.
QRS_BAND_HZ = (8.0, 40.0)
#: Half-width of the window around each R peak that holds the QRS (a 120 ms QRS fits; narrow
#: enough to leave room outside at 220 bpm).
QRS_HALF_WINDOW_S = 0.06
#: Beats needed before beat-locked checks are made.
MIN_BEATS = 3
#: Mean |QRS-band signal| inside the QRS windows / its mean outside them: 1.0-1.4 for a lead
#: carrying only noise (white, muscle-band, random-walk, low-passed noise, mains hum: not locked
#: to the beats found on the other leads), 1.6 and above (median 17) on all 1200 LUDB leads.
#: A low ratio means "lead off" only on a lead that also shows noise (mains, wander, muscle):
#: a clean lead perpendicular to the QRS axis has little QRS too, and is not disconnected.
LEAD_OFF_QRS_RATIO = 1.5
#: Beat-locked ratio is not computed when the QRS windows cover more than this fraction of the
#: record (little outside left to compare with).
QRS_MAX_COVERAGE = 0.8

# ---- limb-lead reversal (LA/RA) --------------------------------------------------------------
#: Template window around the R peak (s): P wave before, T wave after.
TEMPLATE_WINDOW_S = (-0.3, 0.5)
#: Windows (s from the R peak) in which the P, QRS and T deflections of the template are read.
P_WINDOW_S = (-0.26, -0.08)
QRS_WINDOW_S = (-0.06, 0.06)
T_WINDOW_S = (0.16, 0.44)
#: Width of the flattest stretch taken as the isoelectric level (PR or TP segment).
ISOELECTRIC_WIDTH_S = 0.02
#: Search range for the isoelectric stretch (s from the R peak): before the QRS.
ISOELECTRIC_SEARCH_S = (-0.3, -0.03)
#: P waves smaller than this (mV) are "absent" (atrial fibrillation, noise): not used.
P_MIN_MV = 0.03
#: Net QRS (R minus S) and T deflections must exceed this (mV) to count as a polarity.
POLARITY_MIN_MV = 0.05
