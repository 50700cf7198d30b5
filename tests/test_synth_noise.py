"""Noise and lead faults: spectra, amplitudes, flat and disconnected leads."""

from __future__ import annotations

import numpy as np
import pytest

from tools.leads import STANDARD_LEADS
from tools.synth import SynthSpec, synthesize
from tools.synth.constants import LEAD_OFF_RAIL_MV


def noise_of(ecg):
    return ecg.record.signal_mv.astype(np.float64) - ecg.clean_mv.astype(np.float64)


def power_fraction(x, fs_hz, lo_hz, hi_hz):
    """Share of the signal's power (per lead, summed) between two frequencies."""
    spectrum = np.abs(np.fft.rfft(x, axis=-1)) ** 2
    freqs = np.fft.rfftfreq(x.shape[-1], 1 / fs_hz)
    band = (freqs >= lo_hz) & (freqs <= hi_hz)
    return spectrum[..., band].sum() / spectrum.sum()


def level(noise, peak):
    rms = np.sqrt(noise.var(axis=1).mean())
    return rms * np.sqrt(2) if peak else rms


class TestNoise:
    def test_clean_by_default(self):
        ecg = synthesize(SynthSpec())
        np.testing.assert_array_equal(ecg.record.signal_mv, ecg.clean_mv)

    @pytest.mark.parametrize("mains_hz", [50.0, 60.0])
    def test_powerline_adds_power_at_mains_frequency(self, mains_hz):
        clean = synthesize(SynthSpec())
        ecg = synthesize(SynthSpec(powerline_mv=0.1, powerline_hz=mains_hz))
        fs = ecg.record.fs_hz
        ii = ecg.record.signal_mv[1].astype(np.float64)
        spectrum = np.abs(np.fft.rfft(ii - ii.mean()))
        freqs = np.fft.rfftfreq(len(ii), 1 / fs)
        k = int(np.argmin(np.abs(freqs - mains_hz)))
        assert spectrum[k] > 20 * np.median(spectrum[(freqs > 30) & (freqs < 100)])
        clean_spec = np.abs(np.fft.rfft(clean.record.signal_mv[1].astype(np.float64)))
        assert spectrum[k] > 100 * clean_spec[k]
        assert power_fraction(noise_of(ecg), fs, mains_hz - 0.5, mains_hz + 0.5) > 0.99
        assert level(noise_of(ecg), peak=True) == pytest.approx(0.1, rel=1e-3)
        assert "PLI" in ecg.truth.labels

    def test_baseline_wander_is_below_one_hz(self):
        ecg = synthesize(SynthSpec(baseline_wander_mv=0.4, duration_s=30))
        noise = noise_of(ecg)
        assert power_fraction(noise, ecg.record.fs_hz, 0.0, 1.0) > 0.99
        assert level(noise, peak=True) == pytest.approx(0.4, rel=1e-3)

    def test_muscle_noise_is_broadband_high_frequency(self):
        ecg = synthesize(SynthSpec(muscle_noise_mv=0.05))
        noise = noise_of(ecg)
        assert power_fraction(noise, ecg.record.fs_hz, 15.0, 170.0) > 0.9
        assert level(noise, peak=False) == pytest.approx(0.05, rel=1e-3)
        corr = np.corrcoef(noise[[0, 6, 11]])  # independent electrodes: weakly correlated
        assert np.abs(corr[np.triu_indices(3, 1)]).max() < 0.9

    def test_noise_types_are_independent_streams(self):
        both = noise_of(synthesize(SynthSpec(baseline_wander_mv=0.3, powerline_mv=0.1)))
        wander = noise_of(synthesize(SynthSpec(baseline_wander_mv=0.3)))
        mains = noise_of(synthesize(SynthSpec(powerline_mv=0.1)))
        np.testing.assert_allclose(both, wander + mains, atol=1e-5)

    def test_muscle_noise_at_low_sampling_rate(self):
        ecg = synthesize(SynthSpec(muscle_noise_mv=0.05, fs_hz=150))
        assert np.isfinite(ecg.record.signal_mv).all()
        assert level(noise_of(ecg), peak=False) == pytest.approx(0.05, rel=1e-3)


class TestLeadFaults:
    def test_flat_lead_is_flat_and_has_no_fiducials(self):
        ecg = synthesize(SynthSpec(flat_leads=("V3", "aVL"), muscle_noise_mv=0.02))
        for name in ("V3", "aVL"):
            k = STANDARD_LEADS.index(name)
            assert np.ptp(ecg.record.signal_mv[k]) == 0 and ecg.record.signal_mv[k, 0] == 0
            for table in ecg.truth.lead_fiducials.values():
                assert (table[:, k] == -1).all()
        other = STANDARD_LEADS.index("V2")
        assert (ecg.truth.lead_fiducials["qrs_on"][:, other] >= 0).all()
        assert "FLAT" in ecg.truth.labels

    def test_disconnected_lead_at_the_rail(self):
        ecg = synthesize(SynthSpec(disconnected_leads=("V5",)))
        x = ecg.record.signal_mv[STANDARD_LEADS.index("V5")]
        assert (x == np.float32(LEAD_OFF_RAIL_MV)).all()
        assert (ecg.truth.lead_fiducials["r_peak"][:, STANDARD_LEADS.index("V5")] == -1).all()

    def test_disconnected_lead_as_floating_noise(self):
        ecg = synthesize(SynthSpec(disconnected_leads=("II",), lead_off="noise"))
        k = STANDARD_LEADS.index("II")
        x, clean = ecg.record.signal_mv[k].astype(float), ecg.clean_mv[k].astype(float)
        assert x.std() > 0.5
        assert abs(np.corrcoef(x, clean)[0, 1]) < 0.2  # no ECG in it
        np.testing.assert_array_equal(ecg.record.signal_mv[0], ecg.clean_mv[0])  # I untouched
        assert "LEADOFF" in ecg.truth.labels

    def test_all_leads_flat_is_still_a_valid_record(self):
        ecg = synthesize(SynthSpec(flat_leads=STANDARD_LEADS))
        assert not ecg.record.signal_mv.any()
        assert ecg.truth.n_beats > 0  # the heart's timing is still known
        assert (ecg.truth.fiducials["qrs_on"] >= 0).all()
