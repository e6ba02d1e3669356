"""trident driven by a real small open model (Qwen2.5-Coder-1.5B on llama.cpp, benchmarks/live_model.py).

These assert trident's behaviour with a real, imperfect model, not the model's score: the run ends
for a stated reason, at least one call was a schema-valid structured call that ran, the trajectory
on disk is sound (it parses, and every call, result and step pairs up), and an eval completes with
its summary.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks.live_model import MODEL_NAME
from tests.helpers import EXAMPLE
from tests.live.conftest import LIVE_TIMEOUT_S
from trident.agent.core.events import (
    AssistantTurn,
    Correction,
    Event,
    RunEnd,
    RunStart,
    StepEnd,
    StepStart,
    ToolCall,
    ToolResult,
    Verdict,
)
from trident.agent.core.trajectory import load
from trident.agent.intake.text_calls import find_text_call
from trident.tools.registry import default_tools

pytestmark = pytest.mark.timeout(LIVE_TIMEOUT_S)
STATED_ENDS = {"finished", "max_steps", "timeout", "max_tokens", "format_errors", "stuck"}
MAX_STEPS = os.environ.get("TRIDENT_LIVE_MAX_STEPS", "6")
TOOL_NAMES = default_tools().names()


def trident(*args: str, timeout: float = LIVE_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trident", *args], capture_output=True, text=True, timeout=timeout
    )


def assert_sound(events: list[Event]) -> None:
    """One run start, contiguous seqs, steps opened and closed in order, every call of a turn
    answered by exactly one result, every call that ran schema-valid, a run end and a verdict last."""
    assert isinstance(events[0], RunStart) and isinstance(events[-1], Verdict)
    assert [e.seq for e in events] == list(range(len(events)))
    assert sum(isinstance(e, RunEnd) for e in events) == 1
    open_step: int | None = None
    asked: set[str] = set()
    answered: list[str] = []
    specs = default_tools().specs()
    from jsonschema import Draft202012Validator

    for event in events:
        if isinstance(event, StepStart):
            assert open_step is None
            open_step = event.step
        elif isinstance(event, StepEnd):
            assert open_step == event.step
            open_step = None
        elif isinstance(event, AssistantTurn):
            asked.update(c.id for c in event.tool_calls)
        elif isinstance(event, ToolCall):
            assert event.call_id in asked
            Draft202012Validator(specs[event.name].parameters).validate(event.arguments)
        elif isinstance(event, ToolResult):
            assert event.call_id in asked
            answered.append(event.call_id)
    assert open_step is None
    assert sorted(answered) == sorted(asked)  # each call answered once, none invented


@pytest.fixture(scope="module")
def example_run(
    tmp_path_factory: pytest.TempPathFactory, live_url: str, sandbox_image: str
) -> tuple[subprocess.CompletedProcess[str], list[Event]]:
    """One `trident run` of the bundled example against the live model (minutes on 2 cores)."""
    trajectory = tmp_path_factory.mktemp("live-run") / "trajectory.jsonl"
    result = trident(
        "run",
        "--repo",
        str(EXAMPLE / "repo"),
        "--task-file",
        str(EXAMPLE / "task.md"),
        "--test-cmd",
        "python3 -m unittest",
        "--model",
        f"openai:{MODEL_NAME}@{live_url}",
        "--sandbox",
        "docker",
        "--image",
        sandbox_image,
        "--max-steps",
        MAX_STEPS,
        "--json",
        "--trajectory-out",
        str(trajectory),
    )
    print(result.stderr)  # the run's progress, shown when a test fails
    return result, load(trajectory)


def test_a_run_on_the_example_ends_for_a_stated_reason_with_a_sound_trajectory(
    example_run: tuple[subprocess.CompletedProcess[str], list[Event]],
) -> None:
    result, events = example_run
    assert result.returncode in (0, 1, 3), result.stderr  # solved, not solved, a budget: never a crash
    streamed = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["seq"] for e in streamed] == [e.seq for e in events]  # what was printed is what was kept
    end = next(e for e in events if isinstance(e, RunEnd))
    assert end.status in STATED_ENDS and end.reason, end
    verdict = events[-1]
    assert isinstance(verdict, Verdict) and verdict.exit_code == result.returncode and verdict.reason
    assert_sound(events)
    for turn in (e for e in events if isinstance(e, AssistantTurn) and not e.tool_calls):
        if find_text_call(turn.content, TOOL_NAMES) is not None:  # a call written as text: never run,
            answer = events[events.index(turn) + 1]  # answered at once as a format error
            assert isinstance(answer, Correction) and answer.kind == "text_call", answer


def test_the_model_made_a_schema_valid_structured_tool_call(
    example_run: tuple[subprocess.CompletedProcess[str], list[Event]],
) -> None:
    """Qwen2.5-Coder-1.5B writes most of its calls as text (```json blocks, bare JSON). Each is
    answered as a format error and the next turn is asked for a call (`tool_choice: "required"`),
    which vLLM's server enforces with a grammar: so the run makes real calls that pass intake.
    (llama.cpp's server as xllamacpp ships it ignores `required`: with it this model made no call in
    4 of 4 runs; CI serves the model with vLLM: `live_model start --server vllm`.)"""
    _, events = example_run
    starts = [e for e in events if isinstance(e, StepStart)]
    for correction in (e for e in events if isinstance(e, Correction) and e.kind == "text_call"):
        following = next((s for s in starts if s.seq > correction.seq), None)
        assert following is None or following.tool_choice == "required", following
    assert [e for e in events if isinstance(e, ToolCall)], "no structured call passed intake"


def summary_of(run: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((run / "summary.json").read_text())
    return data


def test_an_eval_of_two_problems_completes_with_a_summary(
    tmp_path: Path, live_url: str, sandbox_image: str
) -> None:
    result = trident(
        "eval",
        "--limit",
        "2",
        "--model",
        f"openai:{MODEL_NAME}@{live_url}",
        "--max-tokens",
        "1024",
        "--concurrency",
        "1",
        "--sandbox",
        "docker",
        "--image",
        sandbox_image,
        "--out",
        str(tmp_path),
        "--run",
        "live",
    )
    print(result.stderr)
    assert result.returncode == 0, result.stderr
    summary = summary_of(tmp_path / "live")
    scenarios = summary["scenarios"]
    assert scenarios and all("pass@1" in s for s in scenarios.values()), summary
