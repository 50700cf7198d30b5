"""Every prompt GEM is given, rendered in one place, and GEM's ``llava_v1`` conversation format.

* :func:`system_prompt`: GEM's system text (the ``llava_v1`` template's).
* :func:`interpret_prompt`: GEM's grounded-interpretation instruction, optionally preceded
  by a short context block (a measurement summary and similar cases).
* :func:`revise_prompt`: the verifier's findings, as a request to rewrite the interpretation.
* :func:`llava_v1`: ``"{system} USER: <image>\\n{question} ASSISTANT:"`` for in-process GEM.

Text that comes from outside the project (case reports and labels, the model's previous
answer, verifier quotes of it) is *untrusted*: :func:`quote_untrusted` strips control
characters, neutralises the markers that could close a quoted block, fake a conversation turn
or add an image placeholder (``<``/``>``, ``USER:``, ``ASSISTANT:``), caps its length and
JSON-quotes it.

The context must stay short: GEM's context is 4096 tokens, 677 of them taken by the ECG and
image embeddings and up to 1024 by the answer.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from prompts import PromptError, render_prompt
from tools.leads import STANDARD_LEADS
from tools.measure.model import GlobalMeasurements, Measurements, Statement

#: GEM's image placeholder: exactly one per conversation (LLaVA's token id -200).
IMAGE_TOKEN = "<image>"
#: ``llava_v1`` separators: after a user turn, after an assistant turn (EOS).
LLAVA_V1_SEP = " "
LLAVA_V1_SEP2 = "</s>"
LLAVA_V1_ROLES = ("USER", "ASSISTANT")

#: Upper bound of the context block (~500-600 tokens of number-heavy text), so the prompt,
#: the 677 ECG/image embeddings and a 1024-token answer fit GEM's 4096-token context.
MAX_CONTEXT_CHARS = 2000
#: Similar cases quoted in a prompt (the agent retrieves 5 by default).
MAX_PROMPT_CASES = 5
#: Labels quoted per case, and characters per label / report (a report's first sentence or two).
MAX_CASE_LABELS = 6
MAX_LABEL_CHARS = 60
MAX_REPORT_CHARS = 160
#: Characters of verifier feedback and of a quoted previous answer (~300 words, GEM's length).
MAX_FEEDBACK_CHARS = 1500
MAX_PREVIOUS_CHARS = 2400

_ROLE_MARKER = re.compile(r"\b(USER|ASSISTANT|SYSTEM|HUMAN|GPT)\s*:", re.IGNORECASE)
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r" ?\n[\s]*")
#: Unicode categories removed from untrusted text: controls, format (bidi overrides, zero
#: width), line and paragraph separators.
_CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})


class CaseLike(Protocol):
    """What prompts and backends read from a retrieved case (``tools.cases.SimilarCase``).

    ``labels`` items are objects or mappings with ``code``, ``vocabulary`` and ``name``;
    ``similarity`` or ``distance`` is read when present.
    """

    @property
    def case_id(self) -> str: ...

    @property
    def dataset(self) -> str | None: ...

    @property
    def labels(self) -> Sequence[Any]: ...

    @property
    def report(self) -> str | None: ...


# ---- clinician rounding ------------------------------------------------------------------------


def fmt_ms(value: float) -> str:
    """An interval to the millisecond: ``423 ms``."""
    return f"{round(value):d} ms"


def fmt_bpm(value: float) -> str:
    """A rate to the beat per minute: ``72 bpm``."""
    return f"{round(value):d} bpm"


def fmt_deg(value: float) -> str:
    """A frontal axis to the degree, signed: ``+60°``, ``-45°``, ``0°``."""
    degrees = round(value)
    return f"{degrees:+d}°" if degrees else "0°"


def round_mv(value: float) -> float:
    """An amplitude to 0.05 mV (half a small square at 10 mm/mV), as read off paper."""
    return round(round(value / 0.05) * 0.05, 2)


def fmt_mv(value: float) -> str:
    """An amplitude to 0.05 mV: ``0.2 mV``, ``0.15 mV``, ``1.35 mV``."""
    return f"{round_mv(value):g} mV"


def join_leads(leads: Sequence[str]) -> str:
    """``II, III and aVF`` (canonical order)."""
    order = {name: i for i, name in enumerate(STANDARD_LEADS)}
    ordered = sorted(leads, key=lambda name: order.get(name, len(order)))
    if len(ordered) <= 1:
        return "".join(ordered)
    return f"{', '.join(ordered[:-1])} and {ordered[-1]}"


# ---- untrusted text ----------------------------------------------------------------------------


def clean_text(text: str, max_chars: int, *, keep_newlines: bool = False) -> str:
    """Untrusted text made inert.

    NFKC-normalised; control and format characters become spaces (line breaks kept when
    ``keep_newlines``); ``<``/``>`` become ``‹``/``›`` (no block marker, ``<image>`` or
    ``</s>`` survives); role markers (``USER:``) lose their colon; runs of spaces collapse;
    the text is cut to ``max_chars`` with an ellipsis.
    """
    normal = unicodedata.normalize("NFKC", text)
    if keep_newlines:
        normal = normal.replace("\r\n", "\n")
    kept = "".join(
        ch
        if (ch == "\n" and keep_newlines) or unicodedata.category(ch) not in _CONTROL_CATEGORIES
        else " "
        for ch in normal
    )
    kept = kept.replace("<", "‹").replace(">", "›")
    kept = _ROLE_MARKER.sub(lambda m: f"{m.group(1)} -", kept)
    kept = _SPACES.sub(" ", kept)
    kept = _BLANK_LINES.sub("\n", kept).strip() if keep_newlines else kept.strip()
    if len(kept) > max_chars:
        kept = kept[: max_chars - 1].rstrip() + "…"
    return kept


def quote_untrusted(text: str, max_chars: int) -> str:
    """:func:`clean_text`, then JSON-quoted (``"..."``, inner quotes escaped)."""
    return json.dumps(clean_text(text, max_chars), ensure_ascii=False)


# ---- cases -------------------------------------------------------------------------------------


def case_labels(case: CaseLike) -> list[tuple[str, str]]:
    """``(code, name)`` of each label of a case (the name falls back to the code)."""
    result: list[tuple[str, str]] = []
    for label in case.labels or ():
        code = str(_attr(label, "code") or "").strip()
        name = str(_attr(label, "name") or "").strip() or code
        if name:
            result.append((code, name))
    return result


def _attr(item: object, key: str) -> object:
    return item.get(key) if isinstance(item, Mapping) else getattr(item, key, None)


def case_closeness(case: CaseLike) -> str | None:
    """``similarity 0.93`` or ``distance 0.12`` when the case carries one."""
    for attr in ("similarity", "distance"):
        value = getattr(case, attr, None)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return f"{attr} {value:.2f}"
    return None


def _case_line(index: int, case: CaseLike) -> str:
    parts = [f"dataset {quote_untrusted(str(case.dataset or 'unknown'), 40)}"]
    closeness = case_closeness(case)
    if closeness:
        parts.append(closeness)
    labels = case_labels(case)[:MAX_CASE_LABELS]
    if labels:
        quoted = ", ".join(quote_untrusted(name, MAX_LABEL_CHARS) for _, name in labels)
        parts.append(f"labels: {quoted}")
    if case.report:
        parts.append(f"report: {quote_untrusted(case.report, MAX_REPORT_CHARS)}")
    return f"<<case {index}>> {'; '.join(parts)} <</case>>"


# ---- measurement summary ----------------------------------------------------------------------


def measurement_summary(measurements: Measurements) -> str:
    """One compact line of the record's global measurements, statements and unusable leads."""
    g = measurements.global_
    parts = [p for p in (_rate_part(g), *interval_parts(g), _axis_part(g)) if p]
    text = "; ".join(parts) if parts else "no global measurement available"
    if measurements.statements:
        text += ". Criteria statements: " + "; ".join(
            _statement_label(s) for s in measurements.statements
        )
    unusable = [name for name in measurements.lead_names if name not in measurements.usable_leads]
    if unusable:
        text += f". Leads not usable: {join_leads(unusable)}"
    return text + "."


def _rate_part(g: GlobalMeasurements) -> str | None:
    if g.heart_rate_bpm is None:
        return None
    text = f"heart rate {fmt_bpm(g.heart_rate_bpm)}"
    if g.rr_min_ms is not None and g.rr_max_ms is not None:
        text += f" (RR {round(g.rr_min_ms)}-{fmt_ms(g.rr_max_ms)}, {g.n_beats} beats)"
    return text


#: Interval names: compact (prompt context) and prose (the criteria narrative), in that order.
_INTERVAL_NAMES: dict[str, tuple[str, str]] = {
    "p_duration_ms": ("P duration", "P-wave duration"),
    "pr_ms": ("PR", "PR interval"),
    "qrs_ms": ("QRS", "QRS duration"),
    "qt_ms": ("QT", "QT interval"),
}


def interval_parts(g: GlobalMeasurements, *, prose: bool = False) -> list[str]:
    """``"PR 160 ms"``-style parts for the global intervals and QTc (Bazett) that exist."""
    order = ("pr_ms", "p_duration_ms", "qrs_ms", "qt_ms") if prose else tuple(_INTERVAL_NAMES)
    named = [(_INTERVAL_NAMES[key][int(prose)], getattr(g, key)) for key in order]
    parts = [f"{label} {fmt_ms(v)}" for label, v in named if v is not None]
    if g.qtc_bazett_ms is not None:
        parts.append(f"QTc {fmt_ms(g.qtc_bazett_ms)} (Bazett)")
    return parts


def _axis_part(g: GlobalMeasurements) -> str | None:
    axes = (("P", g.p_axis_deg), ("QRS", g.qrs_axis_deg), ("T", g.t_axis_deg))
    known = [f"{label} {fmt_deg(v)}" for label, v in axes if v is not None]
    return f"axes {', '.join(known)}" if known else None


def _statement_label(statement: Statement) -> str:
    return (
        f"{statement.name} ({join_leads(statement.leads)})" if statement.leads else statement.name
    )


# ---- the prompts -------------------------------------------------------------------------------


def system_prompt() -> str:
    """GEM's system text (``llava_v1``'s), unchanged."""
    return render_prompt("gem_system")


def context_block(
    measurements: Measurements | None = None, cases: Sequence[CaseLike] | None = None
) -> str:
    """The context block (measurement summary, similar cases), at most MAX_CONTEXT_CHARS.

    Returns ``""`` when there is nothing to add. Cases that would overflow the budget are
    left out, last first.
    """
    sections: list[str] = []
    if measurements is not None:
        sections.append(
            render_prompt("context_measurements", summary=measurement_summary(measurements))
        )
    lines = [_case_line(i, case) for i, case in enumerate(cases or (), start=1)]
    lines = lines[:MAX_PROMPT_CASES]
    while True:
        parts = list(sections)
        if lines:
            parts.append(render_prompt("context_cases", cases="\n".join(lines)))
        block = render_prompt("context", sections="\n".join(parts)) if parts else ""
        if len(block) <= MAX_CONTEXT_CHARS or not lines:
            break
        lines.pop()
    return block[:MAX_CONTEXT_CHARS]


def interpret_prompt(
    *,
    measurements: Measurements | None = None,
    cases: Sequence[CaseLike] | None = None,
    include_context: bool,
) -> str:
    """GEM's grounded-interpretation instruction, with the context block before it if asked.

    With ``include_context=False`` (or nothing to add) this is exactly GEM's evaluation
    instruction, the prompt it was trained on.
    """
    instruction = render_prompt("gem_grounding")
    block = context_block(measurements, cases) if include_context else ""
    return render_prompt(
        "interpret", context=f"{block}\n\n" if block else "", instruction=instruction
    )


def revise_prompt(previous_text: str | None, feedback_text: str) -> str:
    """Ask for a rewrite that agrees with the measurements.

    Parameters
    ----------
    previous_text
        The previous answer, quoted in the prompt for single-turn use (in-process GEM);
        ``None`` when it is already the conversation's assistant turn (the endpoint).
    feedback_text
        The verifier's findings (contradicted claims with measured values).
    """
    previous = ""
    if previous_text is not None:
        quoted = clean_text(previous_text, MAX_PREVIOUS_CHARS, keep_newlines=True)
        previous = render_prompt("revise_previous", text=quoted) + "\n"
    feedback = clean_text(feedback_text, MAX_FEEDBACK_CHARS, keep_newlines=True)
    feedback = feedback or "(no details given)"
    return render_prompt("revise", previous=previous, feedback=feedback)


def llava_v1_conversation(system: str, turns: Sequence[str]) -> str:
    """A ``llava_v1`` conversation: user and assistant turns alternating, user first.

    The first user turn gets the ``<image>`` placeholder on its own line; each user turn is
    followed by a space, each assistant turn by ``</s>``; an odd number of turns ends with
    ``ASSISTANT:`` for the model to continue (Liu et al., LLaVA-1.5, ``conv_llava_v1``).

    Raises
    ------
    PromptError
        No turns, or a turn already holds ``<image>`` (GEM takes exactly one).
    """
    if not turns:
        raise PromptError("llava_v1: a conversation needs at least one user turn")
    for turn in turns:
        if IMAGE_TOKEN in turn:
            raise PromptError(f"llava_v1: turns must not contain {IMAGE_TOKEN}; it is added once")
    text = system + LLAVA_V1_SEP
    for i, message in enumerate(turns):
        role = LLAVA_V1_ROLES[i % 2]
        body = f"{IMAGE_TOKEN}\n{message}" if i == 0 else message
        text += f"{role}: {body}" + (LLAVA_V1_SEP if i % 2 == 0 else LLAVA_V1_SEP2)
    if len(turns) % 2 == 1:
        text += f"{LLAVA_V1_ROLES[1]}:"
    return text


def llava_v1(system: str, question: str) -> str:
    """GEM's prompt for one question: ``"{system} USER: <image>\\n{question} ASSISTANT:"``."""
    return llava_v1_conversation(system, [question])
