"""What happens to one record wherever it is interpreted: load, run the graph, render.

:class:`WorkSpec` is everything a worker needs, picklable; :class:`RecordWorker` is built from
it once per worker (backend, case base, dataset) and turns a
:class:`~agent.batch.model.BatchItem` into a :class:`~agent.batch.model.RecordDone` or a
:class:`~agent.batch.model.RecordFailure`, never raising for one record's problem. Any
executor (threads here, a process pool, a cluster) runs the same code.

Model calls go through a *gate*: a semaphore shared by every thread (and process) of the
batch, so at most ``concurrency`` calls are in flight while the other threads measure and
render the next records.
"""

from __future__ import annotations

import os
import resource
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from agent.batch.model import BatchItem, Outcome, RecordDone, RecordFailure
from agent.batch.sources import RecordLoader, SourceSpec
from agent.settings import AgentSettings

if TYPE_CHECKING:
    from agent.report import Report
    from gem_core.backends.base import Backend, Draft, InterpretRequest
    from gem_core.backends.endpoint import EndpointSettings
    from tools.cases import CaseBase
    from tools.record import ECGRecord

#: Report formats a batch can write per record.
FORMATS: tuple[str, ...] = ("json", "md", "html")
#: Backends whose calls go to a model (and through the concurrency gate).
MODEL_BACKENDS = frozenset({"endpoint"})
#: ``ru_maxrss`` unit: kilobytes on Linux, bytes on macOS.
_RSS_UNIT_MB = 1 / 1024**2 if sys.platform == "darwin" else 1 / 1024


class Gate(Protocol):
    """A semaphore (``threading`` or ``multiprocessing``) used as a context manager."""

    def __enter__(self) -> Any: ...

    def __exit__(self, *args: Any) -> Any: ...


@dataclass(frozen=True)
class WorkSpec:
    """Everything needed to interpret records of a batch, anywhere (picklable).

    Attributes
    ----------
    source
        How to load the records.
    settings
        Agent settings of every run (``trace`` off unless asked for).
    endpoint
        Endpoint settings for the ``endpoint`` backend (``None``: from the environment).
    formats
        Report files to render per record (a subset of :data:`FORMATS`).
    ecg_images
        Put the rendered ECG page in each HTML report (about 0.3 s of CPU per record).
    """

    source: SourceSpec
    settings: AgentSettings = field(default_factory=lambda: AgentSettings(trace=False))
    endpoint: EndpointSettings | None = None
    formats: tuple[str, ...] = ("json",)
    ecg_images: bool = False

    @property
    def calls_model(self) -> bool:
        """True when the backend calls a model (its calls are gated by the concurrency)."""
        return self.settings.backend in MODEL_BACKENDS


class GatedBackend:
    """A backend whose ``interpret``/``revise`` calls hold the batch's concurrency gate."""

    def __init__(self, inner: Backend, gate: Gate) -> None:
        self.inner, self.gate = inner, gate

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def needs_image(self) -> bool:
        return self.inner.needs_image

    def interpret(self, request: InterpretRequest) -> Draft:
        with self.gate:
            return self.inner.interpret(request)

    def revise(self, request: InterpretRequest, previous: Draft, feedback: str) -> Draft:
        with self.gate:
            return self.inner.revise(request, previous, feedback)


def build_backend(spec: WorkSpec) -> Backend:
    """The backend named by the spec's settings (the endpoint one with ``spec.endpoint``)."""
    from gem_core.backends import get_backend

    name = spec.settings.backend
    return get_backend(name, spec.endpoint if name == "endpoint" else None)


def peak_rss_mb() -> float:
    """This process's peak resident memory, in MiB."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * _RSS_UNIT_MB, 1)


class RecordWorker:
    """Interprets items of one batch; one per worker process, shared by its threads.

    Parameters
    ----------
    spec
        The batch's work.
    gate
        Concurrency gate for model calls (``None``: ungated).
    backend, case_base
        Ready-made objects (built from ``spec`` when omitted).
    """

    def __init__(
        self,
        spec: WorkSpec,
        gate: Gate | None = None,
        *,
        backend: Backend | None = None,
        case_base: CaseBase | None = None,
    ) -> None:
        from agent.api import make_context

        self.spec = spec
        backend = backend or build_backend(spec)
        if gate is not None and spec.calls_model:
            backend = GatedBackend(backend, gate)
        context = make_context(spec.settings, backend=backend, case_base=case_base)
        self.backend, self.case_base = context.backend, context.case_base
        self.loader = RecordLoader(spec.source)

    def process(self, item: BatchItem) -> Outcome:
        """Load, interpret and render one item; a problem becomes a :class:`RecordFailure`."""
        from agent.api import AgentRunError, interpret

        start = time.perf_counter()

        def failed(stage: str, exc: BaseException, run_id: str | None = None) -> RecordFailure:
            return RecordFailure(
                key=item.key,
                stage=stage,
                error_type=type(exc).__name__,
                message=str(exc) or repr(exc),
                run_id=run_id,
                elapsed_ms=_ms(start),
                pid=os.getpid(),
                peak_rss_mb=peak_rss_mb(),
            )

        try:
            record = self.loader.load(item)
        except Exception as exc:  # one unreadable record must not stop the batch
            return failed("load", exc)
        run_id = f"{record.record_id}-{uuid.uuid4().hex[:8]}"
        try:
            report = interpret(
                record,
                settings=self.spec.settings,
                backend=self.backend,
                case_base=self.case_base,
                run_id=run_id,
            )
        except AgentRunError as exc:
            return failed(exc.node or "graph", exc.cause, exc.run_id if self.traced else None)
        except Exception as exc:
            return failed("graph", exc, run_id if self.traced else None)
        try:
            line, files = self.render(item.key, report, record)
        except Exception as exc:
            return failed("render", exc, report.run_id if self.traced else None)
        return RecordDone(
            key=item.key,
            line=line,
            files=files,
            status=report.status,
            elapsed_ms=_ms(start),
            node_ms=dict(report.timings_ms),
            pid=os.getpid(),
            peak_rss_mb=peak_rss_mb(),
        )

    @property
    def traced(self) -> bool:
        return self.spec.settings.trace

    def render(self, key: str, report: Report, record: ECGRecord) -> tuple[bytes, dict[str, bytes]]:
        """The report's ``reports.jsonl`` line and its files in the spec's formats."""
        from agent.batch.lines import report_line
        from agent.report_render import render_html, render_markdown

        run_extra = {"trace_db": str(self.spec.settings.trace_path()) if self.traced else None}
        line = report_line(key, report, run_extra)
        files: dict[str, bytes] = {}
        if "json" in self.spec.formats:
            files["json"] = report.model_dump_json(indent=2, by_alias=True).encode()
        if "md" in self.spec.formats:
            files["md"] = render_markdown(report).encode()
        if "html" in self.spec.formats:
            page = render_html(report, record if self.spec.ecg_images else None)
            files["html"] = page.encode()
        return line, files


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 3)
