"""OpenAI messages to GEM's prompt, ECG and image (gem_core.serve.messages / images)."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from gem_core.inputs import gem_image
from gem_core.prompting import llava_v1_conversation, system_prompt
from gem_core.serve.errors import ApiError
from gem_core.serve.messages import gem_prompt
from tests.fake_engine import ecg_array, ecg_part, image_part, png_bytes, user_message
from tools.leads import MIMIC_LEADS, STANDARD_LEADS

SMALL = 56  # a small CLIP side keeps the tests fast; the preprocessing is the same


def _prompt(messages: list[dict], **kw: object):
    return gem_prompt(messages, image_size=SMALL, **kw)


class TestPromptRendering:
    def test_single_turn_is_gems_template(self) -> None:
        out = _prompt([user_message("Interpret the ECG.")])
        assert out.prompt == llava_v1_conversation(system_prompt(), ["Interpret the ECG."])
        assert out.prompt.count("<image>") == 1
        assert "USER: <image>\nInterpret the ECG. ASSISTANT:" in out.prompt

    def test_system_message_replaces_default(self) -> None:
        messages = [{"role": "system", "content": "Be brief."}, user_message("Q")]
        out = _prompt(messages)
        assert out.prompt.startswith("Be brief. USER: <image>\nQ")
        assert system_prompt() not in out.prompt

    def test_developer_role_is_system(self) -> None:
        out = _prompt([{"role": "developer", "content": "Be brief."}, user_message("Q")])
        assert out.prompt.startswith("Be brief. USER:")

    def test_multi_turn_placeholder_in_first_user_turn(self) -> None:
        # The image arrives in the last user message; GEM's placeholder stays in the first.
        messages = [
            user_message("first"),
            {"role": "assistant", "content": "an answer"},
            user_message("second", image_part(png_bytes())),
        ]
        out = _prompt(messages)
        expected = llava_v1_conversation(system_prompt(), ["first", "an answer", "second"])
        assert out.prompt == expected
        assert out.prompt.index("<image>") < out.prompt.index("first")
        assert out.image is not None

    def test_string_content_and_text_parts_joined(self) -> None:
        message = {"role": "user", "content": [{"type": "text", "text": "a"},
                                                {"type": "text", "text": "b"}]}  # fmt: skip
        assert "<image>\na\nb ASSISTANT:" in _prompt([message]).prompt
        assert "<image>\nplain ASSISTANT:" in _prompt([{"role": "user", "content": "plain"}]).prompt

    def test_consecutive_user_messages_merged(self) -> None:
        out = _prompt([user_message("one"), user_message("two")])
        assert out.prompt == llava_v1_conversation(system_prompt(), ["one\ntwo"])


class TestModalities:
    def test_missing_modalities_are_none_and_reported(self) -> None:
        out = _prompt([user_message("Q")])
        assert out.ecg is None and out.image is None
        summary = out.inputs_summary()
        assert summary["zero_filled"] == ["ecg", "image"]
        assert summary["ecg"] == "zeros" and summary["image"] == "zeros"

    def test_ecg_rows_reordered_to_checkpoint_order(self) -> None:
        # Sent in PTB-XL order (aVL before aVF); the checkpoint reads MIMIC order.
        out = _prompt([user_message("Q", ecg_part(3, lead_names=STANDARD_LEADS))],
                      lead_order=MIMIC_LEADS)  # fmt: skip
        sent = ecg_array(3).astype(np.float32)
        assert out.ecg is not None and out.ecg.dtype == np.float32
        for row, lead in enumerate(MIMIC_LEADS):
            np.testing.assert_array_equal(out.ecg[row], sent[STANDARD_LEADS.index(lead)])
        summary = out.inputs_summary()
        assert summary["ecg_sent_lead_names"] == list(STANDARD_LEADS)
        assert summary["ecg_lead_order"] == list(MIMIC_LEADS)
        assert summary["zero_filled"] == ["image"]

    def test_image_preprocessed_like_gem_image(self) -> None:
        data = png_bytes(120, 90, seed=4)
        out = _prompt([user_message("Q", image_part(data))])
        np.testing.assert_array_equal(out.image, gem_image(data, size=SMALL))
        assert out.inputs_summary()["image_size_px"] == [120, 90]

    def test_jpeg_accepted(self) -> None:
        out = _prompt([user_message("Q", image_part(png_bytes(fmt="JPEG"), "image/jpeg"))])
        assert out.image is not None and out.image.shape == (3, SMALL, SMALL)


def _error(messages: list[dict]) -> ApiError:
    with pytest.raises(ApiError) as info:
        _prompt(messages)
    assert info.value.status == 400
    return info.value


class TestRejected:
    def test_http_url_refused(self) -> None:
        part = {"type": "image_url", "image_url": {"url": "https://example.org/ecg.png"}}
        err = _error([user_message("Q", part)])
        assert "never fetches" in err.message
        assert err.param == "messages[0].content[0].image_url.url"

    def test_unknown_part_type(self) -> None:
        err = _error([user_message("Q", {"type": "input_audio", "input_audio": {}})])
        assert "unknown content part type 'input_audio'" in err.message

    def test_two_images(self) -> None:
        err = _error([user_message("Q", image_part(), image_part())])
        assert err.code == "too_many_images" and err.param == "messages[0].content[1]"

    def test_two_ecgs_across_messages(self) -> None:
        err = _error([user_message("a", ecg_part()), user_message("b", ecg_part(1))])
        assert err.code == "too_many_ecgs" and err.param == "messages[1].content[0]"

    @pytest.mark.parametrize(
        ("field", "value", "match"),
        [
            ("shape", [12, 2500], "shape must be"),
            ("dtype", "int16", "dtype must be"),
            ("data", "!!not base64!!", "not valid base64"),
        ],
    )
    def test_malformed_ecg(self, field: str, value: object, match: str) -> None:
        part = ecg_part()
        part["input_ecg"][field] = value
        err = _error([user_message("Q", part)])
        assert err.code == "invalid_ecg" and match in err.message

    def test_non_finite_ecg(self) -> None:
        part = ecg_part()
        samples = ecg_array().copy()
        samples[2, 10] = np.nan
        part["input_ecg"]["data"] = base64.b64encode(samples.astype("<f2").tobytes()).decode()
        err = _error([user_message("Q", part)])
        assert "non-finite" in err.message

    def test_bad_image_base64(self) -> None:
        part = {"type": "image_url", "image_url": {"url": "data:image/png;base64,@@@"}}
        assert "not valid base64" in _error([user_message("Q", part)]).message

    def test_wrong_signature(self) -> None:
        err = _error([user_message("Q", image_part(png_bytes(fmt="JPEG"), "image/png"))])
        assert "wrong signature" in err.message

    def test_unsupported_media_type(self) -> None:
        err = _error([user_message("Q", image_part(b"GIF89a", "image/gif"))])
        assert "not supported" in err.message

    def test_oversized_image(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr("gem_core.serve.images.MAX_IMAGE_PIXELS", 100 * 100)
        err = _error([user_message("Q", image_part(png_bytes(120, 90)))])
        assert err.code == "image_too_large"

    def test_placeholder_in_text(self) -> None:
        err = _error([user_message("look <image> here")])
        assert "must not contain <image>" in err.message

    def test_unknown_role(self) -> None:
        assert _error([{"role": "tool", "content": "x"}]).param == "messages[0].role"

    def test_last_message_must_be_user(self) -> None:
        err = _error([user_message("Q"), {"role": "assistant", "content": "A"}])
        assert "last message must be a user message" in err.message

    def test_system_after_turns(self) -> None:
        err = _error([user_message("Q"), {"role": "system", "content": "late"}])
        assert "must come before" in err.message

    def test_image_in_assistant_turn(self) -> None:
        messages = [user_message("Q"), {"role": "assistant", "content": [image_part()]},
                    user_message("R")]  # fmt: skip
        assert "only text" in _error(messages).message
