"""Prometheus text exposition of the server metrics (gem_core.serve.metrics)."""

from __future__ import annotations

import pytest
from prometheus_client import parser

from gem_core.serve.metrics import RATE_WINDOW_S, Histogram, ServeMetrics


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _families(text: str) -> dict[str, dict[tuple[str, tuple], float]]:
    """name -> {(sample name, sorted labels): value}."""
    out: dict[str, dict[tuple[str, tuple], float]] = {}
    for family in parser.text_string_to_metric_families(text):
        out[family.name] = {
            (s.name, tuple(sorted(s.labels.items()))): s.value for s in family.samples
        }
    return out


class TestHistogram:
    def test_cumulative_buckets(self) -> None:
        hist = Histogram((1.0, 2.0))
        for value in (0.5, 1.0, 1.5, 9.0):
            hist.observe(value)
        lines = hist.lines("x")
        assert 'x_bucket{le="1"} 2' in lines  # le is inclusive
        assert 'x_bucket{le="2"} 3' in lines
        assert 'x_bucket{le="+Inf"} 4' in lines
        assert "x_count 4" in lines and "x_sum 12" in lines


class TestServeMetrics:
    def test_render_parses_and_counts(self) -> None:
        clock = Clock()
        m = ServeMetrics(clock)
        m.record_step(decode_batch_size=3, prefilled=3, new_tokens=3)
        m.record_step(decode_batch_size=5, prefilled=2, new_tokens=5)
        m.record_step(decode_batch_size=0, prefilled=0, new_tokens=0)
        m.set_load(running=5, queue_depth=7)
        m.record_request(200, 0.3)
        m.record_request(429)
        m.record_finish("length", 700)
        m.record_first_token(0.02)
        fam = _families(m.render())
        assert fam["gem_decode_steps"][("gem_decode_steps_total", ())] == 2
        assert fam["gem_tokens_generated"][("gem_tokens_generated_total", ())] == 8
        assert fam["gem_prefills"][("gem_prefills_total", ())] == 5
        assert fam["gem_decode_batch_size_max"][("gem_decode_batch_size_max", ())] == 5
        assert fam["gem_queue_depth"][("gem_queue_depth", ())] == 7
        assert fam["gem_running_requests"][("gem_running_requests", ())] == 5
        requests = fam["gem_requests"]
        assert requests[("gem_requests_total", (("status", "200"),))] == 1
        assert requests[("gem_requests_total", (("status", "429"),))] == 1
        finished = fam["gem_requests_finished"]
        assert finished[("gem_requests_finished_total", (("reason", "length"),))] == 1
        latency = fam["gem_request_latency_seconds"]
        assert latency[("gem_request_latency_seconds_count", ())] == 1
        assert latency[("gem_request_latency_seconds_bucket", (("le", "0.25"),))] == 0
        assert latency[("gem_request_latency_seconds_bucket", (("le", "0.5"),))] == 1
        batch = fam["gem_decode_batch_size"]
        assert batch[("gem_decode_batch_size_bucket", (("le", "4"),))] == 1
        assert batch[("gem_decode_batch_size_sum", ())] == 8

    def test_tokens_per_second_over_window(self) -> None:
        clock = Clock()
        m = ServeMetrics(clock)
        m.record_step(decode_batch_size=4, prefilled=0, new_tokens=40)
        assert m.tokens_per_second() == pytest.approx(40 / RATE_WINDOW_S)
        clock.now += RATE_WINDOW_S / 2
        m.record_step(decode_batch_size=2, prefilled=0, new_tokens=20)
        assert m.tokens_per_second() == pytest.approx(60 / RATE_WINDOW_S)
        clock.now += RATE_WINDOW_S * 0.75  # the first step falls out of the window
        assert m.tokens_per_second() == pytest.approx(20 / RATE_WINDOW_S)

    def test_engine_up_gauge(self) -> None:
        m = ServeMetrics()
        assert _families(m.render())["gem_engine_up"][("gem_engine_up", ())] == 0
        m.set_engine_up(True)
        assert _families(m.render())["gem_engine_up"][("gem_engine_up", ())] == 1
