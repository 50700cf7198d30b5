"""Report rendering: JSON round trip, Markdown, and a self-contained HTML page."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from agent.api import interpret
from agent.report import Report
from agent.report_render import render_html, render_markdown, render_trace_html
from agent.settings import AgentSettings
from agent.traces import run_steps
from tools.synth import SynthSpec, synthesize


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):
    ecg = synthesize(SynthSpec(hr_bpm=58, conduction="rbbb"), seed=5)
    db = tmp_path_factory.mktemp("traces") / "t.sqlite"
    report = interpret(ecg.record, settings=AgentSettings(trace_db=db), run_id="render-me")
    return report, ecg.record, db


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_json_round_trip(run) -> None:
    report, _, _ = run
    again = Report.model_validate_json(report.model_dump_json(by_alias=True))
    assert again == report


def test_html_is_self_contained_with_image_and_claims(run) -> None:
    report, record, _ = run
    page = render_html(report, record)
    parser = _Collector()
    parser.feed(page)
    images = [attrs for tag, attrs in parser.tags if tag == "img"]
    assert len(images) == 1 and str(images[0]["src"]).startswith("data:image/png;base64,")
    external = [
        a for _, a in parser.tags for k in ("src", "href") if str(a.get(k, "")).startswith("http")
    ]
    assert external == []
    claim_spans = [a for tag, a in parser.tags if tag == "span" and "claim" in str(a.get("class"))]
    assert len(claim_spans) == len(report.claims) > 0
    classes = [str(a["class"]).split()[1] for a in claim_spans]
    assert classes.count("supported") == report.n_supported
    assert classes.count("contradicted") == report.n_contradicted == 0
    assert report.record.record_id in page and "CRBBB" in page


def test_html_escapes_record_text(run) -> None:
    report, _, _ = run
    hostile = report.model_copy(
        update={"interpretation": "<script>alert(1)</script>", "claims": []}
    )
    page = render_html(hostile)
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_markdown(run) -> None:
    report, _, _ = run
    text = render_markdown(report)
    assert text.startswith(f"# ECG report: {report.record.record_id}")
    assert "## Interpretation" in text and "| claim | verdict |" in text
    assert len(re.findall(r"\| supported \|", text)) == report.n_supported


def test_trace_html(run) -> None:
    _, _, db = run
    steps = run_steps(Path(db), "render-me")
    page = render_trace_html("render-me", steps)
    assert page.count("<details>") == len(steps) == 7
    assert "assess_quality" in page
