"""Synthetic 12-lead ECGs with exact ground truth: the tests' oracle and the demo's input.

>>> from tools.synth import SynthSpec, synthesize
>>> ecg = synthesize(SynthSpec(hr_bpm=60, conduction="rbbb"), seed=1)
>>> ecg.record.signal_mv.shape, ecg.truth.intervals.qrs_ms
((12, 5000), 140.0)
"""

from tools.synth.generate import SyntheticECG, synthesize
from tools.synth.io import read_truth, write_synthetic
from tools.synth.spec import LEAD_GROUPS, SynthSpec, SynthSpecError
from tools.synth.templates import FIDUCIALS
from tools.synth.truth import GroundTruth, GroundTruthModel, Intervals

__all__ = [
    "FIDUCIALS",
    "LEAD_GROUPS",
    "GroundTruth",
    "GroundTruthModel",
    "Intervals",
    "SynthSpec",
    "SynthSpecError",
    "SyntheticECG",
    "read_truth",
    "synthesize",
    "write_synthetic",
]
