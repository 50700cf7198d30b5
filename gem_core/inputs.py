"""GEM's two inputs: the signal tensor ``[12, 5000]`` and the CLIP image tensor ``[3, 336, 336]``.

GEM feeds its ECG tower a 10 s, 500 Hz, 12-lead signal in millivolts (no filtering or
normalisation) and its CLIP ViT-L/14-336 tower the printed ECG page, resized and centre-cropped
to 336 px. Both modalities are always present in GEM's sequence; a missing one is fed as zeros,
as in training. This module prepares both with numpy and PIL only (no torch).

>>> from gem_core.inputs import gem_signal, gem_image
>>> sig = gem_signal(record)                    # doctest: +SKIP
>>> sig.array.shape, sig.array.dtype            # doctest: +SKIP
((12, 5000), dtype('float16'))
>>> gem_image(png_bytes).shape                  # doctest: +SKIP
(3, 336, 336)

References
----------
Lan X et al. "Empowering MLLM for Grounded ECG Understanding with Time Series and Images"
(GEM), arXiv:2503.06073, 2025. Radford A et al. "Learning Transferable Visual Models From
Natural Language Supervision" (CLIP), ICML 2021: image mean/std.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import DTypeLike
from PIL import Image, UnidentifiedImageError

from tools.errors import (
    CorruptFileError,
    LeadError,
    MissingFileError,
    SignalValueError,
    UnknownLeadError,
)
from tools.leads import MIMIC_LEADS, STANDARD_LEADS, canonical_lead
from tools.record import ECGRecord
from tools.signal import rational_ratio, resample

#: GEM's signal rate: its ECG-CoCa tower was trained on 500 Hz MIMIC-IV-ECG signals.
GEM_FS_HZ = 500.0
#: GEM's signal length: 10 s at 500 Hz (the Conv1d patch embedding makes 100 patches of 50).
GEM_N_SAMPLES = 5000
#: GEM's lead count (the Conv1d has 12 input channels).
GEM_N_LEADS = 12
#: CLIP ViT-L/14-336 input side in pixels.
GEM_IMAGE_SIZE = 336
#: CLIP's per-channel RGB mean and standard deviation (OpenAI CLIP preprocessing).
CLIP_MEAN_RGB: tuple[float, float, float] = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD_RGB: tuple[float, float, float] = (0.26862954, 0.26130258, 0.27577711)
#: Signal dtypes GEM's tower can be fed (it runs in fp16; fp32 for exactness checks).
SIGNAL_DTYPES: tuple[str, ...] = ("float16", "float32")
#: Input samples kept beyond the 10 s window before resampling, so the polyphase filter's
#: edge transient (<= 10 * max(up, down) / up input samples) falls outside the kept window.
RESAMPLE_MARGIN_S = 1.0
#: Largest polyphase up/down factor accepted: every rate in use (128, 200, 250, 257, 360, 400,
#: 1000, 1024 Hz) needs <= 512; 499.7313 Hz would need 5,000,000 (and tens of seconds).
MAX_RESAMPLE_FACTOR = 1000

ImageInput = bytes | str | Path | np.ndarray | Image.Image


@dataclass(frozen=True, eq=False)
class GemSignal:
    """GEM's signal tensor and what was done to the record to make it.

    Attributes
    ----------
    array
        ``[12, 5000]`` in mV, float16 or float32, rows in ``lead_names`` order, no NaN/Inf.
    lead_names
        Canonical name of each row (the checkpoint's lead order).
    n_nonfinite
        NaN/Inf samples of the 500 Hz window that were replaced by 0.
    nonfinite_by_lead
        The same count per lead (leads without any omitted).
    missing_leads
        Leads of ``lead_names`` the record does not have: their rows are zeros.
    unused_leads
        Record channels that are not one of ``lead_names`` (as-recorded Holter leads).
    padded_samples
        Zero samples appended on the right to reach 5000 (record shorter than 10 s).
    cropped_samples
        500 Hz samples cut off after the first 10 s.
    source_fs_hz
        The record's own sampling rate.
    present
        False for the all-zero signal standing in for a missing ECG (:func:`zero_signal`).
    record_id
        The record it came from.
    """

    array: np.ndarray
    lead_names: tuple[str, ...]
    n_nonfinite: int = 0
    nonfinite_by_lead: dict[str, int] = field(default_factory=dict)
    missing_leads: tuple[str, ...] = ()
    unused_leads: tuple[str, ...] = ()
    padded_samples: int = 0
    cropped_samples: int = 0
    source_fs_hz: float = GEM_FS_HZ
    present: bool = True
    record_id: str | None = None

    @property
    def fs_hz(self) -> float:
        """Always GEM's 500 Hz."""
        return GEM_FS_HZ

    def summary(self) -> dict[str, Any]:
        """JSON-native description (no samples) for request summaries and traces."""
        return {
            "present": self.present,
            "dtype": str(self.array.dtype),
            "shape": list(self.array.shape),
            "lead_names": list(self.lead_names),
            "n_nonfinite": self.n_nonfinite,
            "missing_leads": list(self.missing_leads),
            "unused_leads": list(self.unused_leads),
            "padded_samples": self.padded_samples,
            "cropped_samples": self.cropped_samples,
            "source_fs_hz": self.source_fs_hz,
        }


@dataclass(frozen=True, eq=False)
class GemInputs:
    """Both of GEM's inputs with explicit presence flags (a missing one is all zeros)."""

    signal: GemSignal
    image: np.ndarray
    has_signal: bool
    has_image: bool


def checkpoint_lead_order(lead_order: Sequence[str], source: str | None = None) -> tuple[str, ...]:
    """Canonical names of a checkpoint's lead order; must be the 12 standard leads, any order.

    Raises
    ------
    LeadError
        A name is unknown, repeated, or the order does not hold all 12 leads.
    """
    try:
        names = tuple(canonical_lead(name, source) for name in lead_order)
    except UnknownLeadError as err:
        raise LeadError(source, f"checkpoint lead order: {err.problem}") from None
    if len(names) != GEM_N_LEADS or set(names) != set(STANDARD_LEADS):
        raise LeadError(
            source,
            f"checkpoint lead order {list(lead_order)} must name each of the 12 standard leads "
            "exactly once",
        )
    return names


def gem_signal(
    record: ECGRecord,
    *,
    lead_order: Sequence[str] = MIMIC_LEADS,
    dtype: DTypeLike = np.float16,
) -> GemSignal:
    """GEM's signal input from a record: 500 Hz, checkpoint lead order, 5000 samples, mV.

    Follows GEM's input rule (Lan et al. 2025): resample to 500 Hz (polyphase, exact rational
    ratio, :func:`tools.signal.resample`), put the rows in the checkpoint's lead order (GEM's
    grounding data is MIMIC-IV-ECG: I, II, III, aVR, aVF, aVL, V1-V6), replace NaN/Inf by 0,
    right-pad with zeros or cut to 10 s.

    Parameters
    ----------
    record
        The ECG. Standard-lead records use their canonical names; as-recorded channels are
        matched when their name is a spelling of a standard lead (``MLII`` -> II).
    lead_order
        The checkpoint's row order: the 12 standard leads in any order and spelling.
    dtype
        ``float16`` (GEM runs in fp16) or ``float32``.

    Returns
    -------
    GemSignal
        The ``[12, 5000]`` array with the zero-filled, padded and cropped amounts.

    Raises
    ------
    LeadError
        ``lead_order`` is not the 12 leads, two channels are the same lead, or no channel of
        the record is one of the 12 leads.
    SignalValueError
        ``dtype`` is not float16/float32, the rate cannot be converted exactly, or a value
        overflows float16.
    """
    source = record.source_path or record.record_id
    out_dtype = _signal_dtype(dtype, source)
    order = checkpoint_lead_order(lead_order, source)
    rows, unused = _rows_by_lead(record, source)
    if not rows:
        raise LeadError(
            source,
            f"none of the channels {list(record.lead_names)} is one of the 12 standard leads; "
            "GEM needs at least one",
        )
    window = _window_500hz(record, [rows[name] for name in order if name in rows], source)
    n_kept = window.shape[1]
    total_500 = _resampled_total(record)
    array = np.zeros((GEM_N_LEADS, GEM_N_SAMPLES), dtype=np.float32)
    present = [i for i, name in enumerate(order) if name in rows]
    array[present, :n_kept] = window
    bad = ~np.isfinite(array)
    per_lead = bad.sum(axis=1)
    array[bad] = 0.0
    limit = float(np.finfo(out_dtype).max)
    if np.abs(array).max() > limit:
        raise SignalValueError(source, f"values beyond +-{limit:g} mV overflow {out_dtype.name}")
    cast = array.astype(out_dtype)
    cast.setflags(write=False)
    return GemSignal(
        array=cast,
        lead_names=order,
        n_nonfinite=int(per_lead.sum()),
        nonfinite_by_lead={order[i]: int(n) for i, n in enumerate(per_lead) if n},
        missing_leads=tuple(name for name in order if name not in rows),
        unused_leads=unused,
        padded_samples=max(0, GEM_N_SAMPLES - total_500),
        cropped_samples=max(0, total_500 - GEM_N_SAMPLES),
        source_fs_hz=record.fs_hz,
        present=True,
        record_id=record.record_id,
    )


def zero_signal(
    *,
    lead_order: Sequence[str] = MIMIC_LEADS,
    dtype: DTypeLike = np.float16,
) -> GemSignal:
    """The all-zero signal GEM is fed when there is no ECG time series (``present=False``)."""
    order = checkpoint_lead_order(lead_order)
    array = np.zeros((GEM_N_LEADS, GEM_N_SAMPLES), dtype=_signal_dtype(dtype, None))
    array.setflags(write=False)
    return GemSignal(array=array, lead_names=order, missing_leads=order, present=False)


def _signal_dtype(dtype: DTypeLike, source: str | None) -> np.dtype[Any]:
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        resolved = None
    if resolved is None or resolved.name not in SIGNAL_DTYPES:
        raise SignalValueError(source, f"GEM signal dtype must be float16 or float32, got {dtype}")
    return resolved


def _rows_by_lead(record: ECGRecord, source: str) -> tuple[dict[str, int], tuple[str, ...]]:
    """Row index of each standard lead the record has, and the channels that are none."""
    rows: dict[str, int] = {}
    unused: list[str] = []
    for i, name in enumerate(record.lead_names):
        try:
            lead = canonical_lead(name, source)
        except UnknownLeadError:
            unused.append(name)
            continue
        if lead in rows:
            first = record.lead_names[rows[lead]]
            raise LeadError(source, f"channels {first!r} and {name!r} are both lead {lead}")
        rows[lead] = i
    return rows, tuple(unused)


def _window_500hz(record: ECGRecord, row_index: list[int], source: str) -> np.ndarray:
    """The first 10 s of the given rows at 500 Hz, float32 (NaN kept; Inf turned into NaN)."""
    x = record.signal_mv[row_index]
    if record.fs_hz == GEM_FS_HZ:
        return np.asarray(x[:, :GEM_N_SAMPLES], dtype=np.float32)
    try:
        up, down = rational_ratio(record.fs_hz, GEM_FS_HZ)
    except SignalValueError as err:
        raise SignalValueError(source, err.problem) from None
    if max(up, down) > MAX_RESAMPLE_FACTOR:
        raise SignalValueError(
            source,
            f"resampling {record.fs_hz:g} Hz -> {GEM_FS_HZ:g} Hz needs a polyphase factor of "
            f"{max(up, down)} (limit {MAX_RESAMPLE_FACTOR}); resample the record to a common "
            "rate first",
        )
    needed_s = GEM_N_SAMPLES / GEM_FS_HZ + RESAMPLE_MARGIN_S
    n_in = min(x.shape[1], int(np.ceil(needed_s * record.fs_hz)))
    chunk = np.where(np.isinf(x[:, :n_in]), np.nan, x[:, :n_in])
    y = resample(chunk, record.fs_hz, GEM_FS_HZ)
    n_out = min(y.shape[1], GEM_N_SAMPLES, -(-x.shape[1] * up // down))
    return y[:, :n_out]


def _resampled_total(record: ECGRecord) -> int:
    """Length of the whole record at 500 Hz (``ceil(n * up / down)``)."""
    if record.fs_hz == GEM_FS_HZ:
        return record.n_samples
    up, down = rational_ratio(record.fs_hz, GEM_FS_HZ)
    return -(-record.n_samples * up // down)


# ---- image -------------------------------------------------------------------------------------


def gem_image(image: ImageInput, size: int = GEM_IMAGE_SIZE) -> np.ndarray:
    """CLIP's preprocessing of an ECG page: float32 ``[3, size, size]``.

    Resize the short side to ``size`` with PIL bicubic (long side ``floor(size * long /
    short)``), centre-crop ``size`` x ``size`` (offset ``(extent - size) // 2``), scale to
    [0, 1], subtract CLIP's mean and divide by its standard deviation per RGB channel
    (Radford et al. 2021; the settings of ``openai/clip-vit-large-patch14-336``).

    Parameters
    ----------
    image
        PNG/JPEG bytes, a file path, a PIL image, or a uint8 array ``[H, W, 3]`` (RGB),
        ``[H, W, 4]`` (RGBA, alpha dropped) or ``[H, W]`` (grey).
    size
        Output side in pixels.

    Returns
    -------
    numpy.ndarray
        float32 ``[3, size, size]``, channels first.

    Raises
    ------
    MissingFileError
        A path that does not exist.
    CorruptFileError
        Bytes or a file that are not a readable image, or an array of the wrong shape/dtype.
    """
    if size <= 0:
        raise ValueError(f"image size must be > 0, got {size}")
    pil = _as_pil_rgb(image)
    width, height = pil.size
    short, long = min(width, height), max(width, height)
    new_long = int(size * long / short)  # truncated, as transformers computes it
    new_size = (size, new_long) if width <= height else (new_long, size)
    resized = pil.resize(new_size, resample=Image.Resampling.BICUBIC)
    pixels = np.asarray(resized, dtype=np.float32) / 255.0
    top = (pixels.shape[0] - size) // 2
    left = (pixels.shape[1] - size) // 2
    crop = pixels[top : top + size, left : left + size]
    mean = np.asarray(CLIP_MEAN_RGB, dtype=np.float32)
    std = np.asarray(CLIP_STD_RGB, dtype=np.float32)
    normalised = (crop - mean) / std
    return np.ascontiguousarray(normalised.transpose(2, 0, 1), dtype=np.float32)


def zero_image(size: int = GEM_IMAGE_SIZE) -> np.ndarray:
    """The all-zero image tensor GEM is fed when there is no ECG image (as in training)."""
    return np.zeros((3, size, size), dtype=np.float32)


def gem_inputs(
    record: ECGRecord | None,
    image: ImageInput | None,
    *,
    lead_order: Sequence[str] = MIMIC_LEADS,
    dtype: DTypeLike = np.float16,
) -> GemInputs:
    """Both inputs; a missing modality (``None``) becomes zeros with its flag set to False."""
    signal = (
        gem_signal(record, lead_order=lead_order, dtype=dtype)
        if record is not None
        else zero_signal(lead_order=lead_order, dtype=dtype)
    )
    pixels = gem_image(image) if image is not None else zero_image()
    return GemInputs(signal, pixels, has_signal=record is not None, has_image=image is not None)


def _as_pil_rgb(image: ImageInput) -> Image.Image:
    if isinstance(image, Image.Image):
        return image.convert("RGB")
    if isinstance(image, np.ndarray):
        return _array_to_pil(image)
    if isinstance(image, bytes | bytearray | memoryview):
        return _decode(bytes(image), "<image bytes>")
    path = Path(image)
    if not path.is_file():
        raise MissingFileError(path, "image file does not exist")
    return _decode(path.read_bytes(), str(path))


def _decode(data: bytes, source: str) -> Image.Image:
    try:
        with Image.open(io.BytesIO(data)) as opened:
            opened.load()
            return opened.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError) as err:
        raise CorruptFileError(source, f"not a readable image ({len(data)} bytes): {err}") from None


def _array_to_pil(array: np.ndarray) -> Image.Image:
    source = "<image array>"
    if array.dtype != np.uint8:
        raise CorruptFileError(source, f"image array must be uint8, got {array.dtype}")
    if array.ndim == 2:
        return Image.fromarray(array).convert("RGB")
    if array.ndim == 3 and array.shape[2] in (3, 4) and min(array.shape[:2]) > 0:
        return Image.fromarray(np.ascontiguousarray(array[:, :, :3]))
    raise CorruptFileError(
        source, f"image array must be [H, W], [H, W, 3] or [H, W, 4], got {array.shape}"
    )
