"""Where GEM's two towers come from: their own files (as GEM's code loads them) or the checkpoint.

GEM builds its CLIP and ECG-CoCa towers from the paths in ``config.json``
(``mm_vision_tower``, ``mm_ecg_tower``), which name the authors' machine or a hub id. Here:

* an explicit path (``vision_tower=`` / ``ecg_tower=``, the CLI's ``--vision-tower`` /
  ``--ecg-tower``) wins and must exist;
* otherwise the config's path is used when it exists locally;
* otherwise the tower's tensors must be in the checkpoint (``model.vision_tower.vision_tower.*``
  / ``model.ecg_tower.ecg_tower.*``); the CLIP shape then comes from the local directory's
  ``config.json`` if one was found, else from the known preset of ``mm_vision_tower``;
* otherwise loading fails, saying which flag to pass. A hub id is never resolved.

A tower's own file wins over checkpoint tensors (GEM reloads towers from their files after
loading the checkpoint); the unused copy is reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from gem_core.model.config import CONFIG_FILE, VISION_PRESETS, GemConfig
from gem_core.model.errors import MissingCheckpointFileError
from gem_core.model.files import TensorSource, open_clip_dir, open_ecg_coca
from gem_core.model.weights import checkpoint_name

TowerOrigin = Literal["file", "checkpoint"]


@dataclass(frozen=True)
class TowerPlan:
    """Resolved tower sources: ``*_origin`` is ``"file"`` (own file/directory, at ``*_path``)
    or ``"checkpoint"``; ``vision`` is the CLIP vision config used."""

    ecg_origin: TowerOrigin
    ecg_path: Path | None
    ecg_file: TensorSource | None
    vision_origin: TowerOrigin
    vision_path: Path | None
    vision_file: TensorSource | None
    vision: dict[str, Any]

    def describe(self) -> dict[str, str]:
        """``{"ecg_tower": ..., "vision_tower": ...}``: ``"checkpoint"`` or ``"file:<path>"``."""
        return {
            "ecg_tower": _where(self.ecg_origin, self.ecg_path),
            "vision_tower": _where(self.vision_origin, self.vision_path),
        }


def resolve_towers(
    config: GemConfig,
    checkpoint_dir: Path,
    checkpoint_names: set[str],
    *,
    ecg_tower: str | Path | None = None,
    vision_tower: str | Path | None = None,
) -> TowerPlan:
    """Decide each tower's source (module docstring) and open its file.

    Raises
    ------
    MissingCheckpointFileError
        An explicit path does not exist, or a tower is found nowhere (the message names the
        config key and the flag to pass).
    gem_core.model.errors.CheckpointError
        A tower file is unreadable.
    """
    config_path = checkpoint_dir / CONFIG_FILE
    ecg_prefix = checkpoint_name("ecg_tower", "")
    vision_prefix = checkpoint_name("vision_tower", "")
    ecg_in_ckpt = any(n.startswith(ecg_prefix) for n in checkpoint_names)
    vision_in_ckpt = any(n.startswith(vision_prefix) for n in checkpoint_names)

    ecg_path = _local(ecg_tower, config.mm_ecg_tower, "ECG tower file", want_dir=False)
    if ecg_path is not None:
        ecg_origin: TowerOrigin = "file"
        ecg_file: TensorSource | None = open_ecg_coca(ecg_path)
    elif ecg_in_ckpt:
        ecg_origin, ecg_file = "checkpoint", None
    else:
        raise MissingCheckpointFileError(
            config_path,
            f"ECG tower not found: mm_ecg_tower {config.mm_ecg_tower!r} is not a local file "
            f"and the checkpoint has no {ecg_prefix}* tensors; pass the ECG-CoCa .pt "
            "(ecg_tower= / --ecg-tower FILE)",
        )

    vision_path = _local(vision_tower, config.mm_vision_tower, "vision tower directory")
    vision_file: TensorSource | None = None
    if vision_path is not None:
        vision, vision_file = open_clip_dir(vision_path)
    elif config.mm_vision_tower in VISION_PRESETS:
        vision = dict(VISION_PRESETS[config.mm_vision_tower])
    else:
        vision = {}
    if vision_file is not None:
        vision_origin: TowerOrigin = "file"
    elif vision_in_ckpt and vision:
        vision_origin = "checkpoint"
    else:
        raise MissingCheckpointFileError(
            vision_path or config_path,
            f"vision tower weights not found: mm_vision_tower {config.mm_vision_tower!r} "
            f"{'has no weights' if vision_path else 'is not a local directory'} and the "
            f"checkpoint has no {vision_prefix}* tensors; pass a local CLIP directory "
            "(vision_tower= / --vision-tower DIR); hub ids are never downloaded",
        )
    return TowerPlan(
        ecg_origin=ecg_origin,
        ecg_path=ecg_path,
        ecg_file=ecg_file,
        vision_origin=vision_origin,
        vision_path=vision_path if vision_origin == "file" else None,
        vision_file=vision_file,
        vision=vision,
    )


def _local(
    explicit: str | Path | None, configured: str, what: str, *, want_dir: bool = True
) -> Path | None:
    """The explicit path (must exist), else the config's path if it exists locally."""
    exists = Path.is_dir if want_dir else Path.is_file
    if explicit is not None:
        path = Path(explicit).expanduser()
        if not exists(path):
            kind = "directory" if want_dir else "file"
            raise MissingCheckpointFileError(path, f"{what}: no such {kind}")
        return path
    candidate = Path(configured).expanduser() if configured else None
    if candidate is not None and candidate.is_absolute() and exists(candidate):
        return candidate
    return None


def _where(origin: TowerOrigin, path: Path | None) -> str:
    return "checkpoint" if origin == "checkpoint" else f"file:{path}"
