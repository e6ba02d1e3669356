"""`write`: create or overwrite a whole file, atomically; the content is never echoed back."""

from __future__ import annotations

from pydantic import Field

from trident.tools.base import Tool, ToolArgs, ToolContext, ToolOutput
from trident.tools.paths import MAX_WHOLE_BYTES, check_writable, probe, read_existing
from trident.tools.syntax import syntax_report
from trident.tools.text import count_lines, dominant_eol, is_binary, plural


class WriteArgs(ToolArgs):
    path: str = Field(description="File path, relative to the workspace root.", examples=["src/new.py"])
    content: str = Field(
        description="The complete new content of the file.",
        examples=['def greet(name):\n    return f"hello {name}"\n'],
    )


class WriteTool(Tool[WriteArgs]):
    name = "write"
    args_model = WriteArgs
    edits_files = True

    async def run(self, args: WriteArgs, ctx: ToolContext) -> ToolOutput:
        check_writable(args.path, ctx)
        found = await probe(ctx, args.path)
        large = found.size > MAX_WHOLE_BYTES  # replaced without being loaded
        previous = None if large else await read_existing(ctx, args.path, found=found)
        before = _text_or_none(previous)
        content = args.content
        kept_crlf = before is not None and dominant_eol(before) == "\r\n" and "\r\n" not in content
        if kept_crlf:
            content = content.replace("\n", "\r\n")
        data = content.encode("utf-8")
        if previous == data:
            return ToolOutput(
                f"{args.path} already has this content ({plural(count_lines(content), 'line')}); unchanged"
            )
        await ctx.sandbox.write_file(args.path, data)
        lines = plural(count_lines(content), "line")
        if previous is None and not large:
            message = f"Created {args.path} ({lines})."
        else:
            was = plural(count_lines(before), "line") if before is not None else plural(found.size, "byte")
            message = f"Overwrote {args.path} ({lines}; it had {was})."
        if kept_crlf:
            message += " CRLF line endings kept, as the file had them."
        report = syntax_report(args.path, before, content)
        return ToolOutput(message + (f"\n{report}" if report else ""))


def _text_or_none(data: bytes | None) -> str | None:
    if data is None or is_binary(data):
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None
