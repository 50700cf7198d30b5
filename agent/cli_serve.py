"""``gem-agent serve``: GEM behind an OpenAI-compatible, continuous-batching HTTP server.

torch and transformers are imported only when the command runs (``--help`` works without
them); the server code itself lives in :mod:`gem_core.serve`.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from agent.cli_common import console, err_console, record_errors
from gem_core import GEM_MODEL_ID

if TYPE_CHECKING:
    from gem_core.engine import Engine

#: Defaults of the size options (mirrors gem_core.serve.settings without importing it).
DEFAULT_MAX_BATCH = 32
DEFAULT_MODEL_NAME = GEM_MODEL_ID
DEFAULT_MAX_QUEUE = 256
DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024


class Device(StrEnum):
    """Where the model runs."""

    cuda = "cuda"
    cpu = "cpu"


class KVCache(StrEnum):
    """The running batch's KV cache (gem_core.model.running)."""

    dynamic = "dynamic"
    static = "static"


class DType(StrEnum):
    """Weights and activations precision."""

    bf16 = "bf16"
    fp16 = "fp16"
    fp32 = "fp32"


def _load_engine(
    checkpoint: Path,
    ecg_tower: Path,
    vision_tower: Path,
    *,
    device: str,
    dtype: str,
    max_batch: int,
    max_queue: int,
    kv_cache: str = "dynamic",
    max_context: int | None = None,
) -> Engine:
    """GEM's engine (imports torch/transformers; tests replace this function)."""
    try:
        from gem_core.model import load_engine
    except ImportError as err:
        err_console.print(
            f"[bold red]error:[/] serving needs torch and transformers ({err}); install them "
            "with: pip install 'gem-agent[gpu]'"
        )
        raise typer.Exit(code=2) from None
    from gem_core.engine import EngineError

    try:
        engine: Engine = load_engine(
            checkpoint,
            ecg_tower=ecg_tower,
            vision_tower=vision_tower,
            device=device,
            dtype=dtype,
            max_batch=max_batch,
            max_queue=max_queue,
            kv_cache=kv_cache,  # type: ignore[arg-type]
            max_context=max_context,
        )
    except (ValueError, EngineError) as err:  # bad settings, or a cache that does not fit
        err_console.print(f"[bold red]error:[/] {err}")
        raise typer.Exit(code=2) from None
    return engine


def _run(app: object, host: str, port: int) -> None:
    """Serve until interrupted (tests replace this function)."""
    from gem_core.serve import run_server

    run_server(app, host, port)  # type: ignore[arg-type]


def _api_key(api_key_env: str | None) -> str | None:
    if api_key_env is None:
        return None
    key = os.environ.get(api_key_env, "").strip()
    if not key:
        err_console.print(
            f"[bold red]error:[/] --api-key-env {api_key_env}: that environment variable is "
            "unset or empty; export the key there, or leave the option out to serve without "
            "authentication"
        )
        raise typer.Exit(code=2)
    return key


CheckpointOpt = Annotated[
    Path,
    typer.Option(
        exists=True,
        file_okay=False,
        help="GEM checkpoint folder (config.json, safetensors shards + index, tokenizer files).",
    ),
]
EcgTowerOpt = Annotated[
    Path, typer.Option(exists=True, dir_okay=False, help="ECG-CoCa weights (.pt).")
]
VisionTowerOpt = Annotated[
    Path, typer.Option(exists=True, file_okay=False, help="Local CLIP ViT-L/14-336 folder.")
]
DeviceOpt = Annotated[Device, typer.Option(help="Where the model runs.")]
DTypeOpt = Annotated[
    DType | None, typer.Option(help="Precision (default: bf16 on cuda, fp32 on cpu).")
]
HostOpt = Annotated[str, typer.Option(help="Address to listen on.")]
PortOpt = Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")]
ApiKeyEnvOpt = Annotated[
    str | None,
    typer.Option(
        help="Environment variable holding the key clients must send as "
        "'Authorization: Bearer <key>' (default: no authentication)."
    ),
]
MaxBatchOpt = Annotated[int, typer.Option(min=1, help="Most requests decoded together.")]
MaxQueueOpt = Annotated[
    int, typer.Option(min=0, help="Requests that may wait beyond --max-batch; then HTTP 429.")
]
MaxBodyOpt = Annotated[
    int, typer.Option(min=1024, help="Largest request body in bytes; larger gets HTTP 413.")
]
KVCacheOpt = Annotated[
    KVCache,
    typer.Option(
        help="KV cache: 'static' pre-allocates max-batch x max-context positions and replays "
        "decode steps from CUDA graphs on a GPU (fastest); 'dynamic' grows per request."
    ),
]
MaxContextOpt = Annotated[
    int | None,
    typer.Option(
        min=1, help="Most tokens per request (prompt + 677 ECG/image + answer); default 4096."
    ),
]
ModelNameOpt = Annotated[
    str | None,
    typer.Option(help="Model id served and required in requests (the agent's default id)."),
]


def serve(
    checkpoint: CheckpointOpt,
    ecg_tower: EcgTowerOpt,
    vision_tower: VisionTowerOpt,
    device: DeviceOpt = Device.cuda,
    dtype: DTypeOpt = None,
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8000,
    api_key_env: ApiKeyEnvOpt = None,
    max_batch: MaxBatchOpt = DEFAULT_MAX_BATCH,
    max_queue: MaxQueueOpt = DEFAULT_MAX_QUEUE,
    max_body_bytes: MaxBodyOpt = DEFAULT_MAX_BODY_BYTES,
    model_name: ModelNameOpt = DEFAULT_MODEL_NAME,
    kv_cache: KVCacheOpt = KVCache.dynamic,
    max_context: MaxContextOpt = None,
) -> None:
    """Serve GEM over an OpenAI-compatible HTTP API with continuous batching."""
    key = _api_key(api_key_env)
    precision = (dtype or (DType.bf16 if device is Device.cuda else DType.fp32)).value
    with record_errors():
        engine = _load_engine(
            checkpoint,
            ecg_tower,
            vision_tower,
            device=device.value,
            dtype=precision,
            max_batch=max_batch,
            max_queue=max_queue,
            kv_cache=kv_cache.value,
            max_context=max_context,
        )
    from gem_core.serve import ServeSettings, create_app

    settings = ServeSettings(
        model_name=model_name, api_key=key, max_body_bytes=max_body_bytes, max_queue=max_queue
    )
    app = create_app(engine, settings)
    served = model_name or engine.model_name
    auth = f"key from ${api_key_env}" if api_key_env else "no authentication"
    console.print(
        f"serving {served} ({device.value}, {precision}, max batch {max_batch}, "
        f"{kv_cache.value} KV cache, {auth}) at "
        f"http://{host}:{port}/v1"
    )
    _run(app, host, port)
