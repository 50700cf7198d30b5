"""WFDB annotations: reading, LUDB per-lead merging, wave boundaries and beat samples."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import wfdb

from tools.errors import CorruptFileError, MissingFileError
from tools.leads import STANDARD_LEADS
from tools.readers.annotations import (
    BEAT_SYMBOLS,
    WAVE_PEAKS,
    Annotations,
    beat_samples,
    read_annotations,
    read_ludb_annotations,
    wave_boundaries,
)


def make(
    symbols: list[str],
    samples: list[int],
    *,
    leads: list[str] | None = None,
    chans: list[int] | None = None,
) -> Annotations:
    """Annotations built in memory (one lead unless ``leads`` says otherwise)."""
    n = len(symbols)
    return Annotations(
        sample=np.array(samples, dtype=np.int64),
        symbol=np.array(symbols, dtype=str),
        lead=np.array(leads or ["II"] * n, dtype=str),
        chan=np.array(chans or [0] * n, dtype=np.int64),
        aux_note=np.array([""] * n, dtype=str),
        extension="test",
        fs_hz=500.0,
    )


def triples(waves) -> list[tuple[str, int, int, int]]:
    return [
        (str(w), int(a), int(p), int(b))
        for w, a, p, b in zip(waves.wave, waves.onset, waves.peak, waves.offset, strict=True)
    ]


def write_annotation(folder: Path, symbols: list[str], samples: list[int]) -> Path:
    """A 1-lead record header plus a ``.tst`` annotation file without a stored fs."""
    (folder / "rec.hea").write_text("rec 1 360 10000\nrec.dat 16 200 16 0 0 0 0 MLII\n")
    wfdb.wrann("rec", "tst", np.array(samples), symbol=symbols, write_dir=str(folder))
    return folder / "rec"


class TestReadAnnotations:
    def test_written_file(self, tmp_path):
        base = write_annotation(tmp_path, ["N", "+", "V"], [10, 20, 30])
        ann = read_annotations(base, "tst")
        assert ann.sample.dtype == np.int64
        assert ann.symbol.tolist() == ["N", "+", "V"]
        assert ann.lead.tolist() == ["", "", ""]
        assert ann.fs_hz == 360  # from the header: the file stores none
        assert (len(ann), ann.extension) == (3, "tst")

    def test_lead_mapped_to_canonical(self, tmp_path):
        base = write_annotation(tmp_path, ["N"], [10])
        assert read_annotations(base, "tst", lead="mlii").lead.tolist() == ["II"]

    def test_holter_lead_kept(self, tmp_path):
        base = write_annotation(tmp_path, ["N"], [10])
        assert read_annotations(base, "tst", lead="CM5").lead.tolist() == ["CM5"]

    def test_missing_file(self, tmp_path):
        with pytest.raises(MissingFileError, match=r"rec\.q1c: annotation file \('q1c'"):
            read_annotations(tmp_path / "rec", "q1c")

    def test_empty_file(self, tmp_path):
        (tmp_path / "rec.atr").write_bytes(b"")
        with pytest.raises(CorruptFileError, match=r"rec\.atr: annotation file is empty"):
            read_annotations(tmp_path / "rec", "atr")

    def test_random_bytes(self, tmp_path):
        (tmp_path / "rec.atr").write_bytes(np.random.default_rng(1).bytes(256))
        with pytest.raises(CorruptFileError, match=r"rec\.atr: "):
            read_annotations(tmp_path / "rec", "atr")

    @pytest.mark.data
    def test_mitdb_rhythm_note(self, dataset_dir):
        ann = read_annotations(dataset_dir("mitdb") / "100", "atr")
        notes = set(ann.aux_note[ann.symbol == "+"].tolist())
        assert notes == {"(N"}  # trailing NUL stripped
        assert ann.fs_hz == 360


class TestSelect:
    def test_by_lead_and_symbols(self):
        ann = make(["(", "N", ")", "N"], [1, 2, 3, 4], leads=["II", "II", "II", "V1"])
        assert ann.select(lead="ii").sample.tolist() == [1, 2, 3]
        assert ann.select(symbols=["N"]).sample.tolist() == [2, 4]
        assert ann.select(lead="V1", symbols=["("]).sample.tolist() == []


class TestReadLudbAnnotations:
    @pytest.mark.data
    def test_record_1(self, dataset_dir):
        ann = read_ludb_annotations(dataset_dir("ludb") / "data" / "1")
        assert set(ann.lead.tolist()) == set(STANDARD_LEADS)
        assert ann.fs_hz == 500
        single = read_annotations(dataset_dir("ludb") / "data" / "1", "ii")
        np.testing.assert_array_equal(ann.select(lead="II").sample, single.sample)

    def test_missing_lead_file(self, tmp_path):
        with pytest.raises(MissingFileError, match=r"1\.i: annotation file"):
            read_ludb_annotations(tmp_path / "1")


class TestWaveBoundaries:
    def test_basic(self):
        ann = make(["(", "p", ")", "(", "N", ")", "(", "t", ")"], [1, 2, 3, 5, 6, 7, 9, 10, 11])
        assert triples(wave_boundaries(ann)) == [
            ("p", 1, 2, 3),
            ("N", 5, 6, 7),
            ("t", 9, 10, 11),
        ]

    def test_missing_onset(self):
        ann = make(["(", "N", ")", "t", ")"], [5, 6, 7, 10, 11])
        assert triples(wave_boundaries(ann))[1] == ("t", -1, 10, 11)

    def test_missing_offset_does_not_borrow_next(self):
        ann = make(["(", "p", "(", "N", ")"], [1, 2, 5, 6, 7])
        assert triples(wave_boundaries(ann)) == [("p", 1, 2, -1), ("N", 5, 6, 7)]

    def test_bare_peaks(self):
        ann = make(["N", "N"], [5, 50])
        assert triples(wave_boundaries(ann)) == [("N", -1, 5, -1), ("N", -1, 50, -1)]

    def test_biphasic_t_enclosed_is_one_wave(self):
        ann = make(["(", "t", "t", ")"], [10, 12, 15, 20])
        assert triples(wave_boundaries(ann)) == [("t", 10, 12, 20)]

    def test_unenclosed_same_type_peaks_stay_separate(self):
        ann = make(["(", "t", "t"], [10, 12, 15])
        assert triples(wave_boundaries(ann)) == [("t", 10, 12, -1), ("t", -1, 15, -1)]

    def test_leads_do_not_share_boundaries(self):
        ann = make(["(", "N", ")"], [5, 6, 7], leads=["I", "II", "I"])
        waves = wave_boundaries(ann)
        assert triples(waves) == [("N", -1, 6, -1)]
        assert waves.lead.tolist() == ["II"]

    def test_channels_separated(self):
        # ecgpuwave's two-channel .pu files interleave the channels in time.
        ann = make(["(", "(", "N", "N", ")", ")"], [1, 2, 5, 6, 8, 9], chans=[0, 1, 0, 1, 1, 0])
        waves = wave_boundaries(ann)
        assert triples(waves) == [("N", 1, 5, 9), ("N", 2, 6, 8)]
        assert waves.chan.tolist() == [0, 1]

    def test_other_symbols_ignored(self):
        ann = make(["(", "N", "+", ")", "~"], [1, 2, 2, 3, 4])
        assert triples(wave_boundaries(ann)) == [("N", 1, 2, 3)]

    def test_empty(self):
        waves = wave_boundaries(make([], []))
        assert len(waves) == 0
        assert waves.onset.dtype == np.int64

    @pytest.mark.data
    def test_ludb_record_1_lead_ii(self, dataset_dir):
        ann = read_annotations(dataset_dir("ludb") / "data" / "1", "ii", lead="ii")
        waves = wave_boundaries(ann)
        assert set(waves.wave.tolist()) == set(WAVE_PEAKS)
        assert (waves.lead == "II").all()
        assert (waves.onset >= 0).all() and (waves.offset >= 0).all()
        assert (waves.onset < waves.peak).all() and (waves.peak < waves.offset).all()
        assert len(waves) == np.isin(ann.symbol, WAVE_PEAKS).sum()

    @pytest.mark.data
    def test_ludb_records_ordered(self, dataset_dir):
        root = dataset_dir("ludb")
        for name in (root / "RECORDS").read_text().split()[::10]:
            waves = wave_boundaries(read_ludb_annotations(root / name))
            assert set(waves.lead.tolist()) <= set(STANDARD_LEADS)
            has_on, has_off = waves.onset >= 0, waves.offset >= 0
            assert (waves.onset[has_on] < waves.peak[has_on]).all(), name
            assert (waves.peak[has_off] < waves.offset[has_off]).all(), name

    @pytest.mark.data
    def test_qtdb_q1c(self, dataset_dir):
        ann = read_annotations(dataset_dir("qtdb") / "sel100", "q1c")
        waves = wave_boundaries(ann)
        counts = {w: int((waves.wave == w).sum()) for w in WAVE_PEAKS}
        assert counts == {w: int((ann.symbol == w).sum()) for w in WAVE_PEAKS}
        qrs = waves.select(wave="N")
        assert (qrs.onset >= 0).all() and (qrs.offset > qrs.peak).all()
        t = waves.select(wave="t")
        assert (t.offset > t.peak).all()  # QTDB marks T peaks and ends; onsets are optional

    @pytest.mark.data
    def test_qtdb_pu0_merges_biphasic_t(self, dataset_dir):
        ann = read_annotations(dataset_dir("qtdb") / "sel100", "pu0")
        waves = wave_boundaries(ann)
        t = waves.select(wave="t")
        assert 0 < len(t) < (ann.symbol == "t").sum()
        has_on = t.onset >= 0
        assert (t.onset[has_on] < t.peak[has_on]).all()


class TestBeatSamples:
    def test_excludes_non_beats(self):
        ann = make(["+", "N", "~", "V", "(", "A", "|"], [0, 10, 12, 20, 25, 30, 31])
        assert beat_samples(ann).tolist() == [10, 20, 30]

    def test_sorted_across_leads(self):
        ann = make(["N", "N"], [50, 10], leads=["I", "II"])
        assert beat_samples(ann).tolist() == [10, 50]

    @pytest.mark.data
    def test_mitdb_100(self, dataset_dir):
        ann = read_annotations(dataset_dir("mitdb") / "100", "atr")
        beats = beat_samples(ann)
        assert len(beats) == np.isin(ann.symbol, BEAT_SYMBOLS).sum()
        assert len(beats) < len(ann)  # the rhythm annotation '+' is left out
        assert (np.diff(beats) > 0).all()
