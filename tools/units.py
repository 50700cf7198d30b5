"""Physical units of ECG samples: the single table of conversion factors to millivolts."""

from __future__ import annotations

from pathlib import Path

from tools.errors import SignalValueError

#: Multiply a value in the key unit by this factor to get millivolts.
TO_MV: dict[str, float] = {
    "mv": 1.0,
    "uv": 1e-3,
    "µv": 1e-3,
    "μv": 1e-3,
    "microvolt": 1e-3,
    "v": 1e3,
    "nv": 1e-6,
}

#: WFDB writes no unit when the signal is in mV (its documented default).
DEFAULT_UNIT = "mV"


def mv_factor(unit: str | None, source: str | Path | None = None) -> float:
    """Return the factor that converts samples in ``unit`` to millivolts.

    Parameters
    ----------
    unit
        Unit string as written in a header (``"mV"``, ``"uV"``, ``"µV"``, ``"V"``);
        ``None`` or empty means WFDB's default, mV.
    source
        Record the unit belongs to, for the error message.

    Raises
    ------
    SignalValueError
        When the unit is not a voltage unit.
    """
    key = (unit or DEFAULT_UNIT).strip().lower()
    try:
        return TO_MV[key]
    except KeyError:
        raise SignalValueError(
            source, f"unit {unit!r} is not a voltage unit (expected one of mV, uV, V)"
        ) from None
