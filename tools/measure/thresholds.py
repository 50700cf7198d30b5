"""Measurement conventions: every constant that shapes a measured value, with its reason."""

from __future__ import annotations

#: Baseline = mean of the PR segment (P offset to QRS onset) when it is at least this long,
#: else of this many ms just before QRS onset (AHA/ACCF/HRS 2009 part II: amplitudes against
#: the PR-segment / QRS-onset level; GEM's FeatureDB uses the QRS-onset baseline).
BASELINE_WINDOW_MS = 10.0

#: ST levels are read this long after the J point (AHA/ACCF/HRS 2009 part VI: J+60 and J+80).
ST_J60_MS = 60.0
ST_J80_MS = 80.0

#: ST form: a J -> J+80 ms slope within +-0.05 mV per 80 ms (0.625 mV/s) is "horizontal";
#: steeper rises are "upslope", falls "declination" (GEM's three ST-form labels; 0.05 mV is the
#: half-millimetre resolution of a paper ECG).
ST_HORIZONTAL_SLOPE_MV_PER_S = 0.05 / 0.080

#: QRS letter convention: a wave of at least 0.5 mV is written upper case (Q, R, S), smaller
#: ones lower case (q, r, s) (Surawicz & Knilans, Chou's Electrocardiography, 6th ed.).
CAPITAL_WAVE_MV = 0.5

#: QTc corrections (RR in seconds, QT in ms): Bazett 1920, Fridericia 1920, Framingham
#: (Sagie et al. 1992: QT + 154 (1 - RR)), Hodges 1983 (QT + 1.75 (HR - 60)).
FRAMINGHAM_SLOPE_MS = 154.0
HODGES_SLOPE_MS_PER_BPM = 1.75

#: A beat whose R peak lies closer than this to the record's start has no room for its P wave
#: (PR up to 300 ms plus half a P wave); it is left out of the P-wave fraction.
P_SEARCH_ROOM_MS = 350.0

#: Leads where flutter waves are largest (inferior leads and V1; Mason et al. 2007), used for
#: the atrial periodicity of :mod:`tools.measure.atrial`.
ATRIAL_LEADS: tuple[str, ...] = ("II", "III", "aVF", "V1")
#: Atrial cycle lengths searched: a little wider than flutter's 240-340/min (176-250 ms) so
#: that the maximum inside the range is a true peak, not the edge of the search.
ATRIAL_CYCLE_MIN_MS = 160.0
ATRIAL_CYCLE_MAX_MS = 260.0
#: The TQ window ends this long before the QRS onset (the onset's own placement error).
TQ_GUARD_MS = 10.0
#: Fewest seconds of signal paired at a lag for its correlation to count (about four flutter
#: cycles' worth of pairs; shorter totals are dominated by one P or T wave).
ATRIAL_MIN_PAIRED_S = 0.8
#: Band of the atrial-periodicity signal: above baseline wander and most of the T wave's
#: energy, below muscle noise; flutter waves (4-6 Hz fundamental) pass.
ATRIAL_BAND_HZ = (1.0, 30.0)
ATRIAL_FILTER_ORDER = 2
#: A TQ window counts at a lag only when it pairs this much signal there (half a flutter
#: cycle): the few pairs of a window's two ends compare its boundaries, not its waves.
ATRIAL_MIN_OVERLAP_MS = 60.0
