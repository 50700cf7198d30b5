"""index.html: its table in Python (rows, values, links, failures, escaping, no external
asset), and the page rendered by headless Chromium (screenshot and DOM after the script ran).

Chromium tests need the Debian package (``apt-get install -y chromium``) and skip without it.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from agent.batch import interpret_many
from agent.batch.index_html import COLUMNS
from agent.batch.jsonl import iter_lines
from agent.batch.lines import dumps, line_index
from agent.batch.model import RecordDone, RecordFailure
from agent.batch.outputs import BatchOutputs
from tests.batch_builders import CORRUPT_ID, FLAT_ID, good_ids, write_dataset

N_GOOD = 4
HEADERS = [header for header, _, _, _ in COLUMNS]
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
#: Seconds Chromium may take to render the page (start-up included).
CHROMIUM_TIMEOUT_S = 60


@dataclass
class _Row:
    css: str
    cells: list[str] = field(default_factory=list)
    links: list[str | None] = field(default_factory=list)


class _Table(HTMLParser):
    """Rows of the page's table: class, cell values (``data-v``) and links."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[_Row] = []
        self.tags: list[str] = []
        self.headers: list[str] = []
        self._in_th = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "tr" and "class" in a:
            self.rows.append(_Row(css=str(a["class"])))
        elif tag == "td" and self.rows:
            self.rows[-1].cells.append(a.get("data-v") or "")
        elif tag == "a" and self.rows:
            self.rows[-1].links.append(a.get("href"))
        self._in_th = tag == "th"

    def handle_data(self, data: str) -> None:
        if self._in_th:
            self.headers.append(data)
            self._in_th = False


def _parse(path: Path) -> _Table:
    table = _Table()
    table.feed(path.read_text(encoding="utf-8"))
    return table


@pytest.fixture(scope="module")
def batch_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = write_dataset(tmp_path_factory.mktemp("index-data"), N_GOOD)
    out = tmp_path_factory.mktemp("index-out")
    list(interpret_many(folder, dataset="wfdb-dir", out_dir=out, workers=0, formats=["html"]))
    return out


def _rows_by_key(table: _Table) -> dict[str, _Row]:
    return {str(row.cells[0]): row for row in table.rows}


class TestIndexContent:
    def test_one_row_per_record(self, batch_dir: Path) -> None:
        table = _parse(batch_dir / "index.html")
        assert table.headers == HEADERS
        rows = _rows_by_key(table)
        assert sorted(rows) == sorted([*good_ids(N_GOOD), FLAT_ID, CORRUPT_ID])
        assert rows[FLAT_ID].css == "unusable"
        assert rows[CORRUPT_ID].css == "failed"
        assert all(rows[k].css == "complete" for k in good_ids(N_GOOD))

    def test_values_match_reports(self, batch_dir: Path) -> None:
        rows = _rows_by_key(_parse(batch_dir / "index.html"))
        fields = [name for _, _, name, _ in COLUMNS]
        for _, line in iter_lines(batch_dir / "reports.jsonl"):
            key, index = line_index(line)
            cells = rows[key].cells
            hr = cells[fields.index("heart_rate_bpm")]
            if index["heart_rate_bpm"] is None:
                assert hr == ""
            else:
                assert float(hr) == pytest.approx(index["heart_rate_bpm"], abs=0.01)
            shown = ", ".join(index["statements"]) or index["exit_reason"]  # unusable: why
            assert cells[fields.index("statements")] == shown
            assert int(cells[fields.index("n_supported")]) == index["n_supported"]

    def test_links_open_report_pages(self, batch_dir: Path) -> None:
        rows = _rows_by_key(_parse(batch_dir / "index.html"))
        for key in [*good_ids(N_GOOD), FLAT_ID]:
            [link] = rows[key].links
            assert link == f"reports/{key}.html"
            assert (batch_dir / str(link)).is_file()
        assert rows[CORRUPT_ID].links == []

    def test_failure_row_says_why(self, batch_dir: Path) -> None:
        text = (batch_dir / "index.html").read_text()
        assert "CorruptFileError at load: " in text
        assert f"{CORRUPT_ID}.hea" in text

    def test_self_contained(self, batch_dir: Path) -> None:
        text = (batch_dir / "index.html").read_text()
        table = _parse(batch_dir / "index.html")
        assert "link" not in table.tags and "img" not in table.tags
        assert "http://" not in text and "https://" not in text
        assert "<script>" in text and "<script src" not in text


def _outputs_with(folder: Path, key: str, statement: str) -> BatchOutputs:
    outputs = BatchOutputs(folder)
    index = {"status": "complete", "statements": [statement], "heart_rate_bpm": 61.0}
    line = dumps({"id": key, "index": index, "report": {}, "run": {}}) + "\n"
    outputs.commit(RecordDone(key=key, line=line.encode(), files={"md": b"# r"}))
    outputs.commit(RecordFailure(key="<b>x</b>", stage="load", error_type="E", message="<i>"))
    return outputs


class TestIndexWriting:
    def test_values_escaped(self, tmp_path: Path) -> None:
        with _outputs_with(tmp_path, 'a"<script>', "<img src=x onerror=alert(1)>") as out:
            page = out.write_index(("md",)).read_text()
        assert "<img src=x" not in page and "&lt;img src=x" in page
        assert '<script>"' not in page and "<b>x</b>" not in page and "<i>" not in page

    def test_link_to_an_existing_report_file(self, tmp_path: Path) -> None:
        with _outputs_with(tmp_path, "r1", "sinus rhythm") as out:  # r1 has only .md
            out.commit(
                RecordDone(
                    key="r2",
                    line=b'{"id":"r2","index":{}}\n',
                    files={"json": b"{}", "html": b"<p>"},
                )
            )
            rows = _rows_by_key(_parse(out.write_index(("json", "md"))))
            assert rows["r1"].links == ["reports/r1.md"]
            assert rows["r2"].links == ["reports/r2.json"]  # this run's formats first
            rows = _rows_by_key(_parse(out.write_index(())))
            assert rows["r2"].links == ["reports/r2.html"]
            out.commit(RecordDone(key="r3", line=b'{"id":"r3","index":{}}\n'))
            assert _rows_by_key(_parse(out.write_index(("html",))))["r3"].links == []

    def test_replaced_atomically(self, tmp_path: Path) -> None:
        with _outputs_with(tmp_path, "r1", "sinus rhythm") as out:
            out.write_index(("md",))
            out.write_index(("md",))
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".index")) == []


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("headless Chromium not installed (Debian: apt-get install -y chromium)")


def _run_chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    command = [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT_S, check=False
    )


@pytest.mark.slow
class TestIndexInChromium:
    def test_screenshot_shows_the_table(self, batch_dir: Path, tmp_path: Path) -> None:
        from PIL import Image

        shot = tmp_path / "index.png"
        url = (batch_dir / "index.html").as_uri()
        _run_chromium([f"--screenshot={shot}", "--window-size=1280,800", url], tmp_path / "profile")
        assert shot.is_file(), "Chromium wrote no screenshot"
        pixels = np.asarray(Image.open(shot).convert("RGB")).astype(int)
        assert pixels.shape == (800, 1280, 3)
        header = np.all(pixels == (243, 243, 243), axis=-1)  # the <th> background
        failed = np.all(pixels == (251, 233, 231), axis=-1)  # the failed record's row
        unusable = np.all(pixels == (255, 248, 214), axis=-1)  # the unusable record's row
        assert header.sum() > 5_000, "no table header row on the page"
        assert failed.sum() > 1_000 and unusable.sum() > 1_000
        rows_with_header = np.flatnonzero(header.any(axis=1))
        rows_failed = np.flatnonzero(failed.any(axis=1))
        assert rows_with_header.min() < rows_failed.min()  # the header sits above the rows
        dark = pixels.sum(axis=-1) < 200
        assert dark.sum() > 5_000, "no text on the page"

    def test_script_ran_filter_and_sort(self, batch_dir: Path, tmp_path: Path) -> None:
        url = (batch_dir / "index.html").as_uri()
        total = N_GOOD + 2
        dom = _run_chromium(["--dump-dom", url], tmp_path / "p1").stdout
        assert f"showing {total} of {total}" in dom
        dom = _run_chromium(["--dump-dom", f"{url}#q=r01"], tmp_path / "p2").stdout
        assert f"showing 1 of {total}" in dom
        dom = _run_chromium(["--dump-dom", f"{url}#sort=HR&desc=1"], tmp_path / "p3").stdout
        table = _Table()
        table.feed(dom)
        hr = [row.cells[3] for row in table.rows]
        values = [float(v) for v in hr if v]
        assert values == sorted(values, reverse=True) and len(values) == N_GOOD
