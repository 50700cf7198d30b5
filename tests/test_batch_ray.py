"""The Ray engine (``--engine ray``) on a local Ray instance started by this module: the same
reports as the local engine, failures isolated (a bad file, an actor that dies), resume,
stopping, endpoints shared round-robin; and the options and errors that need no Ray."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agent.batch import (
    BatchError,
    BatchItem,
    BatchProgress,
    BatchRun,
    RecordDone,
    RecordFailure,
    interpret_many,
    open_source,
    work_spec,
)
from agent.batch.executors import make_executor
from agent.batch.ray_executor import (
    BASE_URLS_ENV,
    INSTALL_HINT,
    RayExecutor,
    endpoint_urls,
    gate_shares,
)
from gem_core.backends.endpoint import EndpointSettings
from tests.batch_builders import (
    CORRUPT_ID,
    FLAT_ID,
    batch_app,
    failure_events,
    good_ids,
    normalised_reports,
    report_keys,
    summary,
    write_dataset,
)
from tests.test_batch_endpoint import ANSWER, CountingServer

N_GOOD = 4
INTERPRETED = [*good_ids(N_GOOD), FLAT_ID]
#: CPUs of the test's Ray instance (one actor each).
RAY_CPUS = 2
#: Seconds the test endpoints take to answer: long enough for both actors to start working.
MODEL_DELAY_S = 0.5
#: Object store of the test's Ray instance (bytes; Ray's minimum is 75 MiB).
OBJECT_STORE_BYTES = 100 * 1024**2

app = batch_app()


cli = CliRunner()


@pytest.fixture(scope="module")
def ray_instance() -> Iterator[Any]:
    """One local Ray instance for the module (starting one takes seconds)."""
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'gem-agent[ray]')")
    try:
        ray.init(
            num_cpus=RAY_CPUS,
            object_store_memory=OBJECT_STORE_BYTES,
            include_dashboard=False,
            log_to_driver=False,
        )
    except Exception as exc:
        pytest.skip(f"Ray cannot start here: {exc}")
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Good records, a flat (unusable) one and a corrupt header."""
    return write_dataset(tmp_path_factory.mktemp("ray-data"), N_GOOD)


@pytest.fixture(scope="module")
def reference(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The local engine's output folder, in this process."""
    out = tmp_path_factory.mktemp("ray-reference")
    list(interpret_many(folder, dataset="wfdb-dir", out_dir=out, workers=0))
    return out


class _Poison:
    """Kills the process that unpickles it: an item carrying it kills its actor."""

    def __reduce__(self) -> tuple[Any, tuple[int]]:
        return os._exit, (3,)


class TestEndpointUrls:
    def spec(self, url: str = "http://a/v1") -> Any:
        source = open_source([])
        return work_spec(source, backend="endpoint", endpoint=EndpointSettings(base_url=url))

    def test_explicit_list_wins(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv(BASE_URLS_ENV, "http://env/v1")
        assert endpoint_urls(self.spec(), ["http://x/v1", " http://y/v1 "]) == (
            "http://x/v1",
            "http://y/v1",
        )

    def test_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv(BASE_URLS_ENV, "http://p/v1, http://q/v1,,http://p/v1")
        assert endpoint_urls(self.spec()) == ("http://p/v1", "http://q/v1")

    def test_falls_back_to_the_endpoint(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv(BASE_URLS_ENV, raising=False)
        assert endpoint_urls(self.spec("http://only/v1")) == ("http://only/v1",)

    def test_criteria_backend_has_none(self) -> None:
        assert endpoint_urls(work_spec(open_source([])), ["http://x/v1"]) == ()


class TestGateShares:
    def test_even(self) -> None:
        assert gate_shares(8, 2) == [4, 4]

    def test_uneven_sums_to_concurrency(self) -> None:
        shares = gate_shares(7, 3)
        assert sorted(shares, reverse=True) == shares and sum(shares) == 7

    def test_fewer_calls_than_actors(self) -> None:
        assert gate_shares(1, 3) == [1, 1, 1]  # every actor can call the model


class TestOptionsWithoutRay:
    def test_unknown_engine(self) -> None:
        spec = work_spec(open_source([]))
        with pytest.raises(ValueError, match="unknown engine 'spark'"):
            make_executor(spec, workers=0, concurrency=1, engine="spark")

    def test_address_needs_ray_engine(self) -> None:
        spec = work_spec(open_source([]))
        with pytest.raises(ValueError, match="need engine='ray'"):
            make_executor(spec, workers=0, concurrency=1, address="auto")

    def test_api_without_ray(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
        spec = work_spec(open_source([]))
        with pytest.raises(BatchError, match=re.escape(INSTALL_HINT)):
            make_executor(spec, workers=None, concurrency=1, engine="ray")

    def test_ray_not_installed(
        self, monkeypatch: pytest.MonkeyPatch, folder: Path, tmp_path: Path
    ) -> None:
        monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
        result = cli.invoke(app, ["batch", str(folder), "--out", str(tmp_path), "--engine", "ray"])
        assert result.exit_code == 2
        assert INSTALL_HINT in result.output and "Ray, which is not installed" in result.output
        assert not any(tmp_path.iterdir())  # nothing started, nothing written

    def test_cli_address_needs_ray_engine(self, folder: Path, tmp_path: Path) -> None:
        result = cli.invoke(
            app, ["batch", str(folder), "--out", str(tmp_path), "--address", "auto"]
        )
        assert result.exit_code == 2 and "needs --engine ray" in result.output

    def test_cli_several_endpoints_need_ray_engine(self, folder: Path, tmp_path: Path) -> None:
        args = ["--base-url", "http://a/v1", "--base-url", "http://b/v1"]
        result = cli.invoke(app, ["batch", str(folder), "--out", str(tmp_path), *args])
        assert result.exit_code == 2 and "several endpoints need --engine ray" in result.output


@pytest.mark.slow
@pytest.mark.xdist_group("ray")  # one Ray instance per test run (--dist loadgroup)
class TestRayEngine:
    def test_same_reports_as_local(
        self, ray_instance: Any, folder: Path, reference: Path, tmp_path: Path
    ) -> None:
        outcomes = list(interpret_many(folder, dataset="wfdb-dir", out_dir=tmp_path, engine="ray"))
        assert len(outcomes) == N_GOOD + 2
        assert sorted(report_keys(tmp_path)) == INTERPRETED
        assert normalised_reports(tmp_path) == normalised_reports(reference)
        [failure] = failure_events(tmp_path)  # the bad file failed, the batch went on
        assert (failure["id"], failure["stage"], failure["error_type"]) == (
            CORRUPT_ID,
            "load",
            "CorruptFileError",
        )
        s = summary(tmp_path)
        assert s["status"] == "complete"
        assert s["executor"] == {
            "engine": "ray",
            "address": "local",
            "actors": RAY_CPUS,
            "threads_per_actor": 1,
            "concurrency": 8,
            "cluster_cpus": float(RAY_CPUS),
            "base_urls": None,
            "actor_deaths": 0,
        }
        assert 1 <= len(s["memory"]["worker_peak_rss_mb"]) <= RAY_CPUS
        assert str(os.getpid()) not in s["memory"]["worker_peak_rss_mb"]  # run in the actors
        assert ray_instance.is_initialized()  # an instance it did not start is left running

    def test_dead_actor_fails_its_record_and_is_replaced(
        self, ray_instance: Any, folder: Path
    ) -> None:
        source = open_source(folder, dataset="wfdb-dir", ids=good_ids(N_GOOD))
        items = list(source.items())
        poison = BatchItem(key="poison", path=_Poison())  # type: ignore[arg-type]
        executor = RayExecutor(work_spec(source, case_base="none"), actors=1)
        outcomes = list(executor.run(iter([items[0], poison, items[1]])))
        failures = [o for o in outcomes if isinstance(o, RecordFailure)]
        [failure] = failures
        assert (failure.key, failure.stage, failure.error_type) == (
            "poison",
            "worker",
            "WorkerDied",
        )
        assert "died while interpreting this record" in failure.message
        done = sorted(o.key for o in outcomes if isinstance(o, RecordDone))
        assert done == good_ids(2)  # the record after it was interpreted
        assert executor.deaths == 1 and len(set(executor.pids)) == 2  # a fresh actor

    def test_actor_that_cannot_start_stops_the_batch(self, ray_instance: Any, folder: Path) -> None:
        source = open_source(folder, dataset="wfdb-dir")
        spec = work_spec(source)
        broken = replace(spec, settings=spec.settings.model_copy(update={"backend": "bogus"}))
        with pytest.raises(BatchError, match=r"a Ray actor could not start: .*bogus"):
            list(RayExecutor(broken, actors=1).run(source.items()))

    def test_resume_from_the_command(
        self, ray_instance: Any, folder: Path, reference: Path, tmp_path: Path
    ) -> None:
        common = [str(folder), "--out", str(tmp_path), "--dataset", "wfdb-dir", "--quiet"]
        first = cli.invoke(app, ["batch", *common, "--workers", "0", "--limit", "3"])
        assert first.exit_code == 0, first.output
        done_before = report_keys(tmp_path)
        second = cli.invoke(app, ["batch", *common, "--engine", "ray", "--workers", "1"])
        assert second.exit_code == 0, second.output
        keys = report_keys(tmp_path)
        assert keys[: len(done_before)] == done_before  # kept, not redone
        assert sorted(keys) == INTERPRETED  # no duplicate, none lost
        assert normalised_reports(tmp_path) == normalised_reports(reference)
        s = summary(tmp_path)
        assert s["counts"]["skipped"] == 3
        assert s["counts"]["done"] + s["counts"]["failed"] == N_GOOD + 2 - 3
        assert (s["executor"]["engine"], s["executor"]["actors"]) == ("ray", 1)

    def test_request_stop(self, ray_instance: Any, folder: Path, tmp_path: Path) -> None:
        source = open_source(folder, dataset="wfdb-dir")

        def progress(p: BatchProgress) -> None:
            if p.finished == 1:
                run.request_stop()

        spec = work_spec(source, case_base="none")
        run = BatchRun(source, spec, out_dir=tmp_path, progress=progress, engine="ray", workers=1)
        outcomes = list(run)
        assert 1 <= len(outcomes) < N_GOOD + 2
        assert summary(tmp_path)["status"] == "interrupted"
        assert len(report_keys(tmp_path)) + len(failure_events(tmp_path)) == len(outcomes)


@pytest.mark.slow
@pytest.mark.xdist_group("ray")
class TestEndpoints:
    def test_two_servers_share_the_records(
        self, ray_instance: Any, folder: Path, tmp_path: Path
    ) -> None:
        servers = [CountingServer([("sleep", MODEL_DELAY_S, ANSWER)] * N_GOOD) for _ in range(2)]
        urls = [s.url for s in servers]
        endpoint = EndpointSettings(base_url=urls[0], model="gem-7b-test", max_retries=0)
        with servers[0].running(), servers[1].running():
            outcomes = list(
                interpret_many(
                    folder,
                    dataset="wfdb-dir",
                    ids=good_ids(N_GOOD),
                    out_dir=tmp_path,
                    backend="endpoint",
                    endpoint=endpoint,
                    case_base="none",
                    engine="ray",
                    workers=2,
                    concurrency=2,
                    base_urls=urls,
                )
            )
        assert not [o for o in outcomes if isinstance(o, RecordFailure)]
        counts = [len(s.requests) for s in servers]
        assert all(c >= 1 for c in counts), counts  # each endpoint took a share
        assert sum(counts) == N_GOOD  # one call per record
        assert all(s.most_in_flight == 1 for s in servers)  # concurrency 2 over 2 actors
        assert summary(tmp_path)["executor"]["base_urls"] == urls
