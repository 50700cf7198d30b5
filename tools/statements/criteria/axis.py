"""Frontal-plane QRS axis: normal, left, right and extreme deviation (Surawicz 2009)."""

from __future__ import annotations

import math

from tools.statements import thresholds as th
from tools.statements.criteria._base import (
    Check,
    Finding,
    Rule,
    RuleInput,
    compare,
    evidence,
    number,
    state_of,
)


def wrap_axis_deg(angle_deg: float | None) -> float | None:
    """Map an angle onto (-180, +180] degrees (``270`` -> ``-90``); ``None``/NaN stay ``None``."""
    a = number(angle_deg)
    if a is None:
        return None
    return a - 360.0 * math.ceil((a - 180.0) / 360.0)


def qrs_axis_deg(inp: RuleInput) -> float | None:
    """The record's frontal QRS axis on (-180, +180] degrees, or ``None``."""
    return wrap_axis_deg(inp.g.qrs_axis_deg)


def axis_between(
    inp: RuleInput, low: float, high: float, *, low_open: bool = False, high_open: bool = False
) -> Check:
    """Check that the QRS axis lies between ``low`` and ``high`` (open ends as asked)."""
    axis = qrs_axis_deg(inp)
    met = (
        axis is not None
        and (axis > low if low_open else axis >= low)
        and (axis < high if high_open else axis <= high)
    )
    left = "(" if low_open else "["
    right = ")" if high_open else "]"
    return evidence("qrs_axis_deg", axis, f"in {left}{low:g}, {high:g}{right} deg", met, unit="deg")


def _single(item: Check) -> Finding:
    return Finding(state_of(item), (item,))


def normal_axis(inp: RuleInput) -> Finding:
    """QRS axis -30 .. +90 degrees."""
    return _single(axis_between(inp, th.NORMAL_AXIS_MIN_DEG, th.NORMAL_AXIS_MAX_DEG))


def left_axis_deviation(inp: RuleInput) -> Finding:
    """QRS axis below -30 down to -90 degrees."""
    return _single(
        axis_between(inp, th.EXTREME_AXIS_BELOW_DEG, th.NORMAL_AXIS_MIN_DEG, high_open=True)
    )


def right_axis_deviation(inp: RuleInput) -> Finding:
    """QRS axis above +90 up to +180 degrees."""
    return _single(axis_between(inp, th.NORMAL_AXIS_MAX_DEG, th.RIGHT_AXIS_MAX_DEG, low_open=True))


def extreme_axis_deviation(inp: RuleInput) -> Finding:
    """QRS axis between -90 and -180 degrees (northwest)."""
    return _single(
        compare("qrs_axis_deg", qrs_axis_deg(inp), "<", th.EXTREME_AXIS_BELOW_DEG, "deg")
    )


RULES: tuple[Rule, ...] = (
    Rule("GEM:NAX", "QRS axis -30 to +90 deg", th.SURAWICZ_2009, normal_axis),
    Rule("GEM:LAD", "QRS axis -30 to -90 deg", th.SURAWICZ_2009, left_axis_deviation),
    Rule("GEM:RAD", "QRS axis +90 to +180 deg", th.SURAWICZ_2009, right_axis_deviation),
    Rule("GEM:EAD", "QRS axis -90 to -180 deg", th.SURAWICZ_2009, extreme_axis_deviation),
)
