"""Builders shared by the ``test_model_*`` modules: GEM requests with seeded random inputs,
and a tiny checkpoint whose files a test may edit (safetensors shards, index).

Import only from modules that already ``pytest.importorskip("torch")``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from safetensors.torch import load_file, save_file

from gem_core.engine import GenerationRequest, SamplingParams
from gem_core.model.tiny import TinyCheckpoint, tiny_config
from gem_core.prompting import llava_v1, system_prompt

#: Questions of clearly different lengths (batches must not depend on padding).
QUESTIONS = (
    "Interpret.",
    "Interpret the provided ECG image, identify key features and abnormalities in each lead, "
    "and generate a clinical diagnosis that is supported by the observed evidence.",
    "What is the rhythm?",
)


def make_request(
    request_id: str,
    question: str = QUESTIONS[0],
    *,
    input_seed: int = 0,
    max_new_tokens: int = 8,
    with_ecg: bool = True,
    with_image: bool = True,
    **params: object,
) -> GenerationRequest:
    """A GEM ``llava_v1`` request with a random ``[12, 5000]`` signal and ``[3, 336, 336]``
    image drawn from ``input_seed`` (``with_*=False`` leaves a modality out); ``params`` are
    :class:`SamplingParams` fields (``seed`` is the sampling seed)."""
    rng = np.random.default_rng(input_seed)
    ecg = rng.normal(0.0, 0.5, size=(12, 5000)).astype(np.float32)
    image = rng.normal(0.0, 1.0, size=(3, 336, 336)).astype(np.float32)
    return GenerationRequest(
        request_id=request_id,
        prompt=llava_v1(system_prompt(), question),
        ecg=ecg if with_ecg else None,
        image=image if with_image else None,
        params=SamplingParams(max_new_tokens=max_new_tokens, **params),  # type: ignore[arg-type]
    )


def read_index(checkpoint_dir: Path) -> dict[str, str]:
    """The checkpoint's ``weight_map`` (tensor name -> shard file name)."""
    index = json.loads((checkpoint_dir / "model.safetensors.index.json").read_text())
    return dict(index["weight_map"])


def edit_shard(
    checkpoint_dir: Path, name: str, tensor: object | None, shard: str | None = None
) -> None:
    """Replace (``tensor``), add (new ``name`` in ``shard``) or delete (``None``) one tensor of a
    tiny checkpoint, keeping the index consistent with the shard."""
    index_path = checkpoint_dir / "model.safetensors.index.json"
    index = json.loads(index_path.read_text())
    shard = shard or index["weight_map"].get(name) or sorted(set(index["weight_map"].values()))[0]
    path = checkpoint_dir / shard
    tensors = load_file(str(path))
    if tensor is None:
        del tensors[name]
        del index["weight_map"][name]
    else:
        tensors[name] = tensor  # type: ignore[assignment]
        index["weight_map"][name] = shard
    save_file(tensors, str(path), metadata={"format": "pt"})
    index_path.write_text(json.dumps(index))


def tiny_config_dict() -> dict[str, object]:
    """The tiny checkpoint's config.json content (placeholder tower paths)."""
    return tiny_config(TinyCheckpoint(Path("/g"), Path("/e.pt"), Path("/c")), vocab_size=320)


def real_gem_config() -> dict[str, object]:
    """A config.json of GEM's published shape: Vicuna-7B, CLIP-L/336, coca_ViT-B-32 ECG tower."""
    data = tiny_config_dict()
    data.update(
        hidden_size=4096,
        intermediate_size=11008,
        num_hidden_layers=32,
        num_attention_heads=32,
        num_key_value_heads=32,
        vocab_size=32000,
        mm_hidden_size=1024,
        mm_ecg_tower="/path/to/cpt_wfep_epoch_20.pt",
        mm_vision_tower="openai/clip-vit-large-patch14-336",
    )
    del data["ecg_tower_config"]
    return data
