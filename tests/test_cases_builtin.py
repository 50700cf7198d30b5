"""The built-in synthetic case base: its specs, its cache, and retrieval quality on it."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tools.cases import CaseBase, builtin_case_base, embed_record
from tools.cases import builtin as bi
from tools.synth import SynthSpec, synthesize


def shared_cache(factory: pytest.TempPathFactory) -> Path:
    """One cache folder for the whole session (test_cli_index.py uses it too)."""
    return factory.getbasetemp() / "gem-agent-cache"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CaseBase]:
    with builtin_case_base(shared_cache(tmp_path_factory)) as opened:
        yield opened


def _family(case_id: str) -> str:
    return case_id.rsplit("-", 1)[0]


class TestBuiltinSpecs:
    def test_deterministic(self) -> None:
        assert bi.builtin_specs() == bi.builtin_specs()

    def test_size_and_unique_ids(self) -> None:
        specs = bi.builtin_specs()
        assert len(specs) == len(bi.FAMILIES) * bi.VARIANTS_PER_FAMILY
        assert 150 <= len(specs) <= 300
        assert len({case_id for case_id, _ in specs}) == len(specs)

    def test_variants_differ(self) -> None:
        lbbb = [spec for case_id, spec in bi.builtin_specs() if _family(case_id) == "lbbb"]
        assert len({spec.hr_bpm for spec in lbbb}) > 1

    def test_jittered_values_in_family_range(self) -> None:
        low, high = bi.FAMILIES["sinus_bradycardia"][1]["hr_bpm"]
        for case_id, spec in bi.builtin_specs():
            if _family(case_id) == "sinus_bradycardia":
                assert spec.hr_bpm is not None
                assert low <= spec.hr_bpm <= high

    def test_report_text(self) -> None:
        text = bi.report_text(["sinus rhythm", "complete left bundle branch block"],
                              SynthSpec(hr_bpm=70, axis_deg=-10))  # fmt: skip
        assert text.startswith("Synthetic ECG: sinus rhythm; complete left bundle")
        assert "70 bpm" in text
        assert "-10 deg" in text


class TestCacheLocation:
    def test_env_variable(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        monkeypatch.setenv(bi.CACHE_ENV, str(tmp_path))
        assert bi.builtin_dir() == tmp_path / f"cases-builtin-{bi.BUILTIN_TAG}"

    def test_default_under_user_cache(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv(bi.CACHE_ENV, raising=False)
        monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
        assert bi.default_cache_dir() == Path.home() / ".cache" / "gem-agent"

    def test_version_in_folder_name(self) -> None:
        assert bi.BUILTIN_TAG in bi.builtin_dir("/x").name
        assert bi.BUILTIN_VERSION in bi.BUILTIN_TAG


class TestBuiltinCaseBase:
    def test_every_spec_became_a_case(self, base: CaseBase) -> None:
        info = base.info()
        assert info.n_cases == len(bi.builtin_specs())
        assert info.n_failures == 0
        assert info.datasets == {bi.BUILTIN_DATASET: info.n_cases}

    def test_reused_not_rebuilt(
        self, base: CaseBase, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        stamp = os.stat(base.folder / "cases.sqlite").st_mtime_ns
        with builtin_case_base(shared_cache(tmp_path_factory)) as again:
            assert again.folder == base.folder
            assert len(again) == len(base)
        assert os.stat(base.folder / "cases.sqlite").st_mtime_ns == stamp
        assert not [p for p in base.folder.parent.iterdir() if p.name.startswith(".")]

    def test_cases_labelled_by_generator(self, base: CaseBase) -> None:
        case = base.search(base.vector("lbbb-00"), 1)[0]
        assert case.case_id == "lbbb-00"
        assert {label.vocabulary for label in case.labels} == {"synthetic"}
        assert "LBBB" in {label.code for label in case.labels}
        assert case.report is not None and "left bundle branch block" in case.report
        assert case.measurements["qrs_ms"] is not None and case.measurements["qrs_ms"] > 120

    @pytest.mark.parametrize(
        ("spec", "family"),
        [
            (SynthSpec(conduction="lbbb", hr_bpm=77, axis_deg=10), "lbbb"),
            (SynthSpec(conduction="rbbb", hr_bpm=66, axis_deg=70), "rbbb"),
            (SynthSpec(rhythm="afib", hr_bpm=95), "afib"),
            (SynthSpec(st_shift_mv={"inferior": 0.25}, hr_bpm=75), "inferior_st_elevation"),
            (SynthSpec(qtc_ms=520, hr_bpm=64), "long_qt"),
        ],
        ids=["lbbb", "rbbb", "afib", "inferior_ste", "long_qt"],
    )
    def test_new_record_finds_its_kind_first(
        self, base: CaseBase, spec: SynthSpec, family: str
    ) -> None:
        record = synthesize(spec, seed=1234).record
        found = base.search(embed_record(record), 5)
        kinds = [_family(case.case_id) for case in found]
        assert kinds[0] == family
        assert Counter(kinds)[family] >= 4, kinds

    def test_leave_one_out_agreement(self, base: CaseBase) -> None:
        ids = [case_id for case_id, _ in bi.builtin_specs()]
        vectors = np.stack([base.vector(case_id) for case_id in ids])
        agree = [
            _family(base.search(v, 1, exclude_ids=(case_id,))[0].case_id) == _family(case_id)
            for case_id, v in zip(ids, vectors, strict=True)
        ]
        assert np.mean(agree) >= 0.9
