"""Generator patterns for the criteria: incomplete RBBB, fascicular blocks, pre-excitation,
extreme axis, respiratory depth, the displaced J point and Q-wave infarcts (signal truth)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from agent.cli import app
from tools.leads import STANDARD_LEADS
from tools.synth import SynthSpec, SynthSpecError, synthesize
from tools.synth.generate import SyntheticECG
from tools.synth.timing import resolve_timing

#: The IEC 60601-2-51 minimum wave: what counts as a deflection.
MIN_WAVE_MV = 0.03


def qrs(ecg: SyntheticECG, name: str, beat: int = 0) -> np.ndarray:
    """Clean signal of one lead over the global QRS of one beat."""
    on, off = (int(ecg.truth.fiducials[f][beat]) for f in ("qrs_on", "qrs_off"))
    return ecg.clean_mv[STANDARD_LEADS.index(name), on : off + 1].astype(np.float64)


def first_wave_sign(x: np.ndarray) -> float:
    """Sign of the first deflection reaching the minimum wave."""
    return float(np.sign(x[np.flatnonzero(np.abs(x) >= MIN_WAVE_MV)[0]]))


def q_duration_ms(ecg: SyntheticECG, name: str) -> float:
    """QRS onset to the return to baseline after an initial negative wave (0: none)."""
    x = qrs(ecg, name)
    if first_wave_sign(x) > 0:
        return 0.0
    start = np.flatnonzero(np.abs(x) >= MIN_WAVE_MV)[0]
    back = np.flatnonzero(x[start:] >= 0)
    return float((start + (back[0] if back.size else x.size)) * 1000.0 / ecg.spec.fs_hz)


class TestIncompleteRbbb:
    def test_basic(self) -> None:
        ecg = synthesize(SynthSpec(conduction="irbbb"))
        assert ecg.truth.intervals.qrs_ms == pytest.approx(110.0, abs=2.0)
        v1 = qrs(ecg, "V1")
        assert v1[: v1.size // 3].max() > MIN_WAVE_MV  # initial r
        assert v1[v1.size // 2 :].max() > v1[: v1.size // 3].max()  # taller, late R'
        assert v1[v1.size // 3 : 2 * v1.size // 3].min() < -0.1  # the S between them
        assert "IRBBB" in ecg.truth.labels and "RBBB" not in ecg.truth.labels

    @pytest.mark.parametrize(("qrs_ms", "match"), [(120, "incomplete RBBB"), (95, "100 to")])
    def test_qrs_outside_100_119_raises(self, qrs_ms: float, match: str) -> None:
        with pytest.raises(SynthSpecError, match=match):
            SynthSpec(conduction="irbbb", qrs_ms=qrs_ms)


class TestFascicularBlocks:
    @pytest.mark.parametrize(
        ("conduction", "axis_deg", "r_first", "q_first"),
        [("lafb", -60.0, ("II", "III", "aVF"), ("I", "aVL")),
         ("lpfb", 120.0, ("I", "aVL"), ("II", "III", "aVF"))],
    )  # fmt: skip
    def test_initial_force(
        self, conduction: str, axis_deg: float, r_first: tuple[str, ...], q_first: tuple[str, ...]
    ) -> None:
        ecg = synthesize(SynthSpec(conduction=conduction, axis_deg=axis_deg))  # type: ignore[arg-type]
        assert ecg.truth.intervals.axis_deg == pytest.approx(axis_deg, abs=0.5)
        for name in r_first:
            assert first_wave_sign(qrs(ecg, name)) > 0, name
        for name in q_first:
            assert first_wave_sign(qrs(ecg, name)) < 0, name
            assert q_duration_ms(ecg, name) < 30.0, name  # a small q, not an infarct's Q
        assert ecg.truth.intervals.qrs_ms < 120.0
        assert conduction.upper() in ecg.truth.labels

    def test_near_miss_axis_is_built_but_not_labelled(self) -> None:
        ecg = synthesize(SynthSpec(conduction="lafb", axis_deg=-40))
        assert first_wave_sign(qrs(ecg, "II")) > 0
        assert "LAFB" not in ecg.truth.labels and "LAD" in ecg.truth.labels

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [({"conduction": "lafb"}, r"'lafb' is built with a frontal axis of -90 to -30"),
         ({"conduction": "lpfb", "axis_deg": 0}, r"'lpfb' is built with a frontal axis of 75"),
         ({"conduction": "lafb", "axis_deg": -60, "qrs_ms": 125}, r"too wide for an isolated")],
    )  # fmt: skip
    def test_invalid_raises(self, kwargs: dict[str, object], match: str) -> None:
        with pytest.raises(SynthSpecError, match=match):
            SynthSpec(**kwargs)  # type: ignore[arg-type]


class TestPreexcitation:
    def test_delta_wave_shortens_pr_and_widens_qrs(self) -> None:
        plain = synthesize(SynthSpec())
        ecg = synthesize(SynthSpec(delta_wave_ms=50))
        iv, base = ecg.truth.intervals, plain.truth.intervals
        assert iv.pr_ms == pytest.approx((base.pr_ms or 0.0) - 50.0, abs=2.0)
        assert iv.qrs_ms == pytest.approx(base.qrs_ms + 50.0, abs=2.0)
        assert "WPW" in ecg.truth.labels

    def test_slurred_upstroke_without_septal_q(self) -> None:
        ecg = synthesize(SynthSpec(delta_wave_ms=50))
        n_delta = round(0.05 * ecg.spec.fs_hz)
        for name in ("II", "V5", "V6"):
            x = qrs(ecg, name)
            slope = np.diff(x)
            assert first_wave_sign(x) > 0, name  # no septal q
            assert x[n_delta] > 0.1, name  # the delta wave is a visible deflection ...
            assert slope[:n_delta].max() < 0.3 * slope.max(), name  # ... slower than the R

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [({"delta_wave_ms": 50, "conduction": "rbbb"}, r"needs conduction='normal'"),
         ({"delta_wave_ms": 60, "qrs_ms": 100}, r"leaves 40 ms of a 100 ms QRS"),
         ({"delta_wave_ms": 100}, r"delta_wave_ms=100 is outside 20-80 ms")],
    )  # fmt: skip
    def test_invalid_raises(self, kwargs: dict[str, object], match: str) -> None:
        with pytest.raises(SynthSpecError, match=match):
            SynthSpec(**kwargs)  # type: ignore[arg-type]


class TestExtremeAxis:
    @pytest.mark.parametrize("axis_deg", [-120.0, -170.0, 180.0])
    def test_axis_realised(self, axis_deg: float) -> None:
        ecg = synthesize(SynthSpec(axis_deg=axis_deg))
        diff = (ecg.truth.intervals.axis_deg - axis_deg + 180.0) % 360.0 - 180.0
        assert abs(diff) < 1e-6
        assert ("EAD" in ecg.truth.labels) is (axis_deg < -90)


class TestRespiratoryDepth:
    @pytest.mark.parametrize("depth", [0.03, 0.15])
    def test_rr_range_follows_depth(self, depth: float) -> None:
        spec = SynthSpec(rhythm="sinus_arrhythmia", respiratory_depth=depth, duration_s=20)
        rr = synthesize(spec, seed=2).truth.rr_ms
        rr_ms = resolve_timing(spec).rr_ms
        assert np.ptp(rr) <= 2 * depth * rr_ms + 2.0  # two samples of rounding
        assert np.ptp(rr) >= depth * rr_ms  # a 20 s strip holds a full breath

    def test_default_is_ten_percent(self) -> None:
        a = synthesize(SynthSpec(rhythm="sinus_arrhythmia"), seed=4).truth.rr_ms
        b = synthesize(SynthSpec(rhythm="sinus_arrhythmia", respiratory_depth=0.1), seed=4)
        np.testing.assert_array_equal(a, b.truth.rr_ms)

    def test_needs_sinus_arrhythmia(self) -> None:
        with pytest.raises(SynthSpecError, match=r"respiratory_depth needs rhythm="):
            SynthSpec(respiratory_depth=0.05)


class TestDisplacedJPoint:
    def test_st_shift_is_at_full_level_at_j(self) -> None:
        ecg = synthesize(SynthSpec(st_shift_mv={"V2": 0.3, "inferior": -0.1}))
        j = int(ecg.truth.fiducials["qrs_off"][0])
        base = synthesize(SynthSpec())
        diff = dict(zip(STANDARD_LEADS, ecg.clean_mv[:, j] - base.clean_mv[:, j], strict=True))
        assert diff["V2"] == pytest.approx(0.3, abs=1e-5)
        assert diff["aVF"] == pytest.approx(-0.1, abs=1e-5)
        assert ecg.truth.intervals.qrs_ms == base.truth.intervals.qrs_ms


class TestInfarctQWaves:
    @pytest.mark.parametrize(
        ("infarct", "leads"),
        [("inferior", ("II", "III", "aVF")), ("lateral", ("I", "aVL", "V5", "V6")),
         ("anteroseptal", ("V1", "V2", "V3"))],
    )  # fmt: skip
    def test_q_clear_of_the_30_ms_criterion(self, infarct: str, leads: tuple[str, ...]) -> None:
        ecg = synthesize(SynthSpec(infarct=infarct))  # type: ignore[arg-type]
        for name in leads:
            assert q_duration_ms(ecg, name) >= 34.0, name
            assert -qrs(ecg, name).min() >= 0.3, name


class TestCli:
    def test_new_options(self, tmp_path: Path) -> None:
        args = ["synth", "-o", str(tmp_path), "--json", "--delta-wave-ms", "40",
                "--rhythm", "sinus_arrhythmia", "--respiratory-depth", "0.05"]  # fmt: skip
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        truth = json.loads(result.output)
        assert {"WPW", "SARRH"} <= set(truth["labels"])
        assert truth["spec"]["delta_wave_ms"] == 40 and truth["spec"]["respiratory_depth"] == 0.05

    def test_fascicular_block_needs_its_axis(self, tmp_path: Path) -> None:
        result = CliRunner().invoke(app, ["synth", "-o", str(tmp_path), "--conduction", "lpfb"])
        assert result.exit_code != 0
        assert "axis" in result.output
