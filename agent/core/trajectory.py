"""The trajectory: an append-only JSONL file of events, flushed as each one happens.

It is the run's only record. A run killed at any point (SIGKILL included) leaves at worst one
partial last line; `load` drops it, and `resume_point` cuts the events back to the last point the
loop can continue from without doing anything twice: a model answer that arrived is kept (it is not
asked again), a tool call with no recorded result is run again, half-streamed text is dropped.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import IO

from pydantic import ValidationError

from trident.agent.core.events import (
    AssistantTurn,
    Event,
    RunEnd,
    StepEnd,
    StepStart,
    ToolCall,
    ToolResult,
    parse_event,
)


class TrajectoryError(Exception):
    """The trajectory cannot be read or resumed."""


def load(path: str | Path) -> list[Event]:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TrajectoryError(f"cannot read trajectory {path}: {exc.strerror}") from None
    lines = raw.split(b"\n")
    events: list[Event] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            events.append(parse_event(line))
        except ValidationError as exc:
            if number == len(lines):  # a last line cut short by a crash: nothing after it exists
                break
            raise TrajectoryError(
                f"{path}:{number}: not a trajectory event: {exc.errors()[0]['msg']}"
            ) from None
    return events


def resume_point(events: list[Event]) -> list[Event]:
    """The prefix of `events` a resumed run continues from (see the module docstring)."""
    if not events:
        raise TrajectoryError("the trajectory is empty: nothing to resume")
    last_end = max((i for i, e in enumerate(events) if isinstance(e, RunEnd)), default=None)
    if last_end is not None:
        end = events[last_end]
        assert isinstance(end, RunEnd)
        if end.status == "finished":
            raise TrajectoryError("this run already finished; start a new run instead")
        events = events[:last_end]  # the end and its verdict are dropped: the run goes on
    step_start = max((i for i, e in enumerate(events) if isinstance(e, StepStart)), default=-1)
    step_end = max((i for i, e in enumerate(events) if isinstance(e, StepEnd)), default=-1)
    if step_start <= step_end:  # between steps
        return events[: step_end + 1] if step_end >= 0 else _before_first_step(events)
    turn = next((i for i in range(step_start, len(events)) if isinstance(events[i], AssistantTurn)), None)
    if turn is None:
        return events[:step_start]
    answered = {e.call_id for e in events[turn:] if isinstance(e, ToolResult)}
    keep = turn + 1
    for i in range(turn + 1, len(events)):
        event = events[i]
        complete = isinstance(event, ToolResult) or (
            isinstance(event, ToolCall) and event.call_id in answered
        )
        if not complete:
            break
        keep = i + 1
    return events[:keep]


def _before_first_step(events: list[Event]) -> list[Event]:
    kept = ("run_start", "system_message", "user_message", "run_resumed", "verification")
    return [e for e in events if e.type in kept]


class TrajectoryWriter:
    """Assigns each event its sequence number, appends it as one JSON line and flushes."""

    def __init__(self, path: str | Path, kept: list[Event] | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if kept is not None:
            _rewrite(self.path, kept)
        self._next_seq = len(kept) if kept is not None else 0
        self._file: IO[str] = self.path.open("a", encoding="utf-8")

    def append(self, event: Event) -> Event:
        event = event.model_copy(update={"seq": self._next_seq})
        self._file.write(event.model_dump_json() + "\n")
        self._file.flush()
        self._next_seq += 1
        if isinstance(event, StepEnd | RunEnd):
            os.fsync(self._file.fileno())
        return event

    def close(self) -> None:
        self._file.close()


def _rewrite(path: Path, events: list[Event]) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        for event in events:
            handle.write(event.model_dump_json() + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
