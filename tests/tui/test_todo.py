"""The `todo` tool and the task list pinned above the message box (live, cleared, and on /resume)."""

from __future__ import annotations

from typing import Any

from tests.chat_helpers import answer
from tests.tui.conftest import SIZE, AppFactory
from tests.tui.test_app import idle, resume_newest, type_line
from trident.agent.tui.todo_panel import TodoPanel
from trident.tools.base import ToolContext
from trident.tools.registry import default_tools


def todo(*items: tuple[str, str]) -> dict[str, Any]:
    todos = [{"content": content, "status": status} for content, status in items]
    return {"tool_calls": [{"name": "todo", "arguments": {"todos": todos}}]}


async def test_the_tool_echoes_the_list_and_never_asks() -> None:
    tool = default_tools()["todo"]
    assert tool.kind({}) == "read"
    out = await tool.invoke(
        {"todos": [{"content": "read", "status": "done"}, {"content": "fix", "status": "in_progress"}]},
        ToolContext(sandbox=None),  # type: ignore[arg-type]
    )
    assert out.ok and out.output == "Task list (1 of 2 done):\n[x] read\n[>] fix"
    bad = await tool.invoke({"todos": [{"content": "x", "status": "later"}]}, ToolContext(sandbox=None))  # type: ignore[arg-type]
    assert not bad.ok


async def test_the_task_list_is_pinned_above_the_message_box(make_app: AppFactory) -> None:
    first = todo(("Find the bug", "in_progress"), ("Fix it", "pending"), ("Run the tests", "pending"))
    second = todo(("Find the bug", "done"), ("Fix it", "in_progress"), ("Run the tests", "pending"))
    app = make_app([first, second, answer("Working on it.")])
    async with app.run_test(size=SIZE) as pilot:
        panel = app.query_one(TodoPanel)
        assert not panel.display  # no list yet
        await type_line(pilot, "fix add")
        await idle(pilot)
        assert panel.display and panel.border_title == "tasks · 1 of 3 done"
        shown = str(panel.content)
        assert "✓ Find the bug" in shown and "▶ Fix it" in shown and "○ Run the tests" in shown
        assert panel.region.y > app.transcript.region.y  # below the conversation, above the box
        assert panel.region.bottom <= app.query_one("#composer").region.y
        await type_line(pilot, "/clear")
        await pilot.pause(0.1)
        assert not panel.display
        await resume_newest(pilot)
        assert panel.display and "▶ Fix it" in str(panel.content)  # rebuilt from the trajectory
