"""Render a :class:`~agent.report.Report` as Markdown or a self-contained HTML page, and a
trace as HTML. Every value from a record or a model is escaped."""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Sequence
from typing import Any

from agent.report import Report
from tools.record import ECGRecord

_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;max-width:1200px;color:#1d1d1f}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}
td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;font-size:.9rem}
th{background:#f3f3f3}.claim{border-bottom:2px solid;padding:0 1px}
.supported{border-color:#1b7f3b;background:#e7f5ec}
.contradicted{border-color:#b3261e;background:#fbe9e7}
.unverifiable{border-color:#b8a000;background:#fff8d6}img{max-width:100%;border:1px solid #ddd}
pre{background:#f6f6f6;padding:.5rem;overflow:auto;font-size:.8rem}details{margin:.3rem 0}
"""


def record_png(record: ECGRecord) -> bytes:
    """The record's GEM page (12 x 1 + lead-II strip, 200 dpi) as PNG bytes."""
    from PIL import Image

    from tools.render import render_ecg

    buffer = io.BytesIO()
    Image.fromarray(render_ecg(record, layout="gem")).save(buffer, format="PNG", compress_level=3)
    return buffer.getvalue()


def _e(value: Any) -> str:
    return html.escape("-" if value is None else str(value))


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_e(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def annotated_text_html(report: Report) -> str:
    """The final interpretation with every checked claim underlined by its verdict."""
    text = report.interpretation or ""
    spans = sorted(
        ((c.claim.span[0], c.claim.span[1], c) for c in report.claims), key=lambda s: s[0]
    )
    out, pos = [], 0
    for start, end, check in spans:
        if start < pos or end > len(text):
            continue  # overlapping or stale span: leave the text plain there
        out.append(html.escape(text[pos:start]))
        title = f"{check.verdict}: {check.detail}"
        out.append(
            f'<span class="claim {check.verdict}" title="{html.escape(title)}">'
            f"{html.escape(text[start:end])}</span>"
        )
        pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out)


def render_html(report: Report, record: ECGRecord | None = None) -> str:
    """A self-contained HTML page (inline CSS; the ECG page inlined as a PNG data URL)."""
    r, parts = report, []
    parts.append(f"<h1>ECG report: {_e(r.record.record_id)}</h1>")
    parts.append(
        f"<p>Run <code>{_e(r.run_id)}</code> · {_e(r.created_at)} · backend {_e(r.backend)}"
        f" {_e(r.model or '')} · revisions {r.revisions} · status <b>{_e(r.status)}</b></p>"
    )
    if r.exit_reason:
        parts.append(f"<p><b>Ended early:</b> {_e(r.exit_reason)}</p>")
    if record is not None:
        data = base64.b64encode(record_png(record)).decode()
        parts.append(f'<img alt="ECG" src="data:image/png;base64,{data}">')
    if r.interpretation is not None:
        score = "-" if r.grounding_score is None else f"{r.grounding_score:.2f}"
        parts.append("<h2>Interpretation</h2>")
        parts.append(
            f"<p>Grounding score {score}: {r.n_supported} supported, {r.n_contradicted} "
            f"contradicted, {r.n_unverifiable} unverifiable.</p>"
        )
        parts.append(f"<p>{annotated_text_html(r)}</p>")
        parts.append(_table(["claim", "verdict", "measured", "tolerance", "rule / detail"], [
            [c.claim.text, c.verdict, c.measured, c.tolerance, f"{c.rule}: {c.detail}"]
            for c in r.claims
        ]))  # fmt: skip
    parts.append(_measurement_html(r))
    if r.similar_cases:
        parts.append("<h2>Similar cases</h2>")
        parts.append(_table(["case", "dataset", "similarity", "labels", "report"], [
            [c.case_id, c.dataset, f"{c.similarity:.3f}", ", ".join(lab.code for lab in c.labels),
             c.report] for c in r.similar_cases
        ]))  # fmt: skip
    parts.append(_quality_html(r))
    for rnd in r.drafts:
        v = rnd.verification
        summary = f"{v.n_contradicted} contradicted" if v else "not verified"
        parts.append(f"<details><summary>Draft {rnd.round} ({_e(summary)})</summary>"
                     f"<pre>{_e(rnd.draft.text)}</pre></details>")  # fmt: skip
    parts.append("<h2>Timings (ms)</h2>" + _table(["node", "ms"], list(r.timings_ms.items())))
    title = f"gem-agent report {_e(r.record.record_id)}"
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>"
            f"<style>{_CSS}</style></head><body>{''.join(parts)}</body></html>")  # fmt: skip


def _measurement_html(r: Report) -> str:
    if r.measurements is None:
        return ""
    g = r.measurements.global_
    rows = [[k, v] for k, v in g.model_dump().items() if k != "beat_counts"]
    leads = [[lm.lead, lm.qrs_morphology, lm.r_amplitude_mv, lm.s_amplitude_mv, lm.qrs_ms,
              lm.st_j60_mv, lm.st_form, lm.t_polarity] for lm in r.measurements.leads]  # fmt: skip
    statements = [[s.name, s.code, ", ".join(s.leads),
                   "; ".join(f"{e.measure} {e.lead or ''} = {e.value} ({e.threshold})"
                             for e in s.evidence if e.met), s.citation]
                  for s in r.statements]  # fmt: skip
    return (
        "<h2>Measurements</h2>" + _table(["measure", "value"], rows)
        + _table(["lead", "QRS", "R mV", "S mV", "QRS ms", "ST60 mV", "ST form", "T"], leads)
        + "<h2>Statements from criteria</h2>"
        + _table(["statement", "code", "leads", "evidence", "citation"], statements)
    )  # fmt: skip


def _quality_html(r: Report) -> str:
    rows = [[q.lead, q.verdict, "; ".join(f"{x.code} ({x.detail})" for x in q.reasons)]
            for q in r.quality.leads]  # fmt: skip
    return f"<h2>Signal quality: {_e(r.quality.verdict)}</h2>" + _table(
        ["lead", "verdict", "reasons"], rows
    )


def render_markdown(report: Report) -> str:
    """The report as Markdown (claims listed with their verdicts)."""
    r = report
    lines = [f"# ECG report: {r.record.record_id}", ""]
    lines.append(f"Run `{r.run_id}` · backend {r.backend} · revisions {r.revisions} · "
                 f"status **{r.status}**")  # fmt: skip
    if r.exit_reason:
        lines += ["", f"**Ended early:** {r.exit_reason}"]
    if r.interpretation is not None:
        score = "-" if r.grounding_score is None else f"{r.grounding_score:.2f}"
        lines += ["", "## Interpretation", "", r.interpretation, "",
                  f"Grounding score {score} ({r.n_supported} supported, {r.n_contradicted} "
                  f"contradicted, {r.n_unverifiable} unverifiable)", "",
                  "| claim | verdict | measured | rule |", "|---|---|---|---|"]  # fmt: skip
        for c in r.claims:
            cells = [c.claim.text, c.verdict, str(c.measured), c.rule]
            lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    if r.measurements is not None:
        g = r.measurements.global_
        lines += ["", "## Measurements", "",
                  f"HR {g.heart_rate_bpm} bpm, PR {g.pr_ms} ms, QRS {g.qrs_ms} ms, QT {g.qt_ms} ms,"
                  f" QTc (Bazett) {g.qtc_bazett_ms} ms, QRS axis {g.qrs_axis_deg}°"]  # fmt: skip
        lines += ["", "## Statements", ""]
        lines += [f"- {s.name} ({s.code}){' in ' + ', '.join(s.leads) if s.leads else ''}"
                  for s in r.statements] or ["- none"]  # fmt: skip
    if r.similar_cases:
        lines += ["", "## Similar cases", ""]
        lines += [f"- {c.case_id} ({c.dataset}): {', '.join(lab.code for lab in c.labels)}"
                  for c in r.similar_cases]  # fmt: skip
    lines += ["", f"Signal quality: {r.quality.verdict}", ""]
    return "\n".join(lines)


def render_trace_html(run_id: str, steps: Sequence[Any]) -> str:
    """A trace as an HTML page: one collapsible block per step with its input and output."""
    parts = [f"<h1>Trace {_e(run_id)}</h1>"]
    for step in steps:
        status = f"error: {step.error}" if step.error else "ok"
        duration = "-" if step.duration_ms is None else f"{step.duration_ms:.1f} ms"
        parts.append(
            f"<details><summary>{step.index}. <b>{_e(step.node)}</b> · {_e(duration)} · "
            f"{_e(status)}</summary><h4>output</h4><pre>"
            f"{_e(json.dumps(step.output, indent=1, default=str)[:20000])}</pre><h4>input</h4>"
            f"<pre>{_e(json.dumps(step.input, indent=1, default=str)[:20000])}</pre></details>"
        )
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>trace {_e(run_id)}</title>"
            f"<style>{_CSS}</style></head><body>{''.join(parts)}</body></html>")  # fmt: skip
