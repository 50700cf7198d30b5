"""The verifier's findings as instructions for a revision prompt."""

from __future__ import annotations

from agent.verify.model import ClaimCheck, Verification

#: Longest quotation of a claim in the feedback (characters).
MAX_QUOTE_CHARS = 200

_HEADER = (
    "The measurements of this ECG contradict the following statements in your interpretation. "
    "Rewrite each one so that it agrees with the measured values given (or remove it), and "
    "keep every other statement unchanged."
)


def _measured(check: ClaimCheck) -> str:
    value = check.measured
    if value is None:
        return "see the rule"
    if isinstance(value, float):
        return f"{value:g} {check.claim.unit or ''}".strip()
    if isinstance(value, list):
        unit = check.claim.unit or ""
        return ", ".join(f"{v:g}" for v in value) + (f" {unit}" if unit else "")
    return value


def _quote(text: str) -> str:
    flat = " ".join(text.split()).replace('"', "'")
    return flat if len(flat) <= MAX_QUOTE_CHARS else flat[: MAX_QUOTE_CHARS - 1] + "…"


def feedback_text(verification: Verification) -> str:
    """The contradicted claims, each with its measured values and the rule it failed.

    Parameters
    ----------
    verification
        The verifier's result for the previous draft.

    Returns
    -------
    str
        A numbered list of instructions under a one-paragraph header; the empty string when
        nothing was contradicted (nothing to revise).
    """
    contradicted = verification.contradicted
    if not contradicted:
        return ""
    lines = [_HEADER]
    for i, check in enumerate(contradicted, start=1):
        tolerance = f"; tolerance {check.tolerance}" if check.tolerance else ""
        lines.append(
            f'{i}. You wrote: "{_quote(check.claim.text)}". Measured: {_measured(check)}. '
            f"{check.detail} (check: {check.rule}{tolerance})"
        )
    return "\n".join(lines)
