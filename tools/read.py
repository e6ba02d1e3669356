"""`read`: a file or a line range, with line numbers, capped in lines and characters.

Small files come whole through `read_file`. A large one never does: the sandbox's shell counts its
lines and cuts out a window of bytes from the requested line on, so reading a gigabyte log costs a
scan for newlines inside the sandbox and about a megabyte over its pipe.
"""

from __future__ import annotations

import base64
import shlex
from dataclasses import dataclass

from pydantic import Field

from trident.tools.base import Tool, ToolArgs, ToolContext, ToolError, ToolOutput
from trident.tools.paths import check_readable, probe, refuse_special
from trident.tools.text import SNIFF_BYTES, is_binary, plural

MAX_LINES = 400
MAX_LINE_CHARS = 500
MAX_OUTPUT_CHARS = 40_000
WHOLE_FILE_BYTES = 4 * 1024 * 1024  # larger files are read through a window
WINDOW_BYTES = 1024 * 1024
CHUNK = 1 << 20


class ReadArgs(ToolArgs):
    path: str = Field(description="File path, relative to the workspace root.", examples=["src/app.py"])
    offset: int = Field(1, ge=1, description="First line to show (1-based).", examples=[1, 401])
    limit: int = Field(
        MAX_LINES, ge=1, le=2000, description="How many lines to show at most.", examples=[MAX_LINES, 50]
    )


@dataclass(frozen=True)
class Window:
    """The bytes of a file from the start of line `first` on: all of them, or a prefix."""

    data: bytes
    first: int  # 1-based line number of data[0]
    start: int  # byte offset of data[0] in the file
    lines: int  # lines in the whole file
    size: int  # bytes in the whole file

    @property
    def to_end(self) -> bool:
        return self.start + len(self.data) >= self.size


class ReadTool(Tool[ReadArgs]):
    name = "read"
    args_model = ReadArgs
    read_only = True

    async def run(self, args: ReadArgs, ctx: ToolContext) -> ToolOutput:
        check_readable(args.path, ctx)
        found = await probe(ctx, args.path)
        await refuse_special(ctx, args.path, found)
        if found.size > WHOLE_FILE_BYTES:
            await ctx.sandbox.list_files(args.path, limit=1)  # confinement, before the shell reads it
            window = await _window_from_shell(ctx, args.path, args.offset, found.size)
        else:
            data = await ctx.sandbox.read_file(args.path)  # refuses what is outside or missing
            if not data:
                return ToolOutput(f"{args.path} is empty (0 bytes)")
            window = _window_from_bytes(data, args.offset)
        head = window.data[:SNIFF_BYTES]
        _refuse_binary(head, args.path, window.size, more=len(head) < len(window.data) or not window.to_end)
        if args.offset > window.lines:
            raise ToolError(
                f"{args.path} has {plural(window.lines, 'line')}; offset {args.offset} is past the end"
            )
        return ToolOutput(_render(window, args.path, args.limit))


def _window_from_bytes(data: bytes, offset: int) -> Window:
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    start = _line_start(data, offset) if offset <= lines else len(data)
    return Window(data[start:], offset, start, lines, len(data))


async def _window_from_shell(ctx: ToolContext, path: str, offset: int, size: int) -> Window:
    """Line count, where line `offset` starts, and WINDOW_BYTES from there, from coreutils in the
    sandbox (the Sandbox protocol has no ranged read)."""
    skip = f'command -p head -n {offset - 1} < "$f" | command -p wc -c' if offset > 1 else "echo 0"
    script = (
        f"(f={shlex.quote(path)}; export LC_ALL=C\n"
        'command -p wc -l < "$f"\n'
        'command -p tail -c 1 < "$f" | command -p wc -l\n'
        f"b=$({skip}); echo $b\n"
        f'command -p tail -c +$((b + 1)) < "$f" | command -p head -c {WINDOW_BYTES} | command -p base64)'
    )
    result = await ctx.sandbox.exec(
        script, timeout=120, cwd=ctx.sandbox.workspace, limit=WINDOW_BYTES * 4 // 3 + 64 * 1024
    )
    fields = result.output.split("\n", 3)
    if result.exit_code != 0 or len(fields) < 4 or not all(f.strip().isdigit() for f in fields[:3]):
        raise ToolError(f"could not read {path} through the sandbox's shell: {result.output[:300]}")
    newlines, ends_with_newline, start = (int(f) for f in fields[:3])
    lines = newlines + (0 if ends_with_newline else 1)
    return Window(base64.b64decode(fields[3]), offset, start, lines, size)


def _render(window: Window, path: str, limit: int) -> str:
    data = window.data
    entries: list[str] = []
    chars = cut = pos = 0
    number = window.first
    stopped = ""
    while number <= window.lines and len(entries) < limit:
        end = data.find(b"\n", pos)
        partial = end == -1 and not window.to_end  # the line goes on past the window
        if partial and entries:
            stopped = f"[stopped after line {number - 1}: the next line is longer than the read window]"
            break
        end = len(data) if end == -1 else end
        length: int | None = end - pos
        if partial:  # known only for the file's last line, which runs to the end of the file
            length = window.size - window.start - pos if number == window.lines else None
        text, was_cut = _decode_line(data[pos:end], path, number, window.size, length)
        entry = f"{number:>6}\t{text}"
        if entries and chars + len(entry) + 1 > MAX_OUTPUT_CHARS:
            stopped = (
                f"[stopped after line {number - 1}: output is capped at {MAX_OUTPUT_CHARS:,} characters]"
            )
            break
        entries.append(entry)
        chars += len(entry) + 1
        cut += was_cut
        pos = end + 1
        number += 1
        if partial:
            break
    last = number - 1
    notes: list[str] = []
    if window.first > 1 or last < window.lines:
        left_out = []
        if window.first > 1:
            left_out.append(f"{plural(window.first - 1, 'line')} ({plural(window.start, 'byte')}) before")
        if last < window.lines:
            after = window.size - min(window.start + pos, window.size)
            left_out.append(f"{plural(window.lines - last, 'line')} ({plural(after, 'byte')}) after")
        notes.append(
            f"[showing lines {window.first}-{last} of {window.lines:,}; not shown: {', '.join(left_out)}]"
        )
    if stopped:
        notes.append(stopped)
    if last < window.lines:
        notes.append(f"[continue with offset={last + 1}]")
    if cut:
        notes.append(f"[{plural(cut, 'line')} longer than {MAX_LINE_CHARS} characters cut short]")
    return "\n".join(entries + notes)


def _refuse_binary(head: bytes, path: str, size: int, *, more: bool) -> None:
    """NUL bytes, or bytes that are not UTF-8 (unless only a character cut by the sniff's end)."""
    if is_binary(head):
        raise ToolError(
            f"{path} is a binary file ({size:,} bytes, contains NUL bytes); it cannot be read as text"
        )
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if not (more and _cut_mid_character(exc, len(head))):
            raise ToolError(
                f"{path} is not UTF-8 text ({size:,} bytes; {exc.reason} at byte {exc.start:,}); "
                "it cannot be read as text"
            ) from None


def _cut_mid_character(exc: UnicodeDecodeError, length: int) -> bool:
    """The decode failed only because the bytes were cut inside a multi-byte character."""
    return exc.reason == "unexpected end of data" and exc.start >= length - 3


def _decode_line(raw: bytes, path: str, number: int, size: int, length: int | None) -> tuple[str, bool]:
    """The line's text, cut at MAX_LINE_CHARS. `raw` may be a prefix of a line of `length` bytes
    (None: longer than the window, length unknown)."""
    partial = length is None or length > len(raw)
    if raw.endswith(b"\r") and not partial:
        raw = raw[:-1]
        length = len(raw)
    head = raw[: MAX_LINE_CHARS * 4]
    if b"\x00" in head:
        raise ToolError(
            f"{path} is a binary file ({size:,} bytes, NUL bytes on line {number}); it cannot be read"
        )
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if not ((len(head) < len(raw) or partial) and _cut_mid_character(exc, len(head))):
            raise ToolError(
                f"{path} is not UTF-8 text ({exc.reason} on line {number}); it cannot be read as text"
            ) from None
        text = head[: exc.start].decode("utf-8")
    if len(text) <= MAX_LINE_CHARS and len(head) == len(raw) and not partial:
        return text, False
    kept = text[:MAX_LINE_CHARS]
    rest = (len(raw) if length is None else length) - len(kept.encode("utf-8"))
    more = f"{rest:,}+ more bytes" if length is None else plural(rest, "more byte")
    return f"{kept} [... {more} on this line]", True


def _line_start(data: bytes, line: int) -> int:
    """Byte offset where 1-based `line` starts: newlines counted a megabyte at a time, in C."""
    need, pos = line - 1, 0
    while need:
        stop = min(len(data), pos + CHUNK)
        found = data.count(b"\n", pos, stop)
        if found >= need:
            break
        need -= found
        pos = stop
    for _ in range(need):
        pos = data.find(b"\n", pos) + 1
    return pos
