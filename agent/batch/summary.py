"""``summary.json``: what a batch run did, how fast, with what, and how much memory."""

from __future__ import annotations

import platform
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from agent.batch.model import BatchProgress, Outcome, RecordDone
from agent.batch.work import WorkSpec, peak_rss_mb

#: Packages whose versions ``summary.json`` records.
VERSIONED_PACKAGES: tuple[str, ...] = ("numpy", "scipy", "langgraph", "openai")


def now_iso() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class RunStats:
    """Running totals over finished records, in constant memory."""

    def __init__(self) -> None:
        self.statuses: Counter[str] = Counter()
        self.stages: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.node_ms: Counter[str] = Counter()
        self.rss_mb: dict[str, float] = {}
        self.record_ms_sum = self.record_ms_max = 0.0
        self.first_s: float | None = None
        self.last_s = 0.0

    def add(self, outcome: Outcome, at_s: float) -> None:
        """Count one outcome that finished ``at_s`` seconds into the run."""
        if self.first_s is None:
            self.first_s = at_s
        self.last_s = at_s
        self.record_ms_sum += outcome.elapsed_ms
        self.record_ms_max = max(self.record_ms_max, outcome.elapsed_ms)
        if isinstance(outcome, RecordDone):
            self.statuses[outcome.status] += 1
            self.node_ms.update(outcome.node_ms)
        else:
            self.stages[outcome.stage] += 1
            self.errors[outcome.error_type] += 1
        if outcome.peak_rss_mb is not None:
            pid = str(outcome.pid)
            self.rss_mb[pid] = max(self.rss_mb.get(pid, 0.0), outcome.peak_rss_mb)

    def describe(self, finished: int, wall_s: float) -> dict[str, Any]:
        """Throughput and timings.

        ``throughput_records_per_s`` is over the whole run (worker start-up included);
        ``steady_records_per_s`` is between the first and the last finished record.
        """
        span = self.last_s - (self.first_s or 0.0)
        done = max(sum(self.statuses.values()), 1)
        return {
            "throughput_records_per_s": round(finished / wall_s, 3) if wall_s > 0 else None,
            "steady_records_per_s": round((finished - 1) / span, 3) if span > 0 else None,
            "record_ms": {
                "mean": round(self.record_ms_sum / max(finished, 1), 3),
                "max": round(self.record_ms_max, 3),
            },
            "node_ms_mean": {k: round(v / done, 3) for k, v in self.node_ms.items()},
            "failures_by_stage": dict(self.stages),
            "failures_by_type": dict(self.errors),
        }


def counts_summary(
    progress: BatchProgress, stats: RunStats, done_in_folder: int | None, open_failures: int | None
) -> dict[str, Any]:
    """The ``counts`` block: this run's records, and the folder's totals."""
    p = progress
    counts: dict[str, Any] = {
        "todo": p.total,
        "skipped": p.skipped,
        "done": p.done,
        "unusable": stats.statuses.get("unusable", 0),
        "failed": p.failed,
        "not_finished": None if p.total is None else p.total - p.finished,
    }
    if done_in_folder is not None:
        counts["reports_in_folder"] = done_in_folder
        counts["open_failures"] = open_failures
    return counts


def backend_summary(spec: WorkSpec) -> dict[str, Any]:
    """The backend, and for an endpoint where it is (never the API key)."""
    name = spec.settings.backend
    if name != "endpoint":
        from tools.measure.model import MEASUREMENT_VERSION

        return {"name": name, "model": f"criteria-v{MEASUREMENT_VERSION}"}
    from gem_core.backends.endpoint import EndpointSettings

    endpoint = spec.endpoint or EndpointSettings()
    return {
        "name": name,
        "model": endpoint.model,
        "base_url": endpoint.base_url,
        "timeout_s": endpoint.timeout_s,
        "max_retries": endpoint.max_retries,
    }


def settings_summary(spec: WorkSpec, retry_failed: bool) -> dict[str, Any]:
    """Agent settings and batch options."""
    return {
        "agent": spec.settings.model_dump(mode="json"),
        "formats": list(spec.formats),
        "ecg_images": spec.ecg_images,
        "retry_failed": retry_failed,
    }


def versions() -> dict[str, str | None]:
    """Versions of what produced the reports."""
    from importlib.metadata import PackageNotFoundError, version

    from agent import __version__
    from tools.measure.model import MEASUREMENT_VERSION

    found: dict[str, str | None] = {
        "gem_agent": __version__,
        "measurements": MEASUREMENT_VERSION,
        "python": platform.python_version(),
    }
    for package in VERSIONED_PACKAGES:
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = None
    return found


def memory_summary(stats: RunStats) -> dict[str, Any]:
    """Peak resident memory of this process and of each worker process (MiB)."""
    return {"parent_peak_rss_mb": peak_rss_mb(), "worker_peak_rss_mb": dict(stats.rss_mb)}
