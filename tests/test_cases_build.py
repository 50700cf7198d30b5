"""build_case_base: batches, failure rows, resume, and a build killed mid-way (SIGKILL).

The dataset is a folder of synthetic WFDB records written by the test (``dir`` dataset):
``r00``-``r07`` are good, ``r08`` is flat (nothing to measure) and ``r09`` has a corrupt
header, so the expected cases and failures are known by construction.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tests.synth_builders import VARIED_SPECS
from tools.cases import BuildProgress, CaseBase, build_case_base
from tools.cases import index as fx
from tools.cases.casebase import META_NAME
from tools.cases.model import CaseBaseError
from tools.cases.store import CaseStore
from tools.errors import DatasetError
from tools.leads import STANDARD_LEADS
from tools.synth import SynthSpec, synthesize, write_synthetic

REPO = Path(__file__).resolve().parents[1]
N_GOOD = 8
GOOD_IDS = [f"r{i:02d}" for i in range(N_GOOD)]
DATASET = "wfdb-dir"  # the name the `dir` reader stores
SPECS = VARIED_SPECS


def _write(spec: SynthSpec, record_id: str, folder: Path, seed: int) -> None:
    ecg = synthesize(spec, seed=seed)
    write_synthetic(replace(ecg, record=replace(ecg.record, record_id=record_id)), folder)


@pytest.fixture(scope="module")
def dataset_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("synthetic_dir")
    for i, (record_id, spec) in enumerate(zip(GOOD_IDS, SPECS, strict=True)):
        _write(spec, record_id, folder, seed=i)
    _write(SynthSpec(duration_s=6.0, flat_leads=STANDARD_LEADS), "r08", folder, seed=0)
    (folder / "r09.hea").write_text("garbage header\n")
    return folder


@pytest.fixture(scope="module")
def reference(dataset_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted build, in this process."""
    out = tmp_path_factory.mktemp("reference") / "base"
    build_case_base("dir", dataset_root, out, workers=1, batch_size=3)
    return out


def _table(folder: Path) -> tuple[list[tuple[int, str]], np.ndarray, list[tuple[str, str]]]:
    with CaseStore(folder) as store:
        ids = [(r, c.case_id) for r, c in sorted(store.fetch(range(store.count())).items())]
        failures = [(f.case_id, f.error_type) for f in store.failures()]
        return ids, store.embeddings(), failures


class TestBuild:
    def test_cases_and_failures(self, reference: Path) -> None:
        ids, vectors, failures = _table(reference)
        assert [case_id for _, case_id in ids] == GOOD_IDS
        assert [row for row, _ in ids] == list(range(N_GOOD))
        assert failures == [("r08", "SignalValueError"), ("r09", "CorruptFileError")]
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)

    def test_failure_messages_name_the_record(self, reference: Path) -> None:
        with CaseStore(reference) as store:
            messages = {f.case_id: f.message for f in store.failures()}
        assert "r09.hea" in messages["r09"]
        assert "no median beat" in messages["r08"]

    def test_index_and_meta_written(self, reference: Path) -> None:
        with CaseBase.open(reference) as base:
            info = base.info()
        assert (reference / fx.INDEX_NAME).is_file()
        assert (reference / META_NAME).is_file()
        assert info.n_cases == info.n_indexed == N_GOOD
        assert info.n_failures == 2
        assert info.failures_by_type == {"CorruptFileError": 1, "SignalValueError": 1}
        assert info.index_type == "flat"
        assert info.build["dataset"] == DATASET
        assert info.build["batch_size"] == 3

    def test_nearest_case_of_a_stored_record_is_itself(self, reference: Path) -> None:
        with CaseBase.open(reference) as base:
            for case_id in ("r01", "r02"):
                assert base.search(base.vector(case_id), 1)[0].case_id == case_id

    def test_progress_reports(self, dataset_root: Path, tmp_path: Path) -> None:
        seen: list[BuildProgress] = []
        build_case_base("dir", dataset_root, tmp_path, workers=1, batch_size=4,
                        progress=seen.append)  # fmt: skip
        assert seen[0] == BuildProgress(total=10)
        assert [p.done for p in seen] == [0, 4, 8, 10]
        assert (seen[-1].added, seen[-1].failed) == (N_GOOD, 2)

    def test_rerun_skips_stored_and_failed(self, reference: Path, dataset_root: Path) -> None:
        seen: list[BuildProgress] = []
        build_case_base("dir", dataset_root, reference, workers=1, progress=seen.append)
        assert seen[-1] == BuildProgress(total=0, skipped=10)
        assert len(_table(reference)[0]) == N_GOOD

    def test_limit_then_extend(self, dataset_root: Path, tmp_path: Path) -> None:
        info = build_case_base("dir", dataset_root, tmp_path, workers=1, limit=3)
        assert info.n_cases == 3
        info = build_case_base("dir", dataset_root, tmp_path, workers=1, limit=9)
        assert info.n_cases == N_GOOD
        assert info.n_failures == 1

    def test_retry_failures(self, dataset_root: Path, tmp_path: Path) -> None:
        root = tmp_path / "data"
        shutil.copytree(dataset_root, root)
        out = tmp_path / "base"
        build_case_base("dir", root, out, workers=1)
        (root / "r09.hea").unlink()
        _write(SynthSpec(duration_s=6.0), "r09", root, seed=9)  # the file is repaired
        assert build_case_base("dir", root, out, workers=1).n_cases == N_GOOD
        info = build_case_base("dir", root, out, workers=1, retry_failures=True)
        assert info.n_cases == N_GOOD + 1
        assert info.failures_by_type == {"SignalValueError": 1}

    def test_bad_settings(self, dataset_root: Path, tmp_path: Path) -> None:
        with pytest.raises(CaseBaseError, match="index type must be one of"):
            build_case_base("dir", dataset_root, tmp_path, index_type="annoy")
        with pytest.raises(CaseBaseError, match="batch size"):
            build_case_base("dir", dataset_root, tmp_path, batch_size=0)

    def test_unknown_dataset(self, dataset_root: Path, tmp_path: Path) -> None:
        with pytest.raises(DatasetError, match="unknown dataset 'nope'"):
            build_case_base("nope", dataset_root, tmp_path)


_CHILD = textwrap.dedent(
    """
    import sys, time
    from tools.cases.build import build_case_base

    def progress(state):
        print(state.done, state.total, flush=True)
        if state.done > 0:
            time.sleep(120)  # after the first committed batch: the test kills us here

    if __name__ == "__main__":
        build_case_base("dir", sys.argv[1], sys.argv[2], workers=2, batch_size=3,
                        progress=progress)
    """
)
#: Seconds the killed build may take to reach its first batch (worker start-up included).
CHILD_TIMEOUT_S = 120


def _build_and_kill_after_first_batch(root: Path, out: Path, script: Path) -> list[str]:
    script.write_text(_CHILD)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, str(script), str(root), str(out)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
        start_new_session=True,  # its own process group: the pool's workers die with it
    )
    watchdog = threading.Timer(CHILD_TIMEOUT_S, lambda: os.killpg(child.pid, signal.SIGKILL))
    watchdog.start()
    lines = []
    try:
        assert child.stdout is not None
        for line in child.stdout:
            lines.append(line.strip())
            if int(line.split()[0]) > 0:
                break
        os.killpg(child.pid, signal.SIGKILL)
    finally:
        watchdog.cancel()
        child.wait(timeout=30)
    return lines


@pytest.mark.slow
class TestResumeAfterKill:
    def test_killed_build_resumes_to_the_same_base(
        self, dataset_root: Path, reference: Path, tmp_path: Path
    ) -> None:
        out = tmp_path / "base"
        lines = _build_and_kill_after_first_batch(dataset_root, out, tmp_path / "child.py")
        assert lines[-1] == "3 10", lines

        # killed after one committed batch: whole batch in the table, no index yet
        ids, _, _ = _table(out)
        assert [case_id for _, case_id in ids] == GOOD_IDS[:3]
        assert not (out / fx.INDEX_NAME).exists()
        with CaseBase.open(out) as base:  # the index is rebuilt from the table
            assert len(base) == 3

        seen: list[BuildProgress] = []
        build_case_base("dir", dataset_root, out, workers=1, batch_size=3, progress=seen.append)
        assert seen[-1].skipped == 3

        ids, vectors, failures = _table(out)
        ref_ids, ref_vectors, ref_failures = _table(reference)
        assert ids == ref_ids
        assert failures == ref_failures
        np.testing.assert_allclose(vectors, ref_vectors, atol=1e-6)
        with CaseBase.open(out) as resumed, CaseBase.open(reference) as whole:
            assert len(resumed) == len(whole) == N_GOOD
            for case_id in GOOD_IDS:
                query = whole.vector(case_id)
                assert [c.case_id for c in resumed.search(query, 4)] == [
                    c.case_id for c in whole.search(query, 4)
                ]
