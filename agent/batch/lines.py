"""The lines of ``reports.jsonl`` and ``failures.jsonl``: one canonical JSON object per line.

A report line has four keys, always in this order::

    {"id": KEY, "index": {...}, "report": {...}, "run": {...}}

* ``id``: the record's key in the batch (the resume key).
* ``index``: the row of ``index.html`` (rhythm, intervals, statements, verdict counts), so
  the index is built without parsing whole reports.
* ``report``: the :class:`~agent.report.Report` without the fields that change from run to
  run (:data:`VOLATILE_FIELDS` and each draft's ``latency_ms``). With the deterministic
  ``criteria`` backend this part is byte-identical between runs.
* ``run``: those volatile fields (run id, creation time, node timings, draft latencies).

So "identical up to ordering and timings" is checkable as: sort the lines by ``id`` and
compare :func:`normalised_line` of each (the line without its ``run`` key). The full report
is :func:`report_from_line`. Lines are compact UTF-8 JSON (the report part is written by
pydantic's serialiser, in one pass).

A failure line is ``{"id": KEY, "event": "failed", "stage", "error_type", "message",
"run_id", "at"}``; when a retried record succeeds, ``{"id": KEY, "event": "resolved", "at"}``
is appended (the file is append-only: the last event of an id wins).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from agent.batch.model import RecordFailure

if TYPE_CHECKING:
    from agent.report import Report

#: Report fields that differ between two runs on the same record; kept under ``run``.
VOLATILE_FIELDS: tuple[str, ...] = ("run_id", "created_at", "timings_ms")
#: Those fields, and each draft's latency, as a pydantic ``exclude`` specification.
_VOLATILE_EXCLUDE: dict[str, Any] = {
    **dict.fromkeys(VOLATILE_FIELDS, True),
    "drafts": {"__all__": {"draft": {"latency_ms"}}},
}
#: Decimal places of the numbers shown in the index row.
INDEX_DECIMALS = 1
_DECODER = json.JSONDecoder()
_ID_PREFIX = '{"id":'
_INDEX_KEY = ',"index":'


def dumps(value: Any) -> str:
    """Canonical JSON text: ASCII, no spaces, keys in insertion order."""
    return json.dumps(value, ensure_ascii=True, separators=(",", ":"))


def volatile_part(report: Report) -> dict[str, Any]:
    """The fields of a report that change from run to run (its ``run`` part)."""
    return {
        "run_id": report.run_id,
        "created_at": report.created_at,
        "timings_ms": dict(report.timings_ms),
        "draft_latency_ms": [rnd.draft.latency_ms for rnd in report.drafts],
    }


def _stable_json(report: Report) -> str:
    """The report as compact JSON without its volatile fields (pydantic's serialiser)."""
    return report.model_dump_json(by_alias=True, exclude=_VOLATILE_EXCLUDE)


def split_report(report: Report) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(deterministic part, volatile part)`` of a report, as JSON-native dicts."""
    return json.loads(_stable_json(report)), volatile_part(report)


def join_report(data: dict[str, Any], run: dict[str, Any]) -> Report:
    """The report from its two parts (inverse of :func:`split_report`)."""
    from agent.report import Report

    merged = {**data, **{name: run[name] for name in VOLATILE_FIELDS}}
    latencies = run.get("draft_latency_ms", [])
    merged["drafts"] = [
        {**rnd, "draft": {**rnd["draft"], "latency_ms": latencies[i]}}
        for i, rnd in enumerate(data["drafts"])
    ]
    return Report.model_validate(merged)


def index_row(report: Report) -> dict[str, Any]:
    """The report's row in ``index.html``: what a reader scans a table of reports for."""
    from tools.statements import get_statement

    g = report.measurements.global_ if report.measurements is not None else None

    def num(name: str) -> float | None:
        value = getattr(g, name, None) if g is not None else None
        return None if value is None else round(float(value), INDEX_DECIMALS)

    rhythm = []
    for statement in report.statements:
        try:
            category = get_statement(statement.code).category
        except LookupError:  # a code outside the vocabulary is not a rhythm we know
            continue
        if category == "rhythm":
            rhythm.append(statement.name)
    return {
        "record_id": report.record.record_id,
        "dataset": report.record.dataset,
        "status": report.status,
        "exit_reason": report.exit_reason,
        "quality": report.quality.verdict,
        "rhythm": rhythm,
        "heart_rate_bpm": num("heart_rate_bpm"),
        "pr_ms": num("pr_ms"),
        "qrs_ms": num("qrs_ms"),
        "qt_ms": num("qt_ms"),
        "qtc_bazett_ms": num("qtc_bazett_ms"),
        "qrs_axis_deg": num("qrs_axis_deg"),
        "statements": [s.name for s in report.statements],
        "grounding_score": report.grounding_score,
        "n_supported": report.n_supported,
        "n_contradicted": report.n_contradicted,
        "n_unverifiable": report.n_unverifiable,
        "revisions": report.revisions,
        "backend": report.backend,
        "model": report.model,
    }


def report_line(key: str, report: Report, run_extra: dict[str, Any] | None = None) -> bytes:
    """The ``reports.jsonl`` line of ``report`` under ``key`` (ends with ``\\n``)."""
    run = {**volatile_part(report), **(run_extra or {})}
    line = (
        f'{{"id":{dumps(key)},"index":{dumps(index_row(report))},'
        f'"report":{_stable_json(report)},"run":{dumps(run)}}}\n'
    )
    return line.encode("utf-8")


def parse_line(line: bytes | str) -> dict[str, Any]:
    """A line as a dict; raises ``ValueError`` when it is not one JSON object with an id."""
    text = line.decode("utf-8") if isinstance(line, bytes) else line
    value = json.loads(text)
    if not isinstance(value, dict) or not isinstance(value.get("id"), str):
        raise ValueError("not a JSON object with a string 'id'")
    return value


def line_id(line: bytes | str) -> str:
    """The ``id`` of a line, read from its start without parsing the rest."""
    return _prefix(line)[0]


def line_index(line: bytes | str) -> tuple[str, dict[str, Any]]:
    """``(id, index row)`` of a report line, without parsing its report."""
    key, text, end = _prefix(line)
    if not text.startswith(_INDEX_KEY, end):
        raise ValueError("no 'index' after the id")
    row, _ = _DECODER.raw_decode(text, end + len(_INDEX_KEY))
    if not isinstance(row, dict):
        raise ValueError("'index' is not an object")
    return key, row


def _prefix(line: bytes | str) -> tuple[str, str, int]:
    text = line.decode("utf-8") if isinstance(line, bytes) else line
    if not text.startswith(_ID_PREFIX):
        raise ValueError('does not start with {"id":')
    key, end = _DECODER.raw_decode(text, len(_ID_PREFIX))
    if not isinstance(key, str):
        raise ValueError("the id is not a string")
    return key, text, end


def normalised_line(line: bytes | str) -> str:
    """The line without its ``run`` part: equal for two runs of the deterministic backend."""
    value = parse_line(line)
    value.pop("run", None)
    return dumps(value)


def report_from_line(line: bytes | str) -> Report:
    """The full :class:`~agent.report.Report` stored in a report line."""
    value = parse_line(line)
    return join_report(value["report"], value["run"])


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def failure_line(failure: RecordFailure) -> bytes:
    """The ``failures.jsonl`` line of a failed record (ends with ``\\n``)."""
    line = {
        "id": failure.key,
        "event": "failed",
        "stage": failure.stage,
        "error_type": failure.error_type,
        "message": failure.message,
        "run_id": failure.run_id,
        "at": _now(),
    }
    return (dumps(line) + "\n").encode("ascii")


def resolved_line(key: str) -> bytes:
    """The ``failures.jsonl`` line saying a record that failed before has now succeeded."""
    return (dumps({"id": key, "event": "resolved", "at": _now()}) + "\n").encode("ascii")


def failure_from_line(value: dict[str, Any]) -> RecordFailure:
    """A :class:`RecordFailure` from a parsed ``failed`` line."""
    return RecordFailure(
        key=value["id"],
        stage=str(value.get("stage")),
        error_type=str(value.get("error_type")),
        message=str(value.get("message")),
        run_id=value.get("run_id"),
    )
