"""What a call will do, shown before it runs: an edit's diff against the file as it is (real line
numbers, 3 lines of context), and the exact command `run_tests` will run.

Computed by the session before it asks for approval (the approval prompt and the call's card show
it). When the file cannot be read or the quoted text is not in it exactly once, the diff is built
from the call's arguments alone (no line numbers: the tool will say what it found).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from trident.sandbox.base import PathRefused, Sandbox, SandboxError
from trident.tools.run_tests import with_report_flag
from trident.tools.text import short_diff

CONTEXT = 3
DIFF_LIMIT = 2000  # lines; the views cut it further


@dataclass(frozen=True)
class Preview:
    diff: str | None = None  # a unified diff (edits)
    command: str | None = None  # the command that will run (run_tests)


def arguments_diff(name: str, arguments: dict[str, Any]) -> str | None:
    """The change an edit call asks for, from its arguments alone (None for calls that are not edits)."""
    if name == "apply_patch" and isinstance(arguments.get("patch"), str):
        return str(arguments["patch"])
    path = str(arguments.get("path", "?"))
    if name == "edit":
        old = str(arguments.get("old_text", "")).splitlines(keepends=True)
        new = str(arguments.get("new_text", "")).splitlines(keepends=True)
        return "".join(difflib.unified_diff(old, new, f"a/{path}", f"b/{path}", n=CONTEXT))
    if name == "write":
        new = str(arguments.get("content", "")).splitlines(keepends=True)
        return "".join(difflib.unified_diff([], new, "/dev/null", f"b/{path}", n=0))
    return None


def file_diff(before: str | None, after: str, path: str) -> str:
    """`before` → `after` as a unified diff with real line numbers (`before` None: a new file)."""
    diff = short_diff(before or "", after, path, limit=DIFF_LIMIT, context=CONTEXT)
    if before is None:
        diff = diff.replace(f"--- a/{path}", "--- /dev/null", 1)
    return diff


def edited_text(current: str, arguments: dict[str, Any]) -> str | None:
    """The file after an `edit` call, when its old text is there exactly (once, or `replace_all`)."""
    old = str(arguments.get("old_text", "")).replace("\r\n", "\n")
    new = str(arguments.get("new_text", "")).replace("\r\n", "\n")
    text = current.replace("\r\n", "\n")
    count = text.count(old) if old else 0
    if count == 0 or (count > 1 and not arguments.get("replace_all")):
        return None
    return text.replace(old, new)


async def preview(
    name: str, arguments: dict[str, Any], sandbox: Sandbox, test_command: str | None
) -> Preview | None:
    """What the call will do, read from the sandbox now; None when there is nothing to show."""
    if name == "run_tests":
        given = str(arguments.get("command") or "").strip() or (test_command or "").strip()
        return Preview(command=with_report_flag(given) if given else None)
    if name not in ("edit", "write"):
        diff = arguments_diff(name, arguments)
        return Preview(diff=diff) if diff else None
    path = arguments.get("path")
    fallback = Preview(diff=arguments_diff(name, arguments))
    if not isinstance(path, str):
        return fallback
    try:
        data = (await sandbox.read_files([path])).get(path)
    except (PathRefused, SandboxError):
        return fallback
    try:
        current = data.decode("utf-8") if data is not None else None
    except UnicodeDecodeError:
        return fallback
    if name == "write":
        after = str(arguments.get("content", ""))
        return Preview(diff=file_diff(current, after, path))
    if current is None:
        return fallback
    after_edit = edited_text(current, arguments)
    if after_edit is None:
        return fallback
    return Preview(diff=file_diff(current.replace("\r\n", "\n"), after_edit, path))
