"""Colours, line widths and fonts of the rendered page: the one place for how it looks."""

from __future__ import annotations

from tools.render.layout import MM_PER_INCH

#: matplotlib sizes line widths and fonts in points (1/72 in).
POINTS_PER_INCH = 72.0

#: Red ECG paper (ecg-image-kit's default colour scheme): strong major, pale minor lines.
MAJOR_GRID_COLOUR = (0.90, 0.30, 0.30)
MINOR_GRID_COLOUR = (0.98, 0.78, 0.78)
PAPER_COLOUR = (1.0, 1.0, 1.0)
TRACE_COLOUR = (0.0, 0.0, 0.0)
TEXT_COLOUR = (0.0, 0.0, 0.0)

#: About one pixel at 200 dpi (1 px = 0.127 mm): thin enough to keep the QRS shape, thick
#: enough to survive GEM's resize to 336 px.
TRACE_WIDTH_MM = 0.15
MAJOR_GRID_WIDTH_MM = 0.127
MINOR_GRID_WIDTH_MM = 0.127

#: Lead labels and header: small sans text (about 3 mm and 2.5 mm tall).
LABEL_FONT_PT = 9.0
HEADER_FONT_PT = 7.0


def mm_to_points(mm: float) -> float:
    """Convert a length in mm to typographic points (what matplotlib's widths use)."""
    return mm / MM_PER_INCH * POINTS_PER_INCH
