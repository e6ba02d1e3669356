"""Scripted agent sessions for agentic-mode tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.helpers import write_session


def wrong_then_right(path: Path, wrong: str, right: str) -> Path:
    """Write a wrong solution, see the public tests fail, write the right one, see them pass, stop."""
    turns: list[dict[str, Any]] = [
        {
            "content": "A first attempt.",
            "tool_calls": [{"name": "write", "arguments": {"path": "solution.py", "content": wrong + "\n"}}],
        },
        {"tool_calls": [{"name": "run_tests", "arguments": {}}]},
        {
            "reasoning": "The examples fail; fix it.",
            "tool_calls": [{"name": "write", "arguments": {"path": "solution.py", "content": right + "\n"}}],
        },
        {"tool_calls": [{"name": "run_tests", "arguments": {}}]},
        {"content": "The public tests pass."},
    ]
    return write_session(path, turns)


def write_and_stop(path: Path, code: str) -> Path:
    """Write a solution and stop without testing it."""
    turns: list[dict[str, Any]] = [
        {"tool_calls": [{"name": "write", "arguments": {"path": "solution.py", "content": code + "\n"}}]},
        {"content": "Done."},
    ]
    return write_session(path, turns)


def write_check_and_stop(path: Path, code: str) -> Path:
    """Write a solution, run the public tests, stop (a headless run is not nudged: the task is checked)."""
    turns: list[dict[str, Any]] = [
        {"tool_calls": [{"name": "write", "arguments": {"path": "solution.py", "content": code + "\n"}}]},
        {"tool_calls": [{"name": "run_tests", "arguments": {}}]},
        {"content": "Done."},
    ]
    return write_session(path, turns)
