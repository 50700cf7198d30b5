"""Every criterion statement, met and missed, on synthetic ECGs: the whole chain.

For every rule in :data:`tools.statements.RULES`, :data:`CASES` holds specs built to meet it
and specs built to miss it (near misses where the generator allows: PR 230 vs 190 ms, QRS
110 vs 140 ms, ST 0.25 vs 0.05 mV, axis -60 vs -40 deg), and each goes through the whole
chain: ``synthesize -> measure_record -> statements``. Whether a spec meets a criterion is
not taken on trust: :func:`oracle` applies the published threshold to the generator's
ground truth (realised intervals, per-lead ST and T values, QRS voltages of the clean
signal, the conduction pattern it was built with), and each case first checks that the
truth is on the side the table says. A statement that then disagrees with the truth is a
measurement or criteria bug: such a case is ``xfail(strict=True)`` with the measured numbers.
Misses must be assessable (measured and not met). Every meeting case runs again with
realistic low noise (:data:`NOISE`, a few seeds) and must still fire.

Records are 8 s at 500 Hz, built and measured once per spec (module cache).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import pytest

from tools.leads import LIMB_LEADS, PRECORDIAL_LEADS, STANDARD_LEADS
from tools.measure.model import Measurements
from tools.measure.pipeline import measure_record
from tools.record import Sex
from tools.statements import RULES, explain
from tools.statements import thresholds as th
from tools.statements.territories import TERRITORY_LEADS, Territory, contiguous_positive
from tools.synth import SyntheticECG, SynthSpec, synthesize
from tools.synth.constants import DEFAULT_FLUTTER_RATE_BPM

#: Record length: 8 s holds >= 6 beats down to 50 bpm (the rhythm rules' minimum).
DURATION_S = 8.0


#: Realistic low noise for the robustness runs: 20 uV muscle noise, 50 uV baseline wander.
NOISE: dict[str, Any] = {"muscle_noise_mv": 0.02, "baseline_wander_mv": 0.05}
NOISY_SEEDS = (0, 1)


@dataclass(frozen=True)
class Bug:
    """A known measurement or criteria bug a case shows: it runs as ``xfail(strict=True)``.

    ``seeds`` ``None``: every seed; ``noisy``: only in the noisy run (else only the clean).
    """

    reason: str
    seeds: tuple[int, ...] | None = None
    noisy: bool = False


@dataclass(frozen=True)
class Case:
    """One synthetic ECG for one rule: the spec, the patient, and the known bugs it shows."""

    label: str
    spec: dict[str, Any] = field(default_factory=dict)
    sex: Sex | None = None
    age_years: float | None = None
    seeds: tuple[int, ...] = (0,)
    bugs: tuple[Bug, ...] = ()

    def bug_for(self, seed: int, noisy: bool) -> str | None:
        """Reason of the known bug this run shows, ``None`` when it should pass."""
        for bug in self.bugs:
            if bug.noisy is noisy and (bug.seeds is None or seed in bug.seeds):
                return bug.reason
        return None


def case(
    label: str,
    *,
    bugs: tuple[Bug, ...] = (),
    sex: Sex | None = None,
    age_years: float | None = None,
    seeds: tuple[int, ...] = (0,),
    **spec: Any,
) -> Case:
    return Case(label, spec, sex, age_years, seeds, bugs)


#: Known measurement bias behind the near misses at the QRS limits.
QRS_BIAS = (
    "QRS measured 6-12 ms wider than the synthetic truth (incomplete RBBB 104 -> 110 ms, "
    "normal pattern 104 -> 116 ms), past the 110 ms limit of IRBBB/IVCD: the LUDB-fitted "
    "scorers put the global QRS onset 8-10 ms before the synthetic QRS leaves the baseline (its "
    "initial forces rise ~20x faster than LUDB's: V2 150 vs 6 uV 8 ms after onset); offsets are "
    "within 4 ms"
)
NOISY_IRBBB_WIDTH = (
    "with noise the incomplete-RBBB QRS is measured 8-10 ms wider (truth 116 -> 124-126 ms, "
    "110 -> 120 ms), past the 120 ms limit: CRBBB fires instead of IRBBB (the early onsets of "
    "QRS_BIAS, and noise moves the second-earliest lead onset 4 ms earlier still)"
)
NOISY_DELTA_WAVE = (
    "with 20 uV muscle noise (seed 0) the P onset lands 10 ms early: PR 120 vs 110 ms, at the "
    "WPW limit (PR < 120), so IVCD fires instead (the delta wave itself is found: QRS 142 "
    "vs 140 ms)"
)

# --- specs shared by several rules ------------------------------------------------------------
AF = case("atrial fibrillation", rhythm="afib", hr_bpm=90, seeds=(0, 1, 2))
FLUTTER_2_1 = (
    "2:1 flutter (ventricular rate 150/min): the TQ interval cannot hold two flutter waves, "
    "the second lies in the T wave, so the flutter-wave periodicity is not measured and AFLT "
    "is not assessable (it reads as a non-sinus tachycardia, not as flutter)"
)
FLUTTER = case("atrial flutter 2:1", rhythm="aflutter")
#: The same ECG where the flutter must be found (AFLT met): the known limit.
FLUTTER_BUG = dataclasses.replace(FLUTTER, bugs=(Bug(FLUTTER_2_1), Bug(FLUTTER_2_1, noisy=True)))
FLUTTER_4 = case("atrial flutter 4:1, 300/min", rhythm="aflutter", flutter_conduction=4)
SINUS_ARRHYTHMIA = case("sinus arrhythmia +-10%", rhythm="sinus_arrhythmia", seeds=(0, 1, 2))
PACS = case("every 4th beat a PAC", pac_every=4, seeds=(0, 1))
PVCS = case("every 4th beat a PVC", pvc_every=4, seeds=(0, 1))
RBBB = case("RBBB QRS 140", conduction="rbbb")
IRBBB = case(
    "incomplete RBBB QRS 110", conduction="irbbb", bugs=(Bug(NOISY_IRBBB_WIDTH, (1,), True),)
)
LBBB = case("LBBB QRS 140, axis -30", conduction="lbbb", axis_deg=-30)
WIDE = case("wide QRS 130 without BBB pattern", qrs_ms=130)
WPW = case(
    "delta wave 50 ms: PR 110, QRS 140", delta_wave_ms=50, seeds=(0, 1),
    bugs=(Bug(NOISY_DELTA_WAVE, (0,), noisy=True),),
)  # fmt: skip
SHORT_PR = case("short PR 100, no delta wave", pr_ms=100)
ST_INF = case("ST +0.25 II, III, aVF", st_shift_mv={"inferior": 0.25})
ST_INF_SMALL = case("ST +0.05 II, III, aVF", st_shift_mv={"inferior": 0.05})
ST_LAT = case("ST +0.25 V5, V6", st_shift_mv={"low_lateral": 0.25})
ST_SEP = case("ST +0.3 V1, +0.4 V2", st_shift_mv={"V1": 0.3, "V2": 0.4})
ST_ANT = case("ST +0.4 V3, +0.3 V4", st_shift_mv={"V3": 0.4, "V4": 0.3})
STD_INF = case("ST -0.15 II, III, aVF", st_shift_mv={"inferior": -0.15})
STD_LAT = case("ST -0.15 V5, V6", st_shift_mv={"low_lateral": -0.15})
STD_SEP = case("ST -0.15 V1, V2", st_shift_mv={"septal": -0.15})
STD_ANT = case("ST -0.15 V3, V4", st_shift_mv={"V3": -0.15, "V4": -0.15})
STD_SMALL = case("ST -0.03 V4-V6", st_shift_mv={"V4": -0.03, "V5": -0.03, "V6": -0.03})
MI = {
    t: case(f"{t} Q-wave infarct", infarct=t)
    for t in ("inferior", "lateral", "anteroseptal", "anterior")
}
LAFB_Q = case("LAFB: small q in I, aVL", conduction="lafb", axis_deg=-60)

# fmt: off
#: Rule -> (specs that meet it, specs that miss it). Must cover every rule in RULES.
CASES: dict[str, tuple[tuple[Case, ...], tuple[Case, ...]]] = {
    "SR": (
        (case("72 bpm"), case("95 bpm", hr_bpm=95)),
        (case("105 bpm", hr_bpm=105), case("55 bpm", hr_bpm=55), AF, FLUTTER, FLUTTER_4),
    ),
    "STACH": ((case("110 bpm", hr_bpm=110),), (case("95 bpm", hr_bpm=95), AF)),
    "SBRAD": ((case("50 bpm", hr_bpm=50),), (case("65 bpm", hr_bpm=65),)),
    "SARRH": (
        (SINUS_ARRHYTHMIA,
         case("RR +-8%", rhythm="sinus_arrhythmia", respiratory_depth=0.08, seeds=(0, 1, 2))),
        (case("RR +-3%", rhythm="sinus_arrhythmia", respiratory_depth=0.03, seeds=(0, 1, 2)),
         case("regular sinus")),
    ),
    "AFIB": ((AF,), (SINUS_ARRHYTHMIA, FLUTTER, PACS)),
    "AFLT": (
        (FLUTTER_4,
         case("atrial flutter 3:1, 250/min", rhythm="aflutter", flutter_conduction=3,
              flutter_rate_bpm=250),
         case("atrial flutter 4:1, 340/min", rhythm="aflutter", flutter_conduction=4,
              flutter_rate_bpm=340),
         FLUTTER_BUG),
        (case("regular sinus"), case("PR 300", pr_ms=300), AF, PACS,
         case("atrial tachycardia 200/min, 4:1", rhythm="aflutter", flutter_conduction=4,
              flutter_rate_bpm=200)),
    ),
    "PAC": ((PACS,), (PVCS, SINUS_ARRHYTHMIA, AF)),
    "PVC": ((PVCS,), (PACS, case("LBBB (wide, not premature)", conduction="lbbb"))),
    "1AVB": ((case("PR 230", pr_ms=230), case("PR 300", pr_ms=300)),
             (case("PR 190", pr_ms=190), FLUTTER_4)),
    "CLBBB": ((LBBB, case("LBBB QRS 160, axis 0", conduction="lbbb", qrs_ms=160, axis_deg=0)),
              (RBBB, WIDE)),
    "CRBBB": ((RBBB, case("RBBB QRS 125", conduction="rbbb", qrs_ms=125)), (IRBBB, LBBB)),
    "IRBBB": (
        (IRBBB, case("incomplete RBBB QRS 115", conduction="irbbb", qrs_ms=115,
                     bugs=(Bug(NOISY_IRBBB_WIDTH, noisy=True),))),
        (RBBB, WIDE, case("incomplete RBBB QRS 100", conduction="irbbb", qrs_ms=100),
         case("incomplete RBBB QRS 104", conduction="irbbb", qrs_ms=104, bugs=(Bug(QRS_BIAS),))),
    ),
    "IVCD": (
        (WIDE, case("wide QRS 124", qrs_ms=124)),
        (case("QRS 104", qrs_ms=104, bugs=(Bug(QRS_BIAS),)), case("QRS 90"), RBBB),
    ),
    "LAFB": (
        (LAFB_Q, case("LAFB axis -80", conduction="lafb", axis_deg=-80)),
        (case("LAFB pattern, axis -40", conduction="lafb", axis_deg=-40), case("axis -40")),
    ),
    "LPFB": (
        (case("LPFB axis 120", conduction="lpfb", axis_deg=120),),
        (case("LPFB pattern, axis 85", conduction="lpfb", axis_deg=85), case("axis 85")),
    ),
    "WPW": ((WPW,), (case("delta wave 50 ms, PR 130", delta_wave_ms=50, pr_ms=130), SHORT_PR)),
    "GEM:NAX": ((case("axis 60"), case("axis -25", axis_deg=-25)),
                (case("axis -40", axis_deg=-40), case("axis 100", axis_deg=100))),
    "GEM:LAD": ((case("axis -45", axis_deg=-45),), (case("axis -25", axis_deg=-25),)),
    "GEM:RAD": ((case("axis 110", axis_deg=110),), (case("axis 80", axis_deg=80),)),
    "GEM:EAD": ((case("axis -120", axis_deg=-120),), (case("axis -80", axis_deg=-80),)),
    "LVH": ((case("QRS voltage x1.8", amplitude_scale=1.8),),
            (case("QRS voltage x1.4", amplitude_scale=1.4),)),
    "RVH": ((case("axis 120: R/S V1 > 1", axis_deg=120),),
            (case("axis 100: R/S V1 < 1", axis_deg=100), case("axis 80", axis_deg=80))),
    "LVOLT": ((case("QRS voltage x0.35", amplitude_scale=0.35),),
              (case("QRS voltage x0.6", amplitude_scale=0.6),)),
    "STE_": (
        (ST_INF, case("ST +0.22 V2, V3, woman", sex="F", age_years=55,
                      st_shift_mv={"V2": 0.22, "V3": 0.22})),
        (ST_INF_SMALL, case("ST +0.22 V2, V3, man < 40", sex="M", age_years=35,
                            st_shift_mv={"V2": 0.22, "V3": 0.22})),
    ),
    "GEM:STE_INF": ((ST_INF,), (ST_INF_SMALL, ST_LAT)),
    "GEM:STE_LAT": ((ST_LAT,), (case("ST +0.05 V5, V6", st_shift_mv={"low_lateral": 0.05}),
                                ST_INF)),
    "GEM:STE_SEP": ((ST_SEP,), (case("ST +0.05 V1, V2", st_shift_mv={"septal": 0.05}), ST_INF)),
    "GEM:STE_ANT": ((ST_ANT,), (case("ST +0.15 V3, +0.05 V4", st_shift_mv={"V3": 0.15,
                                                                           "V4": 0.05}), ST_INF)),
    "STD_": ((STD_LAT,), (STD_SMALL, ST_LAT)),
    "GEM:STD_INF": ((STD_INF,), (STD_LAT, STD_SMALL)),
    "GEM:STD_LAT": ((STD_LAT,), (STD_INF, STD_SMALL)),
    "GEM:STD_SEP": ((STD_SEP,), (STD_LAT,)),
    "GEM:STD_ANT": ((STD_ANT,), (STD_SEP, STD_INF)),
    "QWAVE": ((MI["inferior"], MI["anteroseptal"]), (case("no infarct"), LAFB_Q)),
    "GEM:MI": ((MI["lateral"],), (case("no infarct"), LAFB_Q)),
    "IMI": ((MI["inferior"],), (MI["lateral"], MI["anteroseptal"])),
    "LMI": ((MI["lateral"],), (MI["inferior"], LAFB_Q)),
    "ASMI": ((MI["anteroseptal"],), (MI["inferior"], MI["lateral"])),
    "AMI": ((MI["anterior"],), (MI["inferior"],)),
    "LNGQT": ((case("QTc 490", qtc_ms=490), case("QTc 455, man", qtc_ms=455, sex="M")),
              (case("QTc 440", qtc_ms=440), case("QTc 440, woman", qtc_ms=440, sex="F"))),
    "INVT": ((case("T inverted V2-V4", t_inverted_leads=("V2", "V3", "V4")),
              case("T inverted II, III, aVF", t_inverted_leads=("inferior",))),
             (case("T inverted V1 only", t_inverted_leads=("V1",)),
              case("T inverted V4 only", t_inverted_leads=("V4",)),
              case("T inverted III only", t_inverted_leads=("III",)))),
}
# fmt: on


# --- ground truth: the criteria applied to what the generator built ---------------------------
Truth = tuple[bool, frozenset[str] | None]
"""(criterion met by the ground truth, leads it is localised to or ``None``)."""


def _qrs_window(ecg: SyntheticECG) -> np.ndarray:
    """Clean signal ``[12, samples]`` over the global QRS of the first normal beat."""
    k = ecg.truth.beat_types.index("normal")
    on, off = ecg.truth.fiducials["qrs_on"][k], ecg.truth.fiducials["qrs_off"][k]
    return np.asarray(ecg.clean_mv[:, on : off + 1], dtype=np.float64)


def _r_s(ecg: SyntheticECG, lead: str) -> tuple[float, float]:
    """Largest positive and deepest negative QRS deflection (mV, both >= 0)."""
    x = _qrs_window(ecg)[STANDARD_LEADS.index(lead)]
    return max(float(x.max()), 0.0), max(-float(x.min()), 0.0)


def _axis(ecg: SyntheticECG) -> float:
    a = ecg.truth.intervals.axis_deg
    return a - 360.0 * np.ceil((a - 180.0) / 360.0)


def _sinus(ecg: SyntheticECG) -> bool:
    return ecg.spec.rhythm in ("sinus", "sinus_arrhythmia") and all(
        b == "normal" for b in ecg.truth.beat_types
    )


def _rr_range_met(ecg: SyntheticECG) -> bool:
    rr = ecg.truth.rr_ms
    spread = float(np.ptp(rr))
    return bool(
        spread > th.SINUS_ARRHYTHMIA_RR_RANGE_ABOVE_MS
        or spread / float(rr.mean()) > th.SINUS_ARRHYTHMIA_RR_RANGE_ABOVE_FRACTION
    )


def _af(ecg: SyntheticECG) -> bool:
    rr = ecg.truth.rr_ms
    n_rmssd = float(np.sqrt(np.mean(np.diff(rr) ** 2)) / rr.mean())
    no_p = bool((ecg.truth.fiducials["p_on"] < 0).all())
    return no_p and n_rmssd > th.AF_RR_IRREGULARITY_ABOVE


def _ste_limit(lead: str, sex: Sex | None, age: float | None) -> float:
    if lead not in th.STE_V2V3_LEADS:
        return th.STE_MIN_MV
    if sex == "F":
        return th.STE_V2V3_WOMEN_MIN_MV
    if sex == "M" and age is not None and age >= th.STE_MEN_AGE_SPLIT_YEARS:
        return th.STE_V2V3_MEN_40_MIN_MV
    return th.STE_V2V3_MEN_UNDER_40_MIN_MV


def _territorial(positive: set[str], territory: Territory | None) -> Truth:
    hits = set(contiguous_positive(n for n in STANDARD_LEADS if n in positive))
    if territory is not None:
        hits &= set(TERRITORY_LEADS[territory])
    return bool(hits), frozenset(hits)


def _st(ecg: SyntheticECG, c: Case, territory: Territory | None, elevation: bool) -> Truth:
    st = ecg.truth.intervals.st_j60_mv
    if elevation:
        positive = {n for n, v in st.items() if v >= _ste_limit(n, c.sex, c.age_years)}
    else:
        positive = {n for n, v in st.items() if -v >= th.STD_MIN_MV}
    return _territorial(positive - {"aVR"}, territory)


_INFARCT_CODE: dict[str, Territory] = {
    "IMI": "inferior", "LMI": "lateral", "ASMI": "septal", "AMI": "anterior",
}  # fmt: skip
#: The IEC 60601-2-51 minimum wave (as the delineator uses): a deflection of 30 uV.
MIN_WAVE_MV = 0.03
_SUFFIX: dict[str, Territory] = {
    "INF": "inferior", "LAT": "lateral", "SEP": "septal", "ANT": "anterior",
}  # fmt: skip


def _q_wave(ecg: SyntheticECG, lead: str) -> bool:
    """Pathological Q in one lead of the clean signal (Fourth UDMI limits)."""
    x = _qrs_window(ecg)[STANDARD_LEADS.index(lead)]
    visible = np.flatnonzero(np.abs(x) >= MIN_WAVE_MV)
    if not visible.size or x[visible[0]] > 0:
        return False  # no initial negative wave
    back = np.flatnonzero(x[visible[0] :] >= 0)
    if not back.size or x.max() < MIN_WAVE_MV:
        return True  # QS
    end = visible[0] + back[0]
    q_ms = end * 1000.0 / ecg.spec.fs_hz
    if lead in th.STE_V2V3_LEADS:
        return q_ms > th.Q_V2V3_ABOVE_MS
    return q_ms >= th.Q_MIN_MS and -float(x[:end].min()) >= th.Q_MIN_DEPTH_MV


def _q_waves(ecg: SyntheticECG, territory: Territory | None) -> Truth:
    eligible = (*th.Q_ELIGIBLE_LEADS, *th.STE_V2V3_LEADS)
    return _territorial({n for n in eligible if _q_wave(ecg, n)}, territory)


def _voltage_truth(ecg: SyntheticECG, c: Case) -> dict[str, bool]:
    r = {n: _r_s(ecg, n)[0] for n in STANDARD_LEADS}
    s = {n: _r_s(ecg, n)[1] for n in STANDARD_LEADS}
    sokolow = s["V1"] + max(r["V5"], r["V6"]) >= th.SOKOLOW_LYON_MIN_MV
    cornell_limit = th.CORNELL_WOMEN_ABOVE_MV if c.sex == "F" else th.CORNELL_MEN_ABOVE_MV
    cornell = r["aVL"] + s["V3"] > cornell_limit
    rv = r["V1"] >= th.RVH_R_V1_MIN_MV or r["V1"] > th.RVH_RS_RATIO_V1_ABOVE * s["V1"]
    p2p = {n: r[n] + s[n] for n in STANDARD_LEADS}
    low = all(p2p[n] < th.LOW_VOLTAGE_LIMB_BELOW_MV for n in LIMB_LEADS) or all(
        p2p[n] < th.LOW_VOLTAGE_PRECORDIAL_BELOW_MV for n in PRECORDIAL_LEADS
    )
    return {"LVH": sokolow or cornell, "RV": rv, "LVOLT": low}


def oracle(code: str, ecg: SyntheticECG, c: Case) -> Truth:
    """Whether the ground truth meets the criterion of ``code`` (and its leads)."""
    iv, spec = ecg.truth.intervals, ecg.spec
    hr, qrs, axis = iv.hr_bpm or 0.0, iv.qrs_ms, _axis(ecg)
    sinus, none = _sinus(ecg), None
    conduction, beats = spec.conduction, set(ecg.truth.beat_types)
    if code.startswith(("STE_", "GEM:STE_", "STD_", "GEM:STD_")):
        territory = _SUFFIX.get(code[-3:])
        return _st(ecg, c, territory, elevation="STE" in code)
    if code in ("QWAVE", "GEM:MI") or code in _INFARCT_CODE:
        return _q_waves(ecg, _INFARCT_CODE.get(code))
    if code == "INVT":
        t = iv.t_amplitude_mv
        negative = {n for n, v in t.items() if v < 0} - set(th.T_INVERSION_EXCLUDED_LEADS)
        return _territorial(negative, None)
    lafb_axis = th.LAFB_AXIS_MIN_DEG <= axis <= th.LAFB_AXIS_MAX_DEG
    lpfb_axis = th.LPFB_AXIS_MIN_DEG <= axis <= th.LPFB_AXIS_MAX_DEG
    qtc_limit = th.QTC_LONG_MEN_MIN_MS if c.sex == "M" else th.QTC_LONG_WOMEN_MIN_MS
    met = {
        "SR": sinus and th.SINUS_BRADY_BELOW_BPM <= hr <= th.SINUS_TACHY_ABOVE_BPM,
        "STACH": sinus and hr > th.SINUS_TACHY_ABOVE_BPM,
        "SBRAD": sinus and hr < th.SINUS_BRADY_BELOW_BPM,
        "SARRH": sinus and _rr_range_met(ecg),
        "AFIB": _af(ecg),
        "AFLT": spec.rhythm == "aflutter" and th.AFLT_ATRIAL_RATE_MIN_BPM
        <= (spec.flutter_rate_bpm or DEFAULT_FLUTTER_RATE_BPM) <= th.AFLT_ATRIAL_RATE_MAX_BPM,
        "PAC": "pac" in beats,
        "PVC": "pvc" in beats,
        "1AVB": (iv.pr_ms or 0.0) > th.PR_LONG_ABOVE_MS,
        "CLBBB": conduction == "lbbb",
        "CRBBB": conduction == "rbbb",
        "IRBBB": conduction == "irbbb" and qrs >= th.IRBBB_QRS_MIN_MS,
        "IVCD": conduction in ("normal", "lafb", "lpfb") and qrs > th.IVCD_QRS_ABOVE_MS
        and (iv.pr_ms is None or iv.pr_ms >= th.WPW_PR_BELOW_MS),
        "LAFB": conduction == "lafb" and lafb_axis,
        "LPFB": conduction == "lpfb" and lpfb_axis,
        "WPW": (iv.pr_ms or 999.0) < th.WPW_PR_BELOW_MS and qrs > th.WPW_QRS_ABOVE_MS,
        "GEM:NAX": th.NORMAL_AXIS_MIN_DEG <= axis <= th.NORMAL_AXIS_MAX_DEG,
        "GEM:LAD": th.EXTREME_AXIS_BELOW_DEG <= axis < th.NORMAL_AXIS_MIN_DEG,
        "GEM:RAD": th.NORMAL_AXIS_MAX_DEG < axis <= th.RIGHT_AXIS_MAX_DEG,
        "GEM:EAD": axis < th.EXTREME_AXIS_BELOW_DEG,
        "LNGQT": iv.qtc_bazett_ms >= qtc_limit,
    }  # fmt: skip
    if code in met:
        return bool(met[code]), none
    voltage = _voltage_truth(ecg, c)
    if code == "RVH":
        rad = th.NORMAL_AXIS_MAX_DEG < axis <= th.RIGHT_AXIS_MAX_DEG
        return voltage["RV"] and rad and qrs < th.BBB_QRS_MIN_MS, frozenset({"V1"})
    return voltage[code], none


# --- the chain ------------------------------------------------------------------------------
@cache
def _ecg(spec: SynthSpec) -> SyntheticECG:
    return synthesize(spec)


@cache
def _run(spec: SynthSpec, sex: Sex | None, age_years: float | None) -> Measurements:
    record = dataclasses.replace(_ecg(spec).record, sex=sex, age_years=age_years)
    return measure_record(record, per_beat=False).measurements


def _spec(c: Case, seed: int, noisy: bool = False) -> SynthSpec:
    return SynthSpec(duration_s=DURATION_S, seed=seed, **c.spec, **(NOISE if noisy else {}))


def _params(met: bool, noisy: bool = False) -> Iterator[Any]:
    for code, (meets, misses) in CASES.items():
        for c in meets if met else misses:
            for seed in NOISY_SEEDS if noisy else c.seeds:
                bug = c.bug_for(seed, noisy)
                marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
                yield pytest.param(code, c, seed, marks=marks, id=f"{code}-{c.label}-s{seed}")


def _describe(m: Measurements) -> str:
    g = m.global_
    return (
        f"HR {g.heart_rate_bpm}, PR {g.pr_ms}, QRS {g.qrs_ms}, QTc {g.qtc_bazett_ms}, "
        f"axis {g.qrs_axis_deg}, statements {[s.code for s in m.statements]}"
    )


def _check(code: str, c: Case, seed: int, expected: bool, noisy: bool = False) -> None:
    """Ground truth on the expected side, then the statement agrees (with its leads)."""
    spec = _spec(c, seed, noisy)
    truth_met, truth_leads = oracle(code, _ecg(spec), c)
    assert truth_met is expected, f"case {c.label!r} does not {'meet' if expected else 'miss'}"
    m = _run(spec, c.sex, c.age_years)
    fired = {s.code: s for s in m.statements}
    assert (code in fired) is expected, f"{code} {'not ' if expected else ''}fired: {_describe(m)}"
    if expected and truth_leads is not None:
        leads = set(fired[code].leads)
        assert leads and leads <= truth_leads, (code, sorted(leads), sorted(truth_leads))
    if not expected:  # measured and missed, not merely unassessable
        result = explain(code, m, sex=c.sex, age_years=c.age_years)
        assert result.assessable, f"{code} not assessable: {result.note}"


class TestCoverage:
    def test_every_rule_has_cases_both_ways(self) -> None:
        assert set(CASES) == set(RULES), "rules without synthetic cases (or stale entries)"
        for code, (meets, misses) in CASES.items():
            assert meets and misses, code


@pytest.mark.parametrize(("code", "c", "seed"), list(_params(met=True)))
def test_meets(code: str, c: Case, seed: int) -> None:
    _check(code, c, seed, expected=True)


@pytest.mark.parametrize(("code", "c", "seed"), list(_params(met=False)))
def test_misses(code: str, c: Case, seed: int) -> None:
    _check(code, c, seed, expected=False)


@pytest.mark.parametrize(("code", "c", "seed"), list(_params(met=True, noisy=True)))
def test_meets_with_noise(code: str, c: Case, seed: int) -> None:
    """Every meeting case still fires with realistic low noise (:data:`NOISE`), a few seeds."""
    _check(code, c, seed, expected=True, noisy=True)


@pytest.mark.parametrize(
    "spec",
    [{"conduction": "lpfb", "axis_deg": 85}, {"delta_wave_ms": 50}, {"axis_deg": -80},
     {"conduction": "lbbb", "axis_deg": -30}],
)  # fmt: skip
def test_clean_leads_are_usable(spec: dict[str, Any]) -> None:
    """A noise-free lead resting on its minimum (or maximum) between beats is not clipped."""
    m = _run(SynthSpec(duration_s=DURATION_S, **spec), None, None)
    assert set(m.usable_leads) == set(STANDARD_LEADS)
