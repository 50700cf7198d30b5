"""Run settings: keyword arguments, or ``GEM_AGENT_*`` environment variables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    """Where runs keep traces by default: ``$XDG_DATA_HOME/gem-agent`` (``~/.local/share``)."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "gem-agent"


class AgentSettings(BaseSettings):
    """Settings of one interpretation run.

    Every field can be set by an environment variable ``GEM_AGENT_<FIELD>`` (e.g.
    ``GEM_AGENT_BACKEND=endpoint``, ``GEM_AGENT_MAX_REVISIONS=1``); arguments win.
    The endpoint backend reads its own settings (``GEM_AGENT_BASE_URL``, ``GEM_AGENT_MODEL``,
    ``GEM_AGENT_API_KEY`` ...) from :class:`gem_core.backends.endpoint.EndpointSettings`.
    """

    model_config = SettingsConfigDict(env_prefix="GEM_AGENT_", extra="ignore")

    backend: Literal["criteria", "endpoint", "local"] = "criteria"
    max_revisions: int = Field(default=2, ge=0, le=10)
    #: LangGraph's step limit; set explicitly (its default is 10,007). 8 nodes + 2 per revision.
    recursion_limit: int = Field(default=64, ge=10)
    #: ``"builtin"`` (the synthetic case base), a case-base folder, or ``"none"``.
    case_base: str = "builtin"
    k_cases: int = Field(default=5, ge=0, le=50)
    #: SQLite file for traces (checkpoints); ``None``: ``<data dir>/traces.sqlite``.
    trace_db: Path | None = None
    #: Keep a trace of the run (checkpoints); off for large batches.
    trace: bool = True

    def trace_path(self) -> Path:
        return self.trace_db or default_data_dir() / "traces.sqlite"
