"""Batch sources: datasets, list files and iterables, streamed with ids and limit; dataset
inference; loading in a worker."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.batch.model import BatchError, BatchItem
from agent.batch.sources import (
    LIST,
    MEMORY,
    RecordLoader,
    Source,
    infer_dataset,
    open_source,
    read_ids,
)
from tests.batch_builders import CORRUPT_ID, FLAT_ID, good_ids, write_dataset
from tools.errors import CorruptFileError, RecordError
from tools.readers import open_record

N_GOOD = 4
ALL_IDS = [*good_ids(N_GOOD), FLAT_ID, CORRUPT_ID]  # the wfdb-dir order: sorted paths


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("src"), N_GOOD)


def _keys(source: Source) -> list[str]:
    return [item.key for item in source.items()]


class TestDatasetSource:
    def test_basic(self, folder: Path) -> None:
        source = open_source(folder, dataset="wfdb-dir")
        assert _keys(source) == ALL_IDS
        assert source.count() == len(ALL_IDS)
        assert all(item.entry is not None and item.path is None for item in source.items())

    def test_limit(self, folder: Path) -> None:
        source = open_source(folder, dataset="wfdb-dir", limit=2)
        assert _keys(source) == ALL_IDS[:2]
        assert source.count() == 2

    def test_limit_zero_and_negative(self, folder: Path) -> None:
        assert _keys(open_source(folder, dataset="wfdb-dir", limit=0)) == []
        assert open_source(folder, dataset="wfdb-dir", limit=-3).count() == 0

    def test_ids_then_limit(self, folder: Path) -> None:
        source = open_source(
            folder, dataset="wfdb-dir", ids=["r03", "r01", "nope", FLAT_ID], limit=2
        )
        assert _keys(source) == ["r01", "r03"]  # source order, not the ids' order
        assert source.count() == 2

    def test_streams_without_reading_samples(
        self, folder: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        import tools.readers.wfdb_dir as wfdb_dir

        def forbidden(*args: object, **kwargs: object) -> None:
            raise AssertionError("a source must not read samples")

        monkeypatch.setattr(wfdb_dir, "read_wfdb", forbidden)
        source = open_source(folder, dataset="wfdb-dir")
        assert _keys(source) == ALL_IDS

    def test_unknown_dataset(self, folder: Path) -> None:
        with pytest.raises(BatchError, match="unknown dataset 'nope'"):
            open_source(folder, dataset="nope")

    def test_not_a_dataset_folder(self, tmp_path: Path) -> None:
        with pytest.raises(RecordError, match="ptbxl dataset folder does not exist"):
            open_source(tmp_path / "missing", dataset="ptbxl")

    def test_describe(self, folder: Path) -> None:
        described = open_source(folder, dataset="wfdb-dir", limit=3, ids=["r00"]).describe()
        assert described == {
            "kind": "wfdb-dir",
            "root": str(folder.resolve()),
            "options": {},
            "ids": 1,
            "limit": 3,
        }


class TestListSource:
    def test_basic(self, folder: Path, tmp_path: Path) -> None:
        listing = tmp_path / "records.txt"
        absolute = folder / "r01.hea"
        listing.write_text(
            f"# my records\n{folder.name}/r00.hea\n\n{absolute}\n{folder.name}/r00.hea\n"
        )
        (tmp_path / folder.name).symlink_to(folder)
        source = open_source(listing)
        assert source.spec.kind == LIST
        items = list(source.items())
        assert [i.key for i in items] == [f"{folder.name}/r00.hea", str(absolute)]  # deduped
        assert items[0].path == str(tmp_path / folder.name / "r00.hea")
        assert source.count() == 2

    def test_dataset_list_needs_a_file(self, folder: Path) -> None:
        with pytest.raises(BatchError, match="must be a text file"):
            open_source(folder, dataset="list")

    def test_missing(self, tmp_path: Path) -> None:
        with pytest.raises(BatchError, match="no such file or folder"):
            open_source(tmp_path / "nope.txt")


class TestIterableSource:
    def test_records_and_paths(self, folder: Path) -> None:
        record = open_record(folder / "r00.hea")
        source = open_source([record, folder / "r01.hea", record])
        assert source.spec.kind == MEMORY
        items = list(source.items())
        assert [i.key for i in items] == [record.record_id, str(folder / "r01.hea")]
        assert items[0].record is record
        assert source.reiterable and source.count() == 3  # a list's length: duplicates count

    def test_generator_is_one_shot(self, folder: Path) -> None:
        source = open_source(p for p in [folder / "r00.hea"])
        assert not source.reiterable
        assert source.count() is None
        assert _keys(source) == [str(folder / "r00.hea")]

    def test_wrong_type(self) -> None:
        with pytest.raises(BatchError, match="cannot interpret a int"):
            list(open_source([1]).items())


class TestInferDataset:
    def test_markers(self, tmp_path: Path) -> None:
        for marker, expected in [
            ("ptbxl_database.csv", "ptbxl"),
            ("ludb.csv", "ludb"),
            ("record_list.csv", "mimic"),
            ("exams.csv", "code15"),
        ]:
            folder = tmp_path / expected
            folder.mkdir()
            (folder / marker).write_text("x\n")
            assert infer_dataset(folder) == expected

    def test_cinc_layout(self, tmp_path: Path) -> None:
        (tmp_path / "A1.hea").write_text("x\n")
        (tmp_path / "A1.mat").write_bytes(b"")
        assert infer_dataset(tmp_path) == "cinc"

    def test_wfdb_dir_and_list(self, folder: Path, tmp_path: Path) -> None:
        assert infer_dataset(folder) == "wfdb-dir"
        (tmp_path / "list.txt").write_text("a\n")
        assert infer_dataset(tmp_path / "list.txt") == LIST


class TestReadIds:
    def test_basic(self, tmp_path: Path) -> None:
        (tmp_path / "ids.txt").write_text("# wanted\n 1 \n\n2\n1\n")
        assert read_ids(tmp_path / "ids.txt") == frozenset({"1", "2"})

    def test_missing(self, tmp_path: Path) -> None:
        with pytest.raises(BatchError, match="cannot read the ids file"):
            read_ids(tmp_path / "ids.txt")


class TestRecordLoader:
    def test_dataset_entry(self, folder: Path) -> None:
        source = open_source(folder, dataset="wfdb-dir", ids=["r02"])
        loader = RecordLoader(source.spec)
        record = loader.load(next(source.items()))
        assert record.record_id == "r02" and record.signal_mv.shape[0] == 12

    def test_corrupt_record_raises_its_error(self, folder: Path) -> None:
        source = open_source(folder, dataset="wfdb-dir", ids=[CORRUPT_ID])
        with pytest.raises(CorruptFileError, match=CORRUPT_ID):
            RecordLoader(source.spec).load(next(source.items()))

    def test_path_and_record(self, folder: Path) -> None:
        loader = RecordLoader(open_source([]).spec)
        record = loader.load(BatchItem(key="k", path=str(folder / "r01.hea")))
        assert record.record_id == "r01"
        assert loader.load(BatchItem(key="k", record=record)) is record

    def test_empty_item(self, folder: Path) -> None:
        with pytest.raises(BatchError, match="no entry, path or record"):
            RecordLoader(open_source([]).spec).load(BatchItem(key="k"))
