"""``index.html``: one self-contained page listing every report of a batch folder.

Built from the ``index`` part of each ``reports.jsonl`` line (no report is parsed whole) and
from the open failures, streamed row by row into a temporary file that then replaces the old
page. Inline CSS and a little inline JavaScript: click a column to sort, type to filter, or
link a view as ``index.html#q=afib&sort=QTc&desc=1``. No external asset, no server: it opens
from the file system. Every value is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from agent.batch.jsonl import FILE_MODE, corrupt_line, iter_lines
from agent.batch.lines import line_index
from agent.batch.outputs import INDEX_FILE, REPORTS_FILE
from tools.atomic import atomic_path

if TYPE_CHECKING:
    from agent.batch.outputs import BatchOutputs

#: Which report file a row links to: the first of these that exists (this run's formats first).
LINK_PREFERENCE: tuple[str, ...] = ("html", "md", "json")
#: Columns: (header, tooltip, index-row field, numeric).
COLUMNS: tuple[tuple[str, str, str, bool], ...] = (
    ("record", "record id in the batch (opens its report)", "id", False),
    ("status", "complete, unusable (quality gate) or failed", "status", False),
    ("rhythm", "rhythm statements", "rhythm", False),
    ("HR", "heart rate, bpm", "heart_rate_bpm", True),
    ("PR", "PR interval, ms", "pr_ms", True),
    ("QRS", "QRS duration, ms", "qrs_ms", True),
    ("QT", "QT interval, ms", "qt_ms", True),
    ("QTc", "QTc (Bazett), ms", "qtc_bazett_ms", True),
    ("axis", "QRS axis, degrees", "qrs_axis_deg", True),
    ("statements", "statements from the criteria (or the error)", "statements", False),
    ("score", "grounding score: supported / (supported + contradicted)", "grounding_score", True),
    ("sup", "claims supported by the measurements", "n_supported", True),
    ("contra", "claims contradicted by the measurements", "n_contradicted", True),
    ("unver", "claims no measurement covers", "n_unverifiable", True),
    ("rev", "revision rounds", "revisions", True),
)

_CSS = """
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1d1d1f}
h1{font-size:1.3rem}#filter{padding:.3rem .5rem;width:24rem;margin:.5rem 0}
table{border-collapse:collapse;font-size:.85rem}
th,td{border:1px solid #ccc;padding:.2rem .45rem;text-align:left;vertical-align:top}
th{background:#f3f3f3;cursor:pointer;user-select:none;position:sticky;top:0}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
td.n{text-align:right;font-variant-numeric:tabular-nums}td.s{max-width:28rem}
tr.failed td{background:#fbe9e7}tr.unusable td{background:#fff8d6}
td.bad{color:#b3261e;font-weight:600}.muted{color:#666}
"""

_JS = """
(function(){
  var table=document.getElementById('reports'),body=table.tBodies[0];
  var filter=document.getElementById('filter');
  var heads=Array.prototype.slice.call(table.tHead.rows[0].cells);
  var rows=Array.prototype.slice.call(body.rows),count=document.getElementById('count');
  function show(){var n=0;rows.forEach(function(r){if(r.style.display!=='none')n++;});
    count.textContent='showing '+n+' of '+rows.length;}
  function apply(){var q=filter.value.toLowerCase();
    rows.forEach(function(r){r.style.display=r.textContent.toLowerCase().indexOf(q)<0?'none':'';});
    show();}
  function sort(i,asc){var num=heads[i].dataset.num==='1';
    heads.forEach(function(c){c.removeAttribute('aria-sort');});
    heads[i].setAttribute('aria-sort',asc?'ascending':'descending');
    rows.sort(function(a,b){var x=a.cells[i].dataset.v,y=b.cells[i].dataset.v;
      if(num){x=x===''?-Infinity:+x;y=y===''?-Infinity:+y;return asc?x-y:y-x;}
      return asc?x.localeCompare(y):y.localeCompare(x);});
    rows.forEach(function(r){body.appendChild(r);});}
  filter.addEventListener('input',apply);
  heads.forEach(function(th,i){th.addEventListener('click',function(){
    sort(i,th.getAttribute('aria-sort')!=='ascending');});});
  // a view can be linked: index.html#q=afib&sort=QTc&desc=1
  var p=new URLSearchParams(location.hash.slice(1));
  if(p.get('q')){filter.value=p.get('q');}
  heads.forEach(function(th,i){if(th.textContent===p.get('sort'))sort(i,!p.get('desc'));});
  apply();
})();
"""


def _cell(value: Any, numeric: bool, css: str = "") -> str:
    if isinstance(value, list):
        text = ", ".join(str(v) for v in value)
    elif isinstance(value, float) and numeric:
        text = f"{value:.2f}".rstrip("0").rstrip(".")
    else:
        text = "" if value is None else str(value)
    classes = " ".join(c for c in ("n" if numeric else "", css) if c)
    attr = f' class="{classes}"' if classes else ""
    shown = html.escape(text) if text else '<span class="muted">-</span>'
    return f'<td{attr} data-v="{html.escape(text)}">{shown}</td>'


def _report_row(key: str, row: dict[str, Any], link: str | None) -> str:
    cells = []
    for _, _, name, numeric in COLUMNS:
        if name == "id":
            label = html.escape(key)
            target = f'<a href="{html.escape(link)}">{label}</a>' if link else label
            cells.append(f'<td data-v="{label}">{target}</td>')
            continue
        value = row.get(name)
        if name == "statements" and not value and row.get("exit_reason"):
            value = row["exit_reason"]  # an unusable record: why it ended early
        bad = name == "n_contradicted" and bool(value)
        css = "bad" if bad else "s" if name == "statements" else ""
        cells.append(_cell(value, numeric, css))
    status = html.escape(str(row.get("status", "")))
    return f'<tr class="{status}">{"".join(cells)}</tr>\n'


def _failure_row(key: str, stage: str, error_type: str, message: str) -> str:
    cells = [f'<td data-v="{html.escape(key)}">{html.escape(key)}</td>', _cell("failed", False)]
    for _, _, name, numeric in COLUMNS[2:]:
        if name == "statements":
            text = f"{error_type} at {stage}: {message}"
            cells.append(_cell(text, False, "bad s"))
        else:
            cells.append(_cell(None, numeric))
    return f'<tr class="failed">{"".join(cells)}</tr>\n'


def _link(outputs: BatchOutputs, key: str, order: list[str]) -> str | None:
    for fmt in order:
        path = outputs.report_file(key, fmt)
        if path.is_file():
            return path.relative_to(outputs.folder).as_posix()
    return None


def _rows(outputs: BatchOutputs, formats: tuple[str, ...]) -> Iterator[str]:
    order = sorted(LINK_PREFERENCE, key=lambda f: (f not in formats, LINK_PREFERENCE.index(f)))
    reports_path = outputs.folder / REPORTS_FILE
    for number, line in iter_lines(reports_path):
        try:
            key, row = line_index(line)
        except ValueError as exc:
            raise corrupt_line(reports_path, number, str(exc)) from None
        yield _report_row(key, row, _link(outputs, key, order))
    for key, failure in sorted(outputs.failed.items()):
        yield _failure_row(key, failure.stage, failure.error_type, failure.message)


def _write_page(handle: IO[str], outputs: BatchOutputs, formats: tuple[str, ...]) -> None:
    title = f"gem-agent batch: {outputs.folder.name}"
    handle.write(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
        f"</title><style>{_CSS}</style></head><body>\n"
    )
    handle.write(
        f"<h1>{html.escape(title)}</h1>\n<p>{len(outputs.done)} reports, "
        f"{len(outputs.failed)} open failures. <span id='count'></span></p>\n"
    )
    handle.write(
        "<input id='filter' type='search' placeholder='filter rows (id, rhythm, "
        "statement, error ...)' aria-label='filter rows'>\n"
    )
    head = "".join(
        f"<th data-num='{int(numeric)}' title='{html.escape(tip)}'>{html.escape(header)}</th>"
        for header, tip, _, numeric in COLUMNS
    )
    handle.write(f"<table id='reports'><thead><tr>{head}</tr></thead><tbody>\n")
    for row in _rows(outputs, formats):
        handle.write(row)
    handle.write(f"</tbody></table>\n<script>{_JS}</script>\n</body></html>\n")


def write_index(outputs: BatchOutputs, formats: tuple[str, ...]) -> Path:
    """Write ``index.html`` of an open batch folder (atomically); returns its path."""
    path = outputs.folder / INDEX_FILE
    with atomic_path(path, mode=FILE_MODE) as tmp, tmp.open("w", encoding="utf-8") as handle:
        _write_page(handle, outputs, formats)
    return path
