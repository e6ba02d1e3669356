"""Workspace snapshots for `/undo` of shell commands: a shadow git repository inside the sandbox.

Before a `bash` call the session records the workspace's files as a git tree in a repository of its
own, outside the workspace (`$TMPDIR/trident-undo-<id>`, so neither the project's history nor its
patch sees it). Undoing the call puts the files back as that tree has them: files the command
created are removed, files it changed or deleted are restored, and nothing else is touched.

What a snapshot holds is what `git add -A` sees: the project's `.gitignore` applies, and `.git`,
virtual environments, `node_modules` and caches are left out (the runner's SKIP_DIRS), so a command's
changes to those (a `pip install`, a `git commit`) are not undone. Everything runs through
`Sandbox.exec`, in a subshell, so the session's shell state is untouched.
"""

from __future__ import annotations

import shlex
import uuid
from dataclasses import dataclass, field

from sandbox.base import Sandbox, SandboxError
from sandbox.runner import SKIP_DIRS

TIMEOUT_S = 120.0
TREE_MARK = "trident-tree:"


class SnapshotError(Exception):
    """A snapshot could not be taken or restored (the message says why)."""


@dataclass
class Snapshots:
    """Trees of one sandbox's workspace, taken before shell commands and restored by `/undo`."""

    name: str = field(default_factory=lambda: f"trident-undo-{uuid.uuid4().hex[:12]}")

    def _git(self) -> str:
        """The shell prefix of every command: the shadow repository (created once) and its index."""
        excludes = "\\n".join(f"{name}/" for name in sorted(SKIP_DIRS))
        return (
            f'repo="${{TMPDIR:-/tmp}}/{self.name}"; '
            "git() { command git -c safe.directory='*' -c core.autocrlf=false \"$@\"; }; "
            f'[ -d "$repo" ] || {{ git init -q --bare "$repo" && printf "{excludes}\\n" '
            '> "$repo/info/exclude"; } || exit 97; '
            'export GIT_DIR="$repo" GIT_WORK_TREE=. GIT_INDEX_FILE="$repo/index"; '
        )

    async def _run(self, sandbox: Sandbox, script: str) -> str:
        command = f"( {self._git()}{script} )"
        try:
            result = await sandbox.exec(command, timeout=TIMEOUT_S, cwd=".", limit=1024 * 1024)
        except SandboxError as exc:
            raise SnapshotError(str(exc)) from exc
        if result.exit_code != 0 or result.timed_out:
            tail = result.output.strip()[-500:]
            raise SnapshotError(f"git in the sandbox failed (exit code {result.exit_code}): {tail}")
        return result.output

    async def take(self, sandbox: Sandbox) -> str:
        """The workspace's files now, as a tree id in the shadow repository."""
        output = await self._run(sandbox, f'git add -A . && printf "{TREE_MARK}%s\\n" "$(git write-tree)"')
        for line in output.splitlines():
            if line.startswith(TREE_MARK) and len(line) > len(TREE_MARK):
                return line[len(TREE_MARK) :]
        raise SnapshotError(f"git wrote no tree: {output.strip()[-300:]}")

    async def restore(self, sandbox: Sandbox, tree: str) -> list[str]:
        """Put the workspace's files back as `tree` has them; returns the paths that changed."""
        tree = shlex.quote(tree)
        script = (
            "git add -A . && now=$(git write-tree) && "
            f"git diff-tree -r -z --name-only --diff-filter=A {tree} $now | xargs -0 -r rm -f -- && "
            f'git diff-tree -r -z --name-only {tree} $now > "$GIT_DIR/changed" && '
            f"git read-tree {tree} && "
            f"git diff-tree -r -z --name-only --diff-filter=MDT {tree} $now "
            "| xargs -0 -r git checkout-index -f -- && "
            'tr "\\0" "\\n" < "$GIT_DIR/changed"'
        )
        output = await self._run(sandbox, script)
        return [line for line in output.splitlines() if line]
