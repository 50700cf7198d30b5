"""The GEM model side: input preparation, prompt rendering, clients, the torch model, the server.

torch and transformers are imported lazily, only by ``gem_core.model`` and ``gem_core.serve``.
"""
