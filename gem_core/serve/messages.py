"""OpenAI chat messages to GEM's request: the ``llava_v1`` prompt, the ECG and the image.

The conversation is rendered as GEM's ``llava_v1`` template (Liu et al., LLaVA-1.5; Lan et
al., GEM 2025): the system message (GEM's own system text when none is sent), then user and
assistant turns, the single ``<image>`` placeholder at the start of the first user turn, where
GEM's training data puts it, whichever user message carried the image or ECG. Content parts:

* ``text``: joined with newlines within a message; must not contain ``<image>`` itself;
* ``image_url``: a PNG/JPEG data URL (:mod:`gem_core.serve.images`), at most one;
* ``input_ecg``: the ECG part of :mod:`gem_core.ecg_part`, rows reordered to the checkpoint's
  lead order, at most one.

A missing modality is ``None`` (the engine feeds zeros, as GEM was trained) and is named in
:meth:`GemPrompt.inputs_summary`, which the server returns as ``gem_inputs``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gem_core.ecg_part import ECG_PART_TYPE, EcgPartError, EcgPartMeta, decode_ecg_part
from gem_core.inputs import GEM_IMAGE_SIZE
from gem_core.prompting import IMAGE_TOKEN, llava_v1_conversation, system_prompt
from gem_core.serve.errors import bad_request
from gem_core.serve.images import ImageInfo, decode_image_part
from tools.leads import MIMIC_LEADS

#: Roles rendered as GEM's system text (``developer`` is OpenAI's newer name for it).
SYSTEM_ROLES = frozenset({"system", "developer"})
#: Content part types a user message may hold.
USER_PART_TYPES = ("text", "image_url", ECG_PART_TYPE)


@dataclass(frozen=True, eq=False)
class GemPrompt:
    """A chat request turned into GEM's inputs.

    Attributes
    ----------
    prompt
        The ``llava_v1`` text with exactly one ``<image>`` placeholder.
    ecg
        ``[12, 5000]`` float32 mV in ``lead_order``, or ``None`` (zeros).
    image
        ``[3, S, S]`` float32 CLIP pixels, or ``None`` (zeros).
    lead_order
        The checkpoint's row order the ECG was put in.
    ecg_meta, image_info
        What was received for each modality (``None`` when absent).
    """

    prompt: str
    ecg: np.ndarray | None
    image: np.ndarray | None
    lead_order: tuple[str, ...]
    ecg_meta: EcgPartMeta | None = None
    image_info: ImageInfo | None = None

    def inputs_summary(self) -> dict[str, Any]:
        """JSON-native: which modalities were sent and which were fed as zeros."""
        zero_filled = [name for name, x in (("ecg", self.ecg), ("image", self.image)) if x is None]
        summary: dict[str, Any] = {
            "ecg": "zeros" if self.ecg is None else "input",
            "image": "zeros" if self.image is None else "input",
            "zero_filled": zero_filled,
            "ecg_lead_order": list(self.lead_order),
        }
        if self.ecg_meta is not None:
            summary["ecg_sent_lead_names"] = list(self.ecg_meta.lead_names)
            summary["ecg_dtype"] = self.ecg_meta.dtype
        if self.image_info is not None:
            info = self.image_info
            summary["image_media_type"] = info.media_type
            summary["image_size_px"] = [info.width_px, info.height_px]
        return summary


@dataclass
class _Collected:
    system: list[str]
    turns: list[tuple[str, str]]  # (role, text), consecutive roles merged
    ecg: tuple[np.ndarray, EcgPartMeta] | None = None
    image: tuple[np.ndarray, ImageInfo] | None = None


def gem_prompt(
    messages: Sequence[Any],
    *,
    lead_order: Sequence[str] = MIMIC_LEADS,
    image_size: int = GEM_IMAGE_SIZE,
) -> GemPrompt:
    """GEM's prompt, ECG and image from OpenAI ``messages``.

    Parameters
    ----------
    messages
        The request's ``messages`` as parsed JSON.
    lead_order
        The checkpoint's ECG row order.
    image_size
        CLIP input side in pixels.

    Raises
    ------
    ApiError
        HTTP 400 naming the field: unknown role or part type, a malformed ECG or image
        part, more than one ECG or image, ``<image>`` in text, a conversation that does not
        start and end with a user turn.
    """
    if not isinstance(messages, Sequence) or not messages:
        raise bad_request("messages must be a non-empty list", param="messages")
    order = tuple(lead_order)
    collected = _Collected(system=[], turns=[])
    for i, message in enumerate(messages):
        _add_message(collected, message, f"messages[{i}]", order, image_size)
    roles = [role for role, _ in collected.turns]
    if not roles or roles[0] != "user":
        raise bad_request("the conversation must start with a user message", param="messages")
    if roles[-1] != "user":
        raise bad_request(
            "the last message must be a user message (GEM continues after 'ASSISTANT:')",
            param="messages",
        )
    system = "\n".join(collected.system) if collected.system else system_prompt()
    prompt = llava_v1_conversation(system, [text for _, text in collected.turns])
    ecg, meta = collected.ecg if collected.ecg else (None, None)
    image, info = collected.image if collected.image else (None, None)
    return GemPrompt(prompt, ecg, image, order, meta, info)


def _add_message(
    collected: _Collected, message: object, where: str, order: tuple[str, ...], image_size: int
) -> None:
    if not isinstance(message, Mapping):
        raise bad_request("a message must be a JSON object", param=where)
    role = message.get("role")
    content = message.get("content")
    if role in SYSTEM_ROLES:
        if collected.turns:
            raise bad_request(
                f"a {role} message must come before the user and assistant turns", param=where
            )
        collected.system.append(_text_only(content, where))
        return
    if role == "assistant":
        text = _text_only(content, where)
    elif role == "user":
        text = _user_content(collected, content, where, order, image_size)
    else:
        raise bad_request(
            f"role {role!r} is not supported; use system, user or assistant",
            param=f"{where}.role",
        )
    if collected.turns and collected.turns[-1][0] == role:
        previous = collected.turns[-1][1]
        collected.turns[-1] = (role, f"{previous}\n{text}" if previous else text)
    else:
        collected.turns.append((role, text))


def _part(part: object, param: str) -> Mapping[str, Any]:
    if not isinstance(part, Mapping):
        raise bad_request("a content part must be a JSON object", param=param)
    return part


def _checked_text(text: object, where: str) -> str:
    if not isinstance(text, str):
        raise bad_request(f"text must be a string, got {type(text).__name__}", param=where)
    if IMAGE_TOKEN in text:
        raise bad_request(
            f"text must not contain {IMAGE_TOKEN}: the server places GEM's single placeholder",
            param=where,
        )
    return text


def _message_text(
    content: object, where: str, other_part: Callable[[object, Mapping[str, Any], str], None] | None
) -> str:
    """A message's text: a string, or the text parts of a list of parts joined by newlines.

    Every non-text part goes to ``other_part(kind, part, param)``; without one (system and
    assistant messages) only text parts are allowed."""
    if isinstance(content, str):
        return _checked_text(content, f"{where}.content")
    if not isinstance(content, list):
        allowed = "text parts" if other_part is None else "content parts"
        raise bad_request(f"content must be a string or a list of {allowed}", param=where)
    texts = []
    for j, part in enumerate(content):
        param = f"{where}.content[{j}]"
        part = _part(part, param)
        kind = part.get("type")
        if kind == "text":
            texts.append(_checked_text(part.get("text"), f"{param}.text"))
        elif other_part is None:
            raise bad_request(
                f"content part type {kind!r} is not allowed here; only text", param=param
            )
        else:
            other_part(kind, part, param)
    return "\n".join(texts)


def _text_only(content: object, where: str) -> str:
    """A system or assistant message's text (a string or a list of text parts)."""
    return _message_text(content, where, None)


def _user_content(
    collected: _Collected, content: object, where: str, order: tuple[str, ...], image_size: int
) -> str:
    """A user message's text; its image and ECG parts go into ``collected`` (one of each)."""

    def media(kind: object, part: Mapping[str, Any], param: str) -> None:
        if kind == "image_url":
            if collected.image is not None:
                raise bad_request("GEM reads one image; the request holds more", param=param,
                                  code="too_many_images")  # fmt: skip
            collected.image = decode_image_part(part, param, image_size=image_size)
        elif kind == ECG_PART_TYPE:
            if collected.ecg is not None:
                raise bad_request("GEM reads one ECG; the request holds more", param=param,
                                  code="too_many_ecgs")  # fmt: skip
            collected.ecg = _decode_ecg(part, param, order)
        else:
            raise bad_request(
                f"unknown content part type {kind!r}; expected one of {', '.join(USER_PART_TYPES)}",
                param=param,
            )

    return _message_text(content, where, media)


def _decode_ecg(
    part: Mapping[str, Any], param: str, order: tuple[str, ...]
) -> tuple[np.ndarray, EcgPartMeta]:
    try:
        array, meta = decode_ecg_part(part, lead_order=order)
    except EcgPartError as err:
        raise bad_request(str(err), param=param, code="invalid_ecg") from None
    return array.astype(np.float32), meta
