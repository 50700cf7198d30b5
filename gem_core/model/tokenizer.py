"""GEM's tokenizer: the checkpoint's SentencePiece model, LLaVA's image-token splice, streaming.

GEM loads its tokenizer with ``use_fast=False``: transformers' slow ``LlamaTokenizer``, a thin
layer over the SentencePiece model in ``tokenizer.model`` (BPE with byte fallback, ``<unk>``
= 0, ``<s>`` = 1, ``</s>`` = 2). :class:`GemTokenizer` reads that file with ``sentencepiece``
directly and reproduces what GEM feeds the model:

* text is split on the special-token strings (``<s>``, ``</s>``, ``<unk>``), which map to
  their ids; each piece in between is SentencePiece-encoded on its own. The text's first
  piece gets SentencePiece's dummy-prefix space; a piece that follows a special token gets
  it too only with ``legacy: true`` in ``tokenizer_config.json`` (transformers' default
  when the key is absent); LLaVA-1.5-style configs say ``legacy: false`` (``</s>USER``
  then tokenises ``USER`` without a leading space);
* :meth:`GemTokenizer.encode_prompt` is LLaVA's ``tokenizer_image_token``: the prompt is
  split on ``<image>``, each chunk tokenised separately, BOS once at the start, and
  :data:`IMAGE_TOKEN_ID` (-200) inserted between chunks as the multimodal placeholder.

:class:`IncrementalDecoder` turns generated ids into text deltas for streaming without
splitting a multi-byte character across byte-fallback tokens.

References
----------
Kudo T, Richardson J. "SentencePiece", EMNLP 2018 (demo). Liu H et al. (LLaVA-1.5), CVPR
2024: ``tokenizer_image_token``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import sentencepiece as spm

from gem_core.model.config import read_json
from gem_core.model.errors import CheckpointError, MissingCheckpointFileError
from gem_core.prompting import IMAGE_TOKEN

#: LLaVA's placeholder id for the multimodal embeddings (``IMAGE_TOKEN_INDEX``).
IMAGE_TOKEN_ID = -200
#: The SentencePiece model file every LLaMA/LLaVA/GEM checkpoint ships, and its settings.
TOKENIZER_FILE = "tokenizer.model"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
#: LLaMA's special-token ids (SentencePiece trainer settings of the original LLaMA model).
UNK_ID, BOS_ID, EOS_ID = 0, 1, 2
#: What decoding shows while a multi-byte character is incomplete.
_REPLACEMENT = "\ufffd"
#: Tokens re-decoded before the new ones, so a SentencePiece word boundary ("▁") at the
#: start of the new text becomes its space (vLLM / TGI use a few tokens likewise).
_DECODE_WINDOW = 6


class GemTokenizer:
    """A checkpoint's ``tokenizer.model`` with LLaVA's prompt splicing (module docstring).

    Parameters
    ----------
    model_file
        The SentencePiece model (``<checkpoint>/tokenizer.model``).
    legacy
        transformers' ``LlamaTokenizer(legacy=...)`` behaviour after special tokens.

    Raises
    ------
    MissingCheckpointFileError
        The file does not exist.
    CheckpointError
        It is not a SentencePiece model, or its special ids are not LLaMA's 0/1/2.
    """

    def __init__(self, model_file: str | Path, *, legacy: bool = True) -> None:
        path = Path(model_file)
        self.legacy = legacy
        if not path.is_file():
            raise MissingCheckpointFileError(path, "tokenizer model file does not exist")
        self.path = path
        try:
            self._sp = spm.SentencePieceProcessor(model_file=str(path))
        except (OSError, RuntimeError) as err:
            raise CheckpointError(path, f"not a SentencePiece model: {err}") from None
        ids = (self._sp.unk_id(), self._sp.bos_id(), self._sp.eos_id())
        if ids != (UNK_ID, BOS_ID, EOS_ID):
            raise CheckpointError(
                path, f"special ids (unk, bos, eos) are {ids}, LLaMA's are (0, 1, 2)"
            )
        self._special = {self._sp.id_to_piece(i): i for i in (UNK_ID, BOS_ID, EOS_ID)}
        self._split = re.compile("(" + "|".join(re.escape(s) for s in self._special) + ")")
        self._unk_prefix = self._sp.encode(self._sp.id_to_piece(UNK_ID))

    @property
    def vocab_size(self) -> int:
        """Pieces in the SentencePiece model (32000 for LLaMA/Vicuna)."""
        return int(self._sp.get_piece_size())

    @property
    def bos_id(self) -> int:
        """``<s>``."""
        return BOS_ID

    @property
    def eos_id(self) -> int:
        """``</s>``: ends an assistant turn; generation stops on it."""
        return EOS_ID

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` without BOS; special-token strings become their ids."""
        ids: list[int] = []
        after_special = False
        for piece in self._split.split(text):
            if not piece:
                continue
            if piece in self._special:
                ids.append(self._special[piece])
                after_special = True
                continue
            if after_special and not self.legacy:
                ids.extend(self._encode_without_prefix(piece))
            else:
                ids.extend(self._sp.encode(piece))
            after_special = False
        return ids

    def encode_prompt(self, prompt: str) -> list[int]:
        """LLaVA's ``tokenizer_image_token``: BOS, then the ``<image>``-separated chunks each
        tokenised alone, with :data:`IMAGE_TOKEN_ID` between them."""
        ids = [BOS_ID]
        for i, chunk in enumerate(prompt.split(IMAGE_TOKEN)):
            if i:
                ids.append(IMAGE_TOKEN_ID)
            ids.extend(self.encode(chunk))
        return ids

    def _encode_without_prefix(self, piece: str) -> list[int]:
        """``piece`` without the dummy-prefix space: encode ``"<unk>" + piece`` and drop the
        ``<unk>`` text's pieces (transformers' ``legacy=False`` trick)."""
        ids = self._sp.encode(self._sp.id_to_piece(UNK_ID) + piece)
        n = len(self._unk_prefix)
        if ids[:n] != self._unk_prefix:  # the piece merged into the marker: keep the space
            return list(self._sp.encode(piece))
        return list(ids[n:])

    def decode(self, ids: Sequence[int]) -> str:
        """Text of ``ids``, special tokens and the image placeholder skipped."""
        kept = [i for i in ids if i > EOS_ID]
        return str(self._sp.decode(kept))

    def id_to_piece(self, token_id: int) -> str:
        """The SentencePiece piece of one id (``▁The``, ``<0x0A>``)."""
        return str(self._sp.id_to_piece(token_id))

    def incremental(self) -> IncrementalDecoder:
        """A fresh streaming decoder over this tokenizer."""
        return IncrementalDecoder(self)


class IncrementalDecoder:
    """Text deltas of a growing token sequence; their concatenation equals ``decode(all)``.

    Each :meth:`push` re-decodes a short window of earlier tokens together with the new
    ones and returns only the new text, and holds text back while it ends in an incomplete
    multi-byte character (U+FFFD); :meth:`flush` returns what is held back at the end.
    """

    def __init__(self, tokenizer: GemTokenizer) -> None:
        self._tok = tokenizer
        self._ids: list[int] = []
        self._prefix = 0  # start of the re-decoded window
        self._read = 0  # tokens already turned into emitted text

    def push(self, token_id: int) -> str:
        """Add one generated id; return the text it completes (may be empty)."""
        self._ids.append(token_id)
        return self._advance(final=False)

    def flush(self) -> str:
        """All text not yet returned (call once, when the sequence is finished)."""
        return self._advance(final=True)

    def _advance(self, *, final: bool) -> str:
        if self._read == len(self._ids):
            return ""
        before = self._tok.decode(self._ids[self._prefix : self._read])
        after = self._tok.decode(self._ids[self._prefix :])
        if not final and (len(after) <= len(before) or after.endswith(_REPLACEMENT)):
            return ""
        delta = after[len(before) :]
        self._read = len(self._ids)
        self._prefix = max(0, self._read - _DECODE_WINDOW)
        return delta


def load_tokenizer(checkpoint_dir: str | Path) -> GemTokenizer:
    """The tokenizer of a GEM checkpoint directory: ``tokenizer.model``, with ``legacy``
    from ``tokenizer_config.json`` (default true, as transformers)."""
    root = Path(checkpoint_dir)
    legacy = True
    config_path = root / TOKENIZER_CONFIG_FILE
    if config_path.is_file():
        legacy = read_json(config_path, what="tokenizer config").get("legacy") is not False
    return GemTokenizer(root / TOKENIZER_FILE, legacy=legacy)
