"""Beats: multi-lead R-peak detection, beat classification, beat-by-beat scoring."""

from tools.beats.classify import BeatClasses, classify_beats
from tools.beats.matching import BeatMatch, beat_spans, match_beats
from tools.beats.rpeaks import detect_r_peaks

__all__ = [
    "BeatClasses",
    "BeatMatch",
    "beat_spans",
    "classify_beats",
    "detect_r_peaks",
    "match_beats",
]
