"""Prompt templates as text files, loaded by name and rendered in one place.

Templates live in ``prompts/templates/<name>.txt`` and use ``$slot`` placeholders
(:class:`string.Template` syntax). Rendering fails loudly on a missing or unknown slot.
"""

from __future__ import annotations

import string
from functools import cache
from importlib import resources


class PromptError(Exception):
    """A template is missing, or rendering got missing/unknown slots."""


@cache
def load_prompt(name: str) -> str:
    """Text of template ``name`` (without the ``.txt`` suffix), trailing newline stripped."""
    path = resources.files(__package__).joinpath("templates", f"{name}.txt")
    if not path.is_file():
        available = sorted(
            p.name.removesuffix(".txt")
            for p in resources.files(__package__).joinpath("templates").iterdir()
        )
        raise PromptError(f"no prompt template {name!r}; available: {', '.join(available)}")
    return path.read_text(encoding="utf-8").rstrip("\n")


def template_slots(name: str) -> set[str]:
    """Named slots (``$slot``) used by template ``name``."""
    return set(string.Template(load_prompt(name)).get_identifiers())


def render_prompt(name: str, **slots: str) -> str:
    """Render template ``name`` with exactly its slots; extra or missing slots are errors."""
    needed = template_slots(name)
    missing, unknown = needed - slots.keys(), slots.keys() - needed
    if missing or unknown:
        raise PromptError(
            f"prompt {name!r}: missing slots {sorted(missing)}, unknown slots {sorted(unknown)}"
        )
    return string.Template(load_prompt(name)).substitute(slots)
