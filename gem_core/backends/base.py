"""What every interpretation backend takes and returns, and the errors it raises.

A backend turns an :class:`InterpretRequest` (the record, its measurements, similar cases, the
rendered page) into a :class:`Draft`: GEM-style free text plus what is needed to audit it
(backend, model, token usage, latency, raw response, what was sent). ``revise`` rewrites a
draft given the verifier's feedback.

Errors (each message names the backend, the endpoint and the problem):

* :class:`BackendError` – base class.
* :class:`BackendUnavailable` – the endpoint could not be reached or kept failing (connection
  refused, DNS, HTTP 5xx/429 after the client's retries). Worth retrying later.
* :class:`BackendTimeout` – no answer within the timeout, after the client's retries.
* :class:`BackendResponseError` – the endpoint answered, but with nothing usable: empty or
  garbage content, a body that is not a chat completion.
* :class:`BackendRejected` – the endpoint refused the request (HTTP 4xx other than 408/429):
  bad request, authentication, unknown model. A subclass of :class:`BackendResponseError`;
  retrying the same request cannot help.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from gem_core.prompting import CaseLike
from tools.measure.model import Measurements
from tools.record import ECGRecord, Sex

DraftKind = Literal["interpret", "revise"]


class BackendError(Exception):
    """Base class: an interpretation backend could not produce a draft.

    Parameters
    ----------
    backend
        Backend name (``"endpoint"``, ``"criteria"``).
    endpoint
        Where it was sent (base URL and model), ``None`` for in-process backends.
    problem
        What went wrong, in one sentence, with the fix when there is one.
    """

    def __init__(self, backend: str, endpoint: str | None, problem: str) -> None:
        self.backend = backend
        self.endpoint = endpoint
        self.problem = problem
        where = f" ({endpoint})" if endpoint else ""
        super().__init__(f"{backend} backend{where}: {problem}")


class BackendUnavailable(BackendError):
    """The endpoint is unreachable or failing (connection error, 5xx/429 after retries)."""


class BackendTimeout(BackendError):
    """No answer within the timeout, after the client's retries."""


class BackendResponseError(BackendError):
    """The endpoint answered with nothing usable (empty/garbage content, not a completion)."""


class BackendRejected(BackendResponseError):
    """The endpoint refused the request (HTTP 4xx): retrying the same request cannot help."""

    def __init__(
        self, backend: str, endpoint: str | None, problem: str, status_code: int | None
    ) -> None:
        self.status_code = status_code
        super().__init__(backend, endpoint, problem)


class Usage(BaseModel):
    """Token counts of one model call (as the endpoint reports them)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt_tokens: int = Field(ge=0)
    completion_tokens: int = Field(ge=0)
    total_tokens: int = Field(ge=0)


class Draft(BaseModel):
    """One interpretation: GEM-style free text and its audit trail (JSON-native).

    Attributes
    ----------
    text
        The interpretation, one free-text paragraph (what the verifier reads).
    backend
        Backend name.
    model
        Model that wrote it (the endpoint's model id; ``criteria-v<n>`` for the criteria).
    usage
        Token counts, ``None`` when no language model was called.
    latency_ms
        Wall time of the call, retries included.
    raw_response
        The endpoint's response as JSON (``None`` for in-process backends).
    structured
        Machine-readable extras: statement codes, similar-case label counts, finish reason.
    request_summary
        What was sent, without samples or pixels (prompt, parts, sizes, settings, attempts).
    kind
        ``"interpret"`` for a first draft, ``"revise"`` for a rewrite.
    note
        A remark on the draft, e.g. that a revision left the text unchanged and why.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str
    backend: str
    model: str
    usage: Usage | None = None
    latency_ms: float = Field(ge=0)
    raw_response: dict[str, Any] | None = None
    structured: dict[str, Any] | None = None
    request_summary: dict[str, Any] = Field(default_factory=dict)
    kind: DraftKind = "interpret"
    note: str | None = None


@dataclass(frozen=True, eq=False)
class InterpretRequest:
    """Everything a backend may use to interpret one record.

    Attributes
    ----------
    record
        The ECG (samples in mV): the endpoint sends it as GEM's signal part.
    measurements
        The record's measurement set with its criteria statements.
    cases
        Similar cases (``tools.cases.SimilarCase`` or anything shaped like it).
    image_png
        The rendered 12 x 1 page as PNG bytes; backends that need it render it when absent.
    sex, age_years
        Demographics for sex/age-specific criteria.
    """

    record: ECGRecord
    measurements: Measurements
    cases: Sequence[CaseLike] = field(default_factory=tuple)
    image_png: bytes | None = None
    sex: Sex | None = None
    age_years: float | None = None


@runtime_checkable
class Backend(Protocol):
    """An interpretation backend: ``interpret`` writes a draft, ``revise`` rewrites one."""

    @property
    def name(self) -> str:
        """Backend name as ``get_backend`` knows it."""
        ...

    @property
    def needs_image(self) -> bool:
        """True when the backend reads ``request.image_png`` (the caller may render it)."""
        ...

    def interpret(self, request: InterpretRequest) -> Draft:
        """A first interpretation of ``request``."""
        ...

    def revise(self, request: InterpretRequest, previous: Draft, feedback: str) -> Draft:
        """A rewrite of ``previous`` that addresses the verifier's ``feedback``."""
        ...
