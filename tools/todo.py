"""`todo`: the model's short task list for the current work, replaced whole on each call.

Nothing is stored here: the list lives in the call's arguments (so it is in the trajectory, and a
resumed session has it), and the answer echoes it with the counts. The TUI pins the latest list
above the message box.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from trident.tools.base import Tool, ToolArgs, ToolContext, ToolOutput

MAX_ITEMS = 20
MARK = {"done": "[x]", "in_progress": "[>]", "pending": "[ ]"}


class TodoItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content: str = Field(min_length=1, max_length=200, description="The task, in a few words.")
    status: Literal["pending", "in_progress", "done"] = Field(
        "pending", description="pending, in_progress (what you are doing now) or done."
    )


class TodoArgs(ToolArgs):
    todos: list[TodoItem] = Field(
        max_length=MAX_ITEMS,
        description="The whole list, in order; it replaces the previous one (an empty list clears it).",
        examples=[
            [
                {"content": "Reproduce the failing date parse", "status": "done"},
                {"content": "Fix parse_range for empty input", "status": "in_progress"},
                {"content": "Run the tests", "status": "pending"},
            ]
        ],
    )


def render(todos: list[TodoItem]) -> str:
    if not todos:
        return "The task list is empty."
    done = sum(item.status == "done" for item in todos)
    lines = [f"{MARK[item.status]} {item.content}" for item in todos]
    return f"Task list ({done} of {len(todos)} done):\n" + "\n".join(lines)


class TodoTool(Tool[TodoArgs]):
    name = "todo"
    args_model = TodoArgs
    read_only = True  # touches nothing: never asks for approval

    async def run(self, args: TodoArgs, ctx: ToolContext) -> ToolOutput:
        return ToolOutput(render(args.todos))
