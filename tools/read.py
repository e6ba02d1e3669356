"""`read`: a file or a line range, with line numbers, size-capped."""

from __future__ import annotations

from pydantic import Field

from tools.base import Tool, ToolArgs, ToolContext, ToolOutput
from tools.text import decode_text

MAX_LINES = 400
MAX_LINE_CHARS = 500


class ReadArgs(ToolArgs):
    path: str = Field(description="File path, relative to the workspace root.", examples=["src/app.py"])
    offset: int = Field(1, ge=1, description="First line to show (1-based).")
    limit: int = Field(MAX_LINES, ge=1, le=2000, description="How many lines to show at most.")


class ReadTool(Tool[ReadArgs]):
    name = "read"
    args_model = ReadArgs
    read_only = True

    async def run(self, args: ReadArgs, ctx: ToolContext) -> ToolOutput:
        text = decode_text(await ctx.sandbox.read_file(args.path), args.path)
        lines = text.splitlines()
        start = args.offset - 1
        shown = lines[start : start + args.limit]
        body = "\n".join(
            f"{start + i + 1:>6}\t{line if len(line) <= MAX_LINE_CHARS else line[:MAX_LINE_CHARS] + '[...]'}"
            for i, line in enumerate(shown)
        )
        end = start + len(shown)
        if not lines:
            return ToolOutput(f"{args.path} is empty")
        if start >= len(lines):
            return ToolOutput(f"{args.path} has {len(lines)} lines; offset {args.offset} is past the end")
        note = ""
        if start > 0 or end < len(lines):
            note = f"\n[lines {start + 1}-{end} of {len(lines)}; use offset/limit to see more]"
        return ToolOutput(body + note)
