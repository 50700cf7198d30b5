"""Rich tables for the command line: measurements, quality and statements."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

from tools.measure import Measurements
from tools.quality import QualityReport


class PlainTable(Table):
    """A table whose string cells are plain text (record data may contain ``[brackets]``)."""

    def add_row(self, *renderables: Any, **kwargs: Any) -> None:
        super().add_row(*(Text(str(r)) if isinstance(r, str) else r for r in renderables), **kwargs)


def _fmt(value: object, digits: int = 0) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def quality_table(report: QualityReport) -> Table:
    """Overall verdict, record findings, and every lead that is not good with its reasons."""
    table = PlainTable(title=f"Signal quality: {report.verdict}", title_justify="left")
    table.add_column("lead / record")
    table.add_column("verdict")
    table.add_column("reasons")
    for finding in report.findings:
        table.add_row("record", finding.severity, f"{finding.code}: {finding.detail}")
    for lead in report.leads:
        if lead.verdict != "good":
            reasons = "; ".join(f"{r.code} ({r.value:.3g} vs {r.threshold:.3g} {r.unit})"
                                for r in lead.reasons)  # fmt: skip
            table.add_row(lead.lead, lead.verdict, reasons)
    if not report.findings and all(lead.verdict == "good" for lead in report.leads):
        table.add_row("all leads", "good", "-")
    return table


GLOBAL_ROWS: tuple[tuple[str, str, int], ...] = (
    ("heart rate", "heart_rate_bpm", 0),
    ("RR mean / SD", "rr_mean_ms", 0),
    ("RR irregularity", "rr_irregularity", 3),
    ("P duration", "p_duration_ms", 0),
    ("PR", "pr_ms", 0),
    ("QRS", "qrs_ms", 0),
    ("QT", "qt_ms", 0),
    ("QTc Bazett", "qtc_bazett_ms", 0),
    ("QTc Fridericia", "qtc_fridericia_ms", 0),
    ("QTc Framingham", "qtc_framingham_ms", 0),
    ("QTc Hodges", "qtc_hodges_ms", 0),
    ("P / QRS / T axis", "p_axis_deg", 0),
    ("P-wave fraction", "p_wave_fraction", 2),
    ("atrial periodicity / rate", "atrial_periodicity", 2),
)


def global_table(m: Measurements) -> Table:
    """Rate, intervals, QTc, axes and beat counts."""
    g = m.global_
    table = PlainTable(title="Global measurements", title_justify="left", show_header=False)
    table.add_column("measure", style="bold")
    table.add_column("value")
    for label, field, digits in GLOBAL_ROWS:
        value = _fmt(getattr(g, field), digits)
        if field == "rr_mean_ms":
            value = f"{value} / {_fmt(g.rr_sd_ms)} ms"
        elif field == "p_axis_deg":
            value = " / ".join(_fmt(v) for v in (g.p_axis_deg, g.qrs_axis_deg, g.t_axis_deg))
            value += " deg"
        elif field == "atrial_periodicity":
            value = f"{value} / {_fmt(g.atrial_rate_bpm)} per min"
        elif field.endswith("_ms"):
            value += " ms"
        elif field.endswith("_bpm"):
            value += " bpm"
        table.add_row(label, value)
    counts = ", ".join(f"{name}: {n}" for name, n in g.beat_counts.items() if n)
    table.add_row("beats", f"{g.n_beats} ({counts or 'none classified'})")
    return table


LEAD_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("QRS", "qrs_morphology", 0),
    ("P mV", "p_amplitude_mv", 2),
    ("Q mV", "q_amplitude_mv", 2),
    ("R mV", "r_amplitude_mv", 2),
    ("S mV", "s_amplitude_mv", 2),
    ("R' mV", "r_prime_amplitude_mv", 2),
    ("T mV", "t_amplitude_mv", 2),
    ("QRS ms", "qrs_ms", 0),
    ("J mV", "j_level_mv", 2),
    ("ST60 mV", "st_j60_mv", 2),
    ("ST80 mV", "st_j80_mv", 2),
    ("ST form", "st_form", 0),
    ("T", "t_polarity", 0),
)


def lead_table(m: Measurements) -> Table:
    """Per-lead amplitudes, morphology and ST-T of the median beat."""
    table = PlainTable(title="Per-lead measurements (median beat)", title_justify="left")
    table.add_column("lead", style="bold")
    for title, _, _ in LEAD_COLUMNS:
        table.add_column(title, justify="right")
    for lead in m.leads:
        table.add_row(lead.lead, *(_fmt(getattr(lead, f), d) for _, f, d in LEAD_COLUMNS))
    return table


#: Evidence that gates a rule rather than firing it (shown in JSON, left out of the table).
ROUTINE_EVIDENCE = frozenset({"st_form", "qrs_ms"})


def statements_table(m: Measurements) -> Table:
    """Criteria statements with the evidence that fired them."""
    table = PlainTable(title="Statements from criteria", title_justify="left")
    table.add_column("statement", style="bold")
    table.add_column("leads")
    table.add_column("evidence")
    table.add_column("rule")
    for s in m.statements:
        evidence = "; ".join(
            f"{e.measure}{' ' + e.lead if e.lead else ''} = {e.value:.3g}"
            if isinstance(e.value, float)
            else f"{e.measure} = {e.value}"
            for e in s.evidence
            if e.met and e.measure not in ROUTINE_EVIDENCE
        )
        table.add_row(f"{s.name} [{s.code}]", ", ".join(s.leads) or "-", evidence, s.rule)
    if not m.statements:
        table.add_row("none", "-", "-", "-")
    return table
