"""Load a real (or tiny) GEM install strictly: checkpoint, ECG-CoCa file, CLIP directory.

>>> gem = load_gem("GEM", ecg_tower="cpt_wfep_epoch_20.pt",
...                vision_tower="clip-vit-large-patch14-336", device="cuda", dtype="bf16")
... # doctest: +SKIP

The model is built on the ``meta`` device from the config (no random init, no memory), each
file's tensor names and shapes are checked against it (:mod:`gem_core.model.weights`), and
only then are the tensors read straight onto the target device in the target dtype and
assigned. Nothing is left uninitialised: a missing, unexpected or mis-shaped tensor is a
:class:`~gem_core.model.errors.CheckpointError` naming it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from gem_core.inputs import checkpoint_lead_order
from gem_core.model.config import GemConfig, load_config
from gem_core.model.errors import CheckpointError, MissingCheckpointFileError
from gem_core.model.files import TensorSource, open_checkpoint
from gem_core.model.gem import GemModel
from gem_core.model.tokenizer import GemTokenizer, load_tokenizer
from gem_core.model.towers import TowerPlan, resolve_towers
from gem_core.model.weights import (
    CORE_PARTS,
    Part,
    Shape,
    check_tensors,
    checkpoint_name,
    file_key,
    is_unused_ecg_key,
    module_key,
    plan_checkpoint,
)
from tools.errors import LeadError
from tools.leads import MIMIC_LEADS

#: Accepted dtype names (the CLI's ``--dtype``) and their torch dtypes.
DTYPES: dict[str, torch.dtype] = {
    "fp32": torch.float32,
    "float32": torch.float32,
    "fp16": torch.float16,
    "float16": torch.float16,
    "bf16": torch.bfloat16,
    "bfloat16": torch.bfloat16,
}


@dataclass(frozen=True, eq=False)
class LoadedGem:
    """A loaded GEM and what it was loaded from.

    Attributes
    ----------
    model
        The model in eval mode, gradients off.
    tokenizer
        The checkpoint's tokenizer.
    config
        The checkpoint's validated ``config.json``.
    lead_order
        Row order of the ``[12, 5000]`` signal the ECG tower expects (MIMIC-IV-ECG's by
        default: GEM's grounding data).
    tower_sources
        ``{"ecg_tower": ..., "vision_tower": ...}``: ``"checkpoint"`` or ``"file:<path>"``.
    checkpoint_dir, device, dtype
        Where from, where to, in what precision.
    ignored_tensors
        File tensors not loaded because GEM does not use them (text towers, ``ln_post``,
        stale buffers, a tower copy superseded by its own file), by file.
    """

    model: GemModel
    tokenizer: GemTokenizer
    config: GemConfig
    lead_order: tuple[str, ...]
    tower_sources: dict[str, str]
    checkpoint_dir: Path
    device: torch.device
    dtype: torch.dtype
    ignored_tensors: dict[str, int] = field(default_factory=dict)


def resolve_dtype(dtype: str | torch.dtype) -> torch.dtype:
    """``"bf16"``/``"fp16"``/``"fp32"`` (or a torch dtype) -> torch dtype; ValueError otherwise."""
    if isinstance(dtype, torch.dtype):
        if dtype in DTYPES.values():
            return dtype
    elif dtype in DTYPES:
        return DTYPES[dtype]
    raise ValueError(f"dtype must be one of bf16, fp16, fp32; got {dtype!r}")


def resolve_device(device: str | torch.device) -> torch.device:
    """A torch device that exists here; ValueError for CUDA without a CUDA build/GPU."""
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but torch sees no CUDA GPU")
    return resolved


def load_gem(
    checkpoint_dir: str | Path,
    *,
    ecg_tower: str | Path | None = None,
    vision_tower: str | Path | None = None,
    device: str | torch.device = "cpu",
    dtype: str | torch.dtype = "fp32",
    lead_order: Sequence[str] = MIMIC_LEADS,
) -> LoadedGem:
    """Load GEM from a checkpoint directory and its two tower files, strictly.

    Parameters
    ----------
    checkpoint_dir
        GEM's directory: ``config.json``, ``model.safetensors.index.json`` and shards (or
        ``model.safetensors``), ``tokenizer.model``.
    ecg_tower
        The ECG-CoCa ``.pt``; default: ``mm_ecg_tower`` from the config if that file exists,
        else the checkpoint's own ECG tower tensors.
    vision_tower
        A local CLIP ViT-L/14-336 directory; default: ``mm_vision_tower`` if it is an existing
        local directory, else the checkpoint's own vision tensors (never a hub download).
    device, dtype
        Target device and precision (``bf16``, ``fp16`` or ``fp32``).
    lead_order
        The ECG tower's lead order (12 standard leads).

    Returns
    -------
    LoadedGem

    Raises
    ------
    MissingCheckpointFileError
        A directory, file, shard or tower that does not exist or cannot be found.
    CheckpointError
        A bad config or file, or a missing, unexpected or mis-shaped tensor (named).
    ValueError
        Unknown dtype, unavailable device, bad lead order.
    """
    root = Path(checkpoint_dir).expanduser()
    if not root.is_dir():
        raise MissingCheckpointFileError(root, "GEM checkpoint directory does not exist")
    target_dtype, target_device = resolve_dtype(dtype), resolve_device(device)
    try:
        order = checkpoint_lead_order(lead_order, str(root))
    except LeadError as err:
        raise ValueError(str(err)) from None
    config = load_config(root)
    main = open_checkpoint(root)
    towers = resolve_towers(
        config, root, set(main.weight_map), ecg_tower=ecg_tower, vision_tower=vision_tower
    )
    tokenizer = load_tokenizer(root)
    if tokenizer.vocab_size > config.vocab_size:
        raise CheckpointError(
            tokenizer.path,
            f"tokenizer has {tokenizer.vocab_size} pieces, more than the model's vocab_size "
            f"{config.vocab_size}",
        )
    with torch.device("meta"):
        model = GemModel(config, towers.vision, source=str(root))
    ignored = _load_checkpoint(model, main, towers, target_device, target_dtype)
    for part, source in (("ecg_tower", towers.ecg_file), ("vision_tower", towers.vision_file)):
        if source is not None:
            _load_tower(model, part, source, target_device, target_dtype)  # type: ignore[arg-type]
            ignored[str(source.path)] = len(source.ignored)
    _materialise_buffers(model, target_device, root)
    model.eval().requires_grad_(False)
    return LoadedGem(
        model=model,
        tokenizer=tokenizer,
        config=config,
        lead_order=order,
        tower_sources=towers.describe(),
        checkpoint_dir=root,
        device=target_device,
        dtype=target_dtype,
        ignored_tensors=ignored,
    )


def expected_shapes(model: GemModel, part: Part) -> dict[str, Shape]:
    """File-style key -> shape of every tensor ``part`` needs (from the config-built model)."""
    module: nn.Module = getattr(model, part)
    return {file_key(part, k): tuple(v.shape) for k, v in module.state_dict().items()}


def _load_checkpoint(
    model: GemModel,
    main: TensorSource,
    towers: TowerPlan,
    device: torch.device,
    dtype: torch.dtype,
) -> dict[str, int]:
    parts: list[Part] = list(CORE_PARTS)
    if towers.ecg_origin == "checkpoint":
        parts.append("ecg_tower")
    if towers.vision_origin == "checkpoint":
        parts.append("vision_tower")
    shapes = main.shapes()
    plan = plan_checkpoint(shapes, parts, main.path)
    expected = {
        checkpoint_name(part, key): shape
        for part in parts
        for key, shape in expected_shapes(model, part).items()
    }
    check_tensors({n: shapes[n] for n in plan.use}, expected, main.path, "GEM checkpoint")
    tensors = main.load(plan.use, device, dtype)
    for part in parts:
        chosen = {key: tensors[name] for name, (owner, key) in plan.use.items() if owner == part}
        _assign(model, part, chosen)
    return {str(main.path): len(plan.ignored)}


def _load_tower(
    model: GemModel, part: Part, source: TensorSource, device: torch.device, dtype: torch.dtype
) -> None:
    shapes = source.shapes()
    if part == "ecg_tower":
        source.drop([n for n in shapes if is_unused_ecg_key(n)])
        shapes = source.shapes()
    what = "ECG tower" if part == "ecg_tower" else "vision tower"
    check_tensors(shapes, expected_shapes(model, part), source.path, what)
    _assign(model, part, source.load(shapes, device, dtype))


def _assign(model: GemModel, part: Part, tensors: dict[str, torch.Tensor]) -> None:
    module: nn.Module = getattr(model, part)
    names = list(module.state_dict())
    state = {module_key(part, key, names): value for key, value in tensors.items()}
    module.load_state_dict(state, strict=True, assign=True)


def _materialise_buffers(model: GemModel, device: torch.device, source: Path) -> None:
    """Recompute the non-persistent buffers the meta build left empty (RoPE frequencies,
    CLIP position ids); any other meta tensor is an error."""
    for name, module in list(model.named_modules()):
        if type(module).__name__.endswith("RotaryEmbedding") and _has_meta(module):
            fresh = type(module)(module.config).to(device)
            parent, _, attr = name.rpartition(".")
            setattr(model.get_submodule(parent), attr, fresh)
    for name, buffer in list(model.named_buffers()):
        if buffer.is_meta and name.endswith("position_ids"):
            owner, _, attr = name.rpartition(".")
            ids = torch.arange(buffer.shape[-1], device=device).expand(1, -1)
            model.get_submodule(owner).register_buffer(attr, ids, persistent=False)
    left = [n for n, t in [*model.named_parameters(), *model.named_buffers()] if t.is_meta]
    if left:
        raise CheckpointError(source, f"tensors left uninitialised after loading: {left[:5]}")


def _has_meta(module: nn.Module) -> bool:
    return any(b.is_meta for b in module.buffers())
