"""ECG paper grid: line positions (pure numpy) and the two line collections that draw them."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection

from tools.render.layout import MAJOR_GRID_MM, MINOR_GRID_MM, PageLayout
from tools.render.style import (
    MAJOR_GRID_COLOUR,
    MAJOR_GRID_WIDTH_MM,
    MINOR_GRID_COLOUR,
    MINOR_GRID_WIDTH_MM,
    mm_to_points,
)


def grid_positions_mm(
    extent_mm: float, step_mm: float, *, skip_mm: float | None = None
) -> np.ndarray:
    """Grid line positions ``0, step, 2 step, ...`` up to ``extent_mm``.

    Parameters
    ----------
    extent_mm
        Page width or height in mm.
    step_mm
        Line spacing (1 mm minor, 5 mm major).
    skip_mm
        Leave out positions that are multiples of this (the major lines, when listing minor
        ones) so no line is drawn twice.
    """
    n_lines = int(np.floor(extent_mm / step_mm + 1e-9)) + 1
    index = np.arange(n_lines)
    positions = index * step_mm
    if skip_mm is not None:
        ratio = round(skip_mm / step_mm)
        positions = positions[index % ratio != 0]
    return positions


def grid_segments_mm(
    width_mm: float, height_mm: float, step_mm: float, *, skip_mm: float | None = None
) -> np.ndarray:
    """Vertical then horizontal grid lines as segments ``[n, 2 (ends), 2 (x, y)]`` in mm."""
    xs = grid_positions_mm(width_mm, step_mm, skip_mm=skip_mm)
    ys = grid_positions_mm(height_mm, step_mm, skip_mm=skip_mm)
    vertical = np.stack(
        [
            np.column_stack([xs, np.zeros_like(xs)]),
            np.column_stack([xs, np.full_like(xs, height_mm)]),
        ],
        axis=1,
    )
    horizontal = np.stack(
        [
            np.column_stack([np.zeros_like(ys), ys]),
            np.column_stack([np.full_like(ys, width_mm), ys]),
        ],
        axis=1,
    )
    return np.concatenate([vertical, horizontal])


def draw_grid(ax: Axes, layout: PageLayout) -> None:
    """Add the minor (1 mm) then major (5 mm) grid to axes whose data units are page mm.

    Lines are pixel-snapped and not antialiased so every line is one crisp pixel wide.
    """
    for step_mm, skip_mm, colour, width_mm in (
        (MINOR_GRID_MM, MAJOR_GRID_MM, MINOR_GRID_COLOUR, MINOR_GRID_WIDTH_MM),
        (MAJOR_GRID_MM, None, MAJOR_GRID_COLOUR, MAJOR_GRID_WIDTH_MM),
    ):
        segments = grid_segments_mm(layout.width_mm, layout.height_mm, step_mm, skip_mm=skip_mm)
        lines = LineCollection(
            list(segments),
            colors=[colour],
            linewidths=mm_to_points(width_mm),
            antialiaseds=False,
            zorder=0,
        )
        lines.set_snap(True)
        ax.add_collection(lines, autolim=False)
