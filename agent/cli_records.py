"""Record commands: inspect, measure, render, synth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.text import Text

from agent.cli_common import (
    DatasetOpt,
    FsOpt,
    LeadsOpt,
    RecordArg,
    RootOpt,
    console,
    load_record,
    record_errors,
    summary_table,
)


def inspect(
    record: RecordArg,
    dataset: DatasetOpt = None,
    root: RootOpt = None,
    fs: FsOpt = None,
    leads: LeadsOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Show a record's summary: leads, rate, duration, demographics, labels, NaN counts."""
    with record_errors():
        summary = load_record(record, dataset, root, fs, leads).summary()
    if as_json:
        typer.echo(summary.model_dump_json(indent=2))
    else:
        console.print(summary_table(summary))


def render(
    record: RecordArg,
    output: Annotated[Path, typer.Option("-o", "--output", help="Image file: .png or .svg.")],
    layout: Annotated[
        str, typer.Option(help="gem: 12 x 1 + lead-II strip (GEM's input); 3x4: clinical layout.")
    ] = "gem",
    dpi: Annotated[int, typer.Option(help="Resolution; GEM's pages are 200 dpi.")] = 200,
    dataset: DatasetOpt = None,
    root: RootOpt = None,
    fs: FsOpt = None,
    leads: LeadsOpt = None,
) -> None:
    """Render a record as an ECG page (25 mm/s, 10 mm/mV, red grid, calibration pulse)."""
    from tools.render import LAYOUTS, LayoutName, save_ecg_image

    if layout not in LAYOUTS:
        raise typer.BadParameter(f"choose one of {', '.join(LAYOUTS)}", param_hint="--layout")
    with record_errors():
        ecg = load_record(record, dataset, root, fs, leads)
        path = save_ecg_image(ecg, output, layout=cast(LayoutName, layout), dpi=dpi)
    console.print(f"wrote {path}")


def measure(
    record: RecordArg,
    dataset: DatasetOpt = None,
    root: RootOpt = None,
    fs: FsOpt = None,
    leads: LeadsOpt = None,
    per_beat: Annotated[
        bool, typer.Option("--per-beat", help="Also GEM's 14 features for every beat and lead.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print quality + measurements.")] = False,
) -> None:
    """Measure a record: quality, intervals, axes, per-lead amplitudes, criteria statements."""
    from agent.tables import global_table, lead_table, quality_table, statements_table
    from tools.measure.features import gem_feature_text
    from tools.measure.pipeline import measure_record

    with record_errors():
        ecg = load_record(record, dataset, root, fs, leads)
        run = measure_record(ecg, per_beat=per_beat)
    m = run.measurements
    if as_json:
        payload = {
            "quality": run.quality.model_dump(mode="json"),
            "measurements": m.model_dump(mode="json", by_alias=True),
        }
        typer.echo(json.dumps(payload, indent=2))
        return
    console.print(quality_table(run.quality))
    console.print(global_table(m))
    console.print(lead_table(m))
    console.print(statements_table(m))
    if per_beat and m.beats is not None:
        console.print(Text("Per-beat features (GEM serialisation)", style="bold"))
        console.print(Text(gem_feature_text(m.beats.features)))


def _lead_list(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip()) if value else ()


def _st_shifts(values: list[str] | None) -> dict[str, float]:
    shifts: dict[str, float] = {}
    for item in values or []:
        lead, sep, mv = item.partition("=")
        try:
            shifts[lead.strip()] = float(mv)
        except ValueError:
            raise typer.BadParameter(f"expected LEAD=MV, got {item!r}", param_hint="--st") from None
        if not sep:
            raise typer.BadParameter(f"expected LEAD=MV, got {item!r}", param_hint="--st")
    return shifts


def synth(
    out: Annotated[Path, typer.Option("-o", "--out", help="Folder for the WFDB record + truth.")],
    hr: Annotated[float | None, typer.Option(help="Heart rate, 30-220 bpm (default 72).")] = None,
    rhythm: Annotated[
        str, typer.Option(help="sinus | sinus_arrhythmia | afib | aflutter")
    ] = "sinus",
    pr_ms: Annotated[
        float | None, typer.Option(help="PR interval (> 200: 1st-degree block).")
    ] = None,
    qrs_ms: Annotated[float | None, typer.Option(help="QRS duration, 70-180 ms.")] = None,
    qt_ms: Annotated[float | None, typer.Option(help="QT interval (default from QTc 400).")] = None,
    conduction: Annotated[
        str,
        typer.Option(
            help="normal | rbbb | lbbb | irbbb (incomplete RBBB, QRS 100-119 ms) | "
            "lafb (axis -90..-30) | lpfb (axis +75..+180)"
        ),
    ] = "normal",
    delta_wave_ms: Annotated[
        float | None,
        typer.Option(help="Pre-excitation (WPW): delta wave of 20-80 ms; shortens PR, widens QRS."),
    ] = None,
    respiratory_depth: Annotated[
        float | None,
        typer.Option(help="Sinus arrhythmia RR modulation, 0.01-0.2 (default 0.1 = +-10%)."),
    ] = None,
    axis: Annotated[float, typer.Option(help="Frontal QRS axis, -180..180 degrees.")] = 60.0,
    infarct: Annotated[
        str | None,
        typer.Option(help="Old Q-wave infarction: inferior | lateral | anteroseptal | anterior"),
    ] = None,
    st: Annotated[
        list[str] | None,
        typer.Option(help="ST shift LEAD=MV or GROUP=MV (inferior, lateral, anterior, septal)."),
    ] = None,
    t_inverted: Annotated[
        str | None, typer.Option(help="Leads with inverted T, e.g. V1,V2")
    ] = None,
    pac_every: Annotated[int | None, typer.Option(help="Every N-th beat premature atrial.")] = None,
    pvc_every: Annotated[
        int | None, typer.Option(help="Every N-th beat premature ventricular.")
    ] = None,
    amplitude_scale: Annotated[float, typer.Option(help="QRS voltage scale (LVH > 1).")] = 1.0,
    duration: Annotated[float, typer.Option(help="Seconds.")] = 10.0,
    fs: Annotated[float, typer.Option("--fs", help="Sampling rate in Hz.")] = 500.0,
    baseline_wander: Annotated[float, typer.Option(help="Baseline wander amplitude, mV.")] = 0.0,
    powerline: Annotated[float, typer.Option(help="Powerline amplitude, mV.")] = 0.0,
    powerline_hz: Annotated[float, typer.Option(help="50 or 60 Hz.")] = 50.0,
    muscle_noise: Annotated[float, typer.Option(help="Muscle-noise RMS, mV.")] = 0.0,
    flat: Annotated[str | None, typer.Option(help="Flat leads, e.g. V3")] = None,
    disconnected: Annotated[str | None, typer.Option(help="Lead-off leads, e.g. aVL")] = None,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same ECG).")] = 0,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the ground truth as JSON.")
    ] = False,
) -> None:
    """Write a synthetic 12-lead ECG (WFDB) and its ground truth (JSON) to a folder."""
    from tools.synth import SynthSpec, synthesize, write_synthetic

    with record_errors():
        spec = SynthSpec(
            hr_bpm=hr,
            rhythm=cast(Any, rhythm),
            respiratory_depth=respiratory_depth,
            pr_ms=pr_ms,
            qrs_ms=qrs_ms,
            qt_ms=qt_ms,
            conduction=cast(Any, conduction),
            delta_wave_ms=delta_wave_ms,
            axis_deg=axis,
            infarct=cast(Any, infarct),
            st_shift_mv=_st_shifts(st),
            t_inverted_leads=_lead_list(t_inverted),
            pac_every=pac_every,
            pvc_every=pvc_every,
            amplitude_scale=amplitude_scale,
            duration_s=duration,
            fs_hz=fs,
            baseline_wander_mv=baseline_wander,
            powerline_mv=powerline,
            powerline_hz=powerline_hz,
            muscle_noise_mv=muscle_noise,
            flat_leads=_lead_list(flat),
            disconnected_leads=_lead_list(disconnected),
            seed=seed,
        )
        ecg = synthesize(spec)
        path = write_synthetic(ecg, out)
    if as_json:
        typer.echo(ecg.truth.to_json(indent=2))
    else:
        console.print(summary_table(ecg.record.summary()))
        console.print(f"wrote {path}.hea/.dat and {path}.truth.json")
