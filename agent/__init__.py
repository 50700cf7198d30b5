"""gem-agent: the LangGraph state machine that measures, retrieves, interprets and verifies.

>>> from agent import interpret
>>> report = interpret("path/to/record.hea")  # doctest: +SKIP

The public API (``interpret``, ``interpret_many``, ``resume``, ``Report``, ``AgentSettings``,
``AgentRunError``) is imported on first use, so ``import agent`` (and the CLI's ``--help``)
stays light.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "interpret": "agent.api",
    "resume": "agent.api",
    "AgentRunError": "agent.api",
    "Report": "agent.report",
    "AgentSettings": "agent.settings",
    "interpret_many": "agent.batch",
}
__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'agent' has no attribute {name!r}")
