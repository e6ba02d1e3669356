"""`/undo`: take back trident's last edit or commit in an interactive session.

Before an edit tool runs, the files it names are read (their bytes, or absent) and so are their git
index entries; once its result says it worked, that snapshot becomes the newest undo entry. Undoing
it writes the files back (a created file is removed) and puts their index entries back too, so a
change staged since (`git add` by the agent) is not left staged for the user's next commit. A commit
by the `git` tool is an entry too: the index is saved as a tree before it, and undoing it is the
tool's own `undo` (trident's own last commit only, a soft reset) and then that index again, so the
commit's changes are back in the working tree, staged only if they were before.

The index is read and written on the host, through `sandbox/hostgit.py` (in a Docker bind sandbox
`.git` is read-only inside): the session's repository is the sandbox's workspace.
"""

from __future__ import annotations

import asyncio
import posixpath
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trident.sandbox import hostgit
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
    index: dict[str, str] | None = None  # path -> its index record ("" not in the index); None: no git
    tree: str | None = None  # a commit's: the index before it, as a tree


ZERO = "0" * 40


async def _git(repo: Path, *args: str, input: bytes | None = None) -> str | None:
    """Hardened host git in `repo`: its stdout, None when it fails (not a repository, no git)."""
    try:
        done = await asyncio.to_thread(hostgit.run, list(args), repo, input=input, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.decode("utf-8", "surrogateescape") if done.returncode == 0 else None


def repo_path(path: str, workspace: str) -> str | None:
    """A tool's path as git names it (relative to the repository root); None when outside."""
    if posixpath.isabs(path):
        if not path.startswith(workspace.rstrip("/") + "/"):
            return None
        path = path[len(workspace.rstrip("/")) + 1 :]
    path = posixpath.normpath(path)
    return None if path in (".", "") or path.startswith("../") or path == ".." else path


async def read_index(repo: Path, paths: list[str]) -> dict[str, str] | None:
    """Each path's index record (`mode sha`, "" when absent), or None when `repo` has no index."""
    if not paths:
        return None
    listed = await _git(repo, "ls-files", "-s", "-z", "--", *(f":(literal){p}" for p in paths))
    if listed is None:
        return None
    found = {path: "" for path in paths}
    for record in listed.split("\0"):
        info, tab, path = record.partition("\t")
        if tab and path in found:
            mode, sha, _stage = info.split(" ")
            found[path] = f"{mode} {sha}"
    return found


async def write_index(repo: Path, records: dict[str, str]) -> bool:
    """Put these index records back (an empty record removes the path from the index)."""
    lines = "".join(f"{record or '0 ' + ZERO}\t{path}\0" for path, record in records.items())
    return await _git(repo, "update-index", "-z", "--index-info", input=lines.encode()) is not None


@dataclass
class UndoJournal:
    entries: list[Entry] = field(default_factory=list)
    repo: Path | None = None  # the host repository the sandbox works on (its index is restored too)
    _pending: dict[str, Entry] = field(default_factory=dict)

    async def before_call(self, call_id: str, name: str, arguments: dict[str, Any], ctx: ToolContext) -> None:
        if name == "git" and arguments.get("action") == "commit":
            tree = await _git(self.repo, "write-tree") if self.repo is not None else None
            self._pending[call_id] = Entry(call_id, name, commit=True, tree=(tree or "").strip() or None)
            return
        paths = edited_paths(name, arguments)
        if not paths:
            return
        found = await ctx.sandbox.read_files(paths)
        named = [p for p in (repo_path(path, ctx.sandbox.workspace) for path in paths) if p is not None]
        index = await read_index(self.repo, named) if self.repo is not None else None
        self._pending[call_id] = Entry(call_id, name, before=found, index=index)

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
            repo, tree = self.repo, entry.tree
            if result.ok and repo is not None and tree and await _git(repo, "read-tree", tree) is not None:
                return f"{result.output}; the index is as it was before the commit (its changes unstaged)"
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
        created = sorted(path for path, data in entry.before.items() if data is None)
        restored = sorted(path for path, data in entry.before.items() if data is not None)
        if entry.index is not None and self.repo is not None:
            await write_index(self.repo, entry.index)
        said = [f"restored {', '.join(restored)}"] if restored else []
        said += [f"removed {', '.join(created)} (created by it)"] if created else []
        return f"undid `{entry.tool}`: {'; '.join(said)}"
