"""The ECG content part of the OpenAI chat protocol: one definition for client and server.

The OpenAI chat API has no input type for a time series. gem-agent sends the 12-lead signal
GEM reads as one extra content part in a user message, beside the ``text`` and ``image_url``
parts::

    {
      "type": "input_ecg",
      "input_ecg": {
        "format": "gem-ecg/1",
        "data": "<base64 of the samples, little-endian, row-major [lead][sample]>",
        "dtype": "float16",          # or "float32"
        "shape": [12, 5000],         # [leads, samples]
        "fs_hz": 500,
        "lead_names": ["I", "II", "III", "aVR", "aVF", "aVL",
                       "V1", "V2", "V3", "V4", "V5", "V6"],
        "units": "mV"
      }
    }

Rules: ``shape`` is GEM's ``[12, 5000]`` (10 s at 500 Hz); ``lead_names`` name the rows, one
of each of the 12 standard leads, in any order and any usual spelling (``AVF``, ``avf``; a
server reorders the rows to its checkpoint's order); samples are physical millivolts, finite
(a client replaces NaN by 0 before sending); ``data`` is standard base64 (RFC 4648, with
padding) of exactly ``12 * 5000 * itemsize`` bytes (120,000 for float16). A server that does
not know this part rejects it; the endpoint backend can leave it out (``send_ecg=False``) and
send the image and text only.

:func:`encode_ecg_part` builds the part from a :class:`~gem_core.inputs.GemSignal`;
:func:`decode_ecg_part` validates one and returns the array, raising :class:`EcgPartError`
(a server answers HTTP 400 with its message) on anything malformed.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gem_core.inputs import GEM_FS_HZ, GEM_N_LEADS, GEM_N_SAMPLES, SIGNAL_DTYPES, GemSignal
from tools.errors import UnknownLeadError
from tools.leads import STANDARD_LEADS, canonical_lead

#: Content part ``type`` value.
ECG_PART_TYPE = "input_ecg"
#: Version tag of the payload layout; bump on any incompatible change.
ECG_PART_FORMAT = "gem-ecg/1"
#: The only unit accepted: GEM reads physical millivolts.
ECG_PART_UNITS = "mV"
#: Default size limit of the decoded samples: the float32 [12, 5000] payload (240,000 bytes).
MAX_ECG_PART_BYTES = GEM_N_LEADS * GEM_N_SAMPLES * 4

_WIRE_DTYPES: dict[str, str] = {"float16": "<f2", "float32": "<f4"}


class EcgPartError(ValueError):
    """An ECG content part is malformed; the message says which field and why."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(f"invalid {ECG_PART_TYPE} content part: {problem}")


@dataclass(frozen=True)
class EcgPartMeta:
    """The validated description of a decoded ECG part.

    ``lead_names`` are canonical names of the rows as sent; ``order`` is the row order of
    the returned array (the requested ``lead_order``, or ``lead_names`` when none was given).
    """

    format: str
    dtype: str
    shape: tuple[int, int]
    fs_hz: float
    lead_names: tuple[str, ...]
    order: tuple[str, ...]
    units: str


def encode_ecg_part(signal: GemSignal) -> dict[str, Any]:
    """The ``input_ecg`` content part for a GEM signal (see the module docstring).

    Raises
    ------
    EcgPartError
        The signal is not ``[12, 5000]`` float16/float32 with finite values.
    """
    array = np.asarray(signal.array)
    if array.dtype.name not in SIGNAL_DTYPES:
        raise EcgPartError(f"dtype must be one of {list(SIGNAL_DTYPES)}, got {array.dtype}")
    if array.shape != (GEM_N_LEADS, GEM_N_SAMPLES):
        raise EcgPartError(f"shape must be [12, 5000], got {list(array.shape)}")
    if len(signal.lead_names) != GEM_N_LEADS:
        raise EcgPartError(f"need 12 lead names, got {len(signal.lead_names)}")
    if not np.isfinite(array).all():
        raise EcgPartError("signal holds NaN/Inf; build it with gem_signal(), which zeroes them")
    wire = np.ascontiguousarray(array, dtype=_WIRE_DTYPES[array.dtype.name])
    return {
        "type": ECG_PART_TYPE,
        "input_ecg": {
            "format": ECG_PART_FORMAT,
            "data": base64.b64encode(wire.tobytes()).decode("ascii"),
            "dtype": array.dtype.name,
            "shape": [GEM_N_LEADS, GEM_N_SAMPLES],
            "fs_hz": int(GEM_FS_HZ),
            "lead_names": list(signal.lead_names),
            "units": ECG_PART_UNITS,
        },
    }


def decode_ecg_part(
    part: Mapping[str, Any],
    *,
    max_bytes: int = MAX_ECG_PART_BYTES,
    lead_order: Sequence[str] | None = None,
) -> tuple[np.ndarray, EcgPartMeta]:
    """Validate an ``input_ecg`` content part and return its samples.

    Parameters
    ----------
    part
        The content part as parsed from the request JSON.
    max_bytes
        Largest decoded payload accepted; larger ``data`` is refused before decoding.
    lead_order
        Reorder the rows to these leads (a checkpoint's order); ``None`` keeps the sent order.

    Returns
    -------
    tuple of (numpy.ndarray, EcgPartMeta)
        The ``[12, 5000]`` samples in mV (the sent dtype, native byte order, writable copy)
        and the validated metadata.

    Raises
    ------
    EcgPartError
        Wrong type/format/units/fs, shape, dtype, lead names (unknown, repeated, not the 12),
        bad base64, payload length mismatch or over ``max_bytes``, non-finite samples.
    """
    body = _body(part)
    dtype = _field(body, "dtype", str)
    if dtype not in _WIRE_DTYPES:
        raise EcgPartError(f"dtype must be one of {list(SIGNAL_DTYPES)}, got {dtype!r}")
    shape = _shape(body.get("shape"))
    fs_hz = _fs(body.get("fs_hz"))
    units = _field(body, "units", str)
    if units != ECG_PART_UNITS:
        raise EcgPartError(f"units must be {ECG_PART_UNITS!r}, got {units!r}")
    names = _lead_names(body.get("lead_names"))
    raw = _payload(body.get("data"), max_bytes)
    itemsize = np.dtype(_WIRE_DTYPES[dtype]).itemsize
    expected = shape[0] * shape[1] * itemsize
    if len(raw) != expected:
        raise EcgPartError(
            f"data holds {len(raw)} bytes; shape {list(shape)} of {dtype} needs {expected}"
        )
    array = np.frombuffer(raw, dtype=_WIRE_DTYPES[dtype]).reshape(shape).astype(dtype)
    finite = np.isfinite(array)
    if not finite.all():
        bad_rows = np.flatnonzero(~finite.all(axis=1))
        leads = ", ".join(names[i] for i in bad_rows)
        raise EcgPartError(f"{int((~finite).sum())} non-finite samples (leads {leads})")
    order = names
    if lead_order is not None:
        order = tuple(_canonical(name, "lead_order") for name in lead_order)
        if sorted(order) != sorted(names):
            raise EcgPartError(f"lead_order {list(lead_order)} is not the 12 standard leads")
        array = array[[names.index(name) for name in order]]
    meta = EcgPartMeta(ECG_PART_FORMAT, dtype, shape, fs_hz, names, order, units)
    return array, meta


def is_ecg_part(part: object) -> bool:
    """True for a mapping whose ``type`` is ``"input_ecg"`` (validity is not checked)."""
    return isinstance(part, Mapping) and part.get("type") == ECG_PART_TYPE


def _body(part: Mapping[str, Any]) -> Mapping[str, Any]:
    if not isinstance(part, Mapping):
        raise EcgPartError(f"a content part must be a JSON object, got {type(part).__name__}")
    if part.get("type") != ECG_PART_TYPE:
        raise EcgPartError(f"type must be {ECG_PART_TYPE!r}, got {part.get('type')!r}")
    body = part.get(ECG_PART_TYPE)
    if not isinstance(body, Mapping):
        raise EcgPartError(f"field {ECG_PART_TYPE!r} must be a JSON object")
    fmt = body.get("format")
    if fmt != ECG_PART_FORMAT:
        raise EcgPartError(f"format must be {ECG_PART_FORMAT!r}, got {fmt!r}")
    return body


def _field(body: Mapping[str, Any], name: str, kind: type) -> Any:
    value = body.get(name)
    if not isinstance(value, kind):
        raise EcgPartError(f"field {name!r} must be a {kind.__name__}, got {value!r}")
    return value


def _shape(value: object) -> tuple[int, int]:
    ok = (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    )
    if not ok or tuple(value) != (GEM_N_LEADS, GEM_N_SAMPLES):  # type: ignore[arg-type]
        raise EcgPartError(f"shape must be [12, 5000] (12 leads x 10 s at 500 Hz), got {value!r}")
    return GEM_N_LEADS, GEM_N_SAMPLES


def _fs(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != GEM_FS_HZ:
        raise EcgPartError(
            f"fs_hz must be {int(GEM_FS_HZ)} (resample before sending), got {value!r}"
        )
    return float(value)


def _canonical(name: object, field_name: str) -> str:
    if not isinstance(name, str):
        raise EcgPartError(f"{field_name} entries must be strings, got {name!r}")
    try:
        return canonical_lead(name)
    except UnknownLeadError:
        raise EcgPartError(
            f"unknown lead name {name!r} in {field_name}; expected the 12 standard leads "
            f"({', '.join(STANDARD_LEADS)})"
        ) from None


def _lead_names(value: object) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or len(value) != GEM_N_LEADS:
        raise EcgPartError(f"lead_names must list 12 leads, got {value!r}")
    names = tuple(_canonical(name, "lead_names") for name in value)
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise EcgPartError(f"lead_names repeats {', '.join(repeated)}")
    return names


def _payload(value: object, max_bytes: int) -> bytes:
    if not isinstance(value, str):
        raise EcgPartError(f"data must be a base64 string, got {type(value).__name__}")
    # 4 base64 characters carry 3 bytes: refuse oversized payloads before decoding them.
    if len(value) > 4 * (-(-max_bytes // 3)):
        raise EcgPartError(f"data is too large: about {len(value) * 3 // 4} bytes > {max_bytes}")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as err:
        raise EcgPartError(f"data is not valid base64: {err}") from None
