"""Shared test helpers: scripted sessions, a workspace, running the real loop in-process."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from trident.agent import wiring
from trident.agent.config import SandboxConfig, Settings
from trident.agent.core.events import Event, RunEnd, RunStart, SystemMessage, ToolResult, UserMessage
from trident.agent.core.messages import Backend
from trident.agent.core.trajectory import TrajectoryWriter
from trident.agent.llm.scripted import ScriptedBackend
from trident.agent.loop import Agent, Policies
from trident.sandbox.base import Sandbox
from trident.sandbox.local import LocalSandbox
from trident.tools.base import ToolContext, Toolset
from trident.tools.registry import default_tools

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "timefmt"


def write_session(path: Path, turns: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(turn) + "\n" for turn in turns), encoding="utf-8")
    return path


def make_workspace(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root


OPEN_SANDBOXES: list[LocalSandbox] = []  # closed after each test by tests/conftest.py


def tool_context(root: Path, *protected: str) -> ToolContext:
    """A context on a fresh local sandbox over `root`, closed when the test ends."""
    OPEN_SANDBOXES.append(LocalSandbox(root))
    return ToolContext(sandbox=OPEN_SANDBOXES[-1], protected_paths=protected)


def make_agent(
    tmp_path: Path,
    backend: Backend,
    files: dict[str, str] | None = None,
    policies: Policies | None = None,
    test_command: str | None = None,
    tools: Toolset | None = None,
) -> Agent:
    """The agent as `trident.agent.wiring` builds it, on a local sandbox over a fresh workspace."""
    workspace = make_workspace(tmp_path / "ws", files or {"hello.py": "print('hello')\n"})
    settings = Settings(sandbox=SandboxConfig(command_timeout_s=30))
    return wiring.make_agent(
        settings,
        backend,
        LocalSandbox(workspace),
        TrajectoryWriter(tmp_path / "trajectory.jsonl"),
        test_command=test_command,
        tools=tools,
        policies=policies or Policies(),
    )


def opening(task: str = "do the task") -> list[Event]:
    return [
        RunStart(run_id="test", model="scripted", effort_mode="auto", tools=default_tools().names()),
        SystemMessage(text="You are a test agent."),
        UserMessage(text=task),
    ]


async def collect(agent: Agent, task: str = "do the task") -> list[Event]:
    return [event async for event in agent.run(opening(task))]


async def run_script(
    tmp_path: Path,
    turns: list[dict[str, Any]],
    files: dict[str, str] | None = None,
    policies: Policies | None = None,
) -> list[Event]:
    backend = ScriptedBackend(write_session(tmp_path / "session.jsonl", turns))
    return await collect(make_agent(tmp_path, backend, files, policies))


def end_of(events: list[Event]) -> RunEnd:
    end = events[-1]
    assert isinstance(end, RunEnd), f"last event is {end.type}"
    return end


def results(events: list[Event]) -> list[ToolResult]:
    return [e for e in events if isinstance(e, ToolResult)]


def python(box: Sandbox) -> str:
    """The python3 that commands in `box` find: the image's in Docker, this interpreter locally."""
    return "python3" if box.isolated else sys.executable


# Counts `sleep SECONDS` processes alive for each marker value in argv (values no one else uses).
COUNT_SLEEPERS = (
    "import os, sys\n"
    "def cmd(p):\n"
    "    try:\n"
    "        return open(f'/proc/{p}/cmdline', 'rb').read()\n"
    "    except OSError:\n"
    "        return b''\n"
    "want = [b'sleep\\x00' + m.encode() + b'\\x00' for m in sys.argv[1:]]\n"
    "print(sum(cmd(p) in want for p in os.listdir('/proc') if p.isdigit()))"
)
