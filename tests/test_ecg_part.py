"""The ``input_ecg`` content part: encode, decode, and every validation error."""

from __future__ import annotations

import base64
import copy
import json

import numpy as np
import pytest

from gem_core.ecg_part import (
    ECG_PART_FORMAT,
    EcgPartError,
    decode_ecg_part,
    encode_ecg_part,
    is_ecg_part,
)
from gem_core.inputs import GemSignal, gem_signal
from tools.leads import MIMIC_LEADS, STANDARD_LEADS
from tools.record import ECGRecord


def make_signal(dtype: str = "float16", seed: int = 0) -> GemSignal:
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 0.5, size=(12, 5000)).astype(np.float32)
    return gem_signal(ECGRecord("r", x, 500.0, STANDARD_LEADS), dtype=dtype)


@pytest.fixture(scope="module")
def part() -> dict:
    return encode_ecg_part(make_signal())


def with_body(part: dict, **changes) -> dict:
    out = copy.deepcopy(part)
    out["input_ecg"].update(changes)
    return out


class TestEncode:
    def test_layout(self, part: dict) -> None:
        body = part["input_ecg"]
        assert part["type"] == "input_ecg" and is_ecg_part(part)
        assert body["format"] == ECG_PART_FORMAT
        assert (body["dtype"], body["shape"], body["fs_hz"], body["units"]) == (
            "float16",
            [12, 5000],
            500,
            "mV",
        )
        assert body["lead_names"] == list(MIMIC_LEADS)

    def test_base64_little_endian_row_major(self) -> None:
        signal = make_signal("float32")
        raw = base64.b64decode(encode_ecg_part(signal)["input_ecg"]["data"])
        assert len(raw) == 12 * 5000 * 4
        decoded = np.frombuffer(raw, dtype="<f4").reshape(12, 5000)
        np.testing.assert_array_equal(decoded, signal.array)

    def test_float16_size(self, part: dict) -> None:
        assert len(base64.b64decode(part["input_ecg"]["data"])) == 120_000

    def test_json_native(self, part: dict) -> None:
        assert json.loads(json.dumps(part)) == part

    def test_refuses_non_finite(self) -> None:
        signal = make_signal("float32")
        bad = np.array(signal.array)
        bad[2, 7] = np.nan
        broken = GemSignal(array=bad, lead_names=signal.lead_names)
        with pytest.raises(EcgPartError, match="NaN/Inf"):
            encode_ecg_part(broken)

    def test_refuses_wrong_shape(self) -> None:
        signal = GemSignal(array=np.zeros((12, 4000), np.float16), lead_names=MIMIC_LEADS)
        with pytest.raises(EcgPartError, match=r"shape must be \[12, 5000\], got \[12, 4000\]"):
            encode_ecg_part(signal)


class TestDecode:
    @pytest.mark.parametrize("dtype", ["float16", "float32"])
    def test_round_trip(self, dtype: str) -> None:
        signal = make_signal(dtype, seed=3)
        wire = json.loads(json.dumps(encode_ecg_part(signal)))
        array, meta = decode_ecg_part(wire)
        assert array.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(array, signal.array)
        assert meta.lead_names == MIMIC_LEADS == meta.order
        assert (meta.shape, meta.fs_hz, meta.units, meta.dtype) == ((12, 5000), 500.0, "mV", dtype)
        array[0, 0] = 1.0  # a writable copy

    def test_reorder_to_checkpoint_order(self, part: dict) -> None:
        sent, _ = decode_ecg_part(part)
        array, meta = decode_ecg_part(part, lead_order=STANDARD_LEADS)
        assert meta.order == STANDARD_LEADS
        for i, name in enumerate(STANDARD_LEADS):
            np.testing.assert_array_equal(array[i], sent[MIMIC_LEADS.index(name)])

    def test_lead_spellings_accepted(self, part: dict) -> None:
        spelled = [name.upper() for name in MIMIC_LEADS]
        _, meta = decode_ecg_part(with_body(part, lead_names=spelled))
        assert meta.lead_names == MIMIC_LEADS


class TestDecodeErrors:
    def test_is_value_error_with_clear_prefix(self, part: dict) -> None:
        with pytest.raises(ValueError, match=r"^invalid input_ecg content part: "):
            decode_ecg_part(with_body(part, dtype="int16"))

    def test_not_a_mapping(self) -> None:
        with pytest.raises(EcgPartError, match="must be a JSON object, got list"):
            decode_ecg_part([1, 2])  # type: ignore[arg-type]

    def test_wrong_type(self, part: dict) -> None:
        with pytest.raises(EcgPartError, match="type must be 'input_ecg', got 'input_audio'"):
            decode_ecg_part({**part, "type": "input_audio"})

    def test_missing_body(self) -> None:
        with pytest.raises(EcgPartError, match="field 'input_ecg' must be a JSON object"):
            decode_ecg_part({"type": "input_ecg"})

    def test_wrong_format(self, part: dict) -> None:
        with pytest.raises(EcgPartError, match="format must be 'gem-ecg/1', got 'gem-ecg/2'"):
            decode_ecg_part(with_body(part, format="gem-ecg/2"))

    @pytest.mark.parametrize("dtype", ["int16", "float64", ">f2", None])
    def test_wrong_dtype(self, part: dict, dtype) -> None:
        with pytest.raises(EcgPartError, match="dtype"):
            decode_ecg_part(with_body(part, dtype=dtype))

    @pytest.mark.parametrize("shape", [[12, 4999], [5000, 12], [12, 5000, 1], "12x5000", None])
    def test_wrong_shape(self, part: dict, shape) -> None:
        with pytest.raises(EcgPartError, match=r"shape must be \[12, 5000\]"):
            decode_ecg_part(with_body(part, shape=shape))

    @pytest.mark.parametrize("fs_hz", [250, 500.5, "500", True, None])
    def test_wrong_fs(self, part: dict, fs_hz) -> None:
        with pytest.raises(EcgPartError, match="fs_hz must be 500"):
            decode_ecg_part(with_body(part, fs_hz=fs_hz))

    def test_wrong_units(self, part: dict) -> None:
        with pytest.raises(EcgPartError, match="units must be 'mV', got 'uV'"):
            decode_ecg_part(with_body(part, units="uV"))

    def test_length_mismatch(self, part: dict) -> None:
        raw = base64.b64decode(part["input_ecg"]["data"])[:-6]
        short = with_body(part, data=base64.b64encode(raw).decode())
        with pytest.raises(EcgPartError, match=r"data holds 119994 bytes; .* needs 120000"):
            decode_ecg_part(short)

    def test_dtype_and_payload_disagree(self, part: dict) -> None:
        with pytest.raises(EcgPartError, match="needs 240000"):
            decode_ecg_part(with_body(part, dtype="float32"))

    @pytest.mark.parametrize("value", [np.nan, np.inf])
    def test_non_finite(self, part: dict, value: float) -> None:
        raw = np.frombuffer(base64.b64decode(part["input_ecg"]["data"]), "<f2").copy()
        raw[5000 * 4 + 10] = value  # row 4: aVF in MIMIC order
        bad = with_body(part, data=base64.b64encode(raw.tobytes()).decode())
        with pytest.raises(EcgPartError, match=r"1 non-finite samples \(leads aVF\)"):
            decode_ecg_part(bad)

    @pytest.mark.parametrize("data", ["not base64!!", "QUJ", 123])
    def test_bad_base64(self, part: dict, data) -> None:
        with pytest.raises(EcgPartError, match="base64"):
            decode_ecg_part(with_body(part, data=data))

    def test_too_large(self, part: dict) -> None:
        with pytest.raises(EcgPartError, match="data is too large"):
            decode_ecg_part(part, max_bytes=1000)

    def test_unknown_lead(self, part: dict) -> None:
        names = [*MIMIC_LEADS[:11], "V7"]
        with pytest.raises(EcgPartError, match="unknown lead name 'V7' in lead_names"):
            decode_ecg_part(with_body(part, lead_names=names))

    def test_repeated_lead(self, part: dict) -> None:
        names = [*MIMIC_LEADS[:11], "avr"]
        with pytest.raises(EcgPartError, match="lead_names repeats aVR"):
            decode_ecg_part(with_body(part, lead_names=names))

    @pytest.mark.parametrize("names", [list(MIMIC_LEADS[:11]), "I,II", None, [1] * 12])
    def test_bad_lead_list(self, part: dict, names) -> None:
        with pytest.raises(EcgPartError, match="lead_names"):
            decode_ecg_part(with_body(part, lead_names=names))

    def test_bad_lead_order(self, part: dict) -> None:
        with pytest.raises(EcgPartError, match="lead_order"):
            decode_ecg_part(part, lead_order=STANDARD_LEADS[:6] * 2)
