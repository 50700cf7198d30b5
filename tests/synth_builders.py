"""Synthetic specifications shared by tests that need a varied set of records."""

from __future__ import annotations

from tools.synth import SynthSpec

#: Eight kinds of 6 s ECGs (rhythms, blocks, axis, ST, rate, QT), so rows and reports differ.
VARIED_SPECS = [
    SynthSpec(duration_s=6.0),
    SynthSpec(duration_s=6.0, conduction="lbbb"),
    SynthSpec(duration_s=6.0, rhythm="afib"),
    SynthSpec(duration_s=6.0, conduction="rbbb", hr_bpm=90),
    SynthSpec(duration_s=6.0, axis_deg=-45),
    SynthSpec(duration_s=6.0, st_shift_mv={"inferior": 0.2}),
    SynthSpec(duration_s=6.0, hr_bpm=120),
    SynthSpec(duration_s=6.0, qtc_ms=520),
]
