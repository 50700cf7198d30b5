"""GEM in torch/transformers: strict loading, a tiny checkpoint of the real layout, generation.

torch, transformers, safetensors and sentencepiece are imported only inside this package, and
only when a name below is first used: ``import gem_core.model`` itself stays light, and
:class:`CheckpointError` can be caught without the model stack.

* :func:`load_gem` -> :class:`LoadedGem`: checkpoint dir + ECG-CoCa ``.pt`` + CLIP dir.
* :func:`load_engine` -> :class:`GemEngine`: the continuous-batching engine the server and the
  ``local`` backend drive (:class:`gem_core.engine.Engine`), with a dynamic or a static
  (pre-allocated, CUDA-graph-ready) KV cache (:class:`StaticKVCache`).
* :func:`gem_core.model.generate.generate`: a static batch to completion.
* :func:`make_tiny_checkpoint` -> :class:`TinyCheckpoint`: a tiny GEM of the real layout.
* :func:`random_gem`: GEM's full shape with random weights built on a device (benchmarks).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from gem_core.model.errors import CheckpointError, MissingCheckpointFileError

if TYPE_CHECKING:
    from gem_core.model.engine import GemEngine, load_engine
    from gem_core.model.generate import GenerationOutput
    from gem_core.model.loader import LoadedGem, load_gem
    from gem_core.model.random_gem import random_gem
    from gem_core.model.static_cache import StaticKVCache
    from gem_core.model.tiny import TinyCheckpoint, make_tiny_checkpoint

_LAZY = {
    "GemEngine": "gem_core.model.engine",
    "load_engine": "gem_core.model.engine",
    "GenerationOutput": "gem_core.model.generate",
    "LoadedGem": "gem_core.model.loader",
    "load_gem": "gem_core.model.loader",
    "random_gem": "gem_core.model.random_gem",
    "StaticKVCache": "gem_core.model.static_cache",
    "TinyCheckpoint": "gem_core.model.tiny",
    "make_tiny_checkpoint": "gem_core.model.tiny",
}

__all__ = [
    "CheckpointError",
    "GemEngine",
    "GenerationOutput",
    "LoadedGem",
    "MissingCheckpointFileError",
    "StaticKVCache",
    "TinyCheckpoint",
    "load_engine",
    "load_gem",
    "make_tiny_checkpoint",
    "random_gem",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'gem_core.model' has no attribute {name!r}")
    return getattr(import_module(module), name)
