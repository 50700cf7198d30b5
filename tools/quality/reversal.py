"""Left-arm/right-arm electrode reversal: lead I globally inverted, aVR upright.

The rule, from the frontal-plane geometry. Lead I = LA - RA, so exchanging the LA and RA
cables negates lead I, swaps II with III and aVR with aVL, and leaves aVF unchanged; the
frontal-plane vectors of P, QRS and T are mirrored about the vertical (angle theta becomes
180 - theta). In sinus rhythm with a normal heart the P axis lies within 0-75 degrees and the
QRS and T axes within -30 to +90 degrees, so all three project positively on lead I (0 degrees)
and negatively on aVR (-150 degrees). After an LA/RA reversal they project negatively on
lead I and positively on aVR: a "globally negative" lead I (negative P, net-negative QRS and
negative T) with an upright aVR. True right-axis deviation rarely inverts all three, and the
mirror-image dextrocardia that does also reverses the precordial leads, so an upright QRS in V6
(or V5) argues for cable reversal; the precordial leads are not affected by limb cables.

References
----------
Batchvarov VN, Malik M, Camm AJ. Incorrect electrode cable connection during
electrocardiographic recording. Europace. 2007;9(11):1081-1090.
Ho KK, Ho SK. Use of the sinus P wave in diagnosing electrocardiographic limb lead
misplacement not involving the right leg (ground) lead. J Electrocardiol. 2001;34(2):161-171.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tools.medians import sorted_median
from tools.quality import thresholds as th


@dataclass(frozen=True)
class Deflections:
    """Signed deflections (mV, from the isoelectric level) of one lead's median beat."""

    p_mv: float
    qrs_net_mv: float
    t_mv: float


def median_beats(
    signal_mv: np.ndarray, r_peaks: np.ndarray, fs_hz: float
) -> tuple[np.ndarray, int]:
    """Median beat of every lead over the beats whose template window fits in the record.

    Returns ``([leads, window], r_index)`` where ``r_index`` is the R peak's column, or an empty
    ``[leads, 0]`` array when fewer than :data:`~tools.quality.thresholds.MIN_BEATS` beats fit.
    """
    n = signal_mv.shape[1]
    start, stop = (round(t * fs_hz) for t in th.TEMPLATE_WINDOW_S)
    fits = r_peaks[(r_peaks + start >= 0) & (r_peaks + stop < n)]
    if fits.size < th.MIN_BEATS:
        return np.zeros((signal_mv.shape[0], 0)), -start
    idx = fits[:, np.newaxis] + np.arange(start, stop + 1)
    return sorted_median(signal_mv[:, idx], axis=1), -start


def deflections(templates: np.ndarray, r_index: int, fs_hz: float) -> list[Deflections]:
    """P, net QRS (R minus S) and T deflections of each template, vectorised over leads.

    The isoelectric level is the mean of the flattest :data:`ISOELECTRIC_WIDTH_S` stretch
    before the QRS (the PR or TP segment).
    """

    def cols(window: tuple[float, float]) -> slice:
        lo = max(0, r_index + round(window[0] * fs_hz))
        hi = min(templates.shape[1], r_index + round(window[1] * fs_hz) + 1)
        return slice(lo, max(hi, lo + 1))

    search = templates[:, cols(th.ISOELECTRIC_SEARCH_S)]
    width = max(2, min(search.shape[1], round(th.ISOELECTRIC_WIDTH_S * fs_hz)))
    stretches = sliding_window_view(search, width, axis=1)  # [leads, positions, width]
    flattest = np.argmin(np.ptp(stretches, axis=2), axis=1)
    rows = np.arange(templates.shape[0])
    iso = stretches[rows, flattest].mean(axis=1, keepdims=True)
    dev = templates - iso

    def signed_extreme(window: tuple[float, float]) -> np.ndarray:
        part = dev[:, cols(window)]
        return np.asarray(part[rows, np.argmax(np.abs(part), axis=1)])

    qrs = dev[:, cols(th.QRS_WINDOW_S)]
    net = qrs.max(axis=1) + qrs.min(axis=1)
    p, t = signed_extreme(th.P_WINDOW_S), signed_extreme(th.T_WINDOW_S)
    return [Deflections(float(a), float(b), float(c)) for a, b, c in zip(p, net, t, strict=True)]


def la_ra_reversal(
    signal_mv: np.ndarray,
    lead_names: Sequence[str],
    r_peaks: np.ndarray,
    fs_hz: float,
    usable: np.ndarray,
) -> tuple[bool, str] | None:
    """Test the LA/RA reversal rule (module docstring) on baseline-free ``[leads, samples]``.

    Returns ``(suspected, explanation)``, or ``None`` when the rule cannot be applied (lead I
    or aVR missing or unusable, or fewer than :data:`MIN_BEATS` complete beats).
    """
    names = list(lead_names)
    if not {"I", "aVR"} <= set(names) or not (
        usable[names.index("I")] and usable[names.index("aVR")]
    ):
        return None
    candidates = ("I", "aVR", "aVL", "V6", "V5")
    wanted = [name for name in candidates if name in names and usable[names.index(name)]]
    rows = [names.index(name) for name in wanted]
    templates, r_index = median_beats(signal_mv[rows], r_peaks, fs_hz)
    if templates.shape[1] == 0:
        return None
    found = dict(zip(wanted, deflections(templates, r_index, fs_hz), strict=True))
    lead_i, avr, avl = found["I"], found["aVR"], found.get("aVL")
    lateral = found.get("V6") or found.get("V5")
    p_inverted = abs(lead_i.p_mv) < th.P_MIN_MV or lead_i.p_mv < 0
    avr_upright = avr.qrs_net_mv > (th.POLARITY_MIN_MV if avl is None else avl.qrs_net_mv)
    checks = {
        "QRS net negative in I": lead_i.qrs_net_mv < -th.POLARITY_MIN_MV,
        "aVR QRS upright (above aVL's)": avr_upright,
        "T negative in I": lead_i.t_mv < 0,
        "P negative (or absent) in I": p_inverted,
        "QRS upright in V6/V5 (not dextrocardia)": lateral is None or lateral.qrs_net_mv > 0,
    }
    suspected = all(checks.values())
    explanation = (
        f"lead I P {lead_i.p_mv:+.2f} mV, QRS net {lead_i.qrs_net_mv:+.2f} mV, T {lead_i.t_mv:+.2f}"
        f" mV; aVR QRS net {avr.qrs_net_mv:+.2f} mV"
        + (f", aVL {avl.qrs_net_mv:+.2f} mV" if avl is not None else "")
        + (f"; V6/V5 QRS net {lateral.qrs_net_mv:+.2f} mV" if lateral is not None else "")
    )
    if suspected:
        explanation = (
            "lead I globally inverted with an upright aVR, as after LA/RA cable reversal "
            f"(Batchvarov et al. 2007): {explanation}"
        )
    else:
        failed = ", ".join(name for name, ok in checks.items() if not ok)
        explanation = f"LA/RA reversal rule not met ({failed}): {explanation}"
    return suspected, explanation
