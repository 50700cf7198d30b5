"""Garbage in: the verifier never crashes, finds few or no claims, and stays linear."""

from __future__ import annotations

import random

import pytest

from agent.verify import extract_claims, verify_text
from tests.verify_builders import verify_measurements
from tools.measure.model import GlobalMeasurements, Measurements

PARAGRAPH = (
    "Sinus rhythm at 70 bpm. PR 0.16 s, QRS durations in lead I range from 86 to 96 ms. "
    "T wave inversion in V1; no ST elevation in the inferior leads. Possible LVH. "
)
#: Tokens a fuzzed text is drawn from: units, leads, cues, numbers and punctuation.
_FUZZ_TOKENS = (
    "QRS", "PR", "QT", "QTc", "ST", "elevation", "T", "wave", "inversion", "ms", "s", "mV", "mm",
    "bpm", "°", "lead", "leads", "I", "II", "aVF", "V1-V3", "inferior", "all", "except", "no",
    "not", "possible", "cannot", "exclude", "from", "to", "between", "and", "-", "–", ",", ".",
    ";", "~", ">", "±", "0.18", "92", "-30", "1,200", "the", "third", "beat", "LBBB", "AF",
    "\n", "(", ")", "µV", "mm/s",
)  # fmt: skip


@pytest.fixture(scope="module")
def m() -> Measurements:
    return verify_measurements()


class TestGarbage:
    @pytest.mark.parametrize("text", ["", " ", "\n\t", ".", "...", "-", "°", "±"])
    def test_empty(self, text: str, m: Measurements) -> None:
        v = verify_text(text, m)
        assert v.checks == [] and v.grounding_score is None

    @pytest.mark.parametrize(
        "text",
        [
            "Sinusrhythmus, Linkstyp, periphere Niedervoltage, sonst normales EKG.",
            "Ritmo sinusal con bloqueo de rama izquierda.",
            "窦性心律，正常心电图。",
            "Синусовый ритм 70 уд/мин.",
        ],
    )
    def test_non_english(self, text: str, m: Measurements) -> None:
        assert verify_text(text, m).checks == []

    @pytest.mark.parametrize("text", ["1 2 3 4 5", "92, 104, 132", "3.14159 2.71828", "42"])
    def test_numbers_without_units(self, text: str, m: Measurements) -> None:
        assert extract_claims(text) == []

    def test_fifty_kilobytes_of_noise(self, m: Measurements) -> None:
        rng = random.Random(0)
        text = "".join(rng.choice("abcdefghij klmnop.,;-0123456789") for _ in range(50_000))
        v = verify_text(text, m)
        assert v.n_supported + v.n_contradicted + v.n_unverifiable == len(v.checks)

    def test_fifty_kilobytes_of_paragraphs(self, m: Measurements) -> None:
        one = verify_text(PARAGRAPH, m)
        copies = 50_000 // len(PARAGRAPH) + 1
        many = verify_text(PARAGRAPH * copies, m)
        assert len(many.checks) == copies * len(one.checks)
        assert many.grounding_score == one.grounding_score

    @pytest.mark.parametrize("unit", [".", " ", "-", "1-", ",", "V1, ", "inferior and ", "no "])
    def test_long_runs(self, unit: str, m: Measurements) -> None:
        text = unit * (20_000 // len(unit))
        assert verify_text(text, m).n_contradicted == 0

    @pytest.mark.parametrize("seed", range(40))
    def test_fuzz(self, seed: int, m: Measurements) -> None:
        rng = random.Random(seed)
        text = " ".join(rng.choice(_FUZZ_TOKENS) for _ in range(rng.randint(1, 120)))
        v = verify_text(text, m)
        for check in v.checks:
            start, end = check.claim.span
            assert text[start:end] == check.claim.text
            assert check.verdict in ("supported", "contradicted", "unverifiable")


class TestEmptyMeasurements:
    def test_nothing_measured_means_nothing_decided(self) -> None:
        empty = Measurements(
            record_id="empty", fs_hz=500.0, lead_names=["I"], usable_leads=[],
            global_=GlobalMeasurements(),
        )  # fmt: skip
        v = verify_text(PARAGRAPH + " The third beat in lead I has a QRS of 90 ms.", empty)
        assert v.checks and v.n_contradicted == 0 and v.n_supported == 0
        assert v.grounding_score is None
