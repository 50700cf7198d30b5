"""Stop strings on a token stream (gem_core.serve.stops.StopChecker)."""

from __future__ import annotations

import pytest

from gem_core.serve.stops import StopChecker


def _run(stops: list[str], deltas: list[str]) -> tuple[str, bool]:
    checker = StopChecker(stops)
    out = []
    for delta in deltas:
        text, hit = checker.push(delta)
        out.append(text)
        if hit:
            return "".join(out), True
    out.append(checker.flush())
    return "".join(out), False


class TestStopChecker:
    def test_no_stops_passes_text_through(self) -> None:
        checker = StopChecker()
        assert checker.push("abc") == ("abc", False)
        assert checker.flush() == ""

    def test_stop_within_one_delta_is_trimmed(self) -> None:
        assert _run(["END"], ["QRS 92 msEND more"]) == ("QRS 92 ms", True)

    def test_stop_split_across_deltas(self) -> None:
        assert _run(["\nUSER:"], ["rate 72", "\nUS", "ER:", " next"]) == ("rate 72", True)

    def test_partial_prefix_held_then_released(self) -> None:
        checker = StopChecker(["STOP"])
        assert checker.push("axis ST") == ("axis ", False)
        assert checker.push("EMI") == ("STEMI", False)

    def test_partial_prefix_flushed_at_end(self) -> None:
        assert _run(["STOP"], ["lead II ST"]) == ("lead II ST", False)

    def test_earliest_of_several_stops_wins(self) -> None:
        assert _run(["b", "a"], ["xxabyy"]) == ("xx", True)

    def test_nothing_after_stop(self) -> None:
        checker = StopChecker(["."])
        assert checker.push("one. two") == ("one", True)
        assert checker.push("three") == ("", True)
        assert checker.flush() == ""

    @pytest.mark.parametrize("split", [1, 2, 3, 5])
    def test_any_split_gives_same_text(self, split: int) -> None:
        text = "Sinus rhythm at 72 bpm. ASSISTANT: again"
        deltas = [text[i : i + split] for i in range(0, len(text), split)]
        assert _run([" ASSISTANT:"], deltas) == ("Sinus rhythm at 72 bpm.", True)

    def test_empty_deltas_ignored(self) -> None:
        assert _run(["XY"], ["a", "", "X", "", "Y"]) == ("a", True)
