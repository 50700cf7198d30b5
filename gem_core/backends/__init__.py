"""Interpretation backends: ``criteria`` (default, offline), ``endpoint`` (OpenAI-compatible
server, e.g. ``gem-agent serve``) and ``local`` (GEM run in-process).

>>> from gem_core.backends import get_backend
>>> backend = get_backend("criteria")
>>> draft = backend.interpret(request)  # doctest: +SKIP

The ``endpoint`` backend imports the ``openai`` client only when it is asked for; the ``local``
backend imports torch only when its model first loads.
"""

from __future__ import annotations

from enum import StrEnum
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
    from gem_core.backends.local import LocalSettings


class BackendName(StrEnum):
    """Backend names :func:`get_backend` knows (the CLI's ``--backend`` choices)."""

    criteria = "criteria"
    endpoint = "endpoint"
    local = "local"


#: Backend names :func:`get_backend` knows.
BACKENDS: tuple[str, ...] = tuple(BackendName)


def get_backend(name: str, settings: EndpointSettings | LocalSettings | None = None) -> Backend:
    """The backend called ``name``.

    Parameters
    ----------
    name
        ``"criteria"``, ``"endpoint"`` or ``"local"``.
    settings
        Endpoint or local settings; ``None`` reads them from the environment
        (``GEM_AGENT_*`` and ``GEM_AGENT_LOCAL_*``). Ignored by the criteria backend.

    Raises
    ------
    BackendError
        Unknown backend name.
    """
    if name == "criteria":
        return CriteriaBackend()
    if name == "endpoint":
        from gem_core.backends.endpoint import EndpointBackend, EndpointSettings

        if settings is not None and not isinstance(settings, EndpointSettings):
            raise BackendError(name, None, "needs EndpointSettings")
        return EndpointBackend(settings)
    if name == "local":
        from gem_core.backends.local import LocalBackend, LocalSettings

        if settings is not None and not isinstance(settings, LocalSettings):
            raise BackendError(name, None, "needs LocalSettings")
        return LocalBackend(settings)
    raise BackendError(name, None, f"unknown backend; choose one of {', '.join(BACKENDS)}")


__all__ = [
    "BACKENDS",
    "Backend",
    "BackendError",
    "BackendName",
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
