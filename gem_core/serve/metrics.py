"""Server metrics in Prometheus' text exposition format (version 0.0.4), written by hand.

Thread-safe: the engine thread records steps, the HTTP handlers record requests, and
``GET /metrics`` renders a consistent snapshot. Metric names (all prefixed ``gem_``):

==================================== ========= =============================================
``queue_depth``                      gauge     requests accepted but not yet decoding
``running_requests``                 gauge     requests in the running decode batch
``decode_batch_size``                histogram requests decoded per step
``decode_batch_size_max``            gauge     largest decode batch seen
``decode_steps_total``               counter   engine steps that decoded at least one token
``prefills_total``                   counter   requests prefilled (admitted into the batch)
``tokens_generated_total``           counter   completion tokens
``prompt_tokens_total``              counter   prompt tokens of finished requests
``tokens_per_second``                gauge     completion tokens per second, last RATE_WINDOW_S
``requests_total{status}``           counter   chat requests by HTTP status (499: client left)
``requests_finished_total{reason}``  counter   generations by finish reason
``request_latency_seconds``          histogram request latency, received to last token
``time_to_first_token_seconds``      histogram received to first token
``engine_up``                        gauge     1 while the engine thread runs
==================================== ========= =============================================
"""

from __future__ import annotations

import bisect
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

#: Window of the tokens-per-second gauge: long enough to smooth step jitter, short enough
#: to show a load change within a scrape interval or two.
RATE_WINDOW_S = 10.0
#: Latency buckets (s): GEM answers take ~0.3 s (short) to minutes (1024 tokens on CPU).
LATENCY_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
#: Time-to-first-token buckets (s): prefill of 677 multimodal + ~100 text tokens, plus queueing.
TTFT_BUCKETS_S = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
#: Decode batch-size buckets: powers of two up to the largest sensible ``--max-batch``.
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
PREFIX = "gem_"


@dataclass
class Histogram:
    """Cumulative-bucket histogram (Prometheus semantics: ``le`` upper bounds, +Inf last)."""

    bounds: Sequence[float]
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    n: int = 0

    def __post_init__(self) -> None:
        self.counts = [0] * (len(self.bounds) + 1)

    def observe(self, value: float) -> None:
        """Add one observation."""
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.total += value
        self.n += 1

    def lines(self, name: str) -> list[str]:
        """The ``_bucket``, ``_sum`` and ``_count`` samples."""
        out, running = [], 0
        for bound, count in zip([*self.bounds, float("inf")], self.counts, strict=True):
            running += count
            out.append(f'{name}_bucket{{le="{_fmt(bound)}"}} {running}')
        out.append(f"{name}_sum {_fmt(self.total)}")
        out.append(f"{name}_count {self.n}")
        return out


def _fmt(value: float) -> str:
    if value == float("inf"):
        return "+Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


class ServeMetrics:
    """Counters, gauges and histograms of one server (see the module docstring).

    Parameters
    ----------
    clock
        Monotonic seconds (tests may pass a fake clock).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.queue_depth = 0
        self.running = 0
        self.decode_batch_max = 0
        self.decode_steps = 0
        self.prefills = 0
        self.tokens_generated = 0
        self.prompt_tokens = 0
        self.engine_up = False
        self.requests: Counter[str] = Counter()
        self.finished: Counter[str] = Counter()
        self._batch = Histogram(BATCH_BUCKETS)
        self._latency = Histogram(LATENCY_BUCKETS_S)
        self._ttft = Histogram(TTFT_BUCKETS_S)
        self._recent: deque[tuple[float, int]] = deque()

    # ---- recording --------------------------------------------------------------------------
    def record_step(self, *, decode_batch_size: int, prefilled: int, new_tokens: int) -> None:
        """One engine step: its decode batch, admissions and tokens."""
        with self._lock:
            self.prefills += prefilled
            self.tokens_generated += new_tokens
            if decode_batch_size > 0:
                self.decode_steps += 1
                self._batch.observe(decode_batch_size)
                self.decode_batch_max = max(self.decode_batch_max, decode_batch_size)
            if new_tokens:
                self._recent.append((self._clock(), new_tokens))

    def set_load(self, *, running: int, queue_depth: int) -> None:
        """The engine's running batch and the requests waiting for it."""
        with self._lock:
            self.running, self.queue_depth = running, queue_depth

    def set_engine_up(self, up: bool) -> None:
        """Whether the engine thread runs."""
        with self._lock:
            self.engine_up = up

    def record_request(self, status: int, latency_s: float | None = None) -> None:
        """A chat request answered with ``status``; ``latency_s`` for completed ones."""
        with self._lock:
            self.requests[str(status)] += 1
            if latency_s is not None:
                self._latency.observe(latency_s)

    def record_first_token(self, seconds: float) -> None:
        """Time from receiving a request to its first token."""
        with self._lock:
            self._ttft.observe(seconds)

    def record_finish(self, reason: str, prompt_tokens: int) -> None:
        """A generation ended (``stop``, ``length``, ``abort``)."""
        with self._lock:
            self.finished[reason] += 1
            self.prompt_tokens += prompt_tokens

    # ---- reading ----------------------------------------------------------------------------
    def tokens_per_second(self) -> float:
        """Completion tokens per second over the last RATE_WINDOW_S."""
        with self._lock:
            return self._rate()

    def _rate(self) -> float:
        horizon = self._clock() - RATE_WINDOW_S
        while self._recent and self._recent[0][0] < horizon:
            self._recent.popleft()
        return sum(n for _, n in self._recent) / RATE_WINDOW_S

    def render(self) -> str:
        """The exposition text (``text/plain; version=0.0.4``)."""
        with self._lock:
            out: list[str] = []
            gauges = (
                ("queue_depth", "Requests accepted but not yet decoding.", self.queue_depth),
                ("running_requests", "Requests in the running decode batch.", self.running),
                ("decode_batch_size_max", "Largest decode batch seen.", self.decode_batch_max),
                ("tokens_per_second", f"Tokens/s over {RATE_WINDOW_S:g} s.", self._rate()),
                ("engine_up", "1 while the engine thread runs.", int(self.engine_up)),
            )
            for name, text, value in gauges:
                out += [*_header(name, text, "gauge"), f"{PREFIX}{name} {_fmt(value)}"]
            counters = (
                ("decode_steps_total", "Steps that decoded tokens.", self.decode_steps),
                ("prefills_total", "Requests prefilled into the batch.", self.prefills),
                ("tokens_generated_total", "Completion tokens.", self.tokens_generated),
                ("prompt_tokens_total", "Prompt tokens of finished requests.", self.prompt_tokens),
            )
            for name, text, value in counters:
                out += [*_header(name, text, "counter"), f"{PREFIX}{name} {value}"]
            out += _labelled("requests_total", "Chat requests by HTTP status.", "status",
                             self.requests)  # fmt: skip
            out += _labelled("requests_finished_total", "Generations by finish reason.",
                             "reason", self.finished)  # fmt: skip
            histograms = (
                ("decode_batch_size", "Requests decoded per step.", self._batch),
                ("request_latency_seconds", "Request latency.", self._latency),
                ("time_to_first_token_seconds", "Time to first token.", self._ttft),
            )
            for name, text, hist in histograms:
                out += _header(name, text, "histogram") + hist.lines(PREFIX + name)
            return "\n".join(out) + "\n"


def _header(name: str, text: str, kind: str) -> list[str]:
    return [f"# HELP {PREFIX}{name} {text}", f"# TYPE {PREFIX}{name} {kind}"]


def _labelled(name: str, text: str, label: str, values: Counter[str]) -> list[str]:
    lines = _header(name, text, "counter")
    lines += [f'{PREFIX}{name}{{{label}="{key}"}} {values[key]}' for key in sorted(values)]
    return lines
