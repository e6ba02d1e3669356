"""Edits as coloured diffs: built from an edit call's arguments, or a patch as it is."""

from __future__ import annotations

import difflib
from typing import Any

from rich.text import Text

MAX_LINES = 80


def call_diff(name: str, arguments: dict[str, Any]) -> str | None:
    """The change an edit call asks for, as a unified diff (None for calls that are not edits)."""
    if name == "apply_patch" and isinstance(arguments.get("patch"), str):
        return str(arguments["patch"])
    path = str(arguments.get("path", "?"))
    if name == "edit":
        old = str(arguments.get("old_text", "")).splitlines(keepends=True)
        new = str(arguments.get("new_text", "")).splitlines(keepends=True)
        return "".join(difflib.unified_diff(old, new, f"a/{path}", f"b/{path}", n=2))
    if name == "write":
        new = str(arguments.get("content", "")).splitlines(keepends=True)
        return "".join(difflib.unified_diff([], new, "/dev/null", f"b/{path}", n=0))
    return None


def _style(line: str) -> str:
    if line.startswith(("+++", "---", "diff --git", "index ")):
        return "bold"
    if line.startswith("+"):
        return "green"
    if line.startswith("-"):
        return "red"
    if line.startswith("@@"):
        return "cyan"
    return "dim"


def render_diff(diff: str, max_lines: int = MAX_LINES) -> Text:
    """Coloured diff text: additions green, removals red, hunk headers cyan; long diffs are cut."""
    lines = diff.rstrip("\n").splitlines()
    text = Text()
    for line in lines[:max_lines]:
        text.append(line + "\n", style=_style(line))
    if len(lines) > max_lines:
        text.append(f"… {len(lines) - max_lines} more lines (/diff shows everything)\n", style="dim italic")
    text.rstrip()
    return text
