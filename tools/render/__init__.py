"""ECG page rendering: GEM's 12 x 1 + rhythm-strip page and the clinical 3 x 4 layout.

``render_ecg(record)`` gives the page as a uint8 RGB array, ``save_ecg_image(record, path)``
writes PNG or SVG, and ``page_layout(record)`` exposes the geometry (mm <-> px, row baselines,
x of t = 0, which lead sits in which cell) so callers can map a time and a voltage to pixels.
"""

from tools.render.layout import LAYOUTS, LayoutName, PageLayout, Panel, page_layout
from tools.render.page import render_ecg, save_ecg_image

__all__ = [
    "LAYOUTS",
    "LayoutName",
    "PageLayout",
    "Panel",
    "page_layout",
    "render_ecg",
    "save_ecg_image",
]
