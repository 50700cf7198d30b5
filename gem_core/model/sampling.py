"""Next-token choice for a batch: greedy rows and sampled rows (temperature, nucleus top-p).

Each sampled row draws from its own ``torch.Generator`` (seeded per request), so a request's
tokens do not depend on which other requests share its batch. One host sync per call.

References
----------
Holtzman A et al. "The Curious Case of Neural Text Degeneration", ICLR 2020 (nucleus / top-p
sampling).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class RowSampling:
    """One row's settings: ``temperature == 0`` is greedy; ``generator`` drives sampling."""

    temperature: float
    top_p: float
    generator: torch.Generator | None


def request_generator(seed: int | None, device: torch.device) -> torch.Generator:
    """A generator on ``device`` seeded with ``seed`` (a random seed when ``None``)."""
    generator = torch.Generator(device=device)
    generator.manual_seed(seed if seed is not None else secrets.randbits(63))
    return generator


def sample_tokens(logits: torch.Tensor, rows: Sequence[RowSampling]) -> list[int]:
    """The next token of each row of ``logits`` ``[B, V]``.

    Greedy rows take the arg-max. Sampled rows divide the logits by their temperature,
    keep the smallest set of most likely tokens whose probability reaches ``top_p``
    (Holtzman et al. 2020), renormalise and draw with the row's generator.
    """
    if logits.shape[0] != len(rows):
        raise ValueError(f"{logits.shape[0]} logit rows but {len(rows)} sampling settings")
    chosen = logits.argmax(dim=-1)
    sampled = [i for i, row in enumerate(rows) if row.temperature > 0]
    if sampled:
        index = torch.tensor(sampled, device=logits.device)
        temps = torch.tensor([rows[i].temperature for i in sampled], device=logits.device)
        top_p = torch.tensor([rows[i].top_p for i in sampled], device=logits.device)
        probs = _nucleus(torch.softmax(logits[index].float() / temps[:, None], dim=-1), top_p)
        draws = [
            torch.multinomial(probs[j], 1, generator=rows[i].generator)
            for j, i in enumerate(sampled)
        ]
        chosen = chosen.index_copy(0, index, torch.cat(draws))
    return [int(t) for t in chosen.tolist()]


def _nucleus(probs: torch.Tensor, top_p: torch.Tensor) -> torch.Tensor:
    """Zero every token outside each row's top-p set and renormalise."""
    ordered, order = probs.sort(dim=-1, descending=True)
    before = ordered.cumsum(dim=-1) - ordered
    ordered = torch.where(before < top_p[:, None], ordered, torch.zeros_like(ordered))
    kept = torch.zeros_like(probs).scatter(-1, order, ordered)
    return kept / kept.sum(dim=-1, keepdim=True)
