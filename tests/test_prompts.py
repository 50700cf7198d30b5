"""Prompt templates load by name and render with exactly their slots."""

from __future__ import annotations

import pytest

from prompts import PromptError, load_prompt, render_prompt, template_slots


def test_gem_system_text() -> None:
    assert load_prompt("gem_system").startswith("A chat between a curious human")
    assert load_prompt("gem_system").endswith("answers to the human's questions.")


def test_gem_grounding_instruction() -> None:
    text = render_prompt("gem_grounding")
    assert text.startswith("Interpret the provided ECG image")
    assert template_slots("gem_grounding") == set()


def test_missing_template() -> None:
    with pytest.raises(PromptError, match=r"no prompt template 'nope'.*gem_system"):
        load_prompt("nope")


def test_unknown_slot() -> None:
    with pytest.raises(PromptError, match="unknown slots \\['extra'\\]"):
        render_prompt("gem_grounding", extra="x")
