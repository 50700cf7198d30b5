"""T offset against the next beat's P wave, and biphasic T against T plus a U wave."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tools.delineate import delineate
from tools.delineate.pipeline import _next_beat, _t_off_before_p
from tools.delineate.scorer import BoundaryInputs
from tools.delineate.windows import ABSENT

FS_HZ = 250.0


def _gaussians(t: np.ndarray, centres: np.ndarray, width_ms: float, mv: float) -> np.ndarray:
    sigma = width_ms * FS_HZ / 1000.0
    return mv * np.exp(-0.5 * ((t[None, :] - centres[:, None]) / sigma) ** 2).sum(axis=0)


def _beat_train(
    t_mv: tuple[float, float], p_mv: float, rr_ms: float = 632.0, n_beats: int = 16
) -> tuple[np.ndarray, np.ndarray]:
    """Two leads at 250 Hz (as QTDB): narrow QRS, a T wave per lead, a P wave 200 ms before R."""
    r = (np.arange(n_beats) * rr_ms * FS_HZ / 1000.0 + 0.5 * FS_HZ).astype(np.int64)
    t = np.arange(int(r[-1] + FS_HZ))
    x = np.zeros((2, t.size))
    for lead, t_amp in enumerate(t_mv):
        x[lead] += _gaussians(t, r, 12.0, 1.0) - _gaussians(t, r + 0.03 * FS_HZ, 10.0, 0.3)
        x[lead] += _gaussians(t, r + 0.23 * FS_HZ, 45.0, t_amp)
        x[lead] += _gaussians(t, r - 0.2 * FS_HZ, 22.0, p_mv)
    x += 0.005 * np.random.default_rng(0).standard_normal(x.shape)
    return x.astype(np.float32), r


class TestTOffsetBeforeNextP:
    """A flat T in one lead followed at 95/min by the next P wave (QTDB sel52)."""

    def test_median_beat_t_ends_before_next_p(self) -> None:
        x, r = _beat_train(t_mv=(0.3, 0.02), p_mv=0.12)
        d = delineate(x, FS_HZ, r, ["A", "B"])
        m = d.median
        assert m is not None
        assert np.all(m.points.p_on >= 0), "the flat-T lead hid the median beat's P wave"
        rr = int(np.median(np.diff(r)))
        next_p_on = int(m.global_points.p_on) + rr
        assert int(m.global_points.t_off) <= next_p_on
        assert np.all(m.points.t_off <= next_p_on)

    def test_every_beat_t_ends_before_next_p(self) -> None:
        x, r = _beat_train(t_mv=(0.3, 0.02), p_mv=0.12)
        g = delineate(x, FS_HZ, r, ["A", "B"]).global_points
        both = (g.t_off[:-1] >= 0) & (g.p_on[1:] >= 0)
        assert both.sum() >= r.size - 3
        assert np.all(g.t_off[:-1][both] <= g.p_on[1:][both])

    def test_clear_t_is_left_where_it_was(self) -> None:
        # With a clear T in both leads the T offset lies well before the P onset and the
        # rule changes nothing: the offset stays near the Gaussian T's end (~R + 230 + 2.5 SD).
        x, r = _beat_train(t_mv=(0.3, 0.3), p_mv=0.12)
        m = delineate(x, FS_HZ, r, ["A", "B"]).median
        assert m is not None
        t_off_ms = (m.points.t_off - m.r_index) * 1000.0 / FS_HZ
        assert np.all((t_off_ms > 280.0) & (t_off_ms < 380.0))


def _inputs(anchor: np.ndarray, hi: np.ndarray) -> BoundaryInputs:
    ones = np.ones(anchor.shape)
    return BoundaryInputs(anchor, anchor + 1, hi, ones, ones, ones, ones, 0.0 * ones)


class TestTOffBeforeP:
    """Only a T offset past the next P peak is re-placed, with its window ending at P onset."""

    def _run(
        self, t_off: np.ndarray, p_on: np.ndarray, p_peak: np.ndarray
    ) -> tuple[np.ndarray, list[BoundaryInputs]]:
        calls: list[BoundaryInputs] = []

        def place(name: str, inp: BoundaryInputs) -> np.ndarray:
            assert name == "t_off"
            calls.append(inp)
            return np.where(inp.anchor >= 0, inp.hi, ABSENT)

        anchor = np.full(t_off.shape, 100, dtype=np.int64)
        hi = np.full(t_off.shape, 1000, dtype=np.int64)
        return _t_off_before_p(place, _inputs(anchor, hi), t_off, p_on, p_peak, FS_HZ), calls

    def test_late_offset_ends_at_p_onset(self) -> None:
        t_off = np.array([[400, 250, 400]])
        p_on = np.array([[300, 300, ABSENT]])
        p_peak = np.array([[330, 330, ABSENT]])
        out, calls = self._run(t_off, p_on, p_peak)
        assert out.tolist() == [[300, 250, 400]]
        assert len(calls) == 1 and calls[0].anchor.tolist() == [[100, ABSENT, ABSENT]]

    def test_offset_between_p_onset_and_peak_stands(self) -> None:
        # At fast rates T and P meet: only a T offset past the P peak is surely wrong.
        out, calls = self._run(np.array([[310]]), np.array([[300]]), np.array([[330]]))
        assert out.tolist() == [[310]] and not calls


class TestNextPOnset:
    def test_next_beat_or_own_one_rr_later(self) -> None:
        r = np.array([100, 300, 500, 5000])  # the last beat is far (a median beat)
        rr_next = np.array([200, 200, 200, 200])
        p_on = np.array([[40, 250, ABSENT, 4900]])
        out = _next_beat(p_on, r, rr_next)
        assert out.tolist() == [[250, ABSENT, ABSENT, 5100]]


class TestQtdbSel52:
    def test_median_t_offset_near_expert(self, dataset_dir: Callable[[str], Path]) -> None:
        from tools.delineate.datasets import load_qtdb
        from tools.delineate.reference import align_reference, reference_r_peaks

        rec = load_qtdb(dataset_dir("qtdb"), "sel52")
        r = reference_r_peaks(rec.waves, rec.fs_hz)
        ref = align_reference(rec.waves, r, rec.fs_hz)
        m = delineate(rec.signal_mv, rec.fs_hz, r, rec.lead_names).median
        assert m is not None
        truth = ref.t_off[0]
        expert_ms = np.median((truth - r)[truth >= 0]) * 1000.0 / rec.fs_hz
        ours_ms = (int(m.global_points.t_off) - m.r_index) * 1000.0 / rec.fs_hz
        assert ours_ms == pytest.approx(expert_ms, abs=40.0)


def _phase_of(dev_mv: np.ndarray) -> tuple[bool, bool]:
    """(main phase positive?, second phase found?) of one lead's T deviation at 250 Hz."""
    from tools.delineate.twave import _phases

    dev = dev_mv[None, None, :]
    inside = np.ones(dev.shape, dtype=bool)
    centre = np.array([int(np.argmax(np.abs(dev_mv)))])
    _, main_pos, found, _, has_opp = _phases(dev, inside, centre, FS_HZ)
    assert bool(found[0, 0])
    return bool(main_pos[0, 0]), bool(has_opp[0, 0])


class TestTPhases:
    """A second T phase lies across the baseline (Lepeschkin & Surawicz 1952: a U wave or a
    notch that stays on the T wave's side of the baseline is not a phase of T)."""

    t = np.arange(150)  # 600 ms window at 250 Hz, T peak at sample 40 (160 ms)

    def _wave(self, second_mv: float, level_mv: float = 0.0) -> np.ndarray:
        first = -0.16 * np.exp(-0.5 * ((self.t - 40) / 10.0) ** 2)
        second = second_mv * np.exp(-0.5 * ((self.t - 75) / 10.0) ** 2)
        # a trough after the second wave, so that it is a local maximum in either case
        trough = -0.05 * np.exp(-0.5 * ((self.t - 100) / 8.0) ** 2)
        return first + second + trough + level_mv

    def test_crossing_second_phase_is_biphasic(self) -> None:
        assert _phase_of(self._wave(0.12)) == (False, True)

    def test_bump_below_baseline_is_no_phase(self) -> None:
        # The same shape lowered by 0.2 mV: its bump (a U wave after a negative T, as in QTDB
        # sele0603) rises towards the baseline without crossing it.
        assert _phase_of(self._wave(0.12, level_mv=-0.2)) == (False, False)
