"""Tests of tools.render: the page's scale is measured from the rendered pixels.

Each scale check finds ink (dark pixels) or grid lines (red pixels) in the image and compares
the distances with the paper conventions: 25 mm/s, 10 mm/mV, 5 mm major squares, at
``dpi / 25.4`` pixels per mm.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from numpy.typing import ArrayLike
from PIL import Image

from tools.errors import LeadError, MissingFileError, SignalValueError
from tools.leads import STANDARD_LEADS, map_leads
from tools.record import ECGRecord
from tools.render import page_layout, render_ecg, save_ecg_image
from tools.render.layout import LEADS_3X4, PageLayout

DPI = 200
PX_PER_MM = DPI / 25.4
FS_HZ = 500.0
#: A pixel is ink (trace or text) when all its channels are dark; grid red never is.
INK_MAX_LEVEL = 110
#: Major grid lines are the only pixels with a green channel this low apart from ink.
MAJOR_GREEN_MAX = 150


# ---- record builders --------------------------------------------------------------------------
def _record(
    signal: np.ndarray,
    leads: tuple[str, ...] = STANDARD_LEADS,
    fs_hz: float = FS_HZ,
    lead_system: str = "standard",
    record_id: str = "test",
) -> ECGRecord:
    return ECGRecord(
        record_id=record_id,
        signal_mv=signal,
        fs_hz=fs_hz,
        lead_names=leads,
        lead_system=lead_system,  # type: ignore[arg-type]
        dataset="synthetic",
    )


def _zeros(n_leads: int = 12, duration_s: float = 10.0, fs_hz: float = FS_HZ) -> np.ndarray:
    return np.zeros((n_leads, round(duration_s * fs_hz)), dtype=np.float32)


def _sines(n_leads: int = 12, amplitude_mv: float = 0.4, fs_hz: float = FS_HZ) -> np.ndarray:
    t_s = np.arange(round(10 * fs_hz)) / fs_hz
    phases = np.arange(n_leads)[:, None]
    return (amplitude_mv * np.sin(2 * np.pi * 1.3 * t_s + phases)).astype(np.float32)


def _spike_train(fs_hz: float, *, period_s: float = 1.0, first_s: float = 0.5) -> np.ndarray:
    """1 mV, 20 ms rectangular spikes every ``period_s`` on a zero baseline, 10 s long."""
    t_s = np.arange(round(10 * fs_hz)) / fs_hz
    phase = np.mod(t_s - first_s, period_s)
    return np.where((t_s >= first_s) & (phase < 0.02), 1.0, 0.0).astype(np.float32)


# ---- pixel measurements -----------------------------------------------------------------------
def _ink(image: np.ndarray) -> np.ndarray:
    return image.max(axis=2) < INK_MAX_LEVEL


def _band(
    page: PageLayout, row: int, above_mm: float, below_mm: float, t0_s: float, t1_s: float
) -> tuple[slice, slice]:
    """Pixel slices of rows ``baseline - above .. baseline + below`` and times ``t0 .. t1``."""
    base = page.row_baselines_mm[row]
    y0, y1 = (base - above_mm) * PX_PER_MM, (base + below_mm) * PX_PER_MM
    x0, x1 = page.time_to_x_px(t0_s), page.time_to_x_px(t1_s)
    return slice(round(y0), round(y1)), slice(round(float(x0)), round(float(x1)))


def _runs(mask: ArrayLike) -> list[float]:
    """Centres of runs of True in a 1-D mask (pixel index + 0.5 = continuous coordinate)."""
    padded = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    starts, stops = edges[::2], edges[1::2]
    return [(a + b) / 2 for a, b in zip(starts, stops, strict=True)]


def _ink_centroid_y(image: np.ndarray, rows: slice, column: int) -> float:
    """Darkness-weighted mean pixel row of the ink in one column."""
    darkness = 255.0 - image[rows, column].max(axis=1).astype(np.float64)
    darkness[darkness < 255 - INK_MAX_LEVEL] = 0.0
    y = np.arange(rows.start, rows.stop) + 0.5
    return float((darkness * y).sum() / darkness.sum())


# ---- tests ------------------------------------------------------------------------------------
class TestPageLayout:
    def test_gem_page_is_13_rows_of_10_s(self):
        page = page_layout(_record(_zeros()), layout="gem", dpi=DPI)
        assert (page.width_px, page.height_px) == (2200, 1700)
        assert page.n_rows == 13
        assert [p.lead for p in page.panels] == [*STANDARD_LEADS, "II"]
        assert all((p.t_start_s, p.t_stop_s) == (0.0, 10.0) for p in page.panels)
        baselines = np.array(page.row_baselines_px)
        assert np.all(np.diff(baselines) > 0)
        assert baselines[0] > 0 and baselines[-1] < page.height_px

    def test_3x4_cells_are_consecutive_windows(self):
        page = page_layout(_record(_zeros()), layout="3x4", dpi=DPI)
        assert page.n_rows == 4
        for row, leads in enumerate(LEADS_3X4):
            for col, lead in enumerate(leads):
                panel = page.panel(lead)
                assert (panel.row, panel.column) == (row, col)
                assert panel.t_start_s == pytest.approx(2.5 * col)
                assert panel.t_stop_s == pytest.approx(2.5 * (col + 1))
        strip = next(p for p in page.panels if p.rhythm)
        assert (strip.lead, strip.row, strip.t_stop_s) == ("II", 3, 10.0)

    def test_rhythm_strip_without_lead_ii_uses_first_lead(self):
        leads = ("I", "III", "V1")
        page = page_layout(_record(_zeros(3), leads), layout="gem")
        strip = next(p for p in page.panels if p.rhythm)
        assert (strip.lead, strip.label, strip.signal_row) == ("I", "I", 0)
        assert page.panel("II").label == "II (absent)"

    def test_dpi_scales_the_page(self):
        page = page_layout(_record(_zeros()), dpi=100)
        assert (page.width_px, page.height_px) == (1100, 850)
        assert page.px_per_mm == pytest.approx(100 / 25.4)

    def test_unknown_layout(self):
        with pytest.raises(ValueError, match=r"test: unknown ECG page layout '6x2'"):
            page_layout(_record(_zeros()), layout="6x2")  # type: ignore[arg-type]

    @pytest.mark.parametrize("dpi", [0, 10, 5000, 200.5])
    def test_bad_dpi(self, dpi):
        with pytest.raises(ValueError, match="dpi must be an integer"):
            page_layout(_record(_zeros()), dpi=dpi)

    def test_too_many_channels(self):
        names = tuple(f"ch{i}" for i in range(60))
        record = _record(_zeros(60, 1.0), names, lead_system="as-recorded")
        with pytest.raises(LeadError, match="60 rows do not fit on one page"):
            page_layout(record)


class TestRenderEcg:
    def test_gem_image_size(self):
        image = render_ecg(_record(_sines()))
        assert image.shape == (1700, 2200, 3)
        assert image.dtype == np.uint8

    def test_dpi_100(self):
        assert render_ecg(_record(_sines()), dpi=100).shape == (850, 1100, 3)

    def test_calibration_pulse_is_1mv_by_0_2s(self):
        record = _record(_zeros())
        page = page_layout(record)
        image = render_ecg(record, header=False)
        for row in (0, 6, 12):
            base_px = page.row_baselines_px[row]
            rows = slice(round(base_px - 13 * PX_PER_MM), round(base_px + 3 * PX_PER_MM))
            cols = slice(0, round(page.x0_px))
            ink = _ink(image[rows, cols])
            # Rising and falling edges: columns inked over more than half the pulse height.
            edges = _runs(ink.sum(axis=0) > 5 * PX_PER_MM)
            assert len(edges) == 2
            assert edges[1] - edges[0] == pytest.approx(0.2 * 25 * PX_PER_MM, abs=2)
            # Plateau and baseline: ink centroids mid-pulse and in the lead-in.
            mid = round((edges[0] + edges[1]) / 2)
            lead_in = round(edges[0] - 1.2 * PX_PER_MM)
            top_y = _ink_centroid_y(image, rows, mid)
            base_y = _ink_centroid_y(image, rows, lead_in)
            assert base_y - top_y == pytest.approx(10 * PX_PER_MM, abs=2)
            assert base_y == pytest.approx(base_px, abs=1.5)

    def test_major_grid_lines_are_5mm_apart(self):
        record = _record(_zeros())
        image = render_ecg(record, header=False)
        green = image[:, :, 1]
        # A column (row) is a major line when most of its pixels have a low green channel;
        # rows are measured in the left margin, where no trace runs along a grid line.
        margin = round(page_layout(record).calibration_pulse_mm(0)[0, 0] * PX_PER_MM) - 2
        columns = _runs(np.median(green, axis=0) < MAJOR_GREEN_MAX)
        rows = _runs(np.median(green[:, :margin], axis=1) < MAJOR_GREEN_MAX)
        for centres, extent in ((columns, image.shape[1]), (rows, image.shape[0])):
            gaps = np.diff(centres)
            assert len(centres) == pytest.approx(extent / (5 * PX_PER_MM), abs=1.5)
            assert gaps.mean() == pytest.approx(5 * PX_PER_MM, abs=0.2)
            assert np.all(np.abs(gaps - 5 * PX_PER_MM) <= 1.0)

    def test_minor_grid_lines_are_1mm_apart(self):
        image = render_ecg(_record(_zeros()), header=False)
        red_only = (image[:, :, 0] > 200) & (image[:, :, 1] < 235)
        columns = _runs(red_only.mean(axis=0) > 0.5)
        gaps = np.diff(columns)
        assert np.median(gaps) == pytest.approx(PX_PER_MM, abs=0.6)
        assert gaps.mean() == pytest.approx(PX_PER_MM, abs=0.1)

    @pytest.mark.parametrize("fs_hz", [500.0, 257.0, 1000.0])
    def test_spikes_1s_apart_land_25mm_apart(self, fs_hz):
        signal = _zeros(fs_hz=fs_hz)
        signal[1] = _spike_train(fs_hz)
        record = _record(signal, fs_hz=fs_hz)
        page = page_layout(record)
        image = render_ecg(record, header=False)
        for row in (1, 12):  # lead II row and the lead-II rhythm strip
            rows, cols = _band(page, row, 12, -3, 0.3, 10.0)
            spikes = _runs(_ink(image[rows, cols]).any(axis=0))
            centres = np.asarray(spikes, dtype=float) + cols.start
            assert len(centres) == 10
            assert np.diff(centres) == pytest.approx(np.full(9, 25 * PX_PER_MM), abs=2)
            assert centres[0] == pytest.approx(page.time_to_x_px(0.51), abs=2)

    def test_1mv_step_draws_10mm(self):
        signal = _zeros()
        signal[1, 2500:] = 1.0
        record = _record(signal)
        page = page_layout(record)
        image = render_ecg(record, header=False)
        rows, _ = _band(page, 1, 13, 5, 0, 10)
        before = _ink_centroid_y(image, rows, round(float(page.time_to_x_px(2.5))))
        after = _ink_centroid_y(image, rows, round(float(page.time_to_x_px(7.5))))
        assert before - after == pytest.approx(10 * PX_PER_MM, abs=2)
        assert before == pytest.approx(page.row_baselines_px[1], abs=1.5)

    def test_every_lead_is_drawn(self):
        record = _record(_sines())
        page = page_layout(record)
        image = render_ecg(record, header=False)
        for row in range(13):
            rows, cols = _band(page, row, 6, 6, 1.0, 9.9)
            inked_columns = _ink(image[rows, cols]).any(axis=0)
            assert inked_columns.mean() > 0.95, f"row {row} has no trace"

    def test_absent_lead_row_has_no_trace(self):
        keep = [i for i, lead in enumerate(STANDARD_LEADS) if lead != "aVL"]
        leads = tuple(STANDARD_LEADS[i] for i in keep)
        record = _record(_sines()[keep], leads)
        page = page_layout(record)
        assert page.panel("aVL").label == "aVL (absent)"
        image = render_ecg(record, header=False)
        row = page.panel("aVL").row
        rows, cols = _band(page, row, 7, 7, 1.5, 10.0)
        assert not _ink(image[rows, cols]).any()
        label_rows, label_cols = _band(page, row, 7, 0, 0.0, 1.5)
        assert _ink(image[label_rows, label_cols]).any()  # the label is printed
        rows, cols = _band(page, row - 1, 6, 6, 1.5, 10.0)
        assert _ink(image[rows, cols]).any()  # its neighbour is drawn

    def test_nan_samples_leave_a_gap(self):
        signal = _sines()
        signal[1, 2000:3000] = np.nan  # lead II, 4 s to 6 s
        record = _record(signal)
        page = page_layout(record)
        image = render_ecg(record, header=False)
        gap_rows, gap_cols = _band(page, 1, 6, 6, 4.1, 5.9)
        assert not _ink(image[gap_rows, gap_cols]).any()
        rows, cols = _band(page, 1, 6, 6, 2.0, 3.9)
        assert _ink(image[rows, cols]).any(axis=0).all()

    def test_short_record_drawn_as_far_as_it_goes(self):
        record = _record(_sines()[:, :2000])  # 4 s
        page = page_layout(record)
        image = render_ecg(record, header=False)
        for row in (0, 12):
            rows, cols = _band(page, row, 6, 6, 0.5, 3.95)
            assert _ink(image[rows, cols]).any(axis=0).all()
            rows, cols = _band(page, row, 6, 6, 4.05, 10.0)
            assert not _ink(image[rows, cols]).any()

    def test_long_record_shows_first_10_s_only(self):
        signal = np.tile(_sines(), 3)  # 30 s
        record = _record(signal)
        page = page_layout(record)
        image = render_ecg(record, header=False)
        right_of_10_s = round(float(page.time_to_x_px(10.02)))
        assert not _ink(image[:, right_of_10_s:]).any()
        rows, cols = _band(page, 0, 6, 6, 9.0, 9.98)
        assert _ink(image[rows, cols]).any(axis=0).all()

    @pytest.mark.parametrize("lead", ["V4", "aVL", "III", "II"])
    def test_3x4_puts_each_lead_in_its_cell(self, lead):
        signal = _zeros()
        signal[STANDARD_LEADS.index(lead)] = _spike_train(FS_HZ, period_s=0.25, first_s=0.1)
        record = _record(signal)
        page = page_layout(record, layout="3x4")
        changed = (
            np.abs(
                render_ecg(record, layout="3x4", header=False).astype(np.int16)
                - render_ecg(_record(_zeros()), layout="3x4", header=False).astype(np.int16)
            ).max(axis=2)
            > 60
        )
        expected = np.zeros_like(changed)
        cells = [page.panel(lead)] + [p for p in page.panels if p.rhythm and p.lead == lead]
        for panel in cells:
            rows, cols = _band(page, panel.row, 17, 3, panel.t_start_s, panel.t_stop_s)
            assert changed[rows, cols].any(), f"{lead} not drawn in its cell"
            expected[rows, slice(cols.start - 2, cols.stop + 2)] = True
        assert not (changed & ~expected).any(), f"{lead} drawn outside its cell"

    def test_as_recorded_record_draws_one_row_per_channel(self):
        record = _record(_sines(2), ("CM5", "CC5"), lead_system="as-recorded")
        page = page_layout(record)
        assert [p.label for p in page.panels] == ["CM5", "CC5"]
        assert page_layout(record, layout="3x4").panels == page.panels  # no 12-lead cells
        image = render_ecg(record, header=False)
        x0, x1 = round(float(page.time_to_x_px(1.0))), round(float(page.time_to_x_px(9.9)))
        inked_rows = _ink(image[:, x0:x1]).any(axis=1)
        assert len(_runs(inked_rows)) == 2

    def test_header_is_optional(self):
        record = _record(_zeros())
        top = slice(0, round(8 * PX_PER_MM))
        assert _ink(render_ecg(record, header=True)[top]).any()
        assert not _ink(render_ecg(record, header=False)[top]).any()

    def test_infinite_samples(self):
        signal = _sines()
        signal[4, 100] = np.inf
        with pytest.raises(SignalValueError, match=r"test: lead\(s\) aVL hold infinite values"):
            render_ecg(_record(signal))


class TestSaveEcgImage:
    def test_png_matches_render(self, tmp_path):
        record = _record(_sines())
        path = save_ecg_image(record, tmp_path / "page.png")
        with Image.open(path) as png:
            assert png.size == (2200, 1700)
            pixels = np.asarray(png.convert("RGB"))
        np.testing.assert_array_equal(pixels, render_ecg(record))

    def test_svg_is_valid_xml_of_the_page_size(self, tmp_path):
        keep = [i for i, lead in enumerate(STANDARD_LEADS) if lead != "aVL"]
        record = _record(_sines()[keep], tuple(STANDARD_LEADS[i] for i in keep))
        path = save_ecg_image(record, tmp_path / "page.svg", layout="3x4")
        root = ET.parse(path).getroot()
        assert root.tag.endswith("svg")
        assert root.get("width") == "792pt" and root.get("height") == "612pt"  # 11 x 8.5 in
        assert "aVL (absent)" in path.read_text()

    def test_unsupported_suffix(self, tmp_path):
        with pytest.raises(ValueError, match=r"page\.jpg: cannot write .* '\.jpg'"):
            save_ecg_image(_record(_zeros()), tmp_path / "page.jpg")

    def test_missing_folder(self, tmp_path):
        with pytest.raises(MissingFileError, match=r"destination folder .* does not exist"):
            save_ecg_image(_record(_zeros()), tmp_path / "nope" / "page.png")

    def test_failed_render_keeps_existing_file(self, tmp_path):
        path = tmp_path / "page.svg"
        path.write_text("previous")
        signal = _zeros()
        signal[0, 0] = -np.inf
        with pytest.raises(SignalValueError, match="infinite"):
            save_ecg_image(_record(signal), path)
        assert path.read_text() == "previous"
        assert [p.name for p in tmp_path.iterdir()] == ["page.svg"]


@pytest.mark.data
def test_ludb_record_renders(dataset_dir):
    wfdb = pytest.importorskip("wfdb")
    header = dataset_dir("ludb") / "data" / "1"
    raw = wfdb.rdrecord(str(header))
    mapping = map_leads(raw.sig_name, header)
    record = ECGRecord(
        record_id="ludb-1",
        signal_mv=raw.p_signal.T[list(mapping.channel_index)],
        fs_hz=raw.fs,
        lead_names=mapping.lead_names,
        source_path=str(header),
    )
    page = page_layout(record)
    image = render_ecg(record)
    assert image.shape == (1700, 2200, 3)
    for row in range(page.n_rows):
        rows, cols = _band(page, row, 7, 7, 0.5, 9.9)
        assert _ink(image[rows, cols]).any(axis=0).mean() > 0.9
