"""The GEM model side: input preparation, prompt rendering, clients, the torch model, the server.

torch and transformers are imported lazily, only by ``gem_core.model`` and ``gem_core.serve``.
"""

#: The model id GEM is published under; the endpoint backend asks for it and ``gem-agent serve``
#: serves under it unless told otherwise.
GEM_MODEL_ID = "LANSG/GEM"
