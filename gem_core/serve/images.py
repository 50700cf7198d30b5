"""``image_url`` content parts: PNG/JPEG data URLs to GEM's CLIP input (the server never fetches).

GEM reads the printed ECG page through CLIP ViT-L/14-336; the pixels are prepared by
:func:`gem_core.inputs.gem_image` (short side to 336 bicubic, centre crop, CLIP mean/std).
"""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from PIL import Image, UnidentifiedImageError

from gem_core.inputs import gem_image
from gem_core.serve.errors import ApiError, bad_request
from gem_core.serve.settings import MAX_IMAGE_PIXELS
from tools.errors import CorruptFileError

#: Media types accepted in a data URL, with the magic bytes their payload must start with.
IMAGE_SIGNATURES: dict[str, bytes] = {
    "image/png": b"\x89PNG\r\n\x1a\n",
    "image/jpeg": b"\xff\xd8\xff",
    "image/jpg": b"\xff\xd8\xff",
}


@dataclass(frozen=True)
class ImageInfo:
    """What was received: media type, payload bytes, and the page size before preprocessing."""

    media_type: str
    n_bytes: int
    width_px: int
    height_px: int


def decode_image_part(
    part: Mapping[str, object], param: str, *, image_size: int
) -> tuple[np.ndarray, ImageInfo]:
    """The CLIP pixels ``[3, image_size, image_size]`` of an ``image_url`` part.

    Raises
    ------
    ApiError
        HTTP 400: not a data URL (http/https URLs are refused: the server never fetches),
        not PNG/JPEG, bad base64, an unreadable or oversized image.
    """
    body = part.get("image_url")
    url = body.get("url") if isinstance(body, Mapping) else body
    if not isinstance(url, str):
        raise bad_request("image_url must be an object with a string 'url'", param=param)
    media_type, raw = _data_url_bytes(url, f"{param}.image_url.url")
    info = _check_image(raw, media_type, f"{param}.image_url.url")
    try:
        pixels = gem_image(raw, size=image_size)
    except CorruptFileError as err:
        raise bad_request(f"image_url: {err.problem}", param=param, code="invalid_image") from None
    return pixels, info


def _data_url_bytes(url: str, param: str) -> tuple[str, bytes]:
    if not url.startswith("data:"):
        scheme = url.split(":", 1)[0] if ":" in url else "no scheme"
        raise bad_request(
            f"image_url must be a data URL (data:image/png;base64,...); got a {scheme!r} URL: "
            "this server never fetches URLs",
            param=param,
            code="unsupported_image_url",
        )
    header, sep, payload = url[len("data:") :].partition(",")
    fields = [f.strip().lower() for f in header.split(";")]
    media_type = fields[0]
    if not sep or "base64" not in fields[1:]:
        raise bad_request("image data URL must be base64 (data:<type>;base64,<data>)", param=param)
    if media_type not in IMAGE_SIGNATURES:
        raise bad_request(
            f"image media type {media_type or '(none)'!r} is not supported; send image/png "
            "or image/jpeg",
            param=param,
            code="invalid_image",
        )
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as err:
        raise bad_request(
            f"image data URL is not valid base64: {err}", param=param, code="invalid_image"
        ) from None
    if not raw.startswith(IMAGE_SIGNATURES[media_type]):
        raise bad_request(
            f"image data is not {media_type} ({len(raw)} bytes; wrong signature)",
            param=param,
            code="invalid_image",
        )
    return media_type, raw


def _check_image(raw: bytes, media_type: str, param: str) -> ImageInfo:
    """The image's size, read from its header without decoding the pixels."""
    try:
        with Image.open(io.BytesIO(raw)) as opened:
            width, height = opened.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as err:
        raise bad_request(
            f"image is not readable ({len(raw)} bytes): {err}", param=param, code="invalid_image"
        ) from None
    if width * height > MAX_IMAGE_PIXELS:
        raise ApiError(
            400,
            f"image is {width} x {height} px, more than {MAX_IMAGE_PIXELS:,} pixels; "
            "send GEM's page size (2200 x 1700 px) or smaller",
            param=param,
            code="image_too_large",
        )
    return ImageInfo(media_type, len(raw), width, height)
