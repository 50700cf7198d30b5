"""gem_core.inputs.gem_image matches transformers' CLIP preprocessing on a rendered ECG page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from gem_core.inputs import CLIP_MEAN_RGB, CLIP_STD_RGB, GEM_IMAGE_SIZE, gem_image  # noqa: E402
from gem_core.model import make_tiny_checkpoint  # noqa: E402
from tools.render import render_ecg  # noqa: E402
from tools.synth import synthesize  # noqa: E402

#: Largest allowed difference (CLIP-normalised units; one 8-bit level is ~0.015).
MAX_ABS_DIFF = 1e-3
#: PIL's bicubic filter id (what openai/clip-vit-large-patch14-336 configures).
PIL_BICUBIC = 3


def _processor_class() -> Any:
    """transformers' PIL-backed CLIP processor (v5 name), else the classic CLIPImageProcessor."""
    return getattr(transformers, "CLIPImageProcessorPil", None) or transformers.CLIPImageProcessor


@pytest.fixture(scope="module")
def page() -> np.ndarray:
    """GEM's 12 x 1 + rhythm page of a synthetic record, 2200 x 1700 px."""
    return render_ecg(synthesize(seed=5).record, layout="gem", dpi=200)


def _reference(page: np.ndarray, processor: object) -> np.ndarray:
    from PIL import Image

    out = processor(images=Image.fromarray(page), return_tensors="np")  # type: ignore[operator]
    return np.asarray(out["pixel_values"][0], dtype=np.float32)


class TestGemImageMatchesClipProcessor:
    def test_rendered_page(self, page: np.ndarray) -> None:
        assert page.shape == (1700, 2200, 3)
        processor = _processor_class()(
            do_resize=True,
            size={"shortest_edge": GEM_IMAGE_SIZE},
            resample=PIL_BICUBIC,
            do_center_crop=True,
            crop_size={"height": GEM_IMAGE_SIZE, "width": GEM_IMAGE_SIZE},
            do_rescale=True,
            rescale_factor=1 / 255,
            do_normalize=True,
            image_mean=list(CLIP_MEAN_RGB),
            image_std=list(CLIP_STD_RGB),
            do_convert_rgb=True,
        )
        ours = gem_image(page)
        reference = _reference(page, processor)
        assert ours.shape == reference.shape == (3, 336, 336)
        assert np.abs(ours - reference).max() < MAX_ABS_DIFF
        assert ours.std() > 0.1  # a real page, not a blank

    def test_tiny_clip_directory_config(self, page: np.ndarray, tmp_path: Path) -> None:
        # The tiny checkpoint's preprocessor_config.json describes the same preprocessing.
        tiny = make_tiny_checkpoint(tmp_path)
        processor = _processor_class().from_pretrained(
            str(tiny.vision_tower_dir), local_files_only=True
        )
        assert np.abs(gem_image(page) - _reference(page, processor)).max() < MAX_ABS_DIFF
