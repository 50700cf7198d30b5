"""Stop strings on a token stream: text is released only once no stop string can start in it.

OpenAI's ``stop``: generation ends where the text first contains one of the strings, which
is not returned. Text is streamed as it is decoded, so a suffix that could be the start of a
stop string is held back until the next delta settles it.
"""

from __future__ import annotations

from collections.abc import Sequence


class StopChecker:
    """Feed text deltas; get the text safe to release and whether a stop string was hit.

    >>> checker = StopChecker(["\\nUSER"])
    >>> checker.push("Sinus rhythm.\\nUS")
    ('Sinus rhythm.', False)
    >>> checker.push("ER: more")
    ('', True)
    """

    def __init__(self, stops: Sequence[str] = ()) -> None:
        self.stops = tuple(s for s in stops if s)
        self._held = ""
        self.stopped = False

    def push(self, delta: str) -> tuple[str, bool]:
        """Release what ``delta`` makes safe; ``True`` once a stop string is found."""
        if self.stopped:
            return "", True
        text = self._held + delta
        hits = [i for i in (text.find(stop) for stop in self.stops) if i >= 0]
        if hits:
            self._held = ""
            self.stopped = True
            return text[: min(hits)], True
        keep = self._longest_partial(text)
        self._held = text[len(text) - keep :] if keep else ""
        return text[: len(text) - keep], False

    def flush(self) -> str:
        """The held-back text, at the end of generation (no stop string came)."""
        held, self._held = self._held, ""
        return "" if self.stopped else held

    def _longest_partial(self, text: str) -> int:
        """Length of the longest suffix of ``text`` that is a proper prefix of a stop string."""
        best = 0
        for stop in self.stops:
            for n in range(min(len(stop) - 1, len(text)), best, -1):
                if text.endswith(stop[:n]):
                    best = n
                    break
        return best
