"""SynthSpec: validation, defaults derived from rate, identity."""

from __future__ import annotations

import pytest

from tools.errors import SignalValueError
from tools.synth import SynthSpec, SynthSpecError
from tools.synth.timing import bazett_qt_ms, resolve_timing


class TestSynthSpecValidation:
    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"hr_bpm": 29.9}, r"hr_bpm=29\.9 is outside 30-220 bpm"),
            ({"hr_bpm": 221}, r"hr_bpm=221 is outside 30-220 bpm"),
            ({"hr_bpm": float("nan")}, r"hr_bpm=nan is outside"),
            ({"hr_bpm": "fast"}, r"hr_bpm='fast' is outside"),
            ({"qrs_ms": 60}, r"qrs_ms=60 is outside 70-180 ms"),
            ({"qrs_ms": 200}, r"qrs_ms=200 is outside 70-180 ms"),
            ({"axis_deg": -181}, r"axis_deg=-181 is outside -180-180 deg"),
            ({"axis_deg": 181}, r"axis_deg=181 is outside"),
            ({"pr_ms": 50}, r"pr_ms=50 is outside 80-400 ms"),
            ({"qtc_ms": 900}, r"qtc_ms=900 is outside"),
            ({"amplitude_scale": 0.0}, r"amplitude_scale=0\.0 is outside 0\.2-4"),
            ({"duration_s": 0.5}, r"duration_s=0\.5 is outside"),
            ({"fs_hz": 50}, r"fs_hz=50 is outside 100-2000 Hz"),
            ({"muscle_noise_mv": -0.1}, r"muscle_noise_mv=-0\.1 is outside 0-5 mV"),
            ({"rhythm": "vfib"}, r"rhythm='vfib' is not one of sinus, sinus_arrhythmia"),
            ({"conduction": "wpw"}, r"conduction='wpw' is not one of normal, rbbb, lbbb"),
            ({"powerline_hz": 55}, r"powerline_hz=55\.0 is not one of 50\.0, 60\.0"),
            ({"flutter_conduction": 5}, r"flutter_conduction=5 is not one of 2, 3, 4"),
            ({"lead_off": "zero"}, r"lead_off='zero' is not one of rail, noise"),
            ({"infarct": "septal"}, r"infarct='septal' is not one of inferior, lateral"),
            ({"seed": -1}, r"seed must be a non-negative integer"),
            ({"st_shift_mv": {"V2": 1.5}}, r"st_shift_mv\['V2'\]=1\.5 is outside -1-1 mV"),
            ({"st_shift_mv": {"V7": 0.1}}, r"'V7' is neither a lead name nor a group"),
            ({"flat_leads": ("X1",)}, r"flat_leads: 'X1' is neither a lead name nor a group"),
            ({"t_inverted_leads": ("aVR",)}, r"T wave in aVR is normally negative"),
            ({"pvc_every": 1}, r"pvc_every must be an integer >= 2"),
            ({"pac_beats": (0,)}, r"pac_beats must hold beat indices >= 1"),
            ({"transition_lead": "V6"}, r"transition_lead must be one of V1, V2, V3, V4, V5"),
            ({"transition_lead": "II"}, r"transition_lead must be one of"),
        ],
    )
    def test_out_of_range_raises(self, kwargs, match):
        with pytest.raises(SynthSpecError, match=match):
            SynthSpec(**kwargs)

    def test_error_is_a_record_error_naming_the_spec(self):
        with pytest.raises(SignalValueError, match=r"^SynthSpec: hr_bpm=500"):
            SynthSpec(hr_bpm=500)

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"conduction": "rbbb", "qrs_ms": 100}, r"too narrow for RBBB"),
            ({"hr_bpm": 220, "qrs_ms": 180}, r"cannot hold PR"),
            ({"hr_bpm": 150, "qt_ms": 400}, r"qt_ms=400 does not fit"),
            ({"pr_ms": 120, "p_ms": 110}, r"leaves less than 20 ms before the QRS"),
            ({"rhythm": "afib", "pac_every": 3}, r"PACs need an organised sinus rhythm"),
            ({"rhythm": "aflutter", "pvc_every": 3}, r"PVCs are not modelled in flutter"),
            ({"pac_beats": (3,), "pvc_beats": (3,)}, r"beats \[3\] are listed as both"),
            ({"hr_bpm": 150, "pac_every": 3}, r"a PAC cannot be premature at 150 bpm"),
            ({"rhythm": "aflutter", "hr_bpm": 200}, r"flutter rate of 400/min, outside"),
            (
                {"rhythm": "aflutter", "hr_bpm": 100, "flutter_rate_bpm": 300},
                r"disagrees with flutter 300/min at 2:1",
            ),
            ({"flat_leads": ("V1",), "disconnected_leads": ("v1",)}, r"both flat and disc"),
            ({"st_shift_mv": {"inferior": 0.1, "II": 0.2}}, r"gives lead II more than once"),
            ({"transition_lead": "V3", "axis_deg": 100}, r"needs a leftward QRS force"),
            ({"powerline_hz": 60, "powerline_mv": 0.1, "fs_hz": 100}, r"Nyquist"),
        ],
    )
    def test_infeasible_combination_raises(self, kwargs, match):
        with pytest.raises(SynthSpecError, match=match):
            SynthSpec(**kwargs)

    def test_limb_st_shifts_must_obey_einthoven(self):
        with pytest.raises(SynthSpecError, match=r"breaks Einthoven's law"):
            SynthSpec(st_shift_mv={"I": 0.2, "II": 0.2, "III": 0.2})

    def test_impossible_limb_t_inversion_raises(self):
        with pytest.raises(SynthSpecError, match=r"no single T vector inverts exactly \['I'\]"):
            SynthSpec(t_inverted_leads=("I",))


class TestSynthSpecNormalisation:
    def test_groups_and_spellings_expand_to_canonical_leads(self):
        spec = SynthSpec(
            st_shift_mv={"inferior": 0.2, "v2": -0.1},
            t_inverted_leads=("septal", "AVL"),
            flat_leads=("d1",),
        )
        assert spec.st_shift_mv == {"II": 0.2, "III": 0.2, "aVF": 0.2, "V2": -0.1}
        assert spec.t_inverted_leads == ("aVL", "V1", "V2")
        assert spec.flat_leads == ("I",)

    def test_round_trips_through_dict(self):
        spec = SynthSpec(
            hr_bpm=88, conduction="lbbb", pvc_beats=(4, 2), st_shift_mv={"V2": 0.2}, seed=7
        )
        again = SynthSpec.from_dict(spec.to_dict())
        assert again == spec
        assert again.pvc_beats == (2, 4)

    def test_from_dict_rejects_unknown_fields(self):
        with pytest.raises(SynthSpecError, match=r"unknown spec fields \['heart_rate'\]"):
            SynthSpec.from_dict({"heart_rate": 60})

    def test_digest_depends_on_every_field(self):
        base = SynthSpec()
        assert base.digest() == SynthSpec().digest()
        assert base.digest() != SynthSpec(seed=1).digest()
        assert base.digest() != SynthSpec(st_shift_mv={"V1": 0.1}).digest()


class TestResolveTiming:
    def test_defaults_at_rest(self):
        timing = resolve_timing(SynthSpec())
        assert timing.hr_bpm == 72
        assert timing.pr_ms == 160 and timing.p_ms == 100 and timing.qrs_ms == 90
        assert timing.qt_ms == pytest.approx(bazett_qt_ms(410, 60_000 / 72))
        assert not timing.qt_clamped

    def test_pr_shortens_and_qt_is_clamped_at_220_bpm(self):
        timing = resolve_timing(SynthSpec(hr_bpm=220))
        rr_ms = 60_000 / 220
        assert timing.pr_ms is not None and timing.pr_ms == pytest.approx(100)
        assert timing.qt_clamped
        assert timing.qt_ms + timing.pr_ms + 20 <= rr_ms + 1e-9

    def test_bundle_branch_block_defaults_wide(self):
        assert resolve_timing(SynthSpec(conduction="rbbb")).qrs_ms == 140

    def test_no_p_wave_in_af_and_flutter(self):
        for rhythm in ("afib", "aflutter"):
            timing = resolve_timing(SynthSpec(rhythm=rhythm))
            assert timing.pr_ms is None and timing.p_ms is None

    def test_flutter_rate_sets_ventricular_rate(self):
        timing = resolve_timing(SynthSpec(rhythm="aflutter", flutter_conduction=4))
        assert timing.flutter_rate_bpm == 300 and timing.hr_bpm == 75
        timing = resolve_timing(SynthSpec(rhythm="aflutter", hr_bpm=140))
        assert timing.flutter_rate_bpm == 280

    def test_explicit_qt_is_kept(self):
        timing = resolve_timing(SynthSpec(qt_ms=420, hr_bpm=60))
        assert timing.qt_ms == 420 and not timing.qt_clamped
