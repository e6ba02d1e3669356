"""Premature finish: a headless run whose model stops with the task unchecked is told what is open."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from tests.helpers import end_of, make_workspace, opening, write_session
from trident.agent import wiring
from trident.agent.config import LimitsConfig, SandboxConfig, Settings
from trident.agent.core.events import Correction, EffortChange, Event, RunResumed, StepEnd
from trident.agent.core.trajectory import TrajectoryWriter, load
from trident.agent.llm.scripted import ScriptedBackend
from trident.agent.loop import Agent
from trident.agent.policies.nudge import failing_tests
from trident.sandbox.local import LocalSandbox

FILES = {
    "calc.py": "def add(a, b):\n    return a - b\n",
    "test_calc.py": "import unittest\nfrom calc import add\n\n\nclass T(unittest.TestCase):\n"
    "    def test_add(self):\n        self.assertEqual(add(2, 2), 4)\n",
}
TEST_CMD = f"{sys.executable} -m unittest"
DONE: dict[str, Any] = {"content": "Done."}
FIX: dict[str, Any] = {
    "tool_calls": [
        {"name": "edit", "arguments": {"path": "calc.py", "old_text": "a - b", "new_text": "a + b"}}
    ]
}
TESTS: dict[str, Any] = {"tool_calls": [{"name": "run_tests", "arguments": {}}]}


def agent(tmp_path: Path, turns: list[dict[str, Any]], *, headless: bool = True, nudges: int = 2) -> Agent:
    backend = ScriptedBackend(write_session(tmp_path / "session.jsonl", turns))
    workspace = make_workspace(tmp_path / "ws", FILES)
    settings = Settings(sandbox=SandboxConfig(command_timeout_s=30), limits=LimitsConfig(max_nudges=nudges))
    writer = TrajectoryWriter(tmp_path / "trajectory.jsonl")
    sandbox = LocalSandbox(workspace)
    return wiring.make_agent(settings, backend, sandbox, writer, test_command=TEST_CMD, headless=headless)


async def run(tmp_path: Path, turns: list[dict[str, Any]], **kwargs: Any) -> list[Event]:
    box = agent(tmp_path, turns, **kwargs)
    try:
        return [e async for e in box.run(opening())]
    finally:
        await box.context.sandbox.close()


def nudges(events: list[Event]) -> list[Correction]:
    return [e for e in events if isinstance(e, Correction) and e.kind == "nudge"]


async def test_stopping_before_doing_anything_is_nudged_then_the_run_goes_on(tmp_path: Path) -> None:
    events = await run(tmp_path, [DONE, FIX, TESTS, DONE])
    (nudge,) = nudges(events)
    assert "nothing has been changed yet" in nudge.text and "never run" in nudge.text
    first = next(e for e in events if isinstance(e, StepEnd))
    assert nudge.failure in first.failures and first.format_errors == 0
    assert next(e for e in events if isinstance(e, EffortChange)).effort == "high"  # as a failing step
    end = end_of(events)
    assert end.status == "finished" and end.steps == 4  # tests pass: the last "Done." ends the run


async def test_failing_tests_are_named_in_the_nudge(tmp_path: Path) -> None:
    events = await run(tmp_path, [TESTS, DONE, FIX, TESTS, DONE])
    (nudge,) = nudges(events)
    assert "the tests still fail: test_calc.T.test_add" in nudge.text
    assert end_of(events).status == "finished"


async def test_an_edit_after_the_last_test_run_is_open(tmp_path: Path) -> None:
    events = await run(tmp_path, [TESTS, FIX, DONE, TESTS, DONE])
    (nudge,) = nudges(events)
    assert "not run after your last edit" in nudge.text and "nothing has been changed" not in nudge.text


async def test_nudges_are_bounded_by_max_nudges(tmp_path: Path) -> None:
    events = await run(tmp_path, [DONE, DONE, DONE], nudges=2)
    assert len(nudges(events)) == 2
    end = end_of(events)
    assert end.status == "finished" and end.steps == 3


async def test_no_nudge_when_turned_off_or_interactive(tmp_path: Path) -> None:
    for headless, count in ((True, 0), (False, 2)):
        events = await run(tmp_path / f"{headless}-{count}", [DONE], headless=headless, nudges=count)
        assert not nudges(events) and end_of(events).status == "finished"


async def test_a_resumed_run_counts_the_nudges_already_given(tmp_path: Path) -> None:
    turns = [DONE, DONE, DONE]
    events = await run(tmp_path, turns, nudges=1)
    first = nudges(events)[0]
    kept = load(tmp_path / "trajectory.jsonl")[: first.seq + 1]  # killed right after the nudge
    again = agent(tmp_path / "again", turns, nudges=1)
    again.replay(kept)
    try:
        after = [e async for e in again.run([RunResumed(run_id="test", after_seq=first.seq)])]
    finally:
        await again.context.sandbox.close()
    assert not nudges(after)  # the one allowed was given before the kill
    assert end_of(after).status == "finished" and end_of(after).steps == 2


def test_failing_tests_are_read_from_the_run_tests_output() -> None:
    output = (
        "FAILED: 1 failed, 2 passed (exit code 1)\nfailing (2):\n"
        "  FAILED tests/t.py::test_a - assert 1 == 2\n"
        "  ERROR tests/t.py::test_b\n--- output ---\nFAILED tests/t.py::test_a - assert 1 == 2\n"
    )
    assert failing_tests(output) == ["tests/t.py::test_a", "tests/t.py::test_b"]
