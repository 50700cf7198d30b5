"""Errors of the GEM model side: a checkpoint that cannot be used as given.

Every message starts with the file (or directory) at fault and names the tensor or config key,
so a failed ``gem-agent serve`` start says exactly what to fix. No torch import here: callers
(the server, the CLI) can catch these without loading the model stack.
"""

from __future__ import annotations

from tools.errors import MissingFileError, RecordError


class CheckpointError(RecordError):
    """A GEM checkpoint, tower file or config is unusable: a missing, unexpected or
    mis-shaped tensor, a bad config key, an unreadable file."""


class MissingCheckpointFileError(CheckpointError, MissingFileError):
    """A checkpoint directory, shard, tower file or tokenizer file does not exist."""
