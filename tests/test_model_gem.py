"""The GEM model: write -> load fidelity, the [ECG ; image] splice, towers, missing modalities."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

import torch

from gem_core.model import LoadedGem, load_gem, make_tiny_checkpoint
from gem_core.model.gem import GemModel, build_projector
from gem_core.model.generate import check_request, prefill
from gem_core.model.tiny import TINY_ECG_TOWER, tiny_gem
from gem_core.model.tokenizer import IMAGE_TOKEN_ID
from tests.model_builders import QUESTIONS, make_request

SEED = 3


@pytest.fixture(scope="module")
def gem(tmp_path_factory: pytest.TempPathFactory) -> LoadedGem:
    tiny = make_tiny_checkpoint(tmp_path_factory.mktemp("tiny"), seed=SEED)
    return load_gem(tiny.checkpoint_dir)


def _inputs(batch: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    signal = torch.randn(batch, 12, 5000, generator=generator) * 0.5
    pixels = torch.randn(batch, 3, 336, 336, generator=generator)
    return signal, pixels


def _last_logits(model: GemModel, ids: list[list[int]], seed: int = 0) -> torch.Tensor:
    from gem_core.model.kvcache import new_cache

    signal, pixels = _inputs(len(ids), seed)
    with torch.inference_mode():
        prompt = model.prompt_embeds(ids, model.multimodal_embeds(signal, pixels))
        return model.forward_llm(
            cache=new_cache(),
            attention_mask=prompt.attention_mask,
            position_ids=prompt.position_ids,
            inputs_embeds=prompt.embeds,
        )


class TestWriteLoad:
    def test_same_logits_as_in_memory_model(self, gem: LoadedGem) -> None:
        ids = [gem.tokenizer.encode_prompt(make_request("a", q).prompt) for q in QUESTIONS]
        loaded = _last_logits(gem.model, ids)
        memory = _last_logits(tiny_gem(SEED), ids)
        assert (loaded - memory).abs().max().item() < 1e-5

    def test_other_seed_differs(self, gem: LoadedGem) -> None:
        ids = [gem.tokenizer.encode_prompt(make_request("a").prompt)]
        other = _last_logits(tiny_gem(SEED + 1), ids)
        assert (_last_logits(gem.model, ids) - other).abs().max().item() > 1e-2

    @pytest.mark.parametrize("dtype", ["bf16", "fp16"])
    def test_half_precision(self, gem: LoadedGem, dtype: str) -> None:
        half = load_gem(gem.checkpoint_dir, dtype=dtype)
        assert half.model.dtype == {"bf16": torch.bfloat16, "fp16": torch.float16}[dtype]
        assert half.model.llm.model.rotary_emb.inv_freq.dtype == torch.float32  # recomputed
        ids = [gem.tokenizer.encode_prompt(make_request("a").prompt)]
        low = _last_logits(half.model, ids).float()
        full = _last_logits(gem.model, ids)
        assert torch.nn.functional.cosine_similarity(low, full).item() > 0.99

    def test_counts(self, gem: LoadedGem) -> None:
        assert gem.model.n_ecg_tokens == 101
        assert gem.model.n_image_tokens == 576
        assert gem.model.n_multimodal_tokens == 677


class TestPromptEmbeds:
    def test_ecg_then_image_at_the_placeholder(self, gem: LoadedGem) -> None:
        model = gem.model
        short = gem.tokenizer.encode_prompt("USER: <image>\nHi ASSISTANT:")
        long = gem.tokenizer.encode_prompt(make_request("a", QUESTIONS[1]).prompt)
        signal, pixels = _inputs(2)
        with torch.inference_mode():
            ecg = model.encode_ecg(signal)
            image = model.encode_image(pixels)
            batch = model.prompt_embeds([short, long], torch.cat([ecg, image], dim=1))
            embed = model.llm.get_input_embeddings()
        width = batch.embeds.shape[1]
        for row, ids in enumerate([short, long]):
            at = ids.index(IMAGE_TOKEN_ID)
            start = width - batch.lengths[row]  # left padding
            assert batch.lengths[row] == len(ids) - 1 + 677
            head = batch.embeds[row, start : start + at]
            torch.testing.assert_close(head, embed(torch.tensor(ids[:at])))
            mm = start + at
            torch.testing.assert_close(batch.embeds[row, mm : mm + 101], ecg[row])
            torch.testing.assert_close(batch.embeds[row, mm + 101 : mm + 677], image[row])
            tail = embed(torch.tensor(ids[at + 1 :]))
            torch.testing.assert_close(batch.embeds[row, mm + 677 :], tail)
            assert batch.attention_mask[row, :start].sum() == 0
            assert bool(batch.attention_mask[row, start:].all())
            assert batch.embeds[row, :start].abs().sum() == 0
            assert batch.position_ids[row, start].item() == 0
            assert batch.position_ids[row, -1].item() == batch.lengths[row] - 1

    @pytest.mark.parametrize("ids", [[1, 5, 6], [1, IMAGE_TOKEN_ID, 5, IMAGE_TOKEN_ID]])
    def test_placeholder_count(self, gem: LoadedGem, ids: list[int]) -> None:
        mm = torch.zeros(1, 677, gem.config.hidden_size)
        with pytest.raises(ValueError, match="GEM needs exactly one"):
            gem.model.prompt_embeds([ids], mm)

    def test_batch_mismatch(self, gem: LoadedGem) -> None:
        with pytest.raises(ValueError, match="2 prompts but 1 multimodal rows"):
            gem.model.prompt_embeds([[1, IMAGE_TOKEN_ID]] * 2, torch.zeros(1, 677, 64))


class TestEcgTower:
    def test_shape(self, gem: LoadedGem) -> None:
        signal, _ = _inputs(2)
        with torch.inference_mode():
            out = gem.model.ecg_tower(signal)
        assert tuple(out.shape) == (2, 101, TINY_ECG_TOWER["width"])

    def test_batch_rows_independent(self, gem: LoadedGem) -> None:
        # Sequence-first attention inside the blocks: mixing up the batch and token axes
        # would make one signal's output depend on the other's.
        signal, _ = _inputs(2)
        with torch.inference_mode():
            both = gem.model.ecg_tower(signal)
            alone = gem.model.ecg_tower(signal[1:])
        torch.testing.assert_close(both[1:], alone, rtol=1e-5, atol=1e-5)

    def test_patch_order(self, gem: LoadedGem) -> None:
        # Changing only the last 0.1 s changes only the last patch token at the stem.
        signal, _ = _inputs(1)
        changed = signal.clone()
        changed[..., -50:] += 1.0
        with torch.inference_mode():
            a = gem.model.ecg_tower.conv1(signal)
            b = gem.model.ecg_tower.conv1(changed)
        assert torch.equal(a[..., :-1], b[..., :-1])
        assert not torch.equal(a[..., -1], b[..., -1])


class TestVisionTower:
    def test_layer_minus_two(self, gem: LoadedGem) -> None:
        # GEM reads layer -2: the last CLIP layer must not matter, the first must.
        _, pixels = _inputs(1)
        tower: Any = gem.model.vision_tower
        layers = (tower.vision_model if hasattr(tower, "vision_model") else tower).encoder.layers
        with torch.inference_mode():
            before = gem.model.encode_image(pixels)
            changed = [_perturbed(gem.model, layer, pixels) for layer in (layers[-1], layers[0])]
        torch.testing.assert_close(changed[0], before)
        assert (changed[1] - before).abs().max().item() > 1e-3
        assert tuple(before.shape) == (1, 576, gem.config.hidden_size)


def _perturbed(model: GemModel, layer: torch.nn.Module, pixels: torch.Tensor) -> torch.Tensor:
    """encode_image with ``layer``'s parameters shifted, then restored exactly."""
    saved = [p.clone() for p in layer.parameters()]
    for p in layer.parameters():
        p.add_(0.5)
    out = model.encode_image(pixels)
    for p, s in zip(layer.parameters(), saved, strict=True):
        p.copy_(s)
    return out


class TestMissingModality:
    @pytest.mark.parametrize("missing", ["ecg", "image"])
    def test_none_is_zeros(self, gem: LoadedGem, missing: str) -> None:
        full = make_request("a", input_seed=1)
        leave_out: dict[str, Any] = {f"with_{missing}": False}
        absent = make_request("b", input_seed=1, **leave_out)
        zeros = getattr(full, missing) * 0
        explicit = make_request("c", input_seed=1)
        object.__setattr__(explicit, missing, zeros)
        with torch.inference_mode():
            checked = [check_request(r, gem.model, gem.tokenizer) for r in (absent, explicit, full)]
            logits, _ = prefill(gem.model, checked)
        torch.testing.assert_close(logits[0], logits[1], rtol=1e-5, atol=1e-5)
        assert (logits[0] - logits[2]).abs().max().item() > 1e-4


class TestBuildProjector:
    def test_mlp2x_gelu_layout(self) -> None:
        proj = build_projector("mlp2x_gelu", 8, 16)
        assert isinstance(proj, torch.nn.Sequential)
        assert sorted(proj.state_dict()) == ["0.bias", "0.weight", "2.bias", "2.weight"]
        assert isinstance(proj[1], torch.nn.GELU)

    def test_linear_layout(self) -> None:
        assert sorted(build_projector("linear", 8, 16).state_dict()) == ["bias", "weight"]
