"""The model's task list (its `todo` calls), pinned above the message box; hidden while there is none."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from trident.agent.core.events import Event, ToolCall, ToolResult
from trident.agent.tui.diff_view import GREEN, MUTED, YELLOW

MARKS = {"done": ("✓", GREEN), "in_progress": ("▶", YELLOW), "pending": ("○", "")}


def todo_items(arguments: dict[str, Any]) -> list[tuple[str, str]]:
    """(status, content) of each item of a `todo` call's arguments; malformed items are skipped."""
    items = arguments.get("todos")
    if not isinstance(items, list):
        return []
    found: list[tuple[str, str]] = []
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("content"), str):
            status = item.get("status", "pending")
            found.append((status if status in MARKS else "pending", item["content"]))
    return found


class TodoPanel(Static):
    DEFAULT_CSS = """
    TodoPanel {
        height: auto; max-height: 10; padding: 0 1; margin: 0 1; border: round $primary;
        border-title-color: $text; display: none;
    }
    TodoPanel.shown { display: block; }
    """

    def __init__(self) -> None:
        super().__init__("", id="todo")
        self.items: list[tuple[str, str]] = []
        self._calls: dict[str, list[tuple[str, str]]] = {}

    def see(self, event: Event) -> None:
        """Follow the session's events: a `todo` call's list shows once its result says it worked."""
        if isinstance(event, ToolCall) and event.name == "todo":
            self._calls[event.call_id] = todo_items(event.arguments)
        elif isinstance(event, ToolResult) and event.call_id in self._calls:
            items = self._calls.pop(event.call_id)
            if event.ok:
                self.set_items(items)

    def set_items(self, items: list[tuple[str, str]]) -> None:
        self.items = items
        done = sum(status == "done" for status, _ in items)
        self.border_title = f"tasks · {done} of {len(items)} done"
        text = Text()
        for status, content in items:
            mark, colour = MARKS[status]
            style = f"bold {colour}" if status == "in_progress" else colour or ""
            text.append(f"{mark} {content}\n", style=style if status != "done" else f"{MUTED}")
        text.rstrip()
        self.update(text)
        self.set_class(bool(items), "shown")
