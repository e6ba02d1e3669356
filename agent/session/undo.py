"""`/undo`: take back trident's last edit or commit in an interactive session.

Before an edit tool runs, the files it names are read (their bytes, or absent); once its result
says it worked, that snapshot becomes the newest undo entry. A commit by the `git` tool is an entry
too, undone by the tool's own `undo` action (trident's own last commit only, a soft reset).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any

from trident.sandbox.base import PathRefused, SandboxError
from trident.tools.apply_patch import parse_patch
from trident.tools.base import ToolContext, ToolError
from trident.tools.git import GitTool


def edited_paths(name: str, arguments: dict[str, Any]) -> list[str]:
    """The files an edit call will change (empty for other calls, or a patch that does not parse)."""
    if name in ("edit", "write") and isinstance(arguments.get("path"), str):
        return [arguments["path"]]
    if name == "apply_patch" and isinstance(arguments.get("patch"), str):
        try:
            patches = parse_patch(arguments["patch"])
        except ToolError:
            return []
        return sorted({p for patch in patches for p in (patch.old_path, patch.new_path) if p})
    return []


@dataclass
class Entry:
    call_id: str
    tool: str
    before: dict[str, bytes | None] = field(default_factory=dict)  # None: the file did not exist
    commit: bool = False


@dataclass
class UndoJournal:
    entries: list[Entry] = field(default_factory=list)
    _pending: dict[str, Entry] = field(default_factory=dict)

    async def before_call(self, call_id: str, name: str, arguments: dict[str, Any], ctx: ToolContext) -> None:
        if name == "git" and arguments.get("action") == "commit":
            self._pending[call_id] = Entry(call_id, name, commit=True)
            return
        paths = edited_paths(name, arguments)
        if not paths:
            return
        found = await ctx.sandbox.read_files(paths)
        self._pending[call_id] = Entry(call_id, name, before=found)

    def after_call(self, call_id: str, ok: bool) -> None:
        entry = self._pending.pop(call_id, None)
        if entry is not None and ok:
            self.entries.append(entry)

    async def undo(self, ctx: ToolContext) -> str:
        """Undo the newest entry; the answer says what was done (or why nothing was)."""
        if not self.entries:
            return "nothing to undo: trident has made no edit or commit in this session"
        entry = self.entries.pop()
        if entry.commit:
            result = await GitTool().invoke({"action": "undo"}, ctx)
            return result.output
        for path, data in entry.before.items():
            try:
                if data is None:
                    await ctx.sandbox.exec(
                        f"rm -f -- {shlex.quote(path)}", timeout=30, cwd=ctx.sandbox.workspace
                    )
                else:
                    await ctx.sandbox.write_file(path, data)
            except (PathRefused, SandboxError) as exc:
                return f"undo of `{entry.tool}` failed on {path}: {exc}"
        return f"undid `{entry.tool}`: restored {', '.join(sorted(entry.before))}"
