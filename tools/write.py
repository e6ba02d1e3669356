"""`write`: create or overwrite a whole file, atomically."""

from __future__ import annotations

from pydantic import Field

from sandbox.base import PathRefused
from tools.base import Tool, ToolArgs, ToolContext, ToolOutput


class WriteArgs(ToolArgs):
    path: str = Field(description="File path, relative to the workspace root.", examples=["src/new.py"])
    content: str = Field(description="The complete new content of the file.")


class WriteTool(Tool[WriteArgs]):
    name = "write"
    args_model = WriteArgs

    async def run(self, args: WriteArgs, ctx: ToolContext) -> ToolOutput:
        try:
            await ctx.sandbox.read_file(args.path)
            verb = "Overwrote"
        except PathRefused:
            verb = "Created"
        await ctx.sandbox.write_file(args.path, args.content.encode("utf-8"))
        lines = args.content.count("\n") + (0 if args.content.endswith("\n") or not args.content else 1)
        return ToolOutput(f"{verb} {args.path} ({lines} lines)")
