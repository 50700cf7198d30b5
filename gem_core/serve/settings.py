"""Server settings: limits and defaults of ``gem-agent serve`` in one place."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from gem_core.inputs import GEM_IMAGE_SIZE, checkpoint_lead_order
from tools.leads import MIMIC_LEADS

#: Default request body limit: a 2200 x 1700 PNG page (~0.5-1 MB) and a float32 ECG part
#: (320 kB) take ~2 MB in base64 JSON; 8 MiB leaves room for JPEG photos and long turns.
DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024
#: Default queue bound: requests admitted but waiting for a decode slot beyond ``max_batch``.
DEFAULT_MAX_QUEUE = 256
#: Default answer length when a request sets none: GEM's evaluation ``max_new_tokens``.
DEFAULT_MAX_TOKENS = 1024
#: Largest decoded image accepted (pixels): a 200 dpi letter page is 3.7 MP; 40 MP stops
#: decompression bombs long before PIL's own 179 MP error.
MAX_IMAGE_PIXELS = 40_000_000
#: Most stop strings per request (OpenAI's limit).
MAX_STOP_STRINGS = 4


@dataclass(frozen=True)
class ServeSettings:
    """What the HTTP app enforces; the engine holds the model and its batch size.

    Attributes
    ----------
    model_name
        Id served on ``/v1/models`` and required in requests (``None``: the engine's).
    api_key
        Bearer token required on ``/v1/*`` (``None``: no authentication).
    max_body_bytes
        Largest request body; bigger ones get HTTP 413 before parsing.
    max_queue
        Requests that may wait beyond the ``max_batch`` being decoded; more get HTTP 429.
    default_max_tokens
        ``max_tokens`` of a request that sets none.
    lead_order
        The checkpoint's ECG row order; ``input_ecg`` rows are reordered to it. ``None``:
        the engine's ``lead_order`` attribute when it has one, else MIMIC-IV-ECG's order.
    image_size
        Side of the CLIP input in pixels. ``None``: the engine's ``image_size`` attribute
        when it has one, else 336 (GEM's ViT-L/14-336).
    """

    model_name: str | None = None
    api_key: str | None = field(default=None, repr=False)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_queue: int = DEFAULT_MAX_QUEUE
    default_max_tokens: int = DEFAULT_MAX_TOKENS
    lead_order: Sequence[str] | None = None
    image_size: int | None = None

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "default_max_tokens", "image_size"):
            if getattr(self, name) is not None and getattr(self, name) <= 0:
                raise ValueError(f"ServeSettings.{name} must be > 0, got {getattr(self, name)}")
        if self.max_queue < 0:
            raise ValueError(f"ServeSettings.max_queue must be >= 0, got {self.max_queue}")
        if self.api_key is not None and not self.api_key:
            raise ValueError("ServeSettings.api_key must not be empty (use None for no auth)")


def engine_lead_order(engine: object, configured: Sequence[str] | None = None) -> tuple[str, ...]:
    """The ECG row order to serve: ``configured``, else the engine's, else MIMIC-IV-ECG's.

    Raises
    ------
    LeadError
        The order is not the 12 standard leads, each once.
    """
    order = configured if configured is not None else getattr(engine, "lead_order", None)
    return checkpoint_lead_order(order if order is not None else MIMIC_LEADS, "server settings")


def engine_image_size(engine: object, configured: int | None = None) -> int:
    """The CLIP input side to serve: ``configured``, else the engine's, else 336."""
    size = configured if configured is not None else getattr(engine, "image_size", None)
    return int(size) if isinstance(size, int) and size > 0 else GEM_IMAGE_SIZE
