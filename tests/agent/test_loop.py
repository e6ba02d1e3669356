"""The loop end to end through the scripted backend: intake paths, effort, limits, stuck, events."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.agent.crashing_tool import CrashingTool
from tests.helpers import collect, end_of, make_agent, results, run_script, write_session
from trident.agent.core.events import AssistantTurn, EffortChange, Error, StepEnd, StepStart, ToolCall
from trident.agent.core.messages import BackendError
from trident.agent.core.trajectory import load
from trident.agent.llm.scripted import ScriptedBackend
from trident.agent.loop import Policies
from trident.agent.policies.effort import EffortPolicy
from trident.agent.policies.limits import LimitsPolicy
from trident.agent.policies.stuck import StuckDetector
from trident.tools.registry import default_tools

READ: dict[str, Any] = {"name": "read", "arguments": {"path": "hello.py"}}
DONE: dict[str, Any] = {"content": "Done."}


async def test_valid_call_runs_the_tool_and_the_run_finishes(tmp_path: Path) -> None:
    events = await run_script(tmp_path, [{"content": "Reading.", "tool_calls": [READ]}, DONE])
    (result,) = results(events)
    assert result.ok and "print('hello')" in result.output
    end = end_of(events)
    assert end.status == "finished" and end.steps == 2
    calls = [e for e in events if isinstance(e, ToolCall)]
    assert calls[0].call_id == result.call_id and len(calls[0].call_id) == 9


async def test_events_on_disk_are_the_events_yielded(tmp_path: Path) -> None:
    events = await run_script(tmp_path, [{"tool_calls": [READ]}, DONE])
    assert load(tmp_path / "trajectory.jsonl") == events
    assert [e.seq for e in events] == list(range(len(events)))


async def test_repaired_call_runs_and_the_model_is_told(tmp_path: Path) -> None:
    turn = {"tool_calls": [{"name": "Read", "arguments": '```json\n{"path": "hello.py",}\n```'}]}
    events = await run_script(tmp_path, [turn, DONE])
    (call,) = [e for e in events if isinstance(e, ToolCall)]
    assert len(call.repairs) == 3
    (result,) = results(events)
    assert result.ok and result.output.startswith("[note: your call was repaired:")


async def test_invalid_call_gets_an_error_and_the_model_sees_it_next_turn(tmp_path: Path) -> None:
    bad = {"tool_calls": [{"name": "read", "arguments": {"file": "hello.py"}}]}
    events = await run_script(tmp_path, [bad, {"tool_calls": [READ]}, DONE])
    first, second = results(events)
    assert not first.ok and first.error_kind == "schema"
    assert "missing required field(s) `path`" in first.output and "unexpected field(s) `file`" in first.output
    assert second.ok
    assert not any(isinstance(e, ToolCall) and e.call_id == first.call_id for e in events)


async def test_unknown_tool_and_raw_text_calls(tmp_path: Path) -> None:
    turns: list[dict[str, Any]] = [
        {"tool_calls": [{"name": "open_file", "arguments": {"path": "hello.py"}}]},
        {"raw": 'Reading.[TOOL_CALLS]read[ARGS]{"path": "hello.py"}'},
        {"raw": '[TOOL_CALLS][{"name": "bash", "arguments": {"command": "echo hi"}}]'},
        DONE,
    ]
    events = await run_script(tmp_path, turns)
    unknown, raw_v11, raw_list = results(events)
    assert unknown.error_kind == "unknown_tool" and "Available tools:" in unknown.output
    assert raw_v11.ok and "print('hello')" in raw_v11.output
    assert raw_list.ok and "hi" in raw_list.output
    turns_seen = [e for e in events if isinstance(e, AssistantTurn)]
    assert turns_seen[1].content == "Reading."


async def test_consecutive_format_errors_stop_the_run(tmp_path: Path) -> None:
    bad = {"tool_calls": [{"name": "read", "arguments": "{not json"}]}
    events = await run_script(tmp_path, [bad, bad, bad, DONE])
    end = end_of(events)
    assert end.status == "format_errors" and end.steps == 3
    assert [e.format_errors for e in events if isinstance(e, StepEnd)] == [1, 1, 1]


async def test_a_good_step_resets_the_format_error_streak(tmp_path: Path) -> None:
    bad = {"tool_calls": [{"name": "read", "arguments": "{not json"}]}
    events = await run_script(tmp_path, [bad, bad, {"tool_calls": [READ]}, bad, bad, DONE])
    assert end_of(events).status == "finished"


async def test_effort_rises_on_a_failing_step_and_falls_after_hysteresis(tmp_path: Path) -> None:
    failing = {"tool_calls": [{"name": "bash", "arguments": {"command": "exit 1"}}]}
    ok = {"tool_calls": [{"name": "bash", "arguments": {"command": "true"}}]}
    ok2 = {"tool_calls": [{"name": "bash", "arguments": {"command": "echo 2"}}]}
    ok3 = {"tool_calls": [{"name": "bash", "arguments": {"command": "echo 3"}}]}
    policies = Policies(effort=EffortPolicy(hysteresis=2))
    events = await run_script(tmp_path, [ok, failing, ok2, ok3, DONE], policies=policies)
    efforts = [e.effort for e in events if isinstance(e, StepStart)]
    assert efforts == ["none", "none", "high", "high", "none"]
    changes = [e for e in events if isinstance(e, EffortChange)]
    assert [(c.previous, c.effort) for c in changes] == [("none", "high"), ("high", "none")]
    assert "`bash` failed" in changes[0].reason and "2 successful" in changes[1].reason


async def test_a_failure_while_high_restarts_the_hysteresis(tmp_path: Path) -> None:
    turns = [
        {"tool_calls": [{"name": "bash", "arguments": {"command": f"{cmd} && echo {i}"}}]}
        for i, cmd in enumerate(["false", "true", "false", "true", "true"])
    ]
    events = await run_script(tmp_path, [*turns, DONE], policies=Policies(effort=EffortPolicy(hysteresis=2)))
    assert [e.effort for e in events if isinstance(e, StepStart)] == [
        "none",
        "high",
        "high",
        "high",
        "high",
        "none",
    ]


async def test_a_rejected_call_raises_effort(tmp_path: Path) -> None:
    bad = {"tool_calls": [{"name": "read", "arguments": {"path": 7}}]}
    events = await run_script(tmp_path, [bad, DONE])
    (change,) = [e for e in events if isinstance(e, EffortChange)]
    assert change.effort == "high" and "rejected call to `read` (schema)" in change.reason


async def test_fixed_effort_never_changes(tmp_path: Path) -> None:
    failing = {"tool_calls": [{"name": "bash", "arguments": {"command": "exit 3"}}]}
    events = await run_script(tmp_path, [failing, DONE], policies=Policies(effort=EffortPolicy(mode="none")))
    assert not any(isinstance(e, EffortChange) for e in events)
    events_high = await run_script(
        tmp_path / "h", [DONE], policies=Policies(effort=EffortPolicy(mode="high"))
    )
    assert [e.effort for e in events_high if isinstance(e, StepStart)] == ["high"]


async def test_repeated_action_is_a_failure_and_eventually_stuck(tmp_path: Path) -> None:
    policies = Policies(stuck=StuckDetector(stop_after=3))
    events = await run_script(tmp_path, [{"tool_calls": [READ]}] * 5 + [DONE], policies=policies)
    end = end_of(events)
    assert end.status == "stuck" and end.steps == 3
    failures = [e.failures for e in events if isinstance(e, StepEnd)]
    assert failures[0] == [] and "repeated the same action" in failures[1][0]


async def test_step_budget(tmp_path: Path) -> None:
    turns = [{"tool_calls": [{"name": "bash", "arguments": {"command": f"echo {i}"}}]} for i in range(5)]
    events = await run_script(tmp_path, turns, policies=Policies(limits=LimitsPolicy(max_steps=2)))
    end = end_of(events)
    assert end.status == "max_steps" and end.steps == 2


async def test_token_budget(tmp_path: Path) -> None:
    turn = {"tool_calls": [READ], "usage": {"input_tokens": 600, "output_tokens": 10}}
    events = await run_script(
        tmp_path, [turn, turn, DONE], policies=Policies(limits=LimitsPolicy(max_tokens=1000))
    )
    assert end_of(events).status == "max_tokens"


async def test_exhausted_script_is_a_backend_error(tmp_path: Path) -> None:
    events = await run_script(tmp_path, [{"tool_calls": [READ]}])
    end = end_of(events)
    assert end.status == "backend_error" and "has 1 turns" in end.reason
    assert any(isinstance(e, Error) and e.kind == "backend_error" for e in events)


async def test_paths_outside_the_workspace_are_refused(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("top secret")
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "link").symlink_to(tmp_path / "secret.txt")
    turns = [
        {"tool_calls": [{"name": "read", "arguments": {"path": "../secret.txt"}}]},
        {"tool_calls": [{"name": "read", "arguments": {"path": str(tmp_path / "secret.txt")}}]},
        {"tool_calls": [{"name": "read", "arguments": {"path": "link"}}]},
        {"tool_calls": [{"name": "write", "arguments": {"path": "../evil.txt", "content": "x"}}]},
        DONE,
    ]
    events = await run_script(tmp_path, turns)
    for result in results(events):
        assert not result.ok and "outside the workspace" in result.output
        assert "top secret" not in result.output
    assert not (tmp_path / "evil.txt").exists()


async def test_edit_failures_are_recoverable(tmp_path: Path) -> None:
    files = {"m.py": "x = 1\nx = 1\n"}
    turns = [
        {
            "tool_calls": [
                {"name": "edit", "arguments": {"path": "m.py", "old_text": "y = 2", "new_text": "z"}}
            ]
        },
        {
            "tool_calls": [
                {"name": "edit", "arguments": {"path": "m.py", "old_text": "x = 1", "new_text": "x = 2"}}
            ]
        },
        {
            "tool_calls": [
                {
                    "name": "edit",
                    "arguments": {"path": "m.py", "old_text": "x = 1\nx", "new_text": "x = 2\nx"},
                }
            ]
        },
        DONE,
    ]
    events = await run_script(tmp_path, turns, files=files)
    missing, ambiguous, fixed = results(events)
    assert (
        "not found" in missing.output
        and "occurs 2 times" in ambiguous.output
        and "lines 1, 2" in ambiguous.output
    )
    assert fixed.ok and "-x = 1" in fixed.output and "+x = 2" in fixed.output
    assert (tmp_path / "ws" / "m.py").read_text() == "x = 2\nx = 1\n"


async def test_history_sent_to_the_model_pairs_every_call_with_its_result(tmp_path: Path) -> None:
    turns = [{"tool_calls": [READ, {"name": "nope", "arguments": "{"}]}, DONE]
    events = await run_script(tmp_path, turns)
    turn = next(e for e in events if isinstance(e, AssistantTurn))
    assert [r.call_id for r in results(events)] == [c.id for c in turn.tool_calls]
    assert turn.tool_calls[1].arguments == "{"  # the record keeps exactly what the model sent


async def test_a_crashing_tool_is_reported_to_the_model_and_the_run_goes_on(tmp_path: Path) -> None:
    backend = ScriptedBackend(write_session(tmp_path / "s.jsonl", [CRASH, DONE]))
    agent = make_agent(tmp_path, backend, tools=default_tools().extended(CrashingTool()))
    events = await collect(agent)
    (result,) = results(events)
    assert result.error_kind == "tool_crashed" and "ZeroDivisionError" in result.output
    assert end_of(events).status == "finished"


CRASH: dict[str, Any] = {"tool_calls": [{"name": "crash", "arguments": {"n": 0}}]}


def test_a_malformed_scripted_session_names_the_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text('{"content": "ok"}\n\n{"tool_calls": "read"}\n')
    with pytest.raises(BackendError, match=r"s\.jsonl:3: tool_calls: Input should be a valid array"):
        ScriptedBackend(path)
    path.write_text('{"raw": "x", "content": "y"}\n')
    with pytest.raises(BackendError, match=r"s\.jsonl:1: a turn is either `raw`"):
        ScriptedBackend(path)


CUT: dict[str, Any] = {"reasoning": "Let me think about this at length " * 20, "finish_reason": "length"}


async def test_a_turn_cut_at_max_tokens_is_a_failing_step_the_model_is_told_about(tmp_path: Path) -> None:
    from trident.agent.core.events import TRUNCATED_FAILURE, TRUNCATED_NOTE

    backend = ScriptedBackend(write_session(tmp_path / "session.jsonl", [CUT, DONE]))
    agent = make_agent(tmp_path, backend)
    events = await collect(agent)
    end = end_of(events)
    assert end.status == "finished" and end.steps == 2  # the cut turn was not taken as the answer
    first_step = next(e for e in events if isinstance(e, StepEnd))
    assert TRUNCATED_FAILURE in first_step.failures
    (change,) = [e for e in events if isinstance(e, EffortChange)]
    assert change.effort == "high" and TRUNCATED_FAILURE in change.reason
    roles = [(m.role, m.content) for m in agent.state.messages]
    assert roles[2:4] == [("assistant", ""), ("user", TRUNCATED_NOTE)]  # the model is told next turn
    resumed = make_agent(tmp_path / "again", backend)
    resumed.replay(load(tmp_path / "trajectory.jsonl"))
    assert resumed.state.messages == agent.state.messages  # derived from events: a resume sees it too


async def test_a_cut_turn_with_calls_runs_them_and_is_told_after_their_results(tmp_path: Path) -> None:
    from trident.agent.core.events import TRUNCATED_NOTE

    cut_call = {"tool_calls": [READ], "finish_reason": "length"}
    backend = ScriptedBackend(write_session(tmp_path / "session.jsonl", [cut_call, DONE]))
    agent = make_agent(tmp_path, backend)
    events = await collect(agent)
    assert results(events)[0].ok and end_of(events).status == "finished"
    assert [m.role for m in agent.state.messages][2:5] == ["assistant", "tool", "user"]
    assert agent.state.messages[4].content == TRUNCATED_NOTE


async def test_cut_turns_never_finish_a_run(tmp_path: Path) -> None:
    events = await run_script(tmp_path, [CUT, CUT], policies=Policies(limits=LimitsPolicy(max_steps=2)))
    assert end_of(events).status == "max_steps"


def test_a_turn_that_said_nothing_is_not_sent_back() -> None:
    from trident.agent.core.messages import Message
    from trident.agent.llm.openai_compat import to_openai_messages

    sent = to_openai_messages(
        [
            Message(role="user", content="task"),
            Message(role="assistant", reasoning="cut"),
            Message(role="user", content="note"),
        ]
    )
    assert [m["role"] for m in sent] == ["user", "user"]


def test_masking_budget_follows_the_served_context() -> None:
    from trident.agent.policies.masking import ObservationMasker

    masker = ObservationMasker()  # [masking] budget_tokens = 96K
    assert masker.budget() == masker.budget(None, 8192) == 96_000
    # the 1×H200 recipe: max_model_len 65536, 8192-token answers, a tenth kept as margin
    assert masker.budget(65_536, 8192) == 65_536 - 8192 - 6553
    assert masker.budget(262_144, 8192) == 96_000


def test_the_first_prompt_fits_a_16k_server_with_room_to_work() -> None:
    """System prompt + tool schemas + a task measured 4,834 tokens with the Qwen2.5 template on
    llama.cpp (/apply-template, /tokenize); the estimate here must be of that size, and a 16K window
    must leave the conversation room once the answer's share and the schemas are set aside."""
    from trident.agent.core.messages import Message
    from trident.agent.policies.masking import ObservationMasker, answer_room, estimate_tokens, schema_tokens
    from trident.agent.prompt import system_prompt

    schemas = schema_tokens(default_tools().specs().values())
    first = estimate_tokens([Message(role="system", content=system_prompt())]) + schemas
    assert 3_500 < first < 6_000
    answer = answer_room(16_384, 8192)
    assert answer == 4096  # a quarter of the window, not the default 8192
    room = ObservationMasker().budget(16_384, answer, schemas)
    assert room == 16_384 - 4096 - schemas - 1638 and room > 5_000
    assert answer_room(262_144, 8192) == 8192 and answer_room(None, 8192) == 8192


async def test_a_backend_notice_is_an_error_event_and_the_run_goes_on(tmp_path: Path) -> None:
    """An engine restarted under a turn (the backend's notice) is on the record, before the turn."""
    restarted = "vllm:/m: the engine died and was restarted (restart 1 of at most 1 in this process)"
    events = await run_script(tmp_path, [{"tool_calls": [READ], "notices": [restarted]}, DONE])
    notices = [e for e in events if isinstance(e, Error)]
    assert [(e.kind, e.message) for e in notices] == [("backend_notice", restarted)]
    assert isinstance(events[events.index(notices[0]) + 1], AssistantTurn)
    assert end_of(events).status == "finished" and end_of(events).steps == 2
