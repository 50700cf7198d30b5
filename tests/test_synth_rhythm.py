"""Rhythms: sinus arrhythmia, AF, flutter, premature beats."""

from __future__ import annotations

import numpy as np
import pytest

from tools.leads import STANDARD_LEADS
from tools.synth import SynthSpec, synthesize

#: An irregularly irregular rhythm: RR coefficient of variation clearly above sinus rhythm's.
AF_MIN_RR_CV = 0.1


def lead(ecg, name):
    return ecg.record.signal_mv[STANDARD_LEADS.index(name)].astype(np.float64)


def rr_ms(ecg):
    return np.diff(ecg.truth.fiducials["qrs_on"]) * 1000 / ecg.record.fs_hz


def pre_qrs_windows(ecg, name, ms=180):
    """Signal of one lead in the ``ms`` before each QRS onset (rows = beats)."""
    n = round(ms * ecg.record.fs_hz / 1000)
    x = lead(ecg, name)
    onsets = ecg.truth.fiducials["qrs_on"]
    return np.stack([x[on - n : on] for on in onsets if on >= n])


class TestSinusRhythms:
    def test_sinus_is_regular_with_identical_p_waves(self):
        ecg = synthesize(SynthSpec(hr_bpm=66))
        assert rr_ms(ecg).std() <= 1000 / ecg.record.fs_hz
        windows = pre_qrs_windows(ecg, "II")
        assert np.abs(windows - windows[0]).max() < 1e-6
        assert windows[0].max() > 0.1  # a P wave

    def test_sinus_arrhythmia_follows_respiration(self):
        ecg = synthesize(SynthSpec(rhythm="sinus_arrhythmia", duration_s=30), seed=2)
        rr = rr_ms(ecg)
        assert 0.03 < rr.std() / rr.mean() < 0.1
        # one respiratory sinusoid (period 2.5-6 s) explains the RR series
        t_s = ecg.truth.fiducials["qrs_on"][1:] / ecg.record.fs_hz
        assert best_sinusoid_r2(t_s, rr) > 0.9
        assert (ecg.truth.fiducials["p_on"] >= 0).all()
        assert "SARRH" in ecg.truth.labels


def best_sinusoid_r2(t_s, values):
    """Largest R^2 of a sinusoid fit over respiratory periods of 2.5-6 s."""
    best = 0.0
    for period in np.linspace(2.5, 6.0, 141):
        w = 2 * np.pi / period
        design = np.column_stack([np.sin(w * t_s), np.cos(w * t_s), np.ones_like(t_s)])
        fit = design @ np.linalg.lstsq(design, values, rcond=None)[0]
        best = max(best, 1 - ((values - fit) ** 2).sum() / ((values - values.mean()) ** 2).sum())
    return best


class TestAtrialFibrillation:
    @pytest.mark.parametrize("seed", [0, 1, 2])
    def test_rr_is_irregular(self, seed):
        ecg = synthesize(SynthSpec(rhythm="afib", hr_bpm=90, duration_s=20), seed=seed)
        rr = rr_ms(ecg)
        assert rr.std() / rr.mean() > AF_MIN_RR_CV
        assert abs(60_000 / rr.mean() - 90) < 15
        t_s = ecg.truth.fiducials["qrs_on"][1:] / ecg.record.fs_hz
        assert best_sinusoid_r2(t_s, rr) < 0.5  # not a respiratory rhythm

    def test_no_p_waves_only_fibrillatory_waves(self):
        ecg = synthesize(SynthSpec(rhythm="afib"))
        for name in ("p_on", "p_peak", "p_off"):
            assert (ecg.truth.fiducials[name] == -1).all()
            assert (ecg.truth.lead_fiducials[name] == -1).all()
        windows = pre_qrs_windows(ecg, "V1")
        assert windows.std(axis=1).min() > 0.005  # f waves are there
        # no repeated atrial wave before each QRS (a P wave would correlate ~1)
        corr = np.corrcoef(windows)[np.triu_indices(len(windows), 1)]
        assert np.median(corr) < 0.5
        assert ecg.truth.intervals.pr_ms is None
        assert "AFIB" in ecg.truth.labels

    def test_beats_never_overlap_even_when_rr_is_short(self):
        ecg = synthesize(SynthSpec(rhythm="afib", hr_bpm=160, duration_s=30), seed=5)
        fid = ecg.truth.fiducials
        assert (fid["qrs_on"][1:] > fid["t_off"][:-1]).all()


class TestAtrialFlutter:
    @pytest.mark.parametrize("ratio", [3, 4])
    def test_flutter_waves_at_300_per_minute(self, ratio):
        ecg = synthesize(SynthSpec(rhythm="aflutter", flutter_conduction=ratio, duration_s=20))
        fs, x = ecg.record.fs_hz, lead(ecg, "II")
        fid = ecg.truth.fiducials
        lags = []
        for t_off, next_on in zip(fid["t_off"][:-1], fid["qrs_on"][1:], strict=True):
            seg = x[t_off:next_on] - x[t_off:next_on].mean()
            if len(seg) < 0.25 * fs:
                continue
            ac = np.correlate(seg, seg, "full")[len(seg) - 1 :]
            lo, hi = round(0.12 * fs), min(round(0.3 * fs), len(seg) - 1)
            lags.append((lo + int(np.argmax(ac[lo:hi]))) * 1000 / fs)
        assert lags, "no TQ window long enough"
        assert abs(np.median(lags) - 200) <= 10  # 300/min
        onsets = ecg.truth.atrial_wave_onsets
        assert np.diff(onsets).mean() * 1000 / fs == pytest.approx(200, abs=1)
        assert ecg.truth.intervals.atrial_rate_bpm == pytest.approx(300, rel=0.01)

    @pytest.mark.parametrize("ratio", [2, 3, 4])
    def test_fixed_conduction_ratio_locks_qrs_to_f_waves(self, ratio):
        ecg = synthesize(SynthSpec(rhythm="aflutter", flutter_conduction=ratio), seed=3)
        rr = rr_ms(ecg)
        assert np.allclose(rr, 200 * ratio, atol=1000 / ecg.record.fs_hz)
        onsets = ecg.truth.atrial_wave_onsets
        delay = [on - onsets[onsets <= on].max() for on in ecg.truth.fiducials["qrs_on"]]
        assert max(delay) - min(delay) <= 1
        assert (ecg.truth.fiducials["p_on"] == -1).all()
        assert {"AFLT", f"AFLT{ratio}"} <= set(ecg.truth.labels)

    def test_flutter_waves_are_negative_in_inferior_leads_positive_in_v1(self):
        ecg = synthesize(SynthSpec(rhythm="aflutter", flutter_conduction=4))
        fid = ecg.truth.fiducials
        t_off, next_on = fid["t_off"][0], fid["qrs_on"][1]
        ii, v1 = lead(ecg, "II")[t_off:next_on], lead(ecg, "V1")[t_off:next_on]
        assert abs(ii.min()) > 2 * abs(ii.max())
        assert v1.max() > 2 * abs(v1.min())


class TestPrematureBeats:
    def test_pac_is_premature_with_an_ectopic_p_and_normal_qrs(self):
        ecg = synthesize(SynthSpec(hr_bpm=60, pac_every=3, duration_s=12))
        types = np.array(ecg.truth.beat_types)
        fid, x = ecg.truth.fiducials, lead(ecg, "II")
        rr = np.diff(fid["qrs_on"])
        normal_rr = np.median(rr[(types[1:] == "normal") & (types[:-1] == "normal")])
        pac = np.flatnonzero(types == "pac")
        assert len(pac) >= 3
        for b in pac[pac + 1 < len(types)]:
            assert rr[b - 1] < 0.9 * normal_rr
            assert rr[b - 1] + rr[b] < 2 * normal_rr - 10  # non-compensatory pause
            assert x[fid["p_peak"][b]] < 0 < x[fid["p_peak"][b - 1]]  # low-atrial P
            normal = x[fid["qrs_on"][0] : fid["qrs_off"][0]]
            np.testing.assert_allclose(x[fid["qrs_on"][b] : fid["qrs_off"][b]], normal, atol=1e-6)

    def test_pvc_has_a_full_compensatory_pause(self):
        ecg = synthesize(SynthSpec(hr_bpm=60, pvc_every=3, duration_s=12))
        types = np.array(ecg.truth.beat_types)
        rr = np.diff(ecg.truth.fiducials["qrs_on"])
        normal_rr = 60 * ecg.record.fs_hz / 60
        for b in np.flatnonzero(types == "pvc"):
            if b + 1 < len(types):
                assert abs(rr[b - 1] + rr[b] - 2 * normal_rr) <= 2

    def test_explicit_indices_and_bigeminy(self):
        ecg = synthesize(SynthSpec(pvc_beats=(2, 5), pac_beats=(7,)))
        types = ecg.truth.beat_types
        assert types[2] == types[5] == "pvc" and types[7] == "pac"
        assert types.count("pvc") == 2 and types.count("pac") == 1
        bigeminy = synthesize(SynthSpec(pvc_every=2)).truth.beat_types
        assert bigeminy[1::2] == ("pvc",) * len(bigeminy[1::2])
        assert bigeminy[0::2] == ("normal",) * len(bigeminy[0::2])

    def test_pvcs_in_atrial_fibrillation(self):
        ecg = synthesize(SynthSpec(rhythm="afib", pvc_every=4), seed=1)
        assert "pvc" in ecg.truth.beat_types
        assert {"AFIB", "PVC"} <= set(ecg.truth.labels)
