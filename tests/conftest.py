"""Shared fixtures: the real-data location and skips when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_DEFAULT = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def data_root() -> Path | None:
    """Folder of real recordings: ``$GEM_AGENT_DATA``, else ``../shared/data`` if present."""
    env = os.environ.get("GEM_AGENT_DATA")
    root = Path(env) if env else _DEFAULT
    return root if root.is_dir() else None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Root of ``../shared/data``; skips the test when the data is not on this machine."""
    root = data_root()
    if root is None:
        pytest.skip("real ECG data not found: set GEM_AGENT_DATA to the shared data folder")
    return root


@pytest.fixture(scope="session")
def dataset_dir(shared_data: Path):
    """Factory: the folder of one shared dataset, skipping when it is absent."""

    def _get(name: str) -> Path:
        folder = shared_data / name
        if not folder.is_dir():
            pytest.skip(f"shared dataset {name!r} not present under {shared_data}")
        return folder

    return _get


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Built-in case base and other caches go to one folder shared by this run's workers,
    never into the user's ``~/.cache``."""
    import os

    shared = tmp_path_factory.getbasetemp().parent / "gem-agent-cache"
    os.environ.setdefault("GEM_AGENT_CACHE", str(shared))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A tiny GEM checkpoint in the real layout (:func:`gem_core.model.make_tiny_checkpoint`),
    one per test module (torch is imported only by the tests that use it)."""
    from gem_core.model import make_tiny_checkpoint

    return make_tiny_checkpoint(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def gem(tiny):  # type: ignore[no-untyped-def]
    """The tiny checkpoint loaded (:func:`gem_core.model.load_gem`)."""
    from gem_core.model import load_gem

    return load_gem(tiny.checkpoint_dir)
