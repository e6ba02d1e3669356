"""A tool call written as text is never run, and is answered as a format error saying how to call."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import collect, end_of, make_agent, run_script, write_session
from trident.agent.core.events import Correction, EffortChange, RunResumed, StepEnd, StepStart, ToolCall
from trident.agent.core.trajectory import load
from trident.agent.intake.text_calls import find_text_call
from trident.agent.llm.scripted import ScriptedBackend
from trident.tools.registry import default_tools

TOOLS = default_tools().names()
READ_ARGS = {"path": "hello.py"}
FENCED = "I will read the file.\n```json\n" + json.dumps({"name": "read", "arguments": READ_ARGS}) + "\n```"
HERMES = '<tool_call>\n{"name": "read", "arguments": {"path": "hello.py"}}\n</tool_call>'
MARKER = '[TOOL_CALLS]read[ARGS]{"path": "hello.py"}'
READ: dict[str, Any] = {"name": "read", "arguments": READ_ARGS}
DONE: dict[str, Any] = {"content": "Done."}


@pytest.mark.parametrize(
    ("content", "form", "name"),
    [
        (FENCED, "fenced_json", "read"),
        (
            "```\n" + json.dumps({"name": "bash", "parameters": {"command": "ls"}}) + "\n```",
            "fenced_json",
            "bash",
        ),
        (json.dumps({"name": "read", "arguments": READ_ARGS}), "json", "read"),
        (json.dumps([{"function": {"name": "read", "arguments": json.dumps(READ_ARGS)}}]), "json", "read"),
        (
            "I will look.\n" + json.dumps({"name": "read", "arguments": READ_ARGS}) + "\nThen fix it.",
            "json",
            "read",
        ),
        (
            "<tools>\n" + json.dumps({"name": "read", "arguments": READ_ARGS}) + '\n{"name": "grep"',
            "json",
            "read",
        ),
        ('```json\n{"name": "run_tests"}\n```', "fenced_json", "run_tests"),  # a call without arguments
        (
            '```json\n{\n  "name": "write",\n  "arguments": {"path": "a.py", "content": "x = 1\n}\n}\n```',
            "fenced_json",
            "write",
        ),
        (HERMES, "hermes", "read"),
        ("<tool_call>\nnot even json", "hermes", None),
        (MARKER, "tool_calls_marker", "read"),
        ("[TOOL_CALLS]", "tool_calls_marker", None),
    ],
)
def test_calls_written_as_text_are_recognised(content: str, form: str, name: str | None) -> None:
    found = find_text_call(content, TOOLS)
    assert found is not None and found.form == form and found.name == name
    if (name == "read" and form != "hermes") or content == HERMES:
        assert found.arguments is not None and json.loads(found.arguments) == READ_ARGS


@pytest.mark.parametrize(
    "content",
    [
        "Done: I changed `read` to handle empty files.",
        '```json\n{"name": "timefmt", "version": "1.0"}\n```',  # JSON, but naming no tool
        '```json\n{"name": "read", "version": "1.0"}\n```',  # a tool's name among other keys: a manifest
        '```python\nprint({"name": "unknown_tool", "arguments": {}})\n```',
        "",
    ],
)
def test_answers_that_hold_no_call_are_answers(content: str) -> None:
    assert find_text_call(content, TOOLS) is None


@pytest.mark.parametrize("content", [FENCED, HERMES, MARKER])
async def test_a_text_call_is_never_run_and_is_answered_as_a_format_error(
    tmp_path: Path, content: str
) -> None:
    events = await run_script(tmp_path, [{"content": content}, {"tool_calls": [READ]}, DONE])
    (correction,) = [e for e in events if isinstance(e, Correction)]
    assert correction.kind == "text_call"
    assert "text is never run" in correction.text
    assert 'the tool `read` with the arguments {"path": "hello.py"}' in correction.text  # exactly how
    calls = [e for e in events if isinstance(e, ToolCall)]
    assert len(calls) == 1 and calls[0].seq > correction.seq  # only the structured call ran
    first = next(e for e in events if isinstance(e, StepEnd))
    assert first.format_errors == 1 and "a tool call written as text" in first.failures
    assert next(e for e in events if isinstance(e, EffortChange)).effort == "high"
    assert end_of(events).status == "finished" and end_of(events).steps == 3


async def test_the_turn_after_a_text_call_is_asked_for_a_tool_call(tmp_path: Path) -> None:
    events = await run_script(tmp_path, [{"content": FENCED}, {"tool_calls": [READ]}, DONE])
    assert [e.tool_choice for e in events if isinstance(e, StepStart)] == ["auto", "required", "auto"]


def test_a_call_without_arguments_has_empty_ones_and_a_broken_one_has_none() -> None:
    bare = find_text_call('```json\n{"name": "run_tests"}\n```', TOOLS)
    assert bare is not None and bare.arguments == "{}"
    broken = find_text_call(
        '```json\n{"name": "write", "arguments": {"path": "a.py", "content": "x\n}}\n```', TOOLS
    )
    assert broken is not None and broken.name == "write" and broken.arguments is None


async def test_a_text_call_whose_json_is_broken_is_told_so(tmp_path: Path) -> None:
    broken = '```json\n{"name": "write", "arguments": {"path": "a.py", "content": "x = 1\n}}\n```'
    events = await run_script(tmp_path, [{"content": broken}, DONE])
    (correction,) = [e for e in events if isinstance(e, Correction)]
    assert "not valid JSON" in correction.text and "the tool `write`" in correction.text


async def test_invalid_arguments_in_a_text_call_are_named(tmp_path: Path) -> None:
    wrong = '```json\n{"name": "read", "arguments": {"file": "hello.py"}}\n```'
    events = await run_script(tmp_path, [{"content": wrong}, DONE])
    (correction,) = [e for e in events if isinstance(e, Correction)]
    assert "would also be rejected" in correction.text and "path" in correction.text


async def test_text_calls_count_as_format_errors_toward_the_limit(tmp_path: Path) -> None:
    events = await run_script(tmp_path, [{"content": FENCED}] * 3)
    end = end_of(events)
    assert end.status == "format_errors" and end.steps == 3
    assert not [e for e in events if isinstance(e, ToolCall)]


async def test_a_resumed_run_does_not_answer_the_same_turn_twice(tmp_path: Path) -> None:
    backend = ScriptedBackend(write_session(tmp_path / "session.jsonl", [{"content": FENCED}, DONE]))
    events = await collect(make_agent(tmp_path, backend))
    correction = next(e for e in events if isinstance(e, Correction))
    kept = load(tmp_path / "trajectory.jsonl")[: correction.seq + 1]  # killed right after the correction
    resumed = make_agent(tmp_path / "again", backend)
    resumed.replay(kept)
    after = [e async for e in resumed.run([RunResumed(run_id="test", after_seq=correction.seq)])]
    assert not [e for e in after if isinstance(e, Correction)]
    assert [e.tool_choice for e in after if isinstance(e, StepStart)] == ["required"]  # as if never killed
    assert end_of(after).status == "finished" and end_of(after).steps == 2
