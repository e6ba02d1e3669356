"""A tool call as a card: what was called with which arguments, the user's approval, a compact result.

Edits show their change as a coloured diff; long outputs show their first lines and a count, and
unfold (a click, or Ctrl+O for the newest) to show all of it. A cancelled command keeps what it printed.
"""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from trident.agent.core.events import Approval, CallPreview, ToolCall, ToolResult
from trident.agent.session.undo import edited_paths
from trident.agent.tui.diff_view import call_diff, render_diff

RESULT_LINES = 4
LIVE_LINES, LIVE_CHARS = 8, 256 * 1024  # shown while running; kept (for a cancelled command's card)
EXPANDED_LINES = 5000
MAIN_ARGUMENT = {
    "read": "path",
    "edit": "path",
    "write": "path",
    "outline": "path",
    "ls": "path",
    "bash": "command",
    "grep": "pattern",
    "glob": "pattern",
    "git": "action",
    "run_tests": "command",
    "shell": "command",  # the user's `!cmd`
}


def summary(name: str, arguments: dict[str, Any], width: int = 90) -> str:
    """One line saying what the call does: its main argument, else its arguments as JSON."""
    if name == "apply_patch":
        text = ", ".join(edited_paths(name, arguments)) or "(patch)"
    elif name == "todo" and isinstance(arguments.get("todos"), list):
        todos = arguments["todos"]
        done = sum(isinstance(t, dict) and t.get("status") == "done" for t in todos)
        text = f"task list: {len(todos)} item(s), {done} done"
    elif name == "run_tests" and not arguments.get("command"):
        text = "the project's test command"
    elif MAIN_ARGUMENT.get(name) in arguments:
        text = str(arguments[MAIN_ARGUMENT[name]])
        rest = {k: v for k, v in arguments.items() if k != MAIN_ARGUMENT[name] and k not in _BULKY}
        if rest:
            text += "  " + " ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in rest.items())
    else:
        text = json.dumps(arguments, ensure_ascii=False)
    text = text.replace("\n", "⏎ ")
    return text if len(text) <= width else text[: width - 1] + "…"


_BULKY = {"old_text", "new_text", "content", "patch"}  # shown as the diff instead


def compact_result(output: str, lines: int = RESULT_LINES) -> str:
    rows = output.rstrip().splitlines()
    if len(rows) <= lines:
        return "\n".join(rows)
    return "\n".join(rows[:lines]) + f"\n… {len(rows) - lines} more lines (click or Ctrl+O shows them)"


def compact_tail(output: str, lines: int = LIVE_LINES) -> str:
    rows = output.rstrip().splitlines()
    if len(rows) <= lines:
        return "\n".join(rows)
    return f"… {len(rows) - lines} earlier lines (click or Ctrl+O shows them)\n" + "\n".join(rows[-lines:])


def full_result(output: str) -> str:
    rows = output.rstrip().splitlines()
    cut = f"\n… {len(rows) - EXPANDED_LINES} more lines not shown" if len(rows) > EXPANDED_LINES else ""
    return "\n".join(rows[:EXPANDED_LINES]) + cut + "\n(click or Ctrl+O folds it)"


class ToolCard(Vertical):
    DEFAULT_CSS = """
    ToolCard {
        height: auto; margin: 1 0 0 0; padding: 0 1; border: round $primary;
        border-title-color: $text; border-subtitle-color: $text-primary;
    }
    ToolCard.ok { border: round $success; border-subtitle-color: $text-success; }
    ToolCard.failed { border: round $error; border-subtitle-color: $text-error; }
    ToolCard.denied { border: round $warning; border-subtitle-color: $text-warning; }
    ToolCard > .args { color: $text; }
    ToolCard > .approval { color: $text-warning; }
    ToolCard > .result { color: $text-muted; }
    ToolCard.failed > .result { color: $text-error; }
    ToolCard.expandable:hover { background: $boost; }
    """

    def __init__(self, call_id: str, name: str, arguments: dict[str, Any] | None) -> None:
        super().__init__()
        self.call_id, self.tool = call_id, name
        self.arguments = arguments or {}
        self.border_title = f"• {name}"
        self.border_subtitle = "running…" if arguments is not None else ""
        self._args = Static(Text(summary(name, self.arguments)), classes="args")
        diff = call_diff(name, self.arguments)
        self._diff = Static(render_diff(diff) if diff else "", classes="diff")
        self._diff.display = bool(diff)
        self.has_diff = bool(diff)
        self._approval = Static("", classes="approval")
        self._approval.display = False
        self._result = Static("", classes="result", markup=False)
        self._result.display = False
        self._live = ""
        self.output = ""  # all of the output the card can show
        self.folded = ""  # its compact form; "" when it is short enough to show whole
        self.expanded = False

    @classmethod
    def for_call(cls, call: ToolCall) -> ToolCard:
        return cls(call.call_id, call.name, call.arguments)

    def compose(self) -> ComposeResult:
        yield self._args
        yield self._diff
        yield self._approval
        yield self._result

    def set_preview(self, preview: CallPreview) -> None:
        """What the session found the call will do: the diff against the file (real line numbers),
        the exact test command."""
        if preview.diff:
            self._diff.update(render_diff(preview.diff))
            self._diff.display = self.has_diff = True
        if preview.command:
            self._args.update(Text(summary(self.tool, {**self.arguments, "command": preview.command})))

    def set_approval(self, approval: Approval) -> None:
        if approval.allowed:
            text = "allowed by you" + (" (always, this session)" if approval.scope == "session" else "")
        else:
            text = "denied by you" + (f": {approval.reason}" if approval.reason else "")
            self.add_class("denied")
        self._approval.update(Text(text))
        self._approval.display = True

    @property
    def expandable(self) -> bool:
        return bool(self.folded)

    def _show(self, output: str, folded: str) -> None:
        self.output, self.folded = output, folded if folded != output.rstrip() else ""
        self._result.update(full_result(output) if self.expanded and self.folded else folded)
        self._result.display = bool(output.strip())
        self.set_class(self.expandable, "expandable")

    def toggle(self) -> None:
        """Unfold a long output, or fold it again."""
        if self.expandable:
            self.expanded = not self.expanded
            self._show(self.output, self.folded)

    def on_click(self) -> None:
        self.toggle()

    def add_live_output(self, text: str) -> None:
        """A running command's output so far: its last lines, until the result replaces them."""
        self._live = (self._live + text)[-LIVE_CHARS:]
        self._show(self._live, compact_tail(self._live))

    def set_result(self, result: ToolResult) -> None:
        self.border_subtitle = "✓" if result.ok else f"✗ {result.error_kind or 'failed'}"
        self.add_class("ok" if result.ok else "denied" if result.error_kind == "denied" else "failed")
        if result.error_kind == "denied":
            return  # the approval line says it
        if result.error_kind == "interrupted" and self._live.strip():  # what it printed before the stop
            output = self._live.rstrip() + "\n" + result.output
            self._show(output, compact_tail(output, LIVE_LINES + 1))
            return
        lines = result.output.strip().splitlines()
        if result.ok and self.has_diff and lines:  # the diff shows it: one line is enough
            self._show(result.output, lines[0])
        else:
            self._show(result.output, compact_result(result.output))
