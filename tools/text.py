"""Text helpers shared by the file tools: decoding, binary detection, compact diffs."""

from __future__ import annotations

import difflib

from tools.base import ToolError

DIFF_LINES = 40


def decode_text(data: bytes, path: str) -> str:
    if b"\x00" in data[:8192]:
        raise ToolError(f"{path} is a binary file ({len(data)} bytes); it cannot be read or edited as text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ToolError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def short_diff(before: str, after: str, path: str, limit: int = DIFF_LINES) -> str:
    lines = list(
        difflib.unified_diff(
            before.splitlines(), after.splitlines(), f"a/{path}", f"b/{path}", n=1, lineterm=""
        )
    )
    if len(lines) > limit:
        lines = [*lines[:limit], f"[... {len(lines) - limit} more diff lines ...]"]
    return "\n".join(lines)
