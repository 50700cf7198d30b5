"""Reading GEM's weight files: safetensors shards, the ECG-CoCa ``.pt``, a CLIP directory.

Each opener returns a :class:`TensorSource`: the tensor names and shapes (read from headers,
before any data is loaded, so a strict check is cheap) and a ``load`` that materialises the
chosen tensors on a device in a dtype. Every problem is a
:class:`~gem_core.model.errors.CheckpointError` naming the file.

Pickle files (the ECG-CoCa ``.pt``, a CLIP ``pytorch_model.bin``) are read with
``torch.load(weights_only=True)`` only: a file that needs arbitrary unpickling is refused
with instructions to re-save its state dict, never executed.
"""

from __future__ import annotations

import pickle
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch

from gem_core.model.config import read_json, vision_config_dict
from gem_core.model.errors import CheckpointError, MissingCheckpointFileError
from gem_core.model.weights import (
    CLIP_TEXT_SIDE,
    ECG_COCA_PREFIX,
    Shape,
    is_stale_buffer,
)

#: Hugging Face file names of a sharded / single-file safetensors checkpoint and a pickle one.
SAFETENSORS_INDEX = "model.safetensors.index.json"
SAFETENSORS_FILE = "model.safetensors"
PICKLE_FILE = "pytorch_model.bin"
#: Key of the weights in an open_clip training checkpoint.
STATE_DICT_KEY = "state_dict"

_LOAD_ERRORS = (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError, KeyError)


class TensorSource(Protocol):
    """Named tensors of one file (or shard set): shapes first, data on demand."""

    path: Path
    ignored: list[str]

    def shapes(self) -> dict[str, Shape]:
        """Name -> shape of every tensor offered (ignored ones excluded)."""
        ...

    def load(
        self, names: Iterable[str], device: torch.device, dtype: torch.dtype
    ) -> dict[str, torch.Tensor]:
        """The named tensors; floating ones cast to ``dtype``, all moved to ``device``."""
        ...

    def drop(self, names: Iterable[str]) -> None:
        """Stop offering ``names`` (they join ``ignored``)."""
        ...


@dataclass
class SafetensorsSource:
    """Tensors of safetensors files; ``weight_map`` maps each name to its file."""

    path: Path
    weight_map: dict[str, Path]
    ignored: list[str] = field(default_factory=list)
    _shapes: dict[str, Shape] = field(default_factory=dict)

    def shapes(self) -> dict[str, Shape]:
        """Shapes from the file headers; checks that each file holds what the index says."""
        if not self._shapes:
            self._shapes = _safetensors_shapes(self.weight_map)
        return dict(self._shapes)

    def drop(self, names: Iterable[str]) -> None:
        """Stop offering ``names``."""
        for name in names:
            self.weight_map.pop(name, None)
            self._shapes.pop(name, None)
            self.ignored.append(name)

    def load(
        self, names: Iterable[str], device: torch.device, dtype: torch.dtype
    ) -> dict[str, torch.Tensor]:
        """Read ``names`` file by file, straight onto ``device``."""
        from safetensors import SafetensorError, safe_open

        by_file: dict[Path, list[str]] = defaultdict(list)
        for name in names:
            by_file[self.weight_map[name]].append(name)
        out: dict[str, torch.Tensor] = {}
        for path, chosen in sorted(by_file.items()):
            try:
                with safe_open(str(path), framework="pt", device=str(device)) as handle:
                    for name in chosen:
                        out[name] = _cast(handle.get_tensor(name), dtype)
            except (SafetensorError, OSError) as err:
                raise CheckpointError(path, f"cannot read safetensors data: {err}") from None
        return out


@dataclass
class StateDictSource:
    """Tensors already in memory (a ``torch.load``-ed state dict, keys as offered)."""

    path: Path
    tensors: dict[str, torch.Tensor]
    ignored: list[str] = field(default_factory=list)

    def shapes(self) -> dict[str, Shape]:
        """Shapes of the offered tensors."""
        return {name: tuple(t.shape) for name, t in self.tensors.items()}

    def drop(self, names: Iterable[str]) -> None:
        """Stop offering ``names``."""
        for name in names:
            self.tensors.pop(name, None)
            self.ignored.append(name)

    def load(
        self, names: Iterable[str], device: torch.device, dtype: torch.dtype
    ) -> dict[str, torch.Tensor]:
        """The named tensors on ``device``."""
        return {name: _cast(self.tensors[name].to(device), dtype) for name in names}


def open_checkpoint(checkpoint_dir: str | Path) -> SafetensorsSource:
    """GEM's weights in ``checkpoint_dir``: shards via ``model.safetensors.index.json``, or a
    single ``model.safetensors``.

    Raises
    ------
    MissingCheckpointFileError
        The directory, the weights or a shard the index names does not exist.
    CheckpointError
        A malformed index.
    """
    root = Path(checkpoint_dir)
    if not root.is_dir():
        raise MissingCheckpointFileError(root, "GEM checkpoint directory does not exist")
    return open_safetensors_dir(root, what="GEM checkpoint")


def open_safetensors_dir(root: Path, *, what: str) -> SafetensorsSource:
    """The safetensors weights of a Hugging Face model directory (sharded or single)."""
    index_path = root / SAFETENSORS_INDEX
    single = root / SAFETENSORS_FILE
    if index_path.is_file():
        return SafetensorsSource(index_path, _weight_map(index_path))
    if single.is_file():
        return SafetensorsSource(single, dict.fromkeys(_safetensors_keys(single), single))
    raise MissingCheckpointFileError(
        root, f"{what}: neither {SAFETENSORS_INDEX} nor {SAFETENSORS_FILE} is present"
    )


def open_ecg_coca(path: str | Path) -> StateDictSource:
    """GEM's ECG tower weights from its open_clip CoCa checkpoint (``cpt_wfep_epoch_20.pt``).

    Reads the file with ``torch.load(weights_only=True)``, takes ``state_dict`` (or the
    object itself when it is already a state dict) and keeps the ``module.ecg.`` tensors,
    prefix removed; the text tower, decoder and logit scale are listed in ``ignored``.

    Raises
    ------
    MissingCheckpointFileError
        ``path`` does not exist.
    CheckpointError
        Unreadable with ``weights_only=True``, no state dict, or no ``module.ecg.`` key (the
        message lists the prefixes found).
    """
    file = Path(path)
    if not file.is_file():
        raise MissingCheckpointFileError(file, "ECG tower (ECG-CoCa) file does not exist")
    state = _state_dict(file, "ECG tower (ECG-CoCa) file")
    ecg = {k[len(ECG_COCA_PREFIX) :]: v for k, v in state.items() if k.startswith(ECG_COCA_PREFIX)}
    if not ecg:
        prefixes = sorted({".".join(k.split(".")[:2]) + "." for k in state})
        raise CheckpointError(
            file,
            f"no ECG tower tensors: expected keys prefixed {ECG_COCA_PREFIX!r} (GEM's "
            f"ECG-CoCa checkpoint), found prefixes {prefixes[:8]}",
        )
    ignored = sorted(k for k in state if not k.startswith(ECG_COCA_PREFIX))
    return StateDictSource(file, ecg, ignored)


def open_clip_dir(path: str | Path) -> tuple[dict[str, Any], TensorSource | None]:
    """A local CLIP directory: its vision config and its vision weights (if it has any).

    Accepts a full ``CLIPModel`` directory (e.g. ``openai/clip-vit-large-patch14-336``
    downloaded beforehand: ``config.json`` + ``model.safetensors`` or ``pytorch_model.bin``)
    or a vision-only one. Text-side tensors are listed in ``ignored``; the vision tensors
    keep their ``vision_model.`` names.

    Raises
    ------
    MissingCheckpointFileError
        The directory or its ``config.json`` does not exist.
    CheckpointError
        Not a CLIP config, or unreadable weights.
    """
    root = Path(path)
    if not root.is_dir():
        raise MissingCheckpointFileError(root, "vision tower (CLIP) directory does not exist")
    config_path = root / "config.json"
    vision = vision_config_dict(read_json(config_path, what="CLIP config"), config_path)
    source: TensorSource
    if (root / SAFETENSORS_INDEX).is_file() or (root / SAFETENSORS_FILE).is_file():
        source = open_safetensors_dir(root, what="CLIP weights")
    elif (root / PICKLE_FILE).is_file():
        source = StateDictSource(
            root / PICKLE_FILE, _state_dict(root / PICKLE_FILE, "CLIP weights file")
        )
    else:
        return vision, None
    return vision, _vision_only(source)


def _vision_only(source: TensorSource) -> TensorSource:
    """Drop CLIP's text side and stale buffers from a CLIP directory's tensors."""
    names = source.shapes()
    source.drop(sorted(n for n in names if n.startswith(CLIP_TEXT_SIDE) or is_stale_buffer(n)))
    return source


def _state_dict(path: Path, what: str) -> dict[str, torch.Tensor]:
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except _LOAD_ERRORS as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(
            path,
            f"{what} cannot be read with torch.load(weights_only=True) ({first}); it must "
            "hold only tensors and plain containers: re-save its state_dict with torch.save",
        ) from None
    if isinstance(obj, Mapping) and isinstance(obj.get(STATE_DICT_KEY), Mapping):
        obj = obj[STATE_DICT_KEY]
    if not isinstance(obj, Mapping) or not obj:
        raise CheckpointError(path, f"{what} holds no state dict (a mapping of tensors)")
    return {str(k): v for k, v in obj.items() if isinstance(v, torch.Tensor)}


def _weight_map(index_path: Path) -> dict[str, Path]:
    data = read_json(index_path, what="safetensors index")
    raw = data.get("weight_map")
    if not isinstance(raw, dict) or not raw:
        raise CheckpointError(index_path, "safetensors index has no 'weight_map' object")
    root = index_path.parent
    weight_map: dict[str, Path] = {}
    for name, shard in raw.items():
        if not isinstance(shard, str) or Path(shard).name != shard:
            raise CheckpointError(index_path, f"tensor {name!r}: bad shard file name {shard!r}")
        weight_map[str(name)] = root / shard
    for shard_path in sorted(set(weight_map.values())):
        if not shard_path.is_file():
            n = sum(1 for p in weight_map.values() if p == shard_path)
            raise MissingCheckpointFileError(
                shard_path, f"shard named by {index_path.name} for {n} tensors does not exist"
            )
    return weight_map


def _safetensors_keys(path: Path) -> list[str]:
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as handle:
            return list(handle.keys())
    except (SafetensorError, OSError) as err:
        raise CheckpointError(path, f"not a readable safetensors file: {err}") from None


def _safetensors_shapes(weight_map: Mapping[str, Path]) -> dict[str, Shape]:
    from safetensors import SafetensorError, safe_open

    by_file: dict[Path, set[str]] = defaultdict(set)
    for name, path in weight_map.items():
        by_file[path].add(name)
    shapes: dict[str, Shape] = {}
    for path, listed in sorted(by_file.items()):
        try:
            with safe_open(str(path), framework="pt") as handle:
                held = set(handle.keys())
                absent = sorted(listed - held)
                if absent:
                    raise CheckpointError(
                        path, f"the index lists tensor {absent[0]!r} in this shard, which lacks it"
                    )
                for name in sorted(listed):
                    shapes[name] = tuple(handle.get_slice(name).get_shape())
        except (SafetensorError, OSError) as err:
            raise CheckpointError(path, f"not a readable safetensors file: {err}") from None
    return shapes


def _cast(tensor: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    return tensor.to(dtype) if tensor.is_floating_point() else tensor
