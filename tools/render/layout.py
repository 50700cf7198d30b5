"""Page geometry of a printed ECG: paper, grid, rows, cells, and the mm <-> pixel mapping.

Pure numbers, no drawing. Coordinates are millimetres from the page's top-left corner, x to
the right and y downwards (the image's row direction). Pixel coordinates are continuous:
pixel column ``i`` covers ``[i, i + 1)``, so a feature at ``x_px = 157.48`` lies in column 157.

Every row shares one time axis: the sample at time ``t`` (seconds from the record's start) is
drawn at ``x0_mm + t * PAPER_SPEED_MM_PER_S`` whatever its row or cell, as on paper where the
3 x 4 columns are consecutive 2.5 s windows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from tools.errors import LeadError
from tools.leads import STANDARD_LEADS
from tools.record import ECGRecord

LayoutName = Literal["gem", "3x4"]
LAYOUTS: tuple[LayoutName, ...] = get_args(LayoutName)

# ---- paper and scale ------------------------------------------------------------------------
#: US-letter landscape, ecg-image-kit's default page (GEM's training images).
PAPER_WIDTH_IN = 11.0
PAPER_HEIGHT_IN = 8.5
MM_PER_INCH = 25.4
#: Standard ECG paper speed and gain (AHA/IEC 60601-2-25 defaults).
PAPER_SPEED_MM_PER_S = 25.0
GAIN_MM_PER_MV = 10.0
#: ECG paper: 1 mm minor squares (40 ms, 0.1 mV), 5 mm major squares (200 ms, 0.5 mV).
MINOR_GRID_MM = 1.0
MAJOR_GRID_MM = 5.0
#: Default resolution: GEM's images are 2200 x 1700 px at 200 dpi.
DEFAULT_DPI = 200
#: Below 50 dpi a 1 mm square is under 2 px and the grid is unreadable; above 600 dpi one
#: RGBA page exceeds 130 MB.
MIN_DPI = 50
MAX_DPI = 600

# ---- time windows -----------------------------------------------------------------------------
#: A standard 12-lead page shows 10 s; longer records are drawn from their first sample.
PAGE_DURATION_S = 10.0
#: Clinical 3 x 4 layout: each of the four columns shows a consecutive 2.5 s window.
CELL_DURATION_S = 2.5
#: Lead grid of the clinical 3 x 4 layout, rows top to bottom, columns left to right.
LEADS_3X4: tuple[tuple[str, ...], ...] = (
    ("I", "aVR", "V1", "V4"),
    ("II", "aVL", "V2", "V5"),
    ("III", "aVF", "V3", "V6"),
)
#: Full-length rhythm strip lead (lead II on GEM's pages and on clinical printouts).
RHYTHM_LEAD = "II"

# ---- horizontal geometry (mm) -----------------------------------------------------------------
#: x of t = 0: four major squares, room for the calibration pulse and its lead-in.
TRACE_X0_MM = 20.0
#: Calibration pulse: 1 mV for 0.2 s (10 mm x 5 mm), with 2.5 mm of baseline either side,
#: ending 2.5 mm (half a major square) before t = 0 so it never touches the trace.
CAL_PULSE_MV = 1.0
CAL_PULSE_S = 0.2
CAL_LEAD_MM = 2.5
CAL_GAP_MM = 2.5
CAL_START_MM = TRACE_X0_MM - CAL_GAP_MM - 2 * CAL_LEAD_MM - CAL_PULSE_S * PAPER_SPEED_MM_PER_S
#: Lead label: just right of the row's (or cell's) first sample, above the baseline.
LABEL_DX_MM = 1.0
LABEL_DY_MM = 4.0

# ---- vertical geometry (mm) -------------------------------------------------------------------
#: Header band at the top (record id, rate, scale) and blank band at the bottom.
HEADER_Y_MM = 6.0
TOP_MARGIN_MM = 10.0
BOTTOM_MARGIN_MM = 5.0
#: Rows never spread further than 4 major squares apart (a few-channel page stays compact)
#: nor closer than 1 major square (below that every QRS overlaps two neighbours).
MAX_ROW_SPACING_MM = 40.0
MIN_ROW_SPACING_MM = 5.0


@dataclass(frozen=True)
class Panel:
    """One drawn strip: a lead over a time window on one row.

    Attributes
    ----------
    label
        Text printed at the strip's start (``"aVL"``, ``"aVL (absent)"``, ``"CM5"``).
    lead
        Lead (or as-recorded channel) name.
    signal_row
        Row of ``record.signal_mv`` holding the lead, ``None`` when the record lacks it.
    row, column
        Page row (0 = top) and column (0 = left) of the strip.
    t_start_s, t_stop_s
        Time window drawn, in seconds from the record's start (half-open).
    rhythm
        True for the full-length rhythm strip.
    """

    label: str
    lead: str
    signal_row: int | None
    row: int
    column: int
    t_start_s: float
    t_stop_s: float
    rhythm: bool = False

    @property
    def absent(self) -> bool:
        return self.signal_row is None


@dataclass(frozen=True)
class PageLayout:
    """Geometry of one rendered page: size, scale, row baselines and panels.

    Attributes
    ----------
    name
        ``"gem"`` (12 x 1 + lead-II strip) or ``"3x4"`` (clinical 3 x 4 + lead-II strip).
    dpi
        Resolution in pixels per inch.
    width_px, height_px
        Image size.
    row_baselines_mm
        y of each row's 0 mV line, top to bottom.
    panels
        Every strip drawn, in drawing order.
    """

    name: LayoutName
    dpi: int
    width_px: int
    height_px: int
    row_baselines_mm: tuple[float, ...]
    panels: tuple[Panel, ...]
    x0_mm: float = TRACE_X0_MM
    speed_mm_per_s: float = PAPER_SPEED_MM_PER_S
    gain_mm_per_mv: float = GAIN_MM_PER_MV

    # ---- scale -----------------------------------------------------------------------------
    @property
    def px_per_mm(self) -> float:
        return self.dpi / MM_PER_INCH

    @property
    def width_mm(self) -> float:
        return self.width_px / self.px_per_mm

    @property
    def height_mm(self) -> float:
        return self.height_px / self.px_per_mm

    @property
    def n_rows(self) -> int:
        return len(self.row_baselines_mm)

    @property
    def x0_px(self) -> float:
        """x of t = 0 in pixels (the same on every row)."""
        return self.x0_mm * self.px_per_mm

    @property
    def row_baselines_px(self) -> tuple[float, ...]:
        """y of each row's 0 mV line in pixels."""
        return tuple(y * self.px_per_mm for y in self.row_baselines_mm)

    def mm_to_px(self, mm: float | np.ndarray) -> float | np.ndarray:
        """Convert a length or coordinate in mm to pixels."""
        return mm * self.px_per_mm

    # ---- signal <-> page -------------------------------------------------------------------
    def time_to_x_mm(self, t_s: float | np.ndarray) -> float | np.ndarray:
        """x (mm) where the sample at time ``t_s`` (s from the record's start) is drawn."""
        return self.x0_mm + np.asarray(t_s, dtype=np.float64) * self.speed_mm_per_s

    def time_to_x_px(self, t_s: float | np.ndarray) -> float | np.ndarray:
        """x (px) where the sample at time ``t_s`` is drawn."""
        return self.time_to_x_mm(t_s) * self.px_per_mm

    def mv_to_y_mm(self, mv: float | np.ndarray, row: int) -> float | np.ndarray:
        """y (mm) of a voltage drawn on ``row`` (positive voltages go up the page)."""
        return self.row_baselines_mm[row] - np.asarray(mv, dtype=np.float64) * self.gain_mm_per_mv

    def mv_to_y_px(self, mv: float | np.ndarray, row: int) -> float | np.ndarray:
        """y (px) of a voltage drawn on ``row``."""
        return self.mv_to_y_mm(mv, row) * self.px_per_mm

    # ---- furniture -------------------------------------------------------------------------
    def panel(self, label_or_lead: str) -> Panel:
        """The first panel whose lead or label is ``label_or_lead`` (rhythm strips last)."""
        ordered = sorted(self.panels, key=lambda p: p.rhythm)
        for panel in ordered:
            if label_or_lead in (panel.lead, panel.label):
                return panel
        raise KeyError(f"{self.name} page has no panel {label_or_lead!r}")

    def calibration_pulse_mm(self, row: int) -> np.ndarray:
        """Polyline ``[points, (x, y)]`` in mm of the 1 mV, 0.2 s pulse at ``row``'s start."""
        base = self.row_baselines_mm[row]
        top = base - CAL_PULSE_MV * self.gain_mm_per_mv
        x_up = CAL_START_MM + CAL_LEAD_MM
        x_down = x_up + CAL_PULSE_S * self.speed_mm_per_s
        x_end = x_down + CAL_LEAD_MM
        xs = [CAL_START_MM, x_up, x_up, x_down, x_down, x_end]
        ys = [base, base, top, top, base, base]
        return np.column_stack([xs, ys]).astype(np.float64)

    def label_xy_mm(self, panel: Panel) -> tuple[float, float]:
        """Anchor (left, bottom) of a panel's label in mm."""
        x = float(self.time_to_x_mm(panel.t_start_s)) + LABEL_DX_MM
        return x, self.row_baselines_mm[panel.row] - LABEL_DY_MM


def page_size_px(dpi: int) -> tuple[int, int]:
    """``(width, height)`` in pixels of the US-letter landscape page at ``dpi``."""
    return round(PAPER_WIDTH_IN * dpi), round(PAPER_HEIGHT_IN * dpi)


def page_layout(
    record: ECGRecord, *, layout: LayoutName = "gem", dpi: int = DEFAULT_DPI
) -> PageLayout:
    """Plan the page for ``record``: which lead goes where, and the page's scale.

    Parameters
    ----------
    record
        The ECG; only its lead names, lead system and id are read.
    layout
        ``"gem"``: GEM's 12 x 1 page (each lead a full 10 s row) plus a full-length rhythm
        strip, as made by ecg-image-kit's defaults. ``"3x4"``: the clinical layout, four
        consecutive 2.5 s columns of three leads each, plus a 10 s rhythm strip.
        Records with ``lead_system="as-recorded"`` get one full-length row per channel on
        either layout (Holter leads have no 12-lead place).
    dpi
        Pixels per inch; 200 gives GEM's 2200 x 1700 px.

    Returns
    -------
    PageLayout
        Panels (absent standard leads included, with ``signal_row=None``) and row baselines.

    Raises
    ------
    ValueError
        Unknown layout name or a dpi outside [MIN_DPI, MAX_DPI].
    LeadError
        Too many as-recorded channels to fit rows at least ``MIN_ROW_SPACING_MM`` apart.
    """
    source = record.source_path or record.record_id
    if layout not in LAYOUTS:
        raise ValueError(f"{source}: unknown ECG page layout {layout!r}; use one of {LAYOUTS}")
    if not isinstance(dpi, int | np.integer) or not MIN_DPI <= dpi <= MAX_DPI:
        raise ValueError(f"{source}: dpi must be an integer in [{MIN_DPI}, {MAX_DPI}], got {dpi!r}")
    width_px, height_px = page_size_px(int(dpi))
    names = record.lead_names
    if record.lead_system == "as-recorded":
        panels = _channel_panels(names)
    elif layout == "gem":
        panels = _gem_panels(names)
    else:
        panels = _clinical_panels(names)
    n_rows = max(p.row for p in panels) + 1
    height_mm = height_px / (dpi / MM_PER_INCH)
    baselines = row_baselines_mm(n_rows, height_mm, source=source)
    return PageLayout(
        name=layout,
        dpi=int(dpi),
        width_px=width_px,
        height_px=height_px,
        row_baselines_mm=baselines,
        panels=tuple(panels),
    )


def row_baselines_mm(
    n_rows: int, height_mm: float, *, source: str | None = None
) -> tuple[float, ...]:
    """Baselines of ``n_rows`` evenly spaced rows between the header and bottom margins.

    The spacing is the largest whole number of mm (a whole number of major squares when it
    is 15 mm or more) that fits, capped at ``MAX_ROW_SPACING_MM``; the block is centred and
    its first baseline snapped to the grid so baselines fall on grid lines. GEM's 13-row page
    gets 15 mm rows at y = 20, 35, ..., 200 mm.
    """
    usable_mm = height_mm - TOP_MARGIN_MM - BOTTOM_MARGIN_MM
    spacing = min(MAX_ROW_SPACING_MM, math.floor(usable_mm / n_rows))
    if spacing >= 3 * MAJOR_GRID_MM:
        spacing = MAJOR_GRID_MM * math.floor(spacing / MAJOR_GRID_MM)
    if spacing < MIN_ROW_SPACING_MM:
        raise LeadError(
            source,
            f"{n_rows} rows do not fit on one page (rows would be {usable_mm / n_rows:.1f} mm "
            f"apart, minimum {MIN_ROW_SPACING_MM:g} mm); select fewer channels",
        )
    block_top = TOP_MARGIN_MM + (usable_mm - n_rows * spacing) / 2
    snap = MAJOR_GRID_MM if spacing % MAJOR_GRID_MM == 0 else MINOR_GRID_MM
    first = snap * round((block_top + spacing / 2) / snap)
    return tuple(float(first + i * spacing) for i in range(n_rows))


def _lead_panel(
    names: Sequence[str], lead: str, row: int, column: int, t_start_s: float, t_stop_s: float
) -> Panel:
    """Panel of a standard lead, marked absent when the record lacks it."""
    signal_row = names.index(lead) if lead in names else None
    label = lead if signal_row is not None else f"{lead} (absent)"
    return Panel(label, lead, signal_row, row, column, t_start_s, t_stop_s)


def _rhythm_panel(names: Sequence[str], row: int) -> Panel:
    """Full-length strip of lead II, else of the record's first lead (labelled with its name)."""
    lead = RHYTHM_LEAD if RHYTHM_LEAD in names else names[0]
    return Panel(lead, lead, names.index(lead), row, 0, 0.0, PAGE_DURATION_S, rhythm=True)


def _gem_panels(names: Sequence[str]) -> list[Panel]:
    """12 x 1: one 10 s row per standard lead in canonical order, then the rhythm strip."""
    panels = [
        _lead_panel(names, lead, i, 0, 0.0, PAGE_DURATION_S)
        for i, lead in enumerate(STANDARD_LEADS)
    ]
    panels.append(_rhythm_panel(names, len(STANDARD_LEADS)))
    return panels


def _clinical_panels(names: Sequence[str]) -> list[Panel]:
    """3 x 4: column ``c`` shows ``[c, c + 1) * 2.5 s`` of its three leads, then the strip."""
    panels = [
        _lead_panel(names, lead, row, col, col * CELL_DURATION_S, (col + 1) * CELL_DURATION_S)
        for row, leads in enumerate(LEADS_3X4)
        for col, lead in enumerate(leads)
    ]
    panels.append(_rhythm_panel(names, len(LEADS_3X4)))
    return panels


def _channel_panels(names: Sequence[str]) -> list[Panel]:
    """As-recorded channels: one full-length row each, under the file's own names."""
    return [Panel(name, name, i, i, 0, 0.0, PAGE_DURATION_S) for i, name in enumerate(names)]
