"""GEM's inputs: the [12, 5000] signal and CLIP's [3, 336, 336] image tensor."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gem_core.inputs import (
    CLIP_MEAN_RGB,
    CLIP_STD_RGB,
    GEM_IMAGE_SIZE,
    gem_image,
    gem_inputs,
    gem_signal,
    zero_image,
    zero_signal,
)
from tools.errors import CorruptFileError, LeadError, MissingFileError, SignalValueError
from tools.leads import MIMIC_LEADS, STANDARD_LEADS
from tools.record import ECGRecord


def sines(fs_hz: float, duration_s: float, n_leads: int = 12) -> np.ndarray:
    """Band-limited test signal (1-40 Hz sines, a different pair per lead), mV."""
    t = np.arange(round(fs_hz * duration_s)) / fs_hz
    k = np.arange(n_leads)[:, np.newaxis]
    return (
        np.sin(2 * np.pi * (1.3 + k) * t) + 0.5 * np.sin(2 * np.pi * (11 + 2 * k) * t + k)
    ).astype(np.float32)


def record(signal: np.ndarray, fs_hz: float, leads=STANDARD_LEADS, **kw) -> ECGRecord:
    return ECGRecord("rec-1", signal, fs_hz, tuple(leads), **kw)


MIMIC_ROWS = [STANDARD_LEADS.index(name) for name in MIMIC_LEADS]


class TestGemSignal:
    def test_basic(self) -> None:
        x = sines(500, 10)
        sig = gem_signal(record(x, 500))
        assert sig.array.shape == (12, 5000)
        assert sig.array.dtype == np.float16
        assert sig.lead_names == MIMIC_LEADS
        np.testing.assert_array_equal(sig.array, x[MIMIC_ROWS].astype(np.float16))
        assert (sig.n_nonfinite, sig.padded_samples, sig.cropped_samples) == (0, 0, 0)
        assert sig.missing_leads == () and sig.present

    def test_mimic_order_rows(self) -> None:
        # Each lead holds its own constant: row j must hold the lead MIMIC puts at j.
        x = np.repeat(np.arange(1, 13, dtype=np.float32)[:, np.newaxis], 5000, axis=1)
        sig = gem_signal(record(x, 500))
        rows = sig.array[:, 0].astype(int).tolist()
        assert [STANDARD_LEADS[v - 1] for v in rows] == list(MIMIC_LEADS)
        assert sig.lead_names[4:6] == ("aVF", "aVL")

    def test_standard_order(self) -> None:
        x = sines(500, 10)
        sig = gem_signal(record(x, 500), lead_order=STANDARD_LEADS, dtype=np.float32)
        np.testing.assert_array_equal(sig.array, x)

    @pytest.mark.parametrize("fs_hz", [250.0, 1000.0, 360.0])
    def test_resampled_to_500hz(self, fs_hz: float) -> None:
        sig = gem_signal(record(sines(fs_hz, 10), fs_hz), dtype=np.float32)
        expected = sines(500, 10)[MIMIC_ROWS]
        # Polyphase edge transients stay within the first/last 0.2 s.
        interior = slice(100, 4900)
        assert np.abs(sig.array[:, interior] - expected[:, interior]).max() < 0.01
        assert sig.source_fs_hz == fs_hz
        assert sig.padded_samples == 0 and sig.cropped_samples == 0

    def test_long_record_cut_after_resampling(self) -> None:
        sig = gem_signal(record(sines(1000, 30), 1000), dtype=np.float32)
        expected = sines(500, 10)[MIMIC_ROWS]
        # The window ends inside the record: no edge transient at 10 s.
        assert np.abs(sig.array[:, 4900:] - expected[:, 4900:]).max() < 0.01
        assert sig.cropped_samples == 10_000

    def test_pad(self) -> None:
        sig = gem_signal(record(sines(500, 8), 500))
        assert sig.padded_samples == 1000
        assert not sig.array[:, 4000:].any()
        assert sig.array[:, :4000].any()

    def test_pad_after_resampling(self) -> None:
        sig = gem_signal(record(sines(250, 6), 250))
        assert sig.padded_samples == 2000
        assert not sig.array[:, 3000:].any()

    def test_crop(self) -> None:
        x = sines(500, 12)
        sig = gem_signal(record(x, 500), dtype=np.float32)
        assert sig.cropped_samples == 1000
        np.testing.assert_array_equal(sig.array, x[MIMIC_ROWS, :5000])

    def test_nan_count(self) -> None:
        x = sines(500, 10)
        v2 = STANDARD_LEADS.index("V2")
        x[v2, 100:137] = np.nan
        sig = gem_signal(record(x, 500))
        assert sig.n_nonfinite == 37
        assert sig.nonfinite_by_lead == {"V2": 37}
        row = MIMIC_LEADS.index("V2")
        assert np.isfinite(sig.array).all()
        assert not sig.array[row, 100:137].any()
        assert sig.array[row, 99] != 0

    def test_inf_zeroed(self) -> None:
        x = sines(500, 10)
        x[0, 10] = np.inf
        x[1, 20] = -np.inf
        sig = gem_signal(record(x, 500))
        assert sig.n_nonfinite == 2
        assert np.isfinite(sig.array).all()

    def test_nan_spreads_through_resampling_and_is_counted(self) -> None:
        x = sines(250, 10)
        x[0, 1000] = np.nan
        sig = gem_signal(record(x, 250))
        assert sig.n_nonfinite > 2
        assert set(sig.nonfinite_by_lead) == {"I"}
        assert np.isfinite(sig.array).all()

    def test_missing_leads_zeroed_and_listed(self) -> None:
        leads = ("I", "II", "V1")
        x = sines(500, 10, n_leads=3) + 1.0
        sig = gem_signal(record(x, 500, leads=leads))
        assert sig.missing_leads == tuple(n for n in MIMIC_LEADS if n not in leads)
        for name in sig.missing_leads:
            assert not sig.array[MIMIC_LEADS.index(name)].any()
        for name in leads:
            assert sig.array[MIMIC_LEADS.index(name)].any()

    def test_as_recorded_leads_matched_by_spelling(self) -> None:
        x = sines(360, 10, n_leads=3)
        rec = record(x, 360, leads=("MLII", "V5", "CM5"), lead_system="as-recorded")
        sig = gem_signal(rec)
        assert sig.unused_leads == ("CM5",)
        assert set(MIMIC_LEADS) - set(sig.missing_leads) == {"II", "V5"}

    def test_no_standard_lead(self) -> None:
        rec = record(
            sines(128, 10, n_leads=2), 128, leads=("ECG", "ECG#2"), lead_system="as-recorded"
        )
        with pytest.raises(LeadError, match="rec-1: none of the channels"):
            gem_signal(rec)

    def test_duplicate_as_recorded_lead(self) -> None:
        rec = record(
            sines(360, 10, n_leads=2), 360, leads=("MLII", "II"), lead_system="as-recorded"
        )
        with pytest.raises(LeadError, match="both lead II"):
            gem_signal(rec)

    def test_bad_dtype(self) -> None:
        with pytest.raises(SignalValueError, match="float16 or float32"):
            gem_signal(record(sines(500, 10), 500), dtype=np.int16)

    def test_float16_overflow(self) -> None:
        x = sines(500, 10)
        x[3, 5] = 1e6
        with pytest.raises(SignalValueError, match=r"rec-1: .*overflow float16"):
            gem_signal(record(x, 500))
        assert gem_signal(record(x, 500), dtype="float32").array[3, 5] == 1e6

    @pytest.mark.parametrize(
        "order",
        [STANDARD_LEADS[:11], (*STANDARD_LEADS[:11], "I"), (*STANDARD_LEADS[:11], "V7")],
    )
    def test_bad_lead_order(self, order) -> None:
        with pytest.raises(LeadError, match="checkpoint lead order"):
            gem_signal(record(sines(500, 10), 500), lead_order=order)

    @pytest.mark.parametrize("fs_hz", [499.7313, 100 * np.pi])
    def test_impractical_rate(self, fs_hz: float) -> None:
        with pytest.raises(SignalValueError, match=rf"rec-1: resampling {fs_hz:g} Hz .* factor"):
            gem_signal(record(sines(fs_hz, 10), fs_hz))

    def test_read_only(self) -> None:
        sig = gem_signal(record(sines(500, 10), 500))
        with pytest.raises(ValueError, match="read-only"):
            sig.array[0, 0] = 1

    def test_zero_signal(self) -> None:
        sig = zero_signal()
        assert not sig.present and not sig.array.any()
        assert sig.array.shape == (12, 5000) and sig.missing_leads == MIMIC_LEADS


def uniform(rgb: tuple[int, int, int], width: int = 300, height: int = 200) -> np.ndarray:
    return np.broadcast_to(np.asarray(rgb, dtype=np.uint8), (height, width, 3)).copy()


def normalised(rgb: tuple[int, int, int]) -> np.ndarray:
    return (np.asarray(rgb) / 255.0 - np.asarray(CLIP_MEAN_RGB)) / np.asarray(CLIP_STD_RGB)


def png_bytes(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


class TestGemImage:
    def test_shape_and_dtype(self) -> None:
        out = gem_image(uniform((250, 240, 230), 2200, 1700))
        assert out.shape == (3, GEM_IMAGE_SIZE, GEM_IMAGE_SIZE)
        assert out.dtype == np.float32

    @pytest.mark.parametrize("rgb", [(255, 255, 255), (0, 0, 0), (255, 0, 128), (12, 200, 77)])
    def test_known_pixel_values(self, rgb) -> None:
        out = gem_image(uniform(rgb))
        expected = normalised(rgb)
        for channel in range(3):
            np.testing.assert_allclose(out[channel], expected[channel], atol=1e-5)

    def test_white_is_clip_white(self) -> None:
        out = gem_image(uniform((255, 255, 255)))
        assert out[0, 0, 0] == pytest.approx((1 - 0.48145466) / 0.26862954, abs=1e-5)

    def test_centre_crop_geometry_landscape(self) -> None:
        # 1000 x 500: short side -> 336, long -> 672, crop keeps original x in [250, 750).
        pixels = np.zeros((500, 1000, 3), dtype=np.uint8)
        pixels[:, 240:760] = 255
        inside = gem_image(pixels)
        assert np.allclose(inside, normalised((255, 255, 255))[:, None, None], atol=1e-5)
        pixels[:] = 0
        pixels[:, 270:730] = 255  # 20 px (~13 px after scaling) inside each crop edge
        edges = gem_image(pixels)
        black = normalised((0, 0, 0))[:, None]
        assert np.allclose(edges[:, :, :8], black[:, :, None], atol=1e-5)
        assert np.allclose(edges[:, :, -8:], black[:, :, None], atol=1e-5)
        assert np.allclose(edges[:, :, 168], normalised((255, 255, 255))[:, None], atol=1e-5)

    def test_centre_crop_geometry_portrait(self) -> None:
        pixels = np.zeros((1000, 500, 3), dtype=np.uint8)
        pixels[240:760, :] = 255
        out = gem_image(pixels)
        assert np.allclose(out, normalised((255, 255, 255))[:, None, None], atol=1e-5)

    def test_gem_page_keeps_the_middle(self) -> None:
        # 2200 x 1700 -> 434 x 336; columns [49, 385) kept: the left 11% is cut.
        pixels = np.full((1700, 2200, 3), 255, dtype=np.uint8)
        pixels[:, :240] = 0
        out = gem_image(pixels)
        assert np.allclose(out, normalised((255, 255, 255))[:, None, None], atol=1e-4)
        pixels[:, :300] = 0
        assert np.allclose(gem_image(pixels)[:, :, 0], normalised((0, 0, 0))[:, None], atol=1e-5)

    def test_png_bytes_path_and_array_agree(self, tmp_path: Path) -> None:
        rng = np.random.default_rng(0)
        pixels = rng.integers(0, 256, size=(170, 220, 3), dtype=np.uint8)
        data = png_bytes(pixels)
        path = tmp_path / "page.png"
        path.write_bytes(data)
        from_array = gem_image(pixels)
        np.testing.assert_array_equal(gem_image(data), from_array)
        np.testing.assert_array_equal(gem_image(path), from_array)
        np.testing.assert_array_equal(gem_image(str(path)), from_array)
        np.testing.assert_array_equal(gem_image(Image.fromarray(pixels)), from_array)

    def test_rgba_and_grey(self) -> None:
        rgba = np.dstack([uniform((10, 20, 30)), np.full((200, 300), 7, dtype=np.uint8)])
        np.testing.assert_array_equal(gem_image(rgba), gem_image(uniform((10, 20, 30))))
        grey = np.full((200, 300), 90, dtype=np.uint8)
        np.testing.assert_array_equal(gem_image(grey), gem_image(uniform((90, 90, 90))))

    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(MissingFileError, match=r"nope\.png: image file does not exist"):
            gem_image(tmp_path / "nope.png")

    def test_corrupt_bytes(self) -> None:
        with pytest.raises(CorruptFileError, match="not a readable image"):
            gem_image(b"\x89PNG\r\n\x1a\n garbage")

    @pytest.mark.parametrize(
        ("array", "match"),
        [
            (np.zeros((10, 10, 3), dtype=np.float32), "must be uint8"),
            (np.zeros((10, 10, 2), dtype=np.uint8), r"got \(10, 10, 2\)"),
            (np.zeros((0, 10, 3), dtype=np.uint8), r"got \(0, 10, 3\)"),
        ],
    )
    def test_bad_array(self, array, match) -> None:
        with pytest.raises(CorruptFileError, match=match):
            gem_image(array)

    def test_matches_transformers_clip_processor(self) -> None:
        transformers = pytest.importorskip("transformers")
        processor = transformers.CLIPImageProcessor(
            size={"shortest_edge": 336},
            crop_size={"height": 336, "width": 336},
            image_mean=list(CLIP_MEAN_RGB),
            image_std=list(CLIP_STD_RGB),
        )
        rng = np.random.default_rng(1)
        pixels = rng.integers(0, 256, size=(425, 550, 3), dtype=np.uint8)
        expected = processor(images=Image.fromarray(pixels), return_tensors="np")["pixel_values"][0]
        np.testing.assert_allclose(gem_image(pixels), expected, atol=1e-4)


class TestMissingModality:
    def test_zero_image(self) -> None:
        out = zero_image()
        assert out.shape == (3, 336, 336) and not out.any()

    def test_flags(self) -> None:
        rec = record(sines(500, 10), 500)
        both = gem_inputs(rec, uniform((255, 255, 255)))
        assert both.has_signal and both.has_image and both.signal.present
        no_image = gem_inputs(rec, None)
        assert no_image.has_signal and not no_image.has_image and not no_image.image.any()
        no_signal = gem_inputs(None, uniform((255, 255, 255)))
        assert not no_signal.has_signal and not no_signal.signal.present
        assert not no_signal.signal.array.any() and no_signal.image.any()
