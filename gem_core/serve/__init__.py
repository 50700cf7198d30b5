"""``gem-agent serve``: GEM behind an OpenAI-compatible, continuous-batching HTTP server.

* :func:`create_app` – the Starlette app (chat completions, models, health, metrics);
* :class:`EngineLoop` – the thread that owns the engine and admits requests between steps;
* :func:`gem_prompt` – OpenAI messages to GEM's ``llava_v1`` prompt, ECG and image;
* :func:`serve_in_thread` / :func:`run_server` – uvicorn on a thread or in the foreground.

Nothing here imports torch: the engine is handed in (``gem_core.model.load_engine``).
"""

from gem_core.serve.app import create_app
from gem_core.serve.errors import ApiError
from gem_core.serve.loop import EngineFailure, EngineLoop, EngineUnavailable
from gem_core.serve.messages import GemPrompt, gem_prompt
from gem_core.serve.metrics import ServeMetrics
from gem_core.serve.runner import run_server, serve_in_thread
from gem_core.serve.settings import ServeSettings

__all__ = [
    "ApiError",
    "EngineFailure",
    "EngineLoop",
    "EngineUnavailable",
    "GemPrompt",
    "ServeMetrics",
    "ServeSettings",
    "create_app",
    "gem_prompt",
    "run_server",
    "serve_in_thread",
]
