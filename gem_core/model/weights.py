"""GEM's weight names in one place, and the strict check of a file's tensors against them.

Names in a GEM checkpoint (read from GEM's LLaVA-derived model code) and where they go in
:class:`~gem_core.model.gem.GemModel`:

====================================  ==================  =======================================
checkpoint name                       part                 key inside the part
====================================  ==================  =======================================
``model.mm_projector.*``              ``mm_projector``     ``0.weight``, ``2.bias``, ...
``model.ecg_projector.*``             ``ecg_projector``    ``weight``, ``bias`` (``linear``)
``model.vision_tower.vision_tower.*`` ``vision_tower``     ``vision_model.*`` (CLIP file names)
``model.ecg_tower.ecg_tower.*``       ``ecg_tower``        ECG-CoCa names (``conv1.weight``, ...)
``model.*`` (the rest), ``lm_head.*`` ``llm``              the same name (transformers LLaMA)
====================================  ==================  =======================================

The towers' own files use other prefixes: the ECG-CoCa ``.pt`` holds ``module.ecg.*`` (the
rest, ``module.text.*``, ``module.text_decoder.*``, ``module.logit_scale``, belongs to the
unused text side); a CLIP directory holds ``vision_model.*`` (``text_model.*`` and the
projections belong to CLIP's text side). Keys of a part are always written in these *file*
names; :func:`module_key` / :func:`file_key` translate the CLIP ones for transformers versions
whose ``CLIPVisionModel`` has no ``vision_model.`` level.

Loading is strict (:func:`check_tensors`): a tensor the model needs and the file lacks, a
tensor the file has and nothing expects, or a shape that differs from what the config
implies, is a :class:`~gem_core.model.errors.CheckpointError` naming the tensor and the file.
Only the tensors listed here as unused by GEM are skipped, and they are counted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from gem_core.model.errors import CheckpointError

Part = Literal["llm", "mm_projector", "ecg_projector", "vision_tower", "ecg_tower"]
Shape = tuple[int, ...]

#: Checkpoint prefix -> (part, prefix of the key inside the part); first match wins.
CHECKPOINT_PREFIXES: tuple[tuple[str, Part, str], ...] = (
    ("model.mm_projector.", "mm_projector", ""),
    ("model.ecg_projector.", "ecg_projector", ""),
    ("model.vision_tower.vision_tower.", "vision_tower", ""),
    ("model.ecg_tower.ecg_tower.", "ecg_tower", ""),
    ("model.", "llm", "model."),
    ("lm_head.", "llm", "lm_head."),
)
#: Parts that are always read from the main checkpoint's shards.
CORE_PARTS: tuple[Part, ...] = ("llm", "mm_projector", "ecg_projector")
#: The ECG tower's keys in GEM's ECG-CoCa (open_clip) checkpoint.
ECG_COCA_PREFIX = "module.ecg."
#: The vision tower's keys in a CLIP directory (and in transformers 4.x ``CLIPVisionModel``).
CLIP_VISION_PREFIX = "vision_model."
#: CLIP-file keys of the text side (a full ``CLIPModel`` directory): never loaded.
CLIP_TEXT_SIDE = ("text_model.", "text_projection.", "visual_projection.", "logit_scale")
#: ECG-CoCa keys GEM does not use: it takes the last block before ``ln_post``/``proj``, and
#: CoCa's attentional pooler only feeds the contrastive/captioning heads.
ECG_UNUSED_NAMES = ("proj",)
ECG_UNUSED_PREFIXES = ("ln_post.", "attn_pool.", "attn_pool_contrastive.")
#: Buffers older transformers saved with the weights: LLaMA's RoPE inverse frequencies
#: (< 4.32) and CLIP's position ids (< 4.31); both are recomputed, never loaded.
_STALE_BUFFERS = re.compile(r"(^|\.)(rotary_emb\.inv_freq|embeddings\.position_ids)$")
#: Names quoted per problem in an error message.
_MAX_NAMES = 5


@dataclass
class TensorPlan:
    """What a file's tensors are for: ``use`` maps file name -> (part, key); the rest is
    ``ignored`` (unused by GEM, or a tower taken from its own file)."""

    use: dict[str, tuple[Part, str]] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)


def split_checkpoint_name(name: str) -> tuple[Part, str] | None:
    """``(part, key)`` of a main-checkpoint tensor name, or ``None`` for a foreign name."""
    for prefix, part, keep in CHECKPOINT_PREFIXES:
        if name.startswith(prefix):
            return part, keep + name[len(prefix) :]
    return None


def checkpoint_name(part: Part, key: str) -> str:
    """The main-checkpoint name of ``part``'s ``key`` (inverse of :func:`split_checkpoint_name`)."""
    if part == "llm":
        return key
    for prefix, owner, _ in CHECKPOINT_PREFIXES:
        if owner == part:
            return prefix + key
    raise ValueError(f"unknown part {part!r}")


def is_stale_buffer(name: str) -> bool:
    """A buffer older transformers saved (RoPE ``inv_freq``, CLIP ``position_ids``)."""
    return _STALE_BUFFERS.search(name) is not None


def is_unused_ecg_key(key: str) -> bool:
    """An ECG-CoCa key GEM does not use (``ln_post``, ``proj``, attentional pooling)."""
    return key in ECG_UNUSED_NAMES or key.startswith(ECG_UNUSED_PREFIXES)


def module_key(part: Part, key: str, module_keys: Iterable[str]) -> str:
    """A part's file-style key as the module names it (CLIP: with or without ``vision_model.``)."""
    if part != "vision_tower" or not key.startswith(CLIP_VISION_PREFIX):
        return key
    if any(k.startswith(CLIP_VISION_PREFIX) for k in module_keys):
        return key
    return key[len(CLIP_VISION_PREFIX) :]


def file_key(part: Part, key: str) -> str:
    """A module key in file style (CLIP keys always carry ``vision_model.``)."""
    if part == "vision_tower" and not key.startswith(CLIP_VISION_PREFIX):
        return CLIP_VISION_PREFIX + key
    return key


def plan_checkpoint(names: Iterable[str], parts: Iterable[Part], source: str | Path) -> TensorPlan:
    """Sort a main checkpoint's tensor names: those of ``parts`` are used, known unused ones
    and tower tensors of parts read elsewhere are ignored.

    Raises
    ------
    CheckpointError
        Names that are no part of GEM (``source`` and the first few names in the message).
    """
    wanted = set(parts)
    plan = TensorPlan()
    foreign = []
    for name in sorted(names):
        split = split_checkpoint_name(name)
        if split is None:
            foreign.append(name)
        elif is_stale_buffer(name) or (split[0] == "ecg_tower" and is_unused_ecg_key(split[1])):
            plan.ignored.append(name)
        elif split[0] in wanted:
            plan.use[name] = split
        elif split[0] in ("vision_tower", "ecg_tower"):
            plan.ignored.append(name)
        else:
            foreign.append(name)
    if foreign:
        raise CheckpointError(source, f"unexpected tensors not part of GEM: {_names(foreign)}")
    return plan


def check_tensors(
    found: Mapping[str, Shape], expected: Mapping[str, Shape], source: str | Path, what: str
) -> None:
    """Strict comparison of a file's tensors (name -> shape) with what the model expects.

    Raises
    ------
    CheckpointError
        Missing tensors, unexpected tensors, or mis-shaped tensors; the message names
        ``source``, ``what`` (e.g. "ECG tower") and the tensors.
    """
    missing = sorted(set(expected) - set(found))
    if missing:
        raise CheckpointError(source, f"{what}: missing tensors {_names(missing)}")
    unexpected = sorted(set(found) - set(expected))
    if unexpected:
        raise CheckpointError(source, f"{what}: unexpected tensors {_names(unexpected)}")
    wrong = [
        f"{name} has shape {list(found[name])}, expected {list(expected[name])}"
        for name in sorted(expected)
        if tuple(found[name]) != tuple(expected[name])
    ]
    if wrong:
        more = f" (and {len(wrong) - 1} more)" if len(wrong) > 1 else ""
        raise CheckpointError(source, f"{what}: tensor {wrong[0]}{more}")


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:_MAX_NAMES])
    return shown + (f" (and {len(names) - _MAX_NAMES} more)" if len(names) > _MAX_NAMES else "")
