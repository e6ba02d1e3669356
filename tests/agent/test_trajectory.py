"""Trajectory files: flushed JSONL, tolerant of a cut last line, and the resume point."""

from __future__ import annotations

from pathlib import Path

import pytest

from trident.agent.core.events import (
    AssistantTurn,
    EffortChange,
    Event,
    RawToolCall,
    RunEnd,
    RunStart,
    StepEnd,
    StepStart,
    TextDelta,
    ToolCall,
    ToolResult,
    UserMessage,
)
from trident.agent.core.trajectory import TrajectoryError, TrajectoryWriter, load, resume_point

START: list[Event] = [
    RunStart(run_id="r", model="m", effort_mode="auto", tools=["read"]),
    UserMessage(text="task"),
]
STEP1: list[Event] = [
    StepStart(step=1, effort="none"),
    TextDelta(text="hi"),
    AssistantTurn(content="hi", tool_calls=[RawToolCall(id="aaaaaaaa1", name="read", arguments="{}")]),
    ToolCall(call_id="aaaaaaaa1", name="read", arguments={}),
    ToolResult(call_id="aaaaaaaa1", name="read", output="x", ok=True),
    StepEnd(step=1),
]


def test_writer_numbers_and_persists_every_event(tmp_path: Path) -> None:
    writer = TrajectoryWriter(tmp_path / "t.jsonl")
    written = [writer.append(e) for e in START + STEP1]
    writer.close()
    assert [e.seq for e in written] == list(range(len(written)))
    assert load(tmp_path / "t.jsonl") == written


def test_a_cut_last_line_is_dropped_but_a_corrupt_middle_line_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    lines = [e.model_dump_json() for e in START]
    path.write_text(lines[0] + "\n" + lines[1] + "\n" + lines[1][:15])
    assert len(load(path)) == 2
    path.write_text(lines[0] + "\n{garbage\n" + lines[1] + "\n")
    with pytest.raises(TrajectoryError, match=":2:"):
        load(path)


def test_resume_between_steps_keeps_everything() -> None:
    assert resume_point(START + STEP1) == START + STEP1


def test_resume_drops_a_step_whose_model_answer_never_arrived() -> None:
    partial: list[Event] = [StepStart(step=2, effort="none"), TextDelta(text="half an ans")]
    assert resume_point(START + STEP1 + partial) == START + STEP1


def test_resume_keeps_the_answer_and_finished_calls_and_reruns_the_unfinished_one() -> None:
    turn = AssistantTurn(
        content="",
        tool_calls=[
            RawToolCall(id="bbbbbbbb1", name="read", arguments="{}"),
            RawToolCall(id="bbbbbbbb2", name="read", arguments="{}"),
        ],
    )
    done: list[Event] = [
        ToolCall(call_id="bbbbbbbb1", name="read", arguments={}),
        ToolResult(call_id="bbbbbbbb1", name="read", output="x", ok=True),
    ]
    unfinished: list[Event] = [ToolCall(call_id="bbbbbbbb2", name="read", arguments={})]
    step2: list[Event] = [StepStart(step=2, effort="none"), turn, *done]
    assert resume_point(START + STEP1 + step2 + unfinished) == START + STEP1 + step2
    decided: list[Event] = [EffortChange(previous="none", effort="high", reason="x")]
    assert resume_point(START + STEP1 + step2 + decided) == START + STEP1 + step2


def test_resume_after_an_interruption_drops_the_run_end_but_a_finished_run_cannot_resume() -> None:
    interrupted = RunEnd(
        status="interrupted", reason="", steps=1, input_tokens=0, output_tokens=0, duration_s=1
    )
    assert resume_point(START + STEP1 + [interrupted]) == START + STEP1
    finished = interrupted.model_copy(update={"status": "finished"})
    with pytest.raises(TrajectoryError, match="already finished"):
        resume_point(START + STEP1 + [finished])
    with pytest.raises(TrajectoryError, match="empty"):
        resume_point([])
