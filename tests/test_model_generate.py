"""Static-batch generation: padding invariance, the KV cache, stopping, sampling, request checks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

import torch

from gem_core.engine import EngineError, PromptTooLong
from gem_core.model import LoadedGem
from gem_core.model.generate import check_request, generate
from gem_core.model.kvcache import (
    DecodeBatch,
    cache_layers,
    merge,
    new_cache,
    select_rows,
    trim,
)
from gem_core.model.sampling import RowSampling, sample_tokens
from tests.model_builders import QUESTIONS, make_request


@pytest.fixture
def layer_inputs(gem: LoadedGem) -> Iterator[list[tuple[int, int]]]:
    """(batch, tokens) of every call of the LLM's first decoder layer."""
    seen: list[tuple[int, int]] = []

    def hook(_module: object, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        hidden = args[0] if args else kwargs["hidden_states"]
        seen.append((int(hidden.shape[0]), int(hidden.shape[1])))

    handle = gem.model.llm.model.layers[0].register_forward_pre_hook(hook, with_kwargs=True)
    yield seen
    handle.remove()


class TestGenerate:
    def test_batch_equals_alone(self, gem: LoadedGem) -> None:
        requests = [
            make_request(f"r{i}", q, input_seed=i, max_new_tokens=10)
            for i, q in enumerate(QUESTIONS)
        ]
        together = generate(gem.model, gem.tokenizer, requests)
        lengths = {o.prompt_tokens for o in together}
        assert len(lengths) == 3  # really different lengths: left padding is exercised
        for request, out in zip(requests, together, strict=True):
            alone = generate(gem.model, gem.tokenizer, [request])[0]
            assert out.request_id == request.request_id
            assert out.token_ids == alone.token_ids
            assert len(set(out.token_ids)) > 1

    def test_kv_cache_one_token_per_decode_step(
        self, gem: LoadedGem, layer_inputs: list[tuple[int, int]]
    ) -> None:
        requests = [
            make_request(k, q, max_new_tokens=6) for k, q in zip("ab", QUESTIONS[:2], strict=True)
        ]
        outs = generate(gem.model, gem.tokenizer, requests)
        prefill, *decode = layer_inputs
        assert prefill == (2, max(o.prompt_tokens for o in outs))
        assert decode == [(2, 1)] * 5  # 6 tokens: 1 from the prefill, 5 decode steps

    def test_finished_rows_leave_the_batch(
        self, gem: LoadedGem, layer_inputs: list[tuple[int, int]]
    ) -> None:
        requests = [
            make_request("a", max_new_tokens=2),
            make_request("b", input_seed=1, max_new_tokens=4),
        ]
        outs = generate(gem.model, gem.tokenizer, requests)
        assert [o.completion_tokens for o in outs] == [2, 4]
        assert [b for b, _ in layer_inputs[1:]] == [2, 1, 1]

    def test_length(self, gem: LoadedGem) -> None:
        out = generate(gem.model, gem.tokenizer, [make_request("a", max_new_tokens=5)])[0]
        assert out.finish_reason == "length"
        assert out.completion_tokens == len(out.token_ids) == 5
        assert out.text == gem.tokenizer.decode(out.token_ids)

    def test_stop_token(self, gem: LoadedGem) -> None:
        first = generate(gem.model, gem.tokenizer, [make_request("a", max_new_tokens=6)])[0]
        stop = first.token_ids[3]
        out = generate(
            gem.model, gem.tokenizer, [make_request("a", max_new_tokens=6, stop_token_ids=(stop,))]
        )[0]
        cut = first.token_ids.index(stop) + 1
        assert out.finish_reason == "stop"
        assert out.token_ids == first.token_ids[:cut]
        assert out.text == gem.tokenizer.decode(first.token_ids[: cut - 1])

    def test_seeded_sampling_reproducible(self, gem: LoadedGem) -> None:
        def run(seed: int) -> list[int]:
            request = make_request("s", max_new_tokens=12, temperature=1.0, seed=seed)
            return generate(gem.model, gem.tokenizer, [request])[0].token_ids

        first = run(7)
        assert run(7) == first
        assert run(8) != first

    def test_tiny_top_p_is_greedy(self, gem: LoadedGem) -> None:
        greedy = generate(gem.model, gem.tokenizer, [make_request("g", max_new_tokens=6)])[0]
        nucleus = make_request("n", max_new_tokens=6, temperature=1.5, top_p=1e-6, seed=1)
        assert generate(gem.model, gem.tokenizer, [nucleus])[0].token_ids == greedy.token_ids


class TestCheckRequest:
    def test_prompt_tokens(self, gem: LoadedGem) -> None:
        request = make_request("a")
        checked = check_request(request, gem.model, gem.tokenizer)
        assert checked.prompt_tokens == len(gem.tokenizer.encode_prompt(request.prompt)) - 1 + 677

    @pytest.mark.parametrize(
        ("prompt", "found"), [("USER: hi ASSISTANT:", 0), ("<image> and <image>", 2)]
    )
    def test_placeholder_count(self, gem: LoadedGem, prompt: str, found: int) -> None:
        request = make_request("p")
        object.__setattr__(request, "prompt", prompt)
        with pytest.raises(EngineError, match=rf"'p': .*exactly one <image> .*found {found}"):
            check_request(request, gem.model, gem.tokenizer)

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("ecg", np.zeros((12, 4999), np.float32), r"ECG signal must have shape \[12, 5000\]"),
            ("ecg", np.zeros((12, 5000), np.int16), "ECG signal must be float"),
            ("ecg", np.full((12, 5000), np.nan, np.float32), "ECG signal holds 60000 NaN/Inf"),
            ("ecg", [[0.0] * 5000] * 12, "ECG signal must be a numpy array"),
            ("image", np.zeros((3, 224, 224), np.float32), r"image must have shape \[3, 336,"),
            ("image", np.full((3, 336, 336), np.inf, np.float32), "image holds"),
        ],
    )
    def test_bad_inputs(self, gem: LoadedGem, field: str, value: object, message: str) -> None:
        request = make_request("bad")
        object.__setattr__(request, field, value)
        with pytest.raises(EngineError, match=rf"request 'bad': {message}"):
            check_request(request, gem.model, gem.tokenizer)

    @pytest.mark.parametrize(
        ("params", "message"),
        [
            ({"max_new_tokens": 0}, "max_new_tokens must be >= 1"),
            ({"temperature": -1.0}, "temperature must be >= 0"),
            ({"temperature": float("nan")}, "temperature must be >= 0"),
            ({"top_p": 0.0}, r"top_p must be in \(0, 1\]"),
            ({"stop_token_ids": (10**6,)}, "outside the vocabulary"),
        ],
    )
    def test_bad_params(self, gem: LoadedGem, params: dict[str, object], message: str) -> None:
        with pytest.raises(EngineError, match=message):
            check_request(make_request("x", **params), gem.model, gem.tokenizer)  # type: ignore[arg-type]

    def test_too_long(self, gem: LoadedGem) -> None:
        with pytest.raises(PromptTooLong, match=r"'long': .*677 of them.*exceeds the context"):
            check_request(make_request("long", max_new_tokens=4000), gem.model, gem.tokenizer)


class TestSampleTokens:
    def test_greedy(self) -> None:
        logits = torch.tensor([[0.0, 2.0, 1.0], [3.0, 0.0, 0.0]])
        rows = [RowSampling(0.0, 1.0, None)] * 2
        assert sample_tokens(logits, rows) == [1, 0]

    def test_nucleus_keeps_the_top_set(self) -> None:
        probs = torch.tensor([[0.5, 0.3, 0.15, 0.05]])
        logits = probs.log().repeat(200, 1)
        generator = torch.Generator().manual_seed(0)
        rows = [RowSampling(1.0, 0.8, generator)] * 200
        drawn = set(sample_tokens(logits, rows))
        assert drawn == {0, 1}  # 0.5 + 0.3 reaches 0.8: tokens 2 and 3 are cut

    def test_mixed_rows(self) -> None:
        logits = torch.tensor([[0.0, 5.0], [0.0, -50.0]])
        generator = torch.Generator().manual_seed(1)
        rows = [RowSampling(0.0, 1.0, None), RowSampling(1.0, 1.0, generator)]
        assert sample_tokens(logits, rows) == [1, 0]

    def test_row_count(self) -> None:
        with pytest.raises(ValueError, match="2 logit rows but 1"):
            sample_tokens(torch.zeros(2, 3), [RowSampling(0.0, 1.0, None)])


def _batch(lengths: list[int], columns: int, value: float) -> DecodeBatch:
    """A 2-layer cache whose real columns hold ``value + row``; padding is zero."""
    keys = torch.zeros(len(lengths), 1, columns, 2)
    mask = torch.zeros(len(lengths), columns, dtype=torch.long)
    for row, n in enumerate(lengths):
        keys[row, :, columns - n :] = value + row
        mask[row, columns - n :] = 1
    return DecodeBatch(new_cache([(keys, keys.clone())] * 2), mask, list(lengths))


class TestKvCache:
    def test_merge_left_pads(self) -> None:
        merged = merge(_batch([3], 3, 1.0), _batch([5, 2], 5, 10.0))
        assert merged.lengths == [3, 5, 2]
        assert merged.attention_mask.tolist() == [[0, 0, 1, 1, 1], [1] * 5, [0, 0, 0, 1, 1]]
        keys = cache_layers(merged.cache)[1][0]
        assert keys[0, 0, :, 0].tolist() == [0, 0, 1, 1, 1]
        assert keys[2, 0, :, 0].tolist() == [0, 0, 0, 11, 11]

    def test_select_trims_shared_padding(self) -> None:
        kept = select_rows(_batch([6, 2, 3], 6, 0.0), [2, 1])
        assert kept.lengths == [3, 2]
        assert kept.columns == 3
        assert kept.attention_mask.tolist() == [[1, 1, 1], [0, 1, 1]]
        assert cache_layers(kept.cache)[0][0][0, 0, :, 0].tolist() == [2, 2, 2]

    def test_trim_threshold(self) -> None:
        batch = _batch([2, 3], 40, 1.0)
        assert trim(batch, min_columns=38).columns == 40
        trimmed = trim(batch, min_columns=37)
        assert trimmed.columns == 3 and trimmed.lengths == [2, 3]

    def test_positions_and_advance(self) -> None:
        batch = _batch([2, 4], 4, 0.0)
        assert batch.positions().tolist() == [[2], [4]]
        batch.advance(batch.extended_mask())
        assert batch.lengths == [3, 5] and batch.columns == 5
