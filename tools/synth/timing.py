"""Interval timing a spec resolves to: defaults derived from rate, feasibility enforced."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from tools.synth import constants as c

if TYPE_CHECKING:
    from tools.synth.spec import SynthSpec


#: Samples kept free of the cycle for rounding: PR and QT to whole samples (1), beat times
#: to whole samples (1), and the one-sample safety margin of the rhythm's RR floor (1).
ROUNDING_MARGIN_SAMPLES = 3


@dataclass(frozen=True)
class Timing:
    """Resolved intervals in ms (``None``: no P wave, as in AF and flutter).

    ``qt_ms`` is QRS onset to T offset of a normal beat; ``rr_min_ms`` the shortest regular
    cycle of the rhythm (the sinus-arrhythmia trough), which the QT must fit into.
    """

    hr_bpm: float
    rr_ms: float
    rr_min_ms: float
    pr_ms: float | None
    p_ms: float | None
    qrs_ms: float
    qt_ms: float
    pvc_qrs_ms: float
    pvc_qt_ms: float
    flutter_rate_bpm: float | None
    qt_clamped: bool


def bazett_qt_ms(qtc_ms: float, rr_ms: float) -> float:
    """QT from QTc by Bazett (1920): ``QT = QTc * sqrt(RR / 1 s)``."""
    return qtc_ms * math.sqrt(rr_ms / 1000.0)


def default_pr_ms(hr_bpm: float) -> float:
    """Rate-dependent PR: 160 ms up to 80 bpm, falling linearly to 100 ms at 220 bpm."""
    return float(
        np.interp(
            hr_bpm,
            [c.PR_SHORTENING_FROM_BPM, c.HR_RANGE_BPM[1]],
            [c.PR_AT_REST_MS, c.PR_AT_MAX_RATE_MS],
        )
    )


def resolve_timing(spec: SynthSpec) -> Timing:
    """Resolve a spec's rate and intervals; raise ``SynthSpecError`` when they cannot fit.

    The T wave of every regular beat must end :data:`~tools.synth.constants.TP_GAP_MIN_MS`
    before the next P (or QRS without P). A QT derived from QTc is shortened to fit
    (clamped); an explicit QT, PR or P that does not fit is an error.
    """
    from tools.synth.spec import SynthSpecError

    hr_bpm, flutter_bpm = _rates(spec)
    rr_ms = 60_000.0 / hr_bpm
    rr_min_ms = rr_ms * (1.0 - respiratory_depth(spec))
    has_p = spec.rhythm in ("sinus", "sinus_arrhythmia")
    pr_ms, p_ms = _pr_and_p(spec, hr_bpm) if has_p else (None, None)
    qrs_ms = spec.qrs_ms if spec.qrs_ms is not None else _default_qrs(spec)
    _check_qrs(spec, qrs_ms)
    slack_ms = ROUNDING_MARGIN_SAMPLES * 1000.0 / spec.fs_hz
    qt_max = rr_min_ms - (pr_ms or 0.0) - c.TP_GAP_MIN_MS - slack_ms
    qt_min = qrs_ms + c.JT_MIN_MS
    if qt_max < qt_min:
        raise SynthSpecError(
            f"at {hr_bpm:g} bpm ({spec.rhythm}) a {rr_min_ms:.0f} ms cycle cannot hold PR "
            f"{pr_ms or 0:g} ms + QRS {qrs_ms:g} ms + ST-T {c.JT_MIN_MS:g} ms + "
            f"{c.TP_GAP_MIN_MS:g} ms gap; lower the rate, PR or QRS"
        )
    qt_ms, clamped = _qt(spec, rr_ms, qt_min, qt_max)
    pvc_qrs_ms = max(c.PVC_QRS_MS, qrs_ms)
    timing = Timing(
        hr_bpm=hr_bpm,
        rr_ms=rr_ms,
        rr_min_ms=rr_min_ms,
        pr_ms=pr_ms,
        p_ms=p_ms,
        qrs_ms=qrs_ms,
        qt_ms=qt_ms,
        pvc_qrs_ms=pvc_qrs_ms,
        pvc_qt_ms=qt_ms + (pvc_qrs_ms - qrs_ms),
        flutter_rate_bpm=flutter_bpm,
        qt_clamped=clamped,
    )
    _check_premature_fits(spec, timing)
    return timing


def _rates(spec: SynthSpec) -> tuple[float, float | None]:
    """Ventricular rate, and the atrial flutter rate when the rhythm is flutter."""
    from tools.synth.spec import SynthSpecError

    if spec.rhythm != "aflutter":
        return (spec.hr_bpm if spec.hr_bpm is not None else c.DEFAULT_HR_BPM), None
    ratio = spec.flutter_conduction
    if spec.flutter_rate_bpm is not None:
        flutter = spec.flutter_rate_bpm
        if spec.hr_bpm is not None and abs(spec.hr_bpm * ratio - flutter) > 0.01 * flutter:
            raise SynthSpecError(
                f"hr_bpm={spec.hr_bpm:g} disagrees with flutter {flutter:g}/min at {ratio}:1 "
                f"(expected {flutter / ratio:g} bpm); give only one of them"
            )
    elif spec.hr_bpm is not None:
        flutter = spec.hr_bpm * ratio
        lo, hi = c.FLUTTER_RATE_RANGE_BPM
        if not lo <= flutter <= hi:
            raise SynthSpecError(
                f"hr_bpm={spec.hr_bpm:g} at {ratio}:1 gives a flutter rate of {flutter:g}/min, "
                f"outside {lo:g}-{hi:g}/min"
            )
    else:
        flutter = c.DEFAULT_FLUTTER_RATE_BPM
    hr = flutter / ratio
    if not c.HR_RANGE_BPM[0] <= hr <= c.HR_RANGE_BPM[1]:
        raise SynthSpecError(f"flutter {flutter:g}/min at {ratio}:1 gives {hr:g} bpm")
    return hr, flutter


def respiratory_depth(spec: SynthSpec) -> float:
    """Peak fractional RR modulation of the rhythm (0 unless sinus arrhythmia)."""
    if spec.rhythm != "sinus_arrhythmia":
        return 0.0
    return (
        spec.respiratory_depth if spec.respiratory_depth is not None else c.SINUS_ARRHYTHMIA_DEPTH
    )


def _default_qrs(spec: SynthSpec) -> float:
    if spec.conduction in ("rbbb", "lbbb"):
        return c.DEFAULT_BBB_QRS_MS
    if spec.conduction == "irbbb":
        return c.DEFAULT_IRBBB_QRS_MS
    return min(c.DEFAULT_QRS_MS + (spec.delta_wave_ms or 0.0), c.QRS_RANGE_MS[1])


def _check_qrs(spec: SynthSpec, qrs_ms: float) -> None:
    """The QRS width each conduction pattern is defined by (AHA/ACCF/HRS 2009, part III)."""
    from tools.synth.spec import SynthSpecError

    kind = spec.conduction
    if kind in ("rbbb", "lbbb") and qrs_ms < c.BBB_MIN_QRS_MS:
        raise SynthSpecError(
            f"qrs_ms={qrs_ms:g} is too narrow for {kind.upper()} "
            f"(complete bundle branch block needs >= {c.BBB_MIN_QRS_MS:g} ms)"
        )
    if kind == "irbbb" and not c.IRBBB_MIN_QRS_MS <= qrs_ms < c.BBB_MIN_QRS_MS:
        raise SynthSpecError(
            f"qrs_ms={qrs_ms:g} does not fit incomplete RBBB ({c.IRBBB_MIN_QRS_MS:g} to "
            f"< {c.BBB_MIN_QRS_MS:g} ms; wider is conduction='rbbb')"
        )
    if kind in ("lafb", "lpfb") and qrs_ms >= c.BBB_MIN_QRS_MS:
        raise SynthSpecError(
            f"qrs_ms={qrs_ms:g} is too wide for an isolated {kind.upper()} "
            f"(fascicular block QRS < {c.BBB_MIN_QRS_MS:g} ms)"
        )
    delta = spec.delta_wave_ms
    if delta is not None and qrs_ms - delta < c.PREEXCITED_MIN_NORMAL_MS:
        raise SynthSpecError(
            f"delta_wave_ms={delta:g} leaves {qrs_ms - delta:g} ms of a {qrs_ms:g} ms QRS for "
            f"the normal activation (needs >= {c.PREEXCITED_MIN_NORMAL_MS:g}); widen qrs_ms"
        )


def _pr_and_p(spec: SynthSpec, hr_bpm: float) -> tuple[float, float]:
    from tools.synth.spec import SynthSpecError

    if spec.pr_ms is not None:
        pr = spec.pr_ms
    else:  # pre-excitation starts the QRS early: the PR shortens by the delta wave
        pr = max(default_pr_ms(hr_bpm) - (spec.delta_wave_ms or 0.0), c.PR_RANGE_MS[0])
    if spec.p_ms is None:
        p = max(c.P_RANGE_MS[0], min(c.DEFAULT_P_MS, pr - c.PR_SEGMENT_DEFAULT_MS))
    else:
        p = spec.p_ms
    if pr - p < c.PR_SEGMENT_MIN_MS:
        raise SynthSpecError(
            f"P wave ({p:g} ms) leaves less than {c.PR_SEGMENT_MIN_MS:g} ms before the QRS "
            f"with PR {pr:g} ms; shorten p_ms or lengthen pr_ms"
        )
    return pr, p


def _qt(spec: SynthSpec, rr_ms: float, qt_min: float, qt_max: float) -> tuple[float, bool]:
    from tools.synth.spec import SynthSpecError

    if spec.qt_ms is not None:
        if not qt_min <= spec.qt_ms <= qt_max:
            raise SynthSpecError(
                f"qt_ms={spec.qt_ms:g} does not fit: this rate and QRS allow "
                f"{qt_min:.0f}-{qt_max:.0f} ms"
            )
        return spec.qt_ms, False
    qt = bazett_qt_ms(spec.qtc_ms, rr_ms)
    clamped = float(np.clip(qt, qt_min, qt_max))
    return clamped, clamped != qt


def _check_premature_fits(spec: SynthSpec, timing: Timing) -> None:
    """A premature beat must land after the previous T wave and still be early."""
    from tools.synth.spec import SynthSpecError

    latest = (
        c.PREMATURE_MAX_FRACTION * timing.rr_min_ms - ROUNDING_MARGIN_SAMPLES * 1000 / spec.fs_hz
    )
    if spec.pac_every is not None or spec.pac_beats:
        earliest = timing.qt_ms + c.TP_GAP_MIN_MS + (timing.pr_ms or 0.0)
        if earliest > latest:
            raise SynthSpecError(
                f"a PAC cannot be premature at {timing.hr_bpm:g} bpm: its P cannot start "
                f"before the previous T wave ends ({earliest:.0f} ms > {latest:.0f} ms)"
            )
    if spec.pvc_every is not None or spec.pvc_beats:
        earliest = timing.qt_ms + c.TP_GAP_MIN_MS
        if earliest > latest:
            raise SynthSpecError(
                f"a PVC cannot be premature at {timing.hr_bpm:g} bpm ({earliest:.0f} ms > "
                f"{latest:.0f} ms)"
            )
