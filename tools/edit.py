"""`edit`: exact search/replace in one file."""

from __future__ import annotations

from pydantic import Field

from tools.base import Tool, ToolArgs, ToolContext, ToolError, ToolOutput
from tools.text import decode_text, short_diff


class EditArgs(ToolArgs):
    path: str = Field(description="File path, relative to the workspace root.", examples=["src/app.py"])
    old_text: str = Field(min_length=1, description="Exact text to replace, including indentation.")
    new_text: str = Field(description="Replacement text.")
    replace_all: bool = Field(False, description="Replace every occurrence instead of exactly one.")


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


class EditTool(Tool[EditArgs]):
    name = "edit"
    args_model = EditArgs

    async def run(self, args: EditArgs, ctx: ToolContext) -> ToolOutput:
        before = decode_text(await ctx.sandbox.read_file(args.path), args.path)
        count = before.count(args.old_text)
        if count == 0:
            raise ToolError(f"old_text was not found in {args.path}; read the file and copy the text exactly")
        if count > 1 and not args.replace_all:
            lines, start = [], 0
            for _ in range(count):
                index = before.index(args.old_text, start)
                lines.append(str(_line_of(before, index)))
                start = index + 1
            raise ToolError(
                f"old_text occurs {count} times in {args.path} (lines {', '.join(lines)}); "
                "include more context to make it unique, or set replace_all"
            )
        after = before.replace(args.old_text, args.new_text)
        await ctx.sandbox.write_file(args.path, after.encode("utf-8"))
        first = _line_of(before, before.index(args.old_text))
        return ToolOutput(
            f"Edited {args.path}: {count} replacement(s), first at line {first}.\n"
            + short_diff(before, after, args.path)
        )
