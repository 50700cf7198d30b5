"""Polylines (in page mm) of the lead traces and calibration pulses: pure numpy, no drawing."""

from __future__ import annotations

import numpy as np

from tools.errors import SignalValueError
from tools.record import ECGRecord
from tools.render.layout import PAGE_DURATION_S, PageLayout, Panel

#: Slack when turning a window edge in seconds into a sample index, so that 2.5 s * 500 Hz
#: is sample 1250 and not 1251 after floating-point rounding.
_INDEX_EPS = 1e-9


def sample_window(panel: Panel, fs_hz: float, n_samples: int) -> tuple[int, int]:
    """Half-open sample range ``[start, stop)`` whose times fall in the panel's window."""
    start = int(np.ceil(panel.t_start_s * fs_hz - _INDEX_EPS))
    stop = int(np.ceil(panel.t_stop_s * fs_hz - _INDEX_EPS))
    return min(start, n_samples), min(stop, n_samples)


def panel_polyline_mm(record: ECGRecord, layout: PageLayout, panel: Panel) -> np.ndarray | None:
    """The trace of one panel as ``[points, (x, y)]`` in mm, NaN where samples are missing.

    Returns ``None`` for an absent lead or a window past the record's end (nothing to draw).
    """
    if panel.signal_row is None:
        return None
    start, stop = sample_window(panel, record.fs_hz, record.n_samples)
    if stop - start < 1:
        return None
    t_s = np.arange(start, stop, dtype=np.float64) / record.fs_hz
    mv = record.signal_mv[panel.signal_row, start:stop].astype(np.float64)
    x_mm = np.asarray(layout.time_to_x_mm(t_s))
    y_mm = np.asarray(layout.mv_to_y_mm(mv, panel.row))
    if stop - start == 1:  # a lone sample: a dot-length stroke so it still shows
        x_mm = np.append(x_mm, x_mm[0] + 0.5 / layout.px_per_mm)
        y_mm = np.append(y_mm, y_mm[0])
    return np.column_stack([x_mm, y_mm])


def trace_polylines_mm(record: ECGRecord, layout: PageLayout) -> list[np.ndarray]:
    """Polylines of every drawn panel (absent leads and empty windows left out).

    Raises
    ------
    SignalValueError
        When a drawn lead holds infinite values (NaN is fine: it leaves a gap).
    """
    check_finite_or_nan(record)
    lines = (panel_polyline_mm(record, layout, panel) for panel in layout.panels)
    return [line for line in lines if line is not None]


def calibration_polylines_mm(layout: PageLayout) -> list[np.ndarray]:
    """One calibration pulse at the start of every row."""
    return [layout.calibration_pulse_mm(row) for row in range(layout.n_rows)]


def check_finite_or_nan(record: ECGRecord) -> None:
    """Raise when the page's time window holds +-inf samples (which draw as page-wide lines)."""
    n_page = min(record.n_samples, int(np.ceil(PAGE_DURATION_S * record.fs_hz)) + 1)
    infinite = np.isinf(record.signal_mv[:, :n_page]).any(axis=1)
    if infinite.any():
        bad = ", ".join(record.lead_names[i] for i in np.flatnonzero(infinite))
        raise SignalValueError(
            record.source_path or record.record_id,
            f"lead(s) {bad} hold infinite values; mark missing samples as NaN instead",
        )
