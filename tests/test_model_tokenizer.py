"""GEM's tokenizer: LLaVA's image-token splice, special tokens, streaming detokenisation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from gem_core.model.errors import CheckpointError, MissingCheckpointFileError
from gem_core.model.tiny import train_tiny_tokenizer
from gem_core.model.tokenizer import (
    BOS_ID,
    EOS_ID,
    IMAGE_TOKEN_ID,
    GemTokenizer,
    load_tokenizer,
)
from gem_core.prompting import llava_v1, system_prompt


@pytest.fixture(scope="module")
def tok(tmp_path_factory: pytest.TempPathFactory) -> GemTokenizer:
    folder = tmp_path_factory.mktemp("tok")
    (folder / "tokenizer.model").write_bytes(train_tiny_tokenizer())
    return load_tokenizer(folder)


def _stream(tok: GemTokenizer, ids: list[int]) -> list[str]:
    decoder = tok.incremental()
    deltas = [decoder.push(i) for i in ids]
    return [*deltas, decoder.flush()]


class TestEncodePrompt:
    def test_llava_splice(self, tok: GemTokenizer) -> None:
        prompt = llava_v1(system_prompt(), "Interpret the ECG.")
        before, after = prompt.split("<image>")
        ids = tok.encode_prompt(prompt)
        assert ids == [BOS_ID, *tok.encode(before), IMAGE_TOKEN_ID, *tok.encode(after)]
        assert ids.count(BOS_ID) == 1 and ids.count(IMAGE_TOKEN_ID) == 1

    def test_chunks_tokenised_separately(self, tok: GemTokenizer) -> None:
        # LLaVA tokenises each chunk on its own: the text after <image> starts a new piece
        # with SentencePiece's dummy-prefix space, unlike tokenising the joined text.
        ids = tok.encode_prompt("USER: <image>\nHi")
        assert ids[ids.index(IMAGE_TOKEN_ID) + 1 :] == tok.encode("\nHi")

    def test_without_placeholder(self, tok: GemTokenizer) -> None:
        assert tok.encode_prompt("plain") == [BOS_ID, *tok.encode("plain")]

    def test_special_token_strings(self, tok: GemTokenizer) -> None:
        ids = tok.encode("answer</s>USER: next")
        assert ids.count(EOS_ID) == 1
        assert ids[: ids.index(EOS_ID)] == tok.encode("answer")


class TestLegacy:
    """transformers' ``legacy`` flag: the dummy-prefix space after a special token."""

    def test_legacy_adds_space_after_special(self, tok: GemTokenizer) -> None:
        assert tok.legacy  # no tokenizer_config.json: transformers' default
        ids = tok.encode("answer</s>USER: next")
        assert tok.id_to_piece(ids[ids.index(EOS_ID) + 1]).startswith("\u2581")

    def test_non_legacy_no_space_after_special(self, tok: GemTokenizer) -> None:
        strict = GemTokenizer(tok.path, legacy=False)
        ids = strict.encode("answer</s>USER: next")
        after = ids[ids.index(EOS_ID) + 1 :]
        assert not strict.id_to_piece(after[0]).startswith("\u2581")
        assert strict.decode(after) == "USER: next"
        assert ids[: ids.index(EOS_ID)] == tok.encode("answer")  # the first piece is unchanged

    def test_read_from_tokenizer_config(self, tok: GemTokenizer, tmp_path: Path) -> None:
        (tmp_path / "tokenizer.model").write_bytes(tok.path.read_bytes())
        (tmp_path / "tokenizer_config.json").write_text(json.dumps({"legacy": False}))
        assert not load_tokenizer(tmp_path).legacy


class TestDecode:
    def test_round_trip(self, tok: GemTokenizer) -> None:
        text = "QRS durations in lead I range from 92 to 132 ms."
        assert tok.decode(tok.encode(text)) == text

    def test_skips_specials_and_placeholder(self, tok: GemTokenizer) -> None:
        ids = [*tok.encode_prompt("A <image> B"), EOS_ID]
        assert tok.decode(ids) == tok.decode(tok.encode("A ") + tok.encode(" B"))
        assert tok.decode(ids).replace(" ", "") == "AB"

    def test_byte_fallback(self, tok: GemTokenizer) -> None:
        ids = tok.encode("€")
        assert len([i for i in ids if tok.id_to_piece(i).startswith("<0x")]) == 3
        assert tok.decode(ids) == "€"


class TestIncrementalDecoder:
    @pytest.mark.parametrize(
        "text",
        ["The ECG shows sinus rhythm.", "ST € 1.5 mm µV — T-wave", "a\nb  c", "€€ x €"],
    )
    def test_deltas_concatenate(self, tok: GemTokenizer, text: str) -> None:
        ids = tok.encode(text)
        deltas = _stream(tok, ids)
        assert "".join(deltas) == tok.decode(ids) == text

    def test_multibyte_never_split(self, tok: GemTokenizer) -> None:
        ids = tok.encode("x €")
        deltas = _stream(tok, ids)
        assert not any("\ufffd" in d for d in deltas)
        assert "€" in deltas  # emitted whole, by the token completing it

    def test_word_boundary_spaces(self, tok: GemTokenizer) -> None:
        deltas = [d for d in _stream(tok, tok.encode("The ECG shows")) if d]
        assert "".join(deltas) == "The ECG shows"
        assert any(d.startswith(" ") for d in deltas[1:])

    def test_incomplete_tail_flushed(self, tok: GemTokenizer) -> None:
        ids = tok.encode("€")[:2]  # the sequence ends inside the character
        deltas = _stream(tok, ids)
        assert deltas[:2] == ["", ""]
        assert deltas[-1] == tok.decode(ids) != ""

    def test_empty_flush(self, tok: GemTokenizer) -> None:
        assert tok.incremental().flush() == ""


class TestLoadTokenizer:
    def test_missing(self, tmp_path: Path) -> None:
        with pytest.raises(MissingCheckpointFileError, match=r"tokenizer\.model: tokenizer model"):
            load_tokenizer(tmp_path)

    def test_not_sentencepiece(self, tmp_path: Path) -> None:
        (tmp_path / "tokenizer.model").write_bytes(b"not a model")
        with pytest.raises(CheckpointError, match="not a SentencePiece model"):
            GemTokenizer(tmp_path / "tokenizer.model")
