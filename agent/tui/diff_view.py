"""Edits as coloured diffs: built from an edit call's arguments, or a patch as it is."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from trident.agent.session.preview import arguments_diff

MAX_LINES = 80

# Colours of Rich text (the CSS uses the theme's variables). Each passes WCAG AA (4.5:1) on the
# default theme's backgrounds, from the screen (#121212) to the status bar's panel (#242F38);
# tests/tui/test_contrast.py checks what is drawn.
ADDED, REMOVED, HUNK = "#87d787", "#ff8787", "#5fd7ff"
MUTED = "#a3a3a3"  # instead of Rich's `dim`, which halves a colour towards the background
GREEN, YELLOW, CYAN, MAGENTA = "#87d787", "#ffd75f", "#5fd7ff", "#ff87ff"


def call_diff(name: str, arguments: dict[str, Any]) -> str | None:
    """The change an edit call asks for, from its arguments (None for calls that are not edits); the
    session's preview (real line numbers) replaces it when there is one."""
    return arguments_diff(name, arguments)


def _style(line: str) -> str:
    if line.startswith(("+++", "---", "diff --git", "index ")):
        return "bold"
    if line.startswith("+"):
        return ADDED
    if line.startswith("-"):
        return REMOVED
    if line.startswith("@@"):
        return HUNK
    return MUTED


def render_diff(diff: str, max_lines: int = MAX_LINES) -> Text:
    """Coloured diff text: additions green, removals red, hunk headers cyan; long diffs are cut."""
    lines = diff.rstrip("\n").splitlines()
    text = Text()
    for line in lines[:max_lines]:
        text.append(line + "\n", style=_style(line))
    if len(lines) > max_lines:
        text.append(
            f"… {len(lines) - max_lines} more lines (/diff shows everything)\n", style=f"{MUTED} italic"
        )
    text.rstrip()
    return text
