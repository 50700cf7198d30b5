"""Batches with the endpoint backend against a real OpenAI-compatible server on loopback:
model calls overlap up to ``concurrency`` (and never beyond), a model error or timeout fails
one record and the batch goes on, and a worker process that dies is reported."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest

from agent.batch import (
    BatchError,
    BatchProgress,
    BatchRun,
    RecordFailure,
    interpret_many,
    open_source,
    work_spec,
)
from agent.report import Report
from gem_core.backends.endpoint import EndpointSettings
from tests.batch_builders import (
    ANSWER,
    CountingServer,
    failure_events,
    good_ids,
    report_keys,
    summary,
    write_dataset,
)

N_RECORDS = 4
#: Seconds the server takes to answer (the model's latency).
DELAY_S = 0.3


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("ep-data"), N_RECORDS, flat=False, corrupt=False)


def _endpoint(url: str, **kw: Any) -> EndpointSettings:
    options = {
        "base_url": url,
        "model": "gem-7b-test",
        "api_key": "k",
        "max_retries": 0,
        "timeout_s": 10.0,
        **kw,
    }
    return EndpointSettings(**options)


def _interpret(folder: Path, url: str, **kw: Any) -> list[Report | RecordFailure]:
    endpoint = kw.pop("endpoint", None) or _endpoint(url)
    return list(
        interpret_many(
            folder,
            dataset="wfdb-dir",
            backend="endpoint",
            endpoint=endpoint,
            case_base="none",
            **kw,
        )
    )


class TestConcurrency:
    def test_calls_overlap_up_to_the_limit(self, folder: Path, tmp_path: Path) -> None:
        server = CountingServer(
            [("sleep", DELAY_S, ANSWER)] * N_RECORDS, gather=3, expected=N_RECORDS
        )
        with server.running():
            outcomes = _interpret(folder, server.url, out_dir=tmp_path, workers=0, concurrency=3)
        assert all(isinstance(o, Report) for o in outcomes) and len(outcomes) == N_RECORDS
        assert len(server.requests) == N_RECORDS
        assert server.most_in_flight == 3  # overlapped, and never more than asked
        assert summary(tmp_path)["backend"] == {
            "name": "endpoint",
            "model": "gem-7b-test",
            "base_url": server.url,
            "timeout_s": 10.0,
            "max_retries": 0,
        }

    def test_concurrency_one_is_serial(self, folder: Path) -> None:
        # held up to 1 s for a second call: a client that overlapped would be caught
        server = CountingServer([ANSWER] * 2, gather=2, expected=3, gather_timeout_s=1.0)
        with server.running():
            outcomes = _interpret(folder, server.url, workers=0, concurrency=1, limit=2)
        assert len(outcomes) == 2 and server.most_in_flight == 1

    def test_request_carries_gem_inputs(self, folder: Path) -> None:
        server = CountingServer([ANSWER])
        with server.running():
            [report] = _interpret(folder, server.url, workers=0, limit=1)
        assert isinstance(report, Report) and report.model == "gem-7b-test"
        kinds = [p["type"] for p in server.requests[0]["messages"][-1]["content"]]
        assert kinds == ["image_url", "input_ecg", "text"]


class TestFailures:
    def test_model_error_and_timeout_fail_one_record_each(
        self, folder: Path, tmp_path: Path
    ) -> None:
        script: list[Any] = [ANSWER, (400, "bad request"), ("sleep", 3.0, ANSWER)]
        server = CountingServer(script + [ANSWER] * (N_RECORDS - 1))
        endpoint = _endpoint("", timeout_s=1.0)
        with server.running():
            outcomes = _interpret(
                folder,
                server.url,
                out_dir=tmp_path,
                workers=0,
                concurrency=1,
                endpoint=endpoint.model_copy(update={"base_url": server.url}),
            )
        failures = {o.error_type: o for o in outcomes if isinstance(o, RecordFailure)}
        assert sorted(failures) == ["BackendRejected", "BackendTimeout"]
        assert {f.stage for f in failures.values()} == {"interpret"}
        assert "HTTP 400" in failures["BackendRejected"].message
        assert sum(isinstance(o, Report) for o in outcomes) == N_RECORDS - 2
        assert {e["error_type"] for e in failure_events(tmp_path)} == set(failures)
        assert summary(tmp_path)["failures_by_stage"] == {"interpret": 2}

    def test_unreachable_endpoint(self, folder: Path) -> None:
        [failure] = _interpret(folder, "http://127.0.0.1:9/v1", workers=0, limit=1)
        assert isinstance(failure, RecordFailure)
        assert (failure.stage, failure.error_type) == ("interpret", "BackendUnavailable")
        assert "cannot connect" in failure.message


@pytest.mark.slow
class TestWorkerDeath:
    def test_killed_worker_fails_its_records_and_stops(self, folder: Path, tmp_path: Path) -> None:
        server = CountingServer([("sleep", 1.5, ANSWER)] * N_RECORDS)
        source = open_source(folder, dataset="wfdb-dir")
        spec = work_spec(
            source, backend="endpoint", endpoint=_endpoint(server.url), case_base="none"
        )

        def progress(p: BatchProgress) -> None:
            if p.finished == 1:  # the worker has more records in hand: kill it
                os.kill(run.executor.pids[0], signal.SIGKILL)  # type: ignore[attr-defined]

        run = BatchRun(source, spec, out_dir=tmp_path, workers=1, concurrency=2, progress=progress)
        with server.running(), pytest.raises(BatchError, match="died"):
            list(run)
        events = failure_events(tmp_path)
        assert events and all(e["stage"] == "worker" for e in events)
        assert all(e["error_type"] == "WorkerDied" for e in events)
        failed, reports = {e["id"] for e in events}, set(report_keys(tmp_path))
        assert reports and not reports & failed
        assert reports | failed <= set(good_ids(N_RECORDS))
        s = summary(tmp_path)
        assert s["status"] == "failed" and "died" in s["error"]
        assert s["counts"]["open_failures"] == len(failed)
