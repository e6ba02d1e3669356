"""Saved chat sessions: listing them for `/resume`, and where a saved one continues.

A chat session is a trajectory like a headless run's (`<state>/runs/<id>/trajectory.jsonl`) whose
run start says `"chat": true`. It holds many user turns, each ending with a `run_end`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from trident.agent.config import state_dir
from trident.agent.core.events import (
    Compaction,
    Event,
    ModelChange,
    RunEnd,
    RunStart,
    StepEnd,
    StepStart,
    UserMessage,
)
from trident.agent.core.trajectory import TrajectoryError
from trident.agent.session.draft import load_draft


@dataclass(frozen=True)
class SessionInfo:
    run_id: str
    path: Path
    started: float  # unix time
    repo: str
    title: str  # the first user message's first line (else its draft's)
    turns: int
    draft: bool = False  # it holds unsent text (a crash, a closed terminal)

    def label(self) -> str:
        when = datetime.fromtimestamp(self.started).strftime("%Y-%m-%d %H:%M")
        return f"{when}  {self.turns} turn(s)  {self.title}"


def _info(path: Path) -> SessionInfo | None:
    start: dict[str, object] | None = None
    title, turns = "", 0
    try:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if '"run_start"' in line and start is None:
                    start = json.loads(line)
                elif '"user_message"' in line:
                    turns += 1
                    if not title:
                        text = str(json.loads(line).get("text", "")).strip()
                        title = text.splitlines()[0][:80] if text else ""
    except (OSError, ValueError):
        return None
    if start is None:
        return None
    draft = load_draft(path.parent).strip()
    if not title and draft:
        title = f"(unsent) {draft.splitlines()[0][:70]}"
    settings = start.get("settings")
    if not isinstance(settings, dict) or not settings.get("chat"):
        return None
    return SessionInfo(
        run_id=str(start.get("run_id", "")),
        path=path,
        started=float(str(start.get("ts", 0))),
        repo=str(settings.get("repo", "")),
        title=title or "(no message)",
        turns=turns,
        draft=bool(draft),
    )


def list_sessions(repo: Path | None = None, root: Path | None = None) -> list[SessionInfo]:
    """Chat sessions, newest first; only those on `repo` when given."""
    runs = root or state_dir() / "runs"
    found = [info for path in runs.glob("*/trajectory.jsonl") if (info := _info(path)) is not None]
    if repo is not None:
        found = [info for info in found if info.repo == str(repo.resolve())]
    return sorted(found, key=lambda info: info.started, reverse=True)


def resumable(repo: Path, root: Path | None = None) -> list[SessionInfo]:
    """`repo`'s sessions that hold a message or unsent text (an empty one is not worth resuming), newest
    first."""
    return [info for info in list_sessions(repo, root) if info.turns > 0 or info.draft]


def find_session(repo: Path, run_id: str, root: Path | None = None) -> SessionInfo | None:
    """A saved session by its id, or by a unique start of it (among `repo`'s, then all)."""
    for scope in (repo, None):
        found = [info for info in list_sessions(scope, root) if info.run_id.startswith(run_id)]
        exact = [info for info in found if info.run_id == run_id]
        if exact or len(found) == 1:
            return (exact or found)[0]
    return None


def chat_resume_point(events: list[Event]) -> tuple[list[Event], list[str]]:
    """The events a resumed chat keeps, and the user messages of a turn cut short (to type again).

    A chat continues from its last settled point: the end of a turn or of a step (an interrupted
    step is closed by the session before it stops, so its end is settled too). What came after (a
    turn cut by a crash) is dropped, and its user messages are handed back; a model switch or a
    compaction made meanwhile is kept (neither is part of a step).
    """
    if not any(isinstance(e, RunStart) for e in events):
        raise TrajectoryError("not a trajectory of a session: it has no run start")
    settled = max((i for i, e in enumerate(events) if isinstance(e, RunEnd | StepEnd)), default=None)
    kept: list[Event]
    if settled is None:  # not one step ended: the session's start stays, every message is handed back
        start = next((i for i, e in enumerate(events) if isinstance(e, StepStart)), len(events))
        kept, cut = [e for e in events[:start] if not isinstance(e, UserMessage)], events
    else:
        start = settled + 1
        kept, cut = events[:start], events[start:]
    kept += [e for e in events[start:] if isinstance(e, ModelChange | Compaction)]
    return kept, [e.text for e in cut if isinstance(e, UserMessage)]


def session_model(events: list[Event]) -> str | None:
    """The model a saved session was last on: its last switch, else its start's."""
    for event in reversed(events):
        if isinstance(event, ModelChange | RunStart):
            return event.model
    return None
