"""Plain generation with the scripted backend: per-problem sessions, extraction, resume, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.agent.test_openai_backend import FakeOpenAIServer, Stream, chunk
from tests.evals.toy_problems import ADD, MAXIMUM, PROBLEMS, RIGHT, TWICE, WRONG, fenced
from tests.helpers import write_session
from trident.agent.config import Settings
from trident.agent.core.messages import BackendError
from trident.evals.backends import ModelSource
from trident.evals.generate import Generation, generate
from trident.evals.prompt import question_prompt
from trident.evals.store import Store


def scripted_dir(root: Path, answers: dict[str, str]) -> Path:
    for question_id, code in answers.items():
        write_session(root / f"{question_id}.jsonl", [{"reasoning": "let me think", "content": fenced(code)}])
    return root


async def run(source: ModelSource, store: Store[Generation], n: int = 1) -> list[Generation]:
    done: list[Generation] = []
    await generate(
        PROBLEMS,
        source,
        store,
        scenario="codegeneration",
        n=n,
        effort="high",
        temperature=0.2,
        max_tokens=100,
        concurrency=4,
        on_done=done.append,
    )
    return done


async def test_each_problem_gets_its_own_scripted_answer(tmp_path: Path) -> None:
    answers = {ADD.question_id: RIGHT[ADD.question_id], TWICE.question_id: WRONG[TWICE.question_id]}
    answers[MAXIMUM.question_id] = RIGHT[MAXIMUM.question_id]
    source = ModelSource(f"scripted:{scripted_dir(tmp_path / 'model', answers)}", Settings())
    store: Store[Generation] = Store(tmp_path / "gen.jsonl", Generation)
    done = await run(source, store)
    assert sorted(g.question_id for g in done) == sorted(answers)
    for generation in done:
        assert generation.code == answers[generation.question_id]
        assert generation.effort == "high" and generation.reasoning_chars == len("let me think")
        assert "[THINK]" not in generation.output and generation.output_tokens > 0


async def test_a_resumed_run_asks_only_for_missing_samples(tmp_path: Path) -> None:
    model = scripted_dir(tmp_path / "model", RIGHT)
    store: Store[Generation] = Store(tmp_path / "gen.jsonl", Generation)
    first = await run(ModelSource(f"scripted:{model}", Settings()), store, n=2)
    assert len(first) == 6
    store.close()
    (model / f"{ADD.question_id}.jsonl").unlink()  # asking for ADD again would now fail
    reopened: Store[Generation] = Store(tmp_path / "gen.jsonl", Generation)
    assert await run(ModelSource(f"scripted:{model}", Settings()), reopened, n=2) == []
    # a third sample is new work: MAXIMUM and TWICE are asked, ADD has no session left
    with pytest.raises(BackendError, match=r"no session for codegeneration abc001_a sample 2"):
        await run(ModelSource(f"scripted:{model}", Settings()), reopened, n=3)
    assert {g.question_id for g in reopened.records.values() if g.sample_index == 2} <= {
        TWICE.question_id,
        MAXIMUM.question_id,
    }


async def test_per_sample_sessions_override_the_problem_session(tmp_path: Path) -> None:
    model = scripted_dir(tmp_path / "model", RIGHT)
    write_session(model / f"{ADD.question_id}.1.jsonl", [{"content": fenced(WRONG[ADD.question_id])}])
    store: Store[Generation] = Store(tmp_path / "gen.jsonl", Generation)
    await run(ModelSource(f"scripted:{model}", Settings()), store, n=2)
    codes = {(g.question_id, g.sample_index): g.code for g in store.records.values()}
    assert codes[(ADD.question_id, 0)] == RIGHT[ADD.question_id]
    assert codes[(ADD.question_id, 1)] == WRONG[ADD.question_id]


async def test_one_scripted_file_answers_every_problem_with_its_first_turn(tmp_path: Path) -> None:
    session = write_session(tmp_path / "one.jsonl", [{"content": fenced("print(42)")}])
    store: Store[Generation] = Store(tmp_path / "gen.jsonl", Generation)
    done = await run(ModelSource(f"scripted:{session}", Settings()), store)
    assert [g.code for g in done] == ["print(42)"] * 3


async def test_an_openai_compatible_server_gets_the_lcb_request(tmp_path: Path) -> None:
    """The real OpenAI backend against the local test server: prompt, effort, sampling, reasoning."""
    server = FakeOpenAIServer()
    server.start()
    try:
        answer = [
            chunk({"role": "assistant", "reasoning_content": "Add them. ```python\nprint(0)\n```"}),
            chunk({"content": fenced(RIGHT[ADD.question_id])}),
            chunk(finish="stop"),
        ]
        server.script(Stream(answer), Stream(answer))
        source = ModelSource(f"openai:lcb-test@{server.base_url}", Settings())
        store: Store[Generation] = Store(tmp_path / "gen.jsonl", Generation)
        await generate(
            [ADD],
            source,
            store,
            scenario="codegeneration",
            n=2,
            effort="high",
            temperature=0.2,
            max_tokens=32768,
            concurrency=2,
        )
        await source.close()
    finally:
        server.stop()
    assert len(server.requests) == 2
    body = server.requests[0]
    assert (body["model"], body["reasoning_effort"], body["temperature"], body["max_tokens"]) == (
        "lcb-test",
        "high",
        0.2,
        32768,
    )
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert body["messages"][1]["content"] == question_prompt(ADD)
    assert [g.code for g in store.records.values()] == [RIGHT[ADD.question_id]] * 2
    assert all(g.reasoning_chars > 0 and g.finish_reason in (None, "stop") for g in store.records.values())
