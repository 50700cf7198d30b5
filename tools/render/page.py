"""Render an ECG record as a printed page (numpy RGB array, PNG or SVG).

matplotlib is used without pyplot: a bare :class:`~matplotlib.figure.Figure` on its own
:class:`~matplotlib.backends.backend_agg.FigureCanvasAgg`, so rendering touches no global
figure manager or GUI and is safe in worker threads. One axes covers the whole page with data
units of millimetres (y down), so page geometry from :mod:`tools.render.layout` maps straight
to pixels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox
from PIL import Image

from tools.atomic import atomic_path
from tools.errors import MissingFileError
from tools.record import ECGRecord
from tools.render.grid import draw_grid
from tools.render.layout import (
    CAL_START_MM,
    DEFAULT_DPI,
    GAIN_MM_PER_MV,
    HEADER_Y_MM,
    PAPER_HEIGHT_IN,
    PAPER_SPEED_MM_PER_S,
    PAPER_WIDTH_IN,
    LayoutName,
    PageLayout,
    page_layout,
)
from tools.render.style import (
    HEADER_FONT_PT,
    LABEL_FONT_PT,
    PAPER_COLOUR,
    TEXT_COLOUR,
    TRACE_COLOUR,
    TRACE_WIDTH_MM,
    mm_to_points,
)
from tools.render.traces import calibration_polylines_mm, trace_polylines_mm

#: Output formats by file suffix.
IMAGE_FORMATS = {".png": "png", ".svg": "svg"}
#: zlib level 3: 40% faster than PIL's default 6 on a page for a 1% larger file.
PNG_COMPRESS_LEVEL = 3


def render_ecg(
    record: ECGRecord, *, layout: LayoutName = "gem", dpi: int = DEFAULT_DPI, header: bool = True
) -> np.ndarray:
    """Render ``record`` as an ECG page image.

    Draws ecg-image-kit's default page as used for GEM's training images (``"gem"``: 12 rows
    x 1 column of 10 s plus a full-length lead-II rhythm strip) or the clinical 3 x 4 layout
    with a lead-II strip, on US-letter landscape red grid paper at 25 mm/s and 10 mm/mV with
    a 1 mV calibration pulse on every row (Shivashankara et al., "ECG-Image-Kit", Physiol.
    Meas. 2024; AHA/IEC paper conventions).

    Parameters
    ----------
    record
        The ECG. The first 10 s are drawn (shorter records as far as they go); NaN samples
        leave gaps; standard leads the record lacks are drawn as labelled empty rows
        (``"aVL (absent)"``); as-recorded records get one row per channel.
    layout
        ``"gem"`` or ``"3x4"``.
    dpi
        Pixels per inch: 200 gives GEM's 2200 x 1700 px.
    header
        Print the record id, sampling rate and scale in small text at the top.

    Returns
    -------
    numpy.ndarray
        uint8 ``[height, width, 3]`` RGB image.

    Raises
    ------
    SignalValueError
        A drawn lead holds infinite values.
    LeadError
        Too many as-recorded channels for one page.
    ValueError
        Unknown layout or dpi out of range.
    """
    page = page_layout(record, layout=layout, dpi=dpi)
    figure = draw_page(record, page, header=header)
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    return np.ascontiguousarray(rgba[:, :, :3])


def save_ecg_image(
    record: ECGRecord,
    path: str | Path,
    *,
    layout: LayoutName = "gem",
    dpi: int = DEFAULT_DPI,
    header: bool = True,
) -> Path:
    """Render ``record`` (see :func:`render_ecg`) and write it as PNG, or SVG for ``.svg``.

    The file is written to a temporary name beside ``path`` and moved into place, so a
    failed render never leaves a truncated image or destroys an existing one.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ValueError
        The suffix is neither ``.png`` nor ``.svg``.
    MissingFileError
        The destination folder does not exist.
    """
    path = Path(path)
    fmt = IMAGE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(
            f"{path}: cannot write an ECG image with suffix {path.suffix!r}; use .png or .svg"
        )
    if not path.parent.is_dir():
        raise MissingFileError(path, f"destination folder {path.parent} does not exist")
    if fmt == "png":
        pixels = render_ecg(record, layout=layout, dpi=dpi, header=header)
        with atomic_path(path) as tmp:
            Image.fromarray(pixels).save(
                tmp, format="PNG", dpi=(dpi, dpi), compress_level=PNG_COMPRESS_LEVEL
            )
    else:
        page = page_layout(record, layout=layout, dpi=dpi)
        figure = draw_page(record, page, header=header)
        full_page = Bbox.from_bounds(0, 0, PAPER_WIDTH_IN, PAPER_HEIGHT_IN)
        with atomic_path(path) as tmp:
            figure.savefig(
                tmp, format="svg", dpi=dpi, bbox_inches=full_page, metadata={"Date": None}
            )
    return path


def draw_page(record: ECGRecord, page: PageLayout, *, header: bool = True) -> Figure:
    """Build (without rasterising) the figure of ``record`` laid out as ``page``."""
    figure = Figure(
        figsize=(page.width_px / page.dpi, page.height_px / page.dpi),
        dpi=page.dpi,
        facecolor=PAPER_COLOUR,
    )
    ax = figure.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(0.0, page.width_mm)
    ax.set_ylim(page.height_mm, 0.0)
    ax.set_axis_off()
    draw_grid(ax, page)
    _draw_traces(ax, record, page)
    _draw_labels(ax, page)
    if header:
        _draw_header(ax, record)
    return figure


def _draw_traces(ax: Axes, record: ECGRecord, page: PageLayout) -> None:
    """Lead traces and calibration pulses as one antialiased line collection."""
    polylines = trace_polylines_mm(record, page) + calibration_polylines_mm(page)
    traces = LineCollection(
        polylines,
        colors=[TRACE_COLOUR],
        linewidths=mm_to_points(TRACE_WIDTH_MM),
        antialiaseds=True,
        capstyle="butt",
        joinstyle="round",
        zorder=2,
    )
    ax.add_collection(traces, autolim=False)


def _draw_labels(ax: Axes, page: PageLayout) -> None:
    """Lead names at the start of each panel, above the baseline."""
    for panel in page.panels:
        x_mm, y_mm = page.label_xy_mm(panel)
        ax.text(
            x_mm,
            y_mm,
            panel.label,
            fontsize=LABEL_FONT_PT,
            color=TEXT_COLOUR,
            ha="left",
            va="baseline",
            usetex=False,
            parse_math=False,
            zorder=3,
        )


def _draw_header(ax: Axes, record: ECGRecord) -> None:
    """Record id, sampling rate and scale in one small line at the top of the page."""
    text = (
        f"{record.record_id}    {record.fs_hz:g} Hz    "
        f"{PAPER_SPEED_MM_PER_S:g} mm/s    {GAIN_MM_PER_MV:g} mm/mV"
    )
    ax.text(
        CAL_START_MM,
        HEADER_Y_MM,
        text,
        fontsize=HEADER_FONT_PT,
        color=TEXT_COLOUR,
        ha="left",
        va="baseline",
        usetex=False,
        parse_math=False,
        zorder=3,
    )
