"""The embedded engine for real, on the tiny random-weight checkpoint: loading, streaming, the
prompt as mistral_common encodes it, grammar-forced and regenerated tool calls, a whole run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from tests.engine.conftest import EDIT, READ, TEST_ENGINE
from tests.helpers import make_workspace
from trident.agent.config import Settings
from trident.agent.core.events import AssistantTurn, Event, RunEnd
from trident.agent.core.messages import Completion, Message, ModelRequest, ReasoningChunk, TextChunk
from trident.agent.core.trajectory import load
from trident.agent.headless.run import RunRequest, execute
from trident.agent.intake.calls import Accepted
from trident.agent.llm import vllm_engine
from trident.agent.llm.engine_plan import detect_device
from trident.agent.llm.forced_args import ArgumentChecker
from trident.agent.llm.vllm_engine import Engine, VllmBackend, shared_engine
from trident.tools.base import ToolSpec

pytestmark = pytest.mark.asyncio(loop_scope="session")  # the engine belongs to one event loop


def ask(effort: str = "none", max_tokens: int | None = None) -> ModelRequest:
    return ModelRequest.model_validate(
        {
            "messages": [
                {"role": "system", "content": "You are a coding agent."},
                {"role": "user", "content": "Read notes.txt, then edit it."},
            ],
            "tools": [READ.model_dump(), EDIT.model_dump()],
            "reasoning_effort": effort,
            "max_tokens": max_tokens,
        }
    )


async def collect(
    backend: VllmBackend, request: ModelRequest
) -> tuple[list[TextChunk | ReasoningChunk], Completion]:
    chunks: list[TextChunk | ReasoningChunk] = []
    completion: Completion | None = None
    async for chunk in backend.stream(request):
        assert completion is None, "the completion must come last"
        if isinstance(chunk, Completion):
            completion = chunk
        elif isinstance(chunk, TextChunk | ReasoningChunk):
            chunks.append(chunk)
    assert completion is not None
    return chunks, completion


async def test_streams_deltas_then_one_completion_with_usage(engine: Engine) -> None:
    backend = VllmBackend(engine)
    request = ask("high", max_tokens=24)
    chunks, completion = await collect(backend, request)
    assert completion.usage.input_tokens == len(engine.fmt.render(request))
    assert 1 <= completion.usage.output_tokens <= 24
    assert "".join(c.text for c in chunks if isinstance(c, TextChunk)) == completion.content
    assert "".join(c.text for c in chunks if isinstance(c, ReasoningChunk)) == completion.reasoning
    assert completion.finish_reason in ("length", "stop")
    assert backend.stats.turns == backend.stats.grammar_turns == 1
    for call in completion.tool_calls:  # random weights rarely call; when they do, the grammar held
        assert call.name in ("read", "edit")


@pytest.mark.parametrize("effort", ["none", "high"])
async def test_the_prompt_reaches_vllm_token_identical_on_its_supported_path(
    engine: Engine, effort: str
) -> None:
    """The rendered ids go through vLLM's renderer unchanged, as an engine input (a dict with a `type`:
    the input processor's supported branch, not 0.32's deprecated raw-prompt one)."""
    backend = VllmBackend(engine)
    prompt = engine.fmt.render(ask(effort))
    engine_input = await backend.engine_input(prompt)
    assert engine_input["type"] == "token" and list(engine_input["prompt_token_ids"]) == prompt


@pytest.mark.parametrize("spec", [READ, EDIT], ids=["read", "edit"])
async def test_grammar_forced_calls_are_schema_valid_from_random_weights(
    engine: Engine, spec: ToolSpec
) -> None:
    backend = VllmBackend(engine, force_tool=spec.name)
    validator = Draft202012Validator(spec.parameters)
    for effort in ("none", "high"):
        _, completion = await collect(backend, ask(effort, max_tokens=64))
        (call,) = completion.tool_calls
        assert call.name == spec.name
        arguments = json.loads(str(call.arguments))
        assert list(validator.iter_errors(arguments)) == []
        assert completion.content == "" and completion.reasoning == ""
    assert backend.stats.calls == 2
    assert backend.stats.valid_as_generated + backend.stats.regenerated_valid == 2


async def test_arguments_cut_short_are_regenerated_under_the_schema(engine: Engine) -> None:
    backend = VllmBackend(engine, force_tool="edit")
    _, completion = await collect(backend, ask(max_tokens=4))  # `[TOOL_CALLS]edit[ARGS]{`: cut
    (call,) = completion.tool_calls
    assert list(Draft202012Validator(EDIT.parameters).iter_errors(json.loads(str(call.arguments)))) == []
    assert backend.stats.model_dump(include={"calls", "valid_as_generated", "regenerated_valid"}) == {
        "calls": 1,
        "valid_as_generated": 0,
        "regenerated_valid": 1,
    }
    assert completion.usage.output_tokens > 4  # the regeneration's tokens are counted


async def test_regeneration_off_leaves_the_error_to_intake(engine: Engine) -> None:
    off = Engine(
        **{**engine.__dict__, "config": engine.config.model_copy(update={"regenerate_arguments": False})}
    )
    backend = VllmBackend(off, force_tool="edit")
    _, completion = await collect(backend, ask(max_tokens=4))
    (call,) = completion.tool_calls
    assert call.name == "edit" and backend.stats.not_regenerable == 1
    with pytest.raises(json.JSONDecodeError):
        json.loads(str(call.arguments))


async def test_concurrent_sessions_share_the_engine(engine: Engine) -> None:
    import asyncio

    backend = VllmBackend(engine, force_tool="read")
    results = await asyncio.gather(*(collect(backend, ask(max_tokens=48)) for _ in range(4)))
    assert [c.tool_calls[0].name for _, c in results] == ["read"] * 4


async def test_a_free_turn_under_the_turn_grammar(engine: Engine) -> None:
    """Not forced: the model may write text or call either tool; whatever it does, the turn grammar
    held it (every call passes intake) and the answer is parsed from its tokens."""
    backend = VllmBackend(engine)
    assert backend.force_tool is None and engine.config.tool_grammar == "lark"
    request = ask("none", max_tokens=48)
    chunks, completion = await collect(backend, request)
    assert backend.stats.turns == backend.stats.grammar_turns == 1
    assert "".join(c.text for c in chunks if isinstance(c, TextChunk)) == completion.content
    assert completion.reasoning == ""  # effort none: no [THINK] block
    checker = ArgumentChecker().for_tools(request.tools)
    for call in completion.tool_calls:
        arguments = call.arguments if isinstance(call.arguments, str) else json.dumps(call.arguments)
        assert isinstance(checker.check(call.name, arguments), Accepted)
    assert completion.finish_reason in ("stop", "length") and completion.usage.output_tokens <= 48 + 1024


async def test_a_turn_required_to_call_is_only_calls_under_the_turn_grammar(engine: Engine) -> None:
    """tool_choice "required" (what the loop asks after a call written as text): the turn grammar
    (`calls_only`) admits tool calls only, so even random weights make one, and it passes intake."""
    backend = VllmBackend(engine)
    request = ask("none", max_tokens=64).model_copy(update={"tool_choice": "required"})
    _, completion = await collect(backend, request)
    assert completion.tool_calls and completion.content.strip() == ""
    checker = ArgumentChecker().for_tools(request.tools)
    for call in completion.tool_calls:
        arguments = call.arguments if isinstance(call.arguments, str) else json.dumps(call.arguments)
        assert isinstance(checker.check(call.name, arguments), Accepted)


@pytest.mark.parametrize("caching", [True, False], ids=["prefix-caching", "no-prefix-caching"])
async def test_prefix_caching_on_and_off_where_the_cpu_allows(
    engine: Engine, tiny_checkpoint: Path, caching: bool
) -> None:
    """Asked on or off, the engine has prefix caching exactly where this device allows it (vLLM's CPU
    build turns it off for MLA without AMX), and a repeated greedy turn, which a cache serves from the
    stored prefix, answers exactly as the first."""
    device = detect_device()
    config = TEST_ENGINE.model_copy(update={"prefix_caching": caching})
    tested = engine if caching else shared_engine(tiny_checkpoint, config)
    try:
        assert tested.config.prefix_caching is caching
        assert tested.prefix_caching is (caching and (device.kind != "cpu" or device.amx))
        backend = VllmBackend(tested, force_tool="read")
        request = ask("high", max_tokens=32).model_copy(update={"temperature": 0.0})
        (_, first), (_, again) = [await collect(backend, request) for _ in range(2)]
        assert first.tool_calls == again.tool_calls and first.usage == again.usage
    finally:
        if tested is not engine:
            vllm_engine._ENGINES.pop(tested.key).shutdown()


async def test_prompt_too_long_is_a_backend_error(engine: Engine) -> None:
    from trident.agent.core.messages import BackendError

    long = ask()
    long.messages.append(Message(role="user", content="word " * 17000))
    with pytest.raises(BackendError, match="does not fit the context"):
        await collect(VllmBackend(engine), long)


async def test_trident_run_step_loop_in_process(engine: Engine, tmp_path: Path) -> None:
    """`execute` resolves `vllm:DIR` to the already-loaded engine and runs the real loop on it."""
    repo = make_workspace(tmp_path / "repo", {"notes.txt": "hello\n"})
    settings = Settings.model_validate({"engine": TEST_ENGINE.model_dump(), "limits": {"max_steps": 2}})
    events: list[Event] = []
    outcome = await execute(
        RunRequest(
            repo=repo, task="Edit notes.txt.", model=f"vllm:{engine.path}", trajectory=tmp_path / "t.jsonl"
        ),
        settings,
        events.append,
    )
    turns = [e for e in events if isinstance(e, AssistantTurn)]
    assert turns, [e for e in events if e.type in ("error", "run_end")]
    assert all(t.usage.input_tokens > 0 and t.usage.output_tokens > 0 for t in turns)
    end = next(e for e in events if isinstance(e, RunEnd))
    assert end.status in ("finished", "max_steps", "format_errors")
    assert outcome.exit_code in (1, 3)
    assert [type(e).__name__ for e in load(tmp_path / "t.jsonl")] == [type(e).__name__ for e in events]
