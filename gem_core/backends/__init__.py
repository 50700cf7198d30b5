"""Interpretation backends: ``criteria`` (default, offline) and ``endpoint`` (OpenAI-compatible).

>>> from gem_core.backends import get_backend
>>> backend = get_backend("criteria")
>>> draft = backend.interpret(request)  # doctest: +SKIP

The ``endpoint`` backend imports the ``openai`` client only when it is asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gem_core.backends.base import (
    Backend,
    BackendError,
    BackendRejected,
    BackendResponseError,
    BackendTimeout,
    BackendUnavailable,
    Draft,
    InterpretRequest,
    Usage,
)
from gem_core.backends.criteria import CriteriaBackend

if TYPE_CHECKING:
    from gem_core.backends.endpoint import EndpointSettings

#: Backend names :func:`get_backend` knows.
BACKENDS: tuple[str, ...] = ("criteria", "endpoint")


def get_backend(name: str, settings: EndpointSettings | None = None) -> Backend:
    """The backend called ``name``.

    Parameters
    ----------
    name
        ``"criteria"`` or ``"endpoint"``.
    settings
        Endpoint settings; ``None`` reads them from ``GEM_AGENT_*`` environment variables.
        Ignored by the criteria backend.

    Raises
    ------
    BackendError
        Unknown backend name.
    """
    if name == "criteria":
        return CriteriaBackend()
    if name == "endpoint":
        from gem_core.backends.endpoint import EndpointBackend

        return EndpointBackend(settings)
    raise BackendError(name, None, f"unknown backend; choose one of {', '.join(BACKENDS)}")


__all__ = [
    "BACKENDS",
    "Backend",
    "BackendError",
    "BackendRejected",
    "BackendResponseError",
    "BackendTimeout",
    "BackendUnavailable",
    "CriteriaBackend",
    "Draft",
    "InterpretRequest",
    "Usage",
    "get_backend",
]
