"""Quantities in free text: units, conversions, ranges, lists, bounds, modifiers."""

from __future__ import annotations

import pytest

from agent.verify.numbers import find_quantities


def _one(text: str):
    (quantity,) = find_quantities(text)
    return quantity


class TestFindQuantities:
    @pytest.mark.parametrize(
        ("text", "low", "high", "unit", "dimension"),
        [
            ("75 bpm", 75.0, 75.0, "bpm", "rate"),
            ("72 beats per minute", 72.0, 72.0, "bpm", "rate"),
            ("68/min", 68.0, 68.0, "bpm", "rate"),
            ("0.18 s", 180.0, 180.0, "s", "time"),
            ("0.12 sec", 120.0, 120.0, "s", "time"),
            ("160 msec", 160.0, 160.0, "ms", "time"),
            ("2 mm", 0.2, 0.2, "mm", "voltage"),
            ("1.5 mV", 1.5, 1.5, "mV", "voltage"),
            ("50 µV", 0.05, 0.05, "uV", "voltage"),
            ("-30°", -30.0, -30.0, "deg", "angle"),
            ("+60 degrees", 60.0, 60.0, "deg", "angle"),
            ("RR 1,200 ms", 1200.0, 1200.0, "ms", "time"),
            (".5 mV", 0.5, 0.5, "mV", "voltage"),
        ],
    )
    def test_units_convert_to_the_dimension_unit(self, text, low, high, unit, dimension) -> None:
        q = _one(text)
        assert (q.low, q.high, q.unit, q.dimension) == (pytest.approx(low), high and
                pytest.approx(high), unit, dimension)  # fmt: skip

    @pytest.mark.parametrize(
        ("text", "low", "high", "spread"),
        [
            ("92 to 132 ms", 92.0, 132.0, False),
            ("92-132 ms", 92.0, 132.0, False),
            ("92–132 ms", 92.0, 132.0, False),
            ("92 ms to 132 ms", 92.0, 132.0, False),
            ("between 70 and 80 bpm", 70.0, 80.0, False),
            ("from 92 to 132 ms", 92.0, 132.0, True),
            ("range from about 92 to 132 ms", 92.0, 132.0, True),
            ("durations ranging 92-132 ms", 92.0, 132.0, True),
            ("92, 104 and 132 ms", 92.0, 132.0, True),
            ("92 and 104 ms", 92.0, 104.0, True),
            ("0.09 to 0.12 s", 90.0, 120.0, False),
        ],
    )
    def test_ranges_and_lists(self, text, low, high, spread) -> None:
        q = _one(text)
        assert (q.low, q.high, q.spread) == (pytest.approx(low), pytest.approx(high), spread)

    @pytest.mark.parametrize(
        ("text", "low", "high"),
        [
            ("> 120 ms", 120.0, None),
            ("greater than 120 ms", 120.0, None),
            ("at least 0.1 mV", 0.1, None),
            ("in excess of 120 ms", 120.0, None),
            ("less than 0.12 s", None, 120.0),
            ("no more than 1 mm", None, 0.1),
            ("≤ 440 ms", None, 440.0),
            ("up to 100 bpm", None, 100.0),
        ],
    )
    def test_bounds(self, text, low, high) -> None:
        q = _one(text)
        assert q.low == (None if low is None else pytest.approx(low))
        assert q.high == (None if high is None else pytest.approx(high))

    @pytest.mark.parametrize("text", ["about 75 bpm", "approximately 75 bpm", "~75 bpm",
                                      "around 75 bpm", "roughly 75 bpm", "≈ 75 bpm"])  # fmt: skip
    def test_approximate(self, text: str) -> None:
        q = _one(text)
        assert q.approximate and q.low == 75.0 and text[q.start : q.end] == text

    def test_explicit_sign_is_kept(self) -> None:
        assert _one("-0.3 mV").signed and not _one("0.3 mV").signed

    def test_dash_after_a_lead_is_not_a_minus(self) -> None:
        (q,) = find_quantities("V1-3")
        assert q.low == 3.0 and not q.signed

    @pytest.mark.parametrize("text", ["25 mm/s", "10 mm/mV", "paper 25 mm / s, gain 10 mm/mV"])
    def test_paper_speed_and_gain_are_ignored(self, text: str) -> None:
        assert find_quantities(text) == []

    def test_plus_minus_spread_is_not_a_value(self) -> None:
        units = [q.unit for q in find_quantities("120 ± 10 ms")]
        assert units == [None]

    def test_unitless(self) -> None:
        assert [(q.low, q.unit) for q in find_quantities("a 12-lead ECG, 3 beats")] == [
            (12.0, None),
            (3.0, None),
        ]

    def test_uppercase_s_is_not_seconds(self) -> None:
        assert _one("2 S").unit is None

    def test_empty(self) -> None:
        assert find_quantities("") == []
