"""A tool with a bug, to show that a crashing tool does not end the run."""

from __future__ import annotations

from trident.tools.base import Tool, ToolArgs, ToolContext, ToolOutput


class CrashArgs(ToolArgs):
    n: int


class CrashingTool(Tool[CrashArgs]):
    name = "crash"
    args_model = CrashArgs

    async def run(self, args: CrashArgs, ctx: ToolContext) -> ToolOutput:
        return ToolOutput(str(1 // args.n))
