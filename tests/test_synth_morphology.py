"""Waveform morphology: lead relations, axis, R-wave progression, conduction, ST-T."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tools.leads import STANDARD_LEADS
from tools.synth import SynthSpec, synthesize

PRECORDIAL = ("V1", "V2", "V3", "V4", "V5", "V6")


def lead(ecg, name, *, clean=False):
    signal = ecg.clean_mv if clean else ecg.record.signal_mv
    return signal[STANDARD_LEADS.index(name)].astype(np.float64)


def qrs_window(ecg, beat=0):
    fid = ecg.truth.fiducials
    return slice(int(fid["qrs_on"][beat]), int(fid["qrs_off"][beat]) + 1)


def net_area(ecg, name, beat=0):
    return float(lead(ecg, name)[qrs_window(ecg, beat)].sum())


def local_maxima(x, min_mv):
    inner = (x[1:-1] > x[:-2]) & (x[1:-1] >= x[2:]) & (x[1:-1] > min_mv)
    return np.flatnonzero(inner) + 1


class TestLeadRelations:
    @pytest.mark.parametrize(
        "kwargs",
        [
            {},
            {"axis_deg": -75, "conduction": "lbbb", "pvc_every": 3},
            {"rhythm": "afib", "st_shift_mv": {"inferior": 0.2}},
            {"rhythm": "aflutter", "t_inverted_leads": ("inferior",)},
            {"baseline_wander_mv": 0.5, "powerline_mv": 0.2, "muscle_noise_mv": 0.1},
        ],
    )
    def test_einthoven_and_goldberger_hold(self, kwargs):
        x = synthesize(SynthSpec(**kwargs)).record.signal_mv.astype(np.float64)
        i, ii, iii, avr, avl, avf = x[:6]
        tol = 1e-5
        np.testing.assert_allclose(i + iii, ii, atol=tol)
        np.testing.assert_allclose(avr, -(i + ii) / 2, atol=tol)
        np.testing.assert_allclose(avl, i - ii / 2, atol=tol)
        np.testing.assert_allclose(avf, ii - i / 2, atol=tol)
        np.testing.assert_allclose(avr + avl + avf, 0.0, atol=tol)


class TestAxis:
    @pytest.mark.parametrize("axis_deg", np.arange(-90, 181, 15).tolist())
    def test_net_qrs_area_in_i_and_avf_gives_the_axis(self, axis_deg):
        ecg = synthesize(SynthSpec(axis_deg=axis_deg))
        area_i, area_avf = net_area(ecg, "I"), net_area(ecg, "aVF")
        hexaxial = math.degrees(math.atan2(2 * area_avf, math.sqrt(3) * area_i))
        approx = math.degrees(math.atan2(area_avf, area_i))
        assert _angle_diff(hexaxial, axis_deg) < 1.0
        assert _angle_diff(approx, axis_deg) < 5.0
        assert _angle_diff(ecg.truth.intervals.axis_deg, axis_deg) < 1e-6

    @pytest.mark.parametrize("conduction", ["rbbb", "lbbb"])
    @pytest.mark.parametrize("axis_deg", [-60, 0, 75, 150])
    def test_axis_holds_with_bundle_branch_block(self, conduction, axis_deg):
        ecg = synthesize(SynthSpec(axis_deg=axis_deg, conduction=conduction))
        area_i, area_avf = net_area(ecg, "I"), net_area(ecg, "aVF")
        measured = math.degrees(math.atan2(2 * area_avf, math.sqrt(3) * area_i))
        assert _angle_diff(measured, axis_deg) < 1.0


def _angle_diff(a, b):
    return abs((a - b + 180) % 360 - 180)


class TestRWaveProgression:
    @pytest.mark.parametrize("transition", ["V1", "V2", "V3", "V4", "V5"])
    def test_transition_lead_is_where_net_qrs_turns_positive(self, transition):
        ecg = synthesize(SynthSpec(transition_lead=transition))
        areas = np.array([net_area(ecg, name) for name in PRECORDIAL])
        k = PRECORDIAL.index(transition)
        assert (areas[:k] < 0).all() and (areas[k:] >= 0).all()
        assert ecg.truth.intervals.transition_lead == transition

    def test_rs_in_v1_to_qr_in_v6(self):
        ecg = synthesize(SynthSpec())
        v1, v6 = lead(ecg, "V1")[qrs_window(ecg)], lead(ecg, "V6")[qrs_window(ecg)]
        first_v1 = v1[np.flatnonzero(np.abs(v1) > 0.01)[0]]
        first_v6 = v6[np.flatnonzero(np.abs(v6) > 0.01)[0]]
        assert first_v1 > 0 and v1.min() < -0.5 and abs(v1.min()) > 2 * v1.max()  # rS
        assert first_v6 < 0 and v6.max() > 0.5 and v6.max() > 4 * abs(v6.min())  # qR

    def test_amplitude_scale_scales_the_qrs_only(self):
        base = synthesize(SynthSpec())
        lvh = synthesize(SynthSpec(amplitude_scale=2.0))
        window = qrs_window(base)
        np.testing.assert_allclose(
            lvh.clean_mv[:, window], 2.0 * base.clean_mv[:, window], rtol=1e-5, atol=1e-6
        )
        t = slice(int(base.truth.fiducials["t_on"][0]), int(base.truth.fiducials["t_off"][0]))
        np.testing.assert_array_equal(lvh.clean_mv[:, t], base.clean_mv[:, t])
        assert "HVOLT" in lvh.truth.labels


class TestConduction:
    def test_rbbb_has_rsr_prime_in_v1_and_wide_qrs(self):
        ecg = synthesize(SynthSpec(conduction="rbbb"))
        v1 = lead(ecg, "V1")[qrs_window(ecg)]
        peaks = local_maxima(v1, 0.05)
        assert len(peaks) >= 2  # r and R'
        r, r_prime = peaks[0], peaks[-1]
        assert v1[r:r_prime].min() < 0  # the S between them
        assert v1[r_prime] > v1[r]  # R' taller than r
        assert r_prime > 0.6 * len(v1)  # late
        assert ecg.truth.intervals.qrs_ms >= 120
        # wide terminal S in I and V6
        for name in ("I", "V6"):
            x = lead(ecg, name)[qrs_window(ecg)]
            assert x[int(0.75 * len(x)) :].min() < -0.1

    def test_lbbb_is_wide_with_no_septal_q_in_v6_and_deep_s_in_v1(self):
        ecg = synthesize(SynthSpec(conduction="lbbb", axis_deg=0))
        window = qrs_window(ecg)
        assert (window.stop - 1 - window.start) * 1000 / ecg.record.fs_hz >= 120
        for name in ("I", "aVL", "V6"):
            x = lead(ecg, name)[window]
            assert x.min() > -0.01  # no q (no septal r->l force), no S
            assert len(local_maxima(x, 0.1)) == 2  # broad notched R
        v1 = lead(ecg, "V1")[window]
        assert v1.min() < -1.0 and v1.max() < 0.1 * abs(v1.min())

    def test_normal_conduction_has_septal_q_in_v6(self):
        ecg = synthesize(SynthSpec())
        v6 = lead(ecg, "V6")[qrs_window(ecg)]
        assert v6[: int(0.3 * len(v6))].min() < -0.05

    def test_pvc_is_wide_premature_and_has_discordant_t(self):
        ecg = synthesize(SynthSpec(hr_bpm=70, pvc_every=4))
        types = np.array(ecg.truth.beat_types)
        fid = ecg.truth.fiducials
        pvc = np.flatnonzero(types == "pvc")
        normal_rr = np.median(np.diff(fid["qrs_on"])[types[1:] == "normal"])
        assert len(pvc) >= 2
        for b in pvc:
            on, off = fid["qrs_on"][b], fid["qrs_off"][b]
            assert (off - on) * 1000 / ecg.record.fs_hz >= 120
            assert fid["qrs_on"][b] - fid["qrs_on"][b - 1] < 0.9 * normal_rr
            x = ecg.record.signal_mv[:, fid["t_off"][b - 1] : on + 1]
            assert np.abs(x).max() < 1e-6  # no P wave before the PVC
            ii = lead(ecg, "II")
            qrs_net = ii[on:off].sum()
            t_net = ii[fid["t_on"][b] : fid["t_off"][b]].sum()
            assert np.sign(qrs_net) == -np.sign(t_net)


class TestStShift:
    def j60(self, ecg):
        j = int(ecg.truth.fiducials["qrs_off"][0])
        return ecg.clean_mv[:, j + round(0.06 * ecg.record.fs_hz)].astype(np.float64)

    def test_inferior_elevation_shows_at_j60_with_reciprocal_limb_changes(self):
        base = synthesize(SynthSpec())
        stemi = synthesize(SynthSpec(st_shift_mv={"inferior": 0.2}))
        diff = dict(zip(STANDARD_LEADS, self.j60(stemi) - self.j60(base), strict=True))
        for name in ("II", "III", "aVF"):
            assert diff[name] == pytest.approx(0.2, abs=1e-5)
        assert diff["I"] == pytest.approx(0.0, abs=1e-5)
        assert diff["aVL"] == pytest.approx(-0.1, abs=1e-5)  # reciprocal (Einthoven)
        assert diff["aVR"] == pytest.approx(-0.1, abs=1e-5)
        for name in PRECORDIAL:
            assert diff[name] == pytest.approx(0.0, abs=1e-6)
        assert stemi.truth.intervals.st_j60_mv["III"] == pytest.approx(0.2, abs=1e-5)
        assert "STE" in stemi.truth.labels

    def test_precordial_shift_only_in_requested_leads(self):
        base = synthesize(SynthSpec())
        shifted = synthesize(SynthSpec(st_shift_mv={"V2": 0.3, "V3": -0.15}))
        diff = self.j60(shifted) - self.j60(base)
        wanted = np.zeros(12)
        wanted[STANDARD_LEADS.index("V2")], wanted[STANDARD_LEADS.index("V3")] = 0.3, -0.15
        np.testing.assert_allclose(diff, wanted, atol=1e-5)
        assert {"STE", "STD"} <= set(shifted.truth.labels)

    def test_no_shift_means_isoelectric_st_at_j60(self):
        ecg = synthesize(SynthSpec())
        np.testing.assert_allclose(self.j60(ecg), 0.0, atol=1e-6)


class TestTInversion:
    def t_amplitudes(self, ecg):
        peak = int(ecg.truth.fiducials["t_peak"][0])
        return dict(zip(STANDARD_LEADS, ecg.clean_mv[:, peak].astype(float), strict=True))

    def test_normal_t_is_upright_except_avr(self):
        amps = self.t_amplitudes(synthesize(SynthSpec()))
        assert amps["aVR"] < 0
        assert all(v > 0 for k, v in amps.items() if k != "aVR")

    @pytest.mark.parametrize(
        "inverted",
        [("V1", "V2", "V3"), ("inferior",), ("lateral",), ("III",), ("II", "III", "aVF", "V4")],
    )
    def test_t_is_inverted_in_the_requested_leads_only(self, inverted):
        ecg = synthesize(SynthSpec(t_inverted_leads=inverted))
        wanted = set(ecg.spec.t_inverted_leads)
        for name, value in self.t_amplitudes(ecg).items():
            if name in wanted:
                assert value < -0.02, name
            elif name != "aVR":
                assert value > 0, name
        assert ecg.truth.intervals.t_amplitude_mv["V1" if "V1" in wanted else "II"] != 0
        assert "TINV" in ecg.truth.labels
