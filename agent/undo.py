"""`/undo`: take back trident's last edit, shell command or commit in an interactive session.

Before an edit tool runs, the files it names are read (their bytes, or absent); once its result
says it worked, that snapshot becomes the newest undo entry. Before a `bash` command runs, the
workspace's files are recorded as a tree (`agent.snapshots`); undoing it puts them back, and a
command that changed nothing is skipped over. A commit by the `git` tool is an entry too, undone
by the tool's own `undo` action (trident's own last commit only, a soft reset).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any

from agent.snapshots import SnapshotError, Snapshots
from sandbox.base import PathRefused, SandboxError
from tools.apply_patch import parse_patch
from tools.base import ToolContext, ToolError
from tools.git import GitTool


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
    tree: str | None = None  # a shell command: the workspace before it (agent.snapshots)
    failed: str = ""  # a shell command whose snapshot could not be taken: why


@dataclass
class UndoJournal:
    entries: list[Entry] = field(default_factory=list)
    snapshots: Snapshots = field(default_factory=Snapshots)
    _pending: dict[str, Entry] = field(default_factory=dict)

    async def before_call(self, call_id: str, name: str, arguments: dict[str, Any], ctx: ToolContext) -> None:
        if name == "git" and arguments.get("action") == "commit":
            self._pending[call_id] = Entry(call_id, name, commit=True)
            return
        if name == "bash":  # whatever it changes, failing or not, is an entry
            try:
                self.entries.append(Entry(call_id, name, tree=await self.snapshots.take(ctx.sandbox)))
            except SnapshotError as exc:
                self.entries.append(Entry(call_id, name, failed=str(exc)))
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
        try:
            await self._drop_unchanged_commands(ctx)
        except SnapshotError as exc:
            return f"undo failed: the workspace could not be compared with its snapshot: {exc}"
        if not self.entries:
            return "nothing to undo: trident has made no edit, command change or commit in this session"
        entry = self.entries.pop()
        if entry.failed:
            return f"cannot undo `{entry.tool}`: its snapshot could not be taken ({entry.failed})"
        if entry.tree is not None:
            try:
                changed = await self.snapshots.restore(ctx.sandbox, entry.tree)
            except SnapshotError as exc:
                return f"undo of `{entry.tool}` failed: {exc}"
            return f"undid `{entry.tool}`: restored {', '.join(changed)}"
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

    async def _drop_unchanged_commands(self, ctx: ToolContext) -> None:
        """Pop the newest shell commands that changed no file (their snapshot is the workspace now)."""
        now: str | None = None
        while self.entries and self.entries[-1].tree is not None:
            now = now or await self.snapshots.take(ctx.sandbox)
            if self.entries[-1].tree != now:
                return
            self.entries.pop()
