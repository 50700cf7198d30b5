"""``gem-agent serve`` with the real torch GEM (tiny checkpoint, CPU): the ``openai`` client,
the agent's endpoint backend end to end, and the ``local`` backend in-process.

The tiny model has random weights: it writes gibberish, mostly byte tokens. Where a test
needs text that passes the backends' is-this-text check, :func:`steer_to_word_pieces` zeroes
the output rows of tokens that do not decode to printable text, so greedy decoding picks word
pieces (the model still runs end to end; its claims stay unverifiable).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import openai
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from agent.api import interpret  # noqa: E402
from agent.settings import AgentSettings  # noqa: E402
from gem_core.backends.base import InterpretRequest  # noqa: E402
from gem_core.backends.endpoint import EndpointBackend, EndpointSettings  # noqa: E402
from gem_core.backends.local import LocalBackend, LocalSettings  # noqa: E402
from gem_core.engine import GenerationRequest  # noqa: E402
from gem_core.inputs import gem_signal  # noqa: E402
from gem_core.model import TinyCheckpoint, load_engine  # noqa: E402
from gem_core.prompting import llava_v1_conversation, system_prompt  # noqa: E402
from gem_core.serve import ServeSettings, create_app, serve_in_thread  # noqa: E402
from tests.fake_engine import ecg_part, image_part, user_message  # noqa: E402
from tools.measure.pipeline import measure_record  # noqa: E402
from tools.synth import SynthSpec, synthesize  # noqa: E402

KEY = "tiny-key"


def steer_to_word_pieces(engine: Any) -> Any:
    """Zero the LM-head rows of tokens that do not decode to printable text on their own
    (byte pieces, controls, specials; see the module docstring)."""
    tokenizer = engine.gem.tokenizer
    head = engine.gem.model.llm.get_output_embeddings().weight
    with torch.no_grad():
        for token_id in range(head.shape[0]):
            text = tokenizer.decode([token_id])
            if not text.strip() or not text.isprintable() or "\ufffd" in text:  # bytes
                head[token_id] = 0.0
    return engine


def _engine(tiny: TinyCheckpoint, **kw: Any) -> Any:
    return load_engine(tiny.checkpoint_dir, ecg_tower=tiny.ecg_tower_path,
                       vision_tower=tiny.vision_tower_dir, device="cpu", dtype="fp32",
                       **kw)  # fmt: skip


@pytest.fixture(scope="module")
def server(tiny: TinyCheckpoint) -> Iterator[tuple[str, Any, list[GenerationRequest]]]:
    """The tiny GEM served on loopback; the third item records what reached the engine."""
    engine = steer_to_word_pieces(_engine(tiny, max_batch=4))
    seen: list[GenerationRequest] = []
    add = engine.add

    def spy(request: GenerationRequest) -> None:
        seen.append(request)
        add(request)

    engine.add = spy
    with serve_in_thread(create_app(engine, ServeSettings(api_key=KEY))) as url:
        yield url, engine, seen


def _client(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key=KEY, max_retries=0, timeout=120)


@pytest.fixture(scope="module")
def request_() -> InterpretRequest:
    record = synthesize(SynthSpec(hr_bpm=72), seed=11).record
    return InterpretRequest(record=record, measurements=measure_record(record).measurements)


class TestOpenAIClient:
    def test_non_streaming_and_streaming_agree(self, server: tuple) -> None:
        url, engine, _ = server
        messages = [user_message("Interpret.", image_part(), ecg_part(1))]
        client = _client(url)
        whole = client.chat.completions.create(model=engine.model_name, messages=messages,
                                               max_tokens=12)  # fmt: skip
        chunks = list(client.chat.completions.create(
            model=engine.model_name, messages=messages, max_tokens=12, stream=True,
            stream_options={"include_usage": True}))  # fmt: skip
        streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert streamed == whole.choices[0].message.content  # greedy: the same answer
        assert whole.usage is not None and 1 <= whole.usage.completion_tokens <= 12
        prompt = llava_v1_conversation(system_prompt(), ["Interpret."])
        assert whole.usage.prompt_tokens == engine.count_tokens(prompt)
        assert chunks[-1].usage is not None
        assert chunks[-1].usage.completion_tokens == whole.usage.completion_tokens
        assert whole.model_extra and whole.model_extra["gem_inputs"]["zero_filled"] == []

    def test_models_lists_the_checkpoint(self, server: tuple) -> None:
        url, engine, _ = server
        assert [m.id for m in _client(url).models.list().data] == [engine.model_name]

    def test_concurrent_requests_batch_and_match_solo(self, server: tuple) -> None:
        url, engine, _ = server
        client = _client(url)
        questions = [f"Question {i}: " + "lead " * (3 * i) for i in range(3)]

        def ask(question: str) -> str | None:
            reply = client.chat.completions.create(
                model=engine.model_name, messages=[user_message(question)], max_tokens=6
            )
            return reply.choices[0].message.content

        solo = [ask(q) for q in questions]
        with ThreadPoolExecutor(len(questions)) as pool:
            together = list(pool.map(ask, questions))
        assert together == solo  # greedy answers do not depend on the batch
        assert _decode_batch_max(url) > 1


def _decode_batch_max(url: str) -> float:
    import httpx2
    from prometheus_client import parser

    text = httpx2.get(f"{url}/metrics", timeout=10).text
    for family in parser.text_string_to_metric_families(text):
        if family.name == "gem_decode_batch_size_max":
            return family.samples[0].value
    raise AssertionError("gem_decode_batch_size_max missing")


class TestAgentEndToEnd:
    def test_endpoint_backend_against_served_tiny_gem(
        self, server: tuple, request_: InterpretRequest, tmp_path: Path
    ) -> None:
        url, engine, seen = server
        backend = EndpointBackend(EndpointSettings(base_url=f"{url}/v1", model=engine.model_name,
                                                   api_key=KEY, max_tokens=48, max_retries=0,
                                                   timeout_s=120))  # fmt: skip
        n_before = len(seen)
        settings = AgentSettings(trace_db=tmp_path / "traces.sqlite", case_base="none")
        report = interpret(request_.record, settings=settings, backend=backend)
        assert report.status == "complete" and report.interpretation
        assert report.backend == "endpoint" and report.model == engine.model_name
        first = seen[n_before]
        expected = gem_signal(request_.record, lead_order=engine.lead_order, dtype=np.float16)
        np.testing.assert_array_equal(first.ecg, expected.array.astype(np.float32))
        assert first.image is not None and first.image.shape == (3, engine.image_size,
                                                                 engine.image_size)  # fmt: skip
        assert "Interpret the provided ECG image" in first.prompt
        assert first.prompt.count("<image>") == 1


class TestLocalBackend:
    def test_loads_lazily_from_settings(self, tiny: TinyCheckpoint) -> None:
        settings = LocalSettings(checkpoint=tiny.checkpoint_dir, ecg_tower=tiny.ecg_tower_path,
                                 vision_tower=tiny.vision_tower_dir, max_tokens=8)  # fmt: skip
        backend = LocalBackend(settings)
        assert backend.engine.model_name == tiny.checkpoint_dir.name
        assert backend.engine is backend.engine  # loaded once

    def test_same_answer_as_the_server(
        self, tiny: TinyCheckpoint, server: tuple, request_: InterpretRequest
    ) -> None:
        url, engine, _ = server
        local = LocalBackend(LocalSettings(max_tokens=24),
                             engine=steer_to_word_pieces(_engine(tiny)))  # fmt: skip
        remote = EndpointBackend(EndpointSettings(base_url=f"{url}/v1", model=engine.model_name,
                                                  api_key=KEY, max_tokens=24, max_retries=0,
                                                  timeout_s=120))  # fmt: skip
        drafts = [backend.interpret(request_) for backend in (local, remote)]
        assert drafts[0].text == drafts[1].text
        assert drafts[0].usage == drafts[1].usage
        assert drafts[0].backend == "local" and drafts[0].model == engine.model_name
