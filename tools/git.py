"""`git`: status, diff, log, commit, undo (trident's own last commit) and branch, in the workspace.

Git commands run inside the sandbox with `ctx.sandbox.exec`, with arguments quoted by
`shlex.quote` and machine-readable output (`status --porcelain=v2 -z`, `log --format` with
separator bytes) parsed here; except where the sandbox mounts the user's repository with its git
directory read-only (Docker, bind mode: the TUI), where they run on the host through the hardened
helper (`sandbox/hostgit.py`) so trident can still commit while the agent cannot write `.git`.

Decisions:
- trident's commits carry the trailer `Generated-by: trident` (not `Co-authored-by`, which names a
  person and is linked to accounts by forges). `undo` recognises trident's commits by it.
- The author is the configured identity; only when `user.name` / `user.email` are not set are
  `trident` / `trident@localhost` passed with `-c`. Signing is turned off (`-c commit.gpgsign=false`):
  the sandbox has no keys and a pinentry prompt would hang. Commit hooks run only inside an
  isolating sandbox (Docker, copy mode); a commit made on the host (bind mode) or in the local
  sandbox runs no hook: that would be the repository's code running on the user's machine.
- `undo` is `git reset --soft HEAD^`: the branch moves back one commit and nothing else changes,
  so the undone changes are staged and any uncommitted work, staged or not, is left exactly as it
  was; nothing can be lost, so a dirty tree is no reason to refuse. (`--mixed` would drop staged
  content that differs from the working tree.) It refuses a HEAD without the trailer, a merge
  commit, the root commit, a detached HEAD, and a repository in the middle of a merge/rebase.
- A commit is refused on a detached HEAD (it would belong to no branch): `branch` creates one.
"""

from __future__ import annotations

import asyncio
import re
import shlex
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from trident.sandbox import hostgit
from trident.sandbox.base import ExecResult
from trident.sandbox.hostgit import HARDENING
from trident.tools.base import CallKind, Tool, ToolArgs, ToolContext, ToolError, ToolOutput

TRAILER_KEY = "Generated-by"
TRAILER_VALUE = "trident"
TRAILER = f"{TRAILER_KEY}: {TRAILER_VALUE}"
IDENTITY = {"user.name": "trident", "user.email": "trident@localhost"}
ENV = "GIT_TERMINAL_PROMPT=0 GIT_EDITOR=: LC_ALL=C"
BASE_CONFIG = ("core.quotepath=off", "color.ui=false")
DIFF_LINES = 400
DIFF_CHARS = 40_000
LIST_SHOWN = 40
OUTPUT_LIMIT = 4 * 1024 * 1024  # parsed output must arrive whole (the sandbox keeps head and tail)
IN_PROGRESS = {
    "MERGE_HEAD": "a merge",
    "CHERRY_PICK_HEAD": "a cherry-pick",
    "REVERT_HEAD": "a revert",
    "rebase-merge": "a rebase",
    "rebase-apply": "a rebase or `git am`",
}

Action = Literal["status", "diff", "log", "commit", "undo", "branch"]
READ_ACTIONS = frozenset({"status", "diff", "log"})  # the rest change the repository
ACTION_FIELDS: dict[str, frozenset[str]] = {
    "status": frozenset(),
    "diff": frozenset({"staged", "ref", "paths"}),
    "log": frozenset({"count", "ref", "paths"}),
    "commit": frozenset({"message", "paths"}),
    "undo": frozenset(),
    "branch": frozenset({"name"}),
}

_TRAILER_LINE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*: ?\S")
_PARAGRAPHS = re.compile(r"\n[ \t]*\n")
_XY = {
    "M": "modified",
    "T": "type changed",
    "A": "added",
    "D": "deleted",
    "R": "renamed",
    "C": "copied",
    "U": "updated, unmerged",
}
_UNMERGED = {
    "DD": "both deleted",
    "AU": "added by us",
    "UD": "deleted by them",
    "UA": "added by them",
    "DU": "deleted by us",
    "AA": "both added",
    "UU": "both modified",
}


class GitArgs(ToolArgs):
    action: Action = Field(
        description=(
            "status: branch and changed files. diff: changes as a patch. log: recent commits. "
            "commit: commit changes. undo: take back trident's own last commit. "
            "branch: create a branch and switch to it."
        ),
        examples=["status"],
    )
    message: str | None = Field(
        None,
        description="commit: the commit message; a short summary line, then details if needed.",
        examples=["Fix off-by-one in parse_range"],
    )
    paths: list[str] | None = Field(
        None,
        description=(
            "commit: commit only these files or directories (default: every change, new files too). "
            "diff, log: limit to these paths. Relative to the repository root."
        ),
        examples=[["src/parser.py"]],
    )
    staged: bool = Field(False, description="diff: only the staged changes (index vs HEAD).")
    ref: str | None = Field(
        None,
        description="diff: compare against this branch/tag/commit instead of HEAD. log: start there.",
        examples=["HEAD~1"],
    )
    count: int = Field(10, ge=1, le=50, description="log: how many commits to show.")
    name: str | None = Field(
        None, description="branch: the new branch's name.", examples=["trident/fix-date-parsing"]
    )

    @model_validator(mode="after")
    def _fits_action(self) -> GitArgs:
        allowed = ACTION_FIELDS[self.action]
        for name in sorted(self.model_fields_set - {"action"} - allowed):
            value = getattr(self, name)
            if value not in (None, [], "") and value != type(self).model_fields[name].default:
                used_by = [a for a, fields in ACTION_FIELDS.items() if name in fields]
                raise ValueError(
                    f"`{name}` does not apply to action `{self.action}` (it is for: {', '.join(used_by)})"
                )
        if self.action == "commit" and not (self.message or "").strip():
            raise ValueError("action `commit` needs a `message`")
        if self.action == "branch" and not (self.name or "").strip():
            raise ValueError("action `branch` needs a `name`, e.g. trident/fix-date-parsing")
        return self


def has_trailer(message: str) -> bool:
    """Whether the message's trailer block (its last paragraph, not the subject) has our trailer."""
    paragraphs = _PARAGRAPHS.split(message.replace("\r\n", "\n").strip())
    if len(paragraphs) < 2:
        return False
    for line in paragraphs[-1].splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() == TRAILER_KEY.lower() and value.strip() == TRAILER_VALUE:
            return True
    return False


def with_trailer(message: str) -> str:
    """The message with `Generated-by: trident` joined to its trailer block (or a new one)."""
    text = message.replace("\r\n", "\n").strip()
    if has_trailer(text):
        return text
    paragraphs = _PARAGRAPHS.split(text)
    if len(paragraphs) > 1 and all(_TRAILER_LINE.match(line) for line in paragraphs[-1].splitlines()):
        return f"{text}\n{TRAILER}"
    return f"{text}\n\n{TRAILER}"


@dataclass
class StatusEntry:
    path: str
    staged: str | None = None  # "modified", "added"... for the index vs HEAD
    unstaged: str | None = None  # for the working tree vs the index
    unmerged: str | None = None
    untracked: bool = False
    original: str | None = None  # renames and copies: the old path


@dataclass
class Status:
    branch: str | None = None  # None when HEAD is detached
    oid: str | None = None  # None before the first commit
    upstream: str | None = None
    ahead: int = 0
    behind: int = 0
    entries: list[StatusEntry] = field(default_factory=list)


def parse_status(output: str) -> Status:
    """`git status --porcelain=v2 --branch -z` -> Status (records that do not parse are skipped)."""
    status = Status()
    records = output.split("\0")
    index = 0
    while index < len(records):
        record = records[index]
        index += 1
        if record.startswith("# "):
            _status_header(status, record[2:])
        elif record.startswith("1 "):
            parts = record.split(" ", 8)
            if len(parts) == 9:
                status.entries.append(_changed(parts[1], parts[8]))
        elif record.startswith("2 "):
            parts = record.split(" ", 9)
            if len(parts) == 10:
                entry = _changed(parts[1], parts[9])
                entry.original = records[index] if index < len(records) else None
                index += 1
                status.entries.append(entry)
        elif record.startswith("u "):
            parts = record.split(" ", 10)
            if len(parts) == 11:
                xy = parts[1]
                status.entries.append(StatusEntry(path=parts[10], unmerged=_UNMERGED.get(xy, xy)))
        elif record.startswith("? "):
            status.entries.append(StatusEntry(path=record[2:], untracked=True))
    return status


def _status_header(status: Status, header: str) -> None:
    key, _, value = header.partition(" ")
    if key == "branch.oid":
        status.oid = None if value == "(initial)" else value
    elif key == "branch.head":
        status.branch = None if value == "(detached)" else value
    elif key == "branch.upstream":
        status.upstream = value
    elif key == "branch.ab":
        ahead, _, behind = value.partition(" ")
        status.ahead, status.behind = abs(int(ahead or 0)), abs(int(behind or 0))


def _changed(xy: str, path: str) -> StatusEntry:
    return StatusEntry(path=path, staged=_XY.get(xy[0]), unstaged=_XY.get(xy[1]))


def format_status(status: Status) -> str:
    lines = [_head_line(status)]
    if status.upstream:
        lines.append(f"upstream {status.upstream}: {status.ahead} ahead, {status.behind} behind")
    sections: list[tuple[str, list[str]]] = [
        ("unmerged (resolve these first)", [f"{e.unmerged}: {e.path}" for e in status.entries if e.unmerged]),
        (
            "staged",
            [
                f"{e.staged}: {e.original} -> {e.path}" if e.original else f"{e.staged}: {e.path}"
                for e in status.entries
                if e.staged
            ],
        ),
        ("unstaged", [f"{e.unstaged}: {e.path}" for e in status.entries if e.unstaged]),
        ("untracked", [e.path for e in status.entries if e.untracked]),
    ]
    for title, items in sections:
        if items:
            lines.append(f"{title} ({len(items)}):")
            lines.extend(f"  {item}" for item in items[:LIST_SHOWN])
            if len(items) > LIST_SHOWN:
                lines.append(f"  [... {len(items) - LIST_SHOWN} more]")
    if not status.entries:
        lines.append("working tree clean: nothing to commit")
    return "\n".join(lines)


def _head_line(status: Status) -> str:
    if status.branch is None:
        return f"HEAD detached at {_short(status.oid)} (not on a branch; use action `branch` to make one)"
    if status.oid is None:
        return f"on branch {status.branch}, no commits yet"
    return f"on branch {status.branch} at {_short(status.oid)}"


def _short(oid: str | None) -> str:
    return (oid or "?")[:7]


def _clip_diff(text: str) -> str:
    lines = text.rstrip("\n").splitlines()
    kept: list[str] = []
    size = 0
    for line in lines[:DIFF_LINES]:
        size += len(line) + 1
        if size > DIFF_CHARS:
            break
        kept.append(line)
    if len(kept) < len(lines):
        kept.append(f"[... {len(lines) - len(kept)} more diff lines left out; narrow it with `paths`]")
    return "\n".join(kept)


class _Git:
    """git commands in the sandbox, at the workspace root (`cwd="."`: a `cd` the model made persists).

    They carry the host helper's hardening (`sandbox/hostgit.py`: no fsmonitor, pager, external
    diff, credential helper...), which matters where the "sandbox" is this machine (local). Commit
    hooks run only in an isolating sandbox: in the local one they would be the repository's code
    running on the host."""

    def __init__(self, ctx: ToolContext) -> None:
        self._ctx = ctx

    def command(self, args: list[str], config: dict[str, str] | None = None) -> str:
        hardening = [o for o in HARDENING if self._ctx.sandbox.isolated is False or "hooksPath" not in o]
        options = [*BASE_CONFIG, *hardening, *(f"{key}={value}" for key, value in (config or {}).items())]
        flags = " ".join(f"-c {shlex.quote(option)}" for option in options)
        return f"{ENV} git --no-pager {flags} {' '.join(shlex.quote(arg) for arg in args)}"

    async def exec(self, shell: str) -> ExecResult:
        result = await self._ctx.sandbox.exec(
            shell, timeout=self._ctx.command_timeout_s, cwd=".", limit=OUTPUT_LIMIT
        )
        if result.timed_out:
            raise ToolError(f"git timed out after {self._ctx.command_timeout_s:g}s: {shell}")
        return result

    async def run(self, args: list[str], config: dict[str, str] | None = None, *, quiet: bool) -> ExecResult:
        return await self.exec(self.command(args, config) + (" 2>/dev/null" if quiet else ""))

    async def query(self, *args: str, allowed: tuple[int, ...] = (0,)) -> ExecResult:
        """A read-only command whose stdout is parsed: stderr is dropped, or shown if it fails."""
        result = await self.run(list(args), quiet=True)
        if result.exit_code not in allowed:
            again = await self.run(list(args), quiet=False)
            raise git_error(again.output or result.output, args[0])
        return result

    async def change(self, *args: str, config: dict[str, str] | None = None) -> ExecResult:
        """A command that changes the repository; its output (stdout and stderr) is for reading."""
        result = await self.run(list(args), config, quiet=False)
        if result.exit_code != 0:
            raise git_error(result.output, args[0])
        return result

    async def in_progress(self) -> list[str]:
        """The markers of IN_PROGRESS present in the git directory."""
        busy = await self.exec(
            "for marker in " + " ".join(IN_PROGRESS) + "; do "
            f'test -e "$({self.command(["rev-parse", "--git-path"])} "$marker")" && echo "$marker"; '
            "done; true"
        )
        return [marker for marker in busy.output.split() if marker in IN_PROGRESS]

    async def identity(self, key: str) -> str | None:
        configured = await self.query("config", "--get", key, allowed=(0, 1))
        return configured.output.strip() or None


class _HostGit(_Git):
    """git commands on the host, at the repository root, through the hardened helper.

    Used when the sandbox mounts the repository with its git directory read-only (Docker, bind
    mode): the agent cannot write `.git`, so trident's own commits, undos and branches are made
    here, by trident, with no hook, filter or fsmonitor of the repository run. The identity is
    the repository's, else the user's global one (read, not executed), else trident's."""

    def __init__(self, ctx: ToolContext, repo: Path) -> None:
        super().__init__(ctx)
        self._repo = repo

    async def run(self, args: list[str], config: dict[str, str] | None = None, *, quiet: bool) -> ExecResult:
        options = [*(f"{key}={value}" for key, value in (config or {}).items())]
        try:
            done = await asyncio.to_thread(
                hostgit.run, args, self._repo, config=options, timeout=self._ctx.command_timeout_s
            )
        except subprocess.TimeoutExpired:
            raise ToolError(
                f"git timed out after {self._ctx.command_timeout_s:g}s: git {' '.join(args)}"
            ) from None
        except OSError as exc:
            raise ToolError(f"git could not be run on the host: {exc}") from None
        output = done.stdout + (b"" if quiet else done.stderr)
        return ExecResult(exit_code=done.returncode, output=output.decode("utf-8", "replace"))

    async def in_progress(self) -> list[str]:
        found: list[str] = []
        for marker in IN_PROGRESS:
            where = await self.query("rev-parse", "--git-path", marker)
            path = Path(where.output.strip())
            if (path if path.is_absolute() else self._repo / path).exists():
                found.append(marker)
        return found

    async def identity(self, key: str) -> str | None:
        return await super().identity(key) or await asyncio.to_thread(hostgit.user_identity, key)


def _git_for(ctx: ToolContext) -> _Git:
    repo = getattr(ctx.sandbox, "host_git_repo", None)
    return _HostGit(ctx, repo) if isinstance(repo, Path) else _Git(ctx)


def git_error(output: str, what: str) -> ToolError:
    """git's own message, with the common cases explained."""
    text = output.strip() or "(no output)"
    lowered = text.lower()
    if "not a git repository" in lowered:
        return ToolError("the workspace is not a git repository (start one with bash: `git init`)")
    if "dubious ownership" in lowered:
        return ToolError(
            "git refuses this repository: it belongs to another user (git's safe.directory check); "
            f"git said: {text[:500]}"
        )
    if len(text) > 2000:
        text = text[:1000] + "\n[...]\n" + text[-1000:]
    return ToolError(f"`git {what}` failed:\n{text}")


class GitTool(Tool[GitArgs]):
    name = "git"
    args_model = GitArgs

    @classmethod
    def kind(cls, arguments: Mapping[str, Any]) -> CallKind:
        return "read" if arguments.get("action") in READ_ACTIONS else "exec"

    async def run(self, args: GitArgs, ctx: ToolContext) -> ToolOutput:
        git = _git_for(ctx)
        if args.action == "status":
            return ToolOutput(format_status(await self._status(git)))
        if args.action == "diff":
            return ToolOutput(await self._diff(git, args))
        if args.action == "log":
            return ToolOutput(await self._log(git, args))
        if args.action == "commit":
            return ToolOutput(await self._commit(git, args.message or "", args.paths or []))
        if args.action == "undo":
            return ToolOutput(await self._undo(git))
        return ToolOutput(await self._branch(git, (args.name or "").strip()))

    async def _status(self, git: _Git) -> Status:
        result = await git.query("status", "--porcelain=v2", "--branch", "-z", "--untracked-files=normal")
        return parse_status(result.output)

    async def _verify_ref(self, git: _Git, ref: str) -> str:
        if ref.startswith("-") or not ref.strip():
            raise ToolError(f"`{ref}` is not a revision")
        found = await git.query("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", allowed=(0, 1, 128))
        if found.exit_code != 0:
            raise ToolError(f"unknown revision `{ref}`: no branch, tag or commit by that name")
        return ref

    async def _diff(self, git: _Git, args: GitArgs) -> str:
        status = await self._status(git)
        paths = args.paths or []
        base = await self._verify_ref(git, args.ref) if args.ref else None
        if args.staged:
            argv = ["diff", "--cached", *([base] if base else [])]
            scope = f"staged changes vs {base or 'HEAD'}"
        else:
            if base is None and status.oid is None:  # no commit yet: against the empty tree
                empty = await git.query("hash-object", "-t", "tree", "/dev/null")
                base = empty.output.strip()
            argv = ["diff", base or "HEAD"]
            scope = f"working tree vs {args.ref or 'HEAD'}"
        where = f" in {', '.join(paths)}" if paths else ""
        result = await git.change(
            *argv, "--no-color", "--no-ext-diff", "--no-textconv", "--stat=100", "--patch", "--", *paths
        )
        body = _clip_diff(result.output) if result.output.strip() else f"no changes ({scope}{where})"
        lines = [f"{scope}{where}:" if result.output.strip() else "", body]
        if not args.staged:
            untracked = [e.path for e in status.entries if e.untracked and _under(e.path, paths)]
            if untracked:
                shown = ", ".join(untracked[:10]) + (" ..." if len(untracked) > 10 else "")
                lines.append(f"not shown, untracked (new) files ({len(untracked)}): {shown}")
        return "\n".join(line for line in lines if line)

    async def _log(self, git: _Git, args: GitArgs) -> str:
        status = await self._status(git)
        if status.oid is None and not args.ref:
            return f"no commits yet on branch {status.branch}"
        start = await self._verify_ref(git, args.ref) if args.ref else "HEAD"
        result = await git.query(
            "log",
            f"-n{args.count}",
            "--date=short",
            "--format=%h%x1f%ad%x1f%an%x1f%D%x1f%B%x1e",
            start,
            "--",
            *(args.paths or []),
        )
        lines: list[str] = []
        for record in result.output.split("\x1e"):
            fields = record.strip("\n").split("\x1f")
            if len(fields) != 5:
                continue
            short, date, author, refs, body = fields
            subject = body.strip().splitlines()[0] if body.strip() else "(no message)"
            decoration = f" ({refs})" if refs else ""
            mark = f" [{TRAILER}]" if has_trailer(body) else ""
            lines.append(f"{short} {date} {author}: {subject}{decoration}{mark}")
        return "\n".join(lines) or "no commits match"

    async def _commit(self, git: _Git, message: str, paths: list[str]) -> str:
        status = await self._status(git)
        if status.branch is None:
            raise ToolError(
                "HEAD is detached (not on a branch), so a commit would belong to no branch; "
                "create one first with action `branch`"
            )
        if any(e.unmerged for e in status.entries):
            raise ToolError("there are unmerged paths (conflicts); resolve them before committing")
        await git.change("add", "-A", "--", *paths)
        staged = await git.query("diff", "--cached", "--quiet", "--", *paths, allowed=(0, 1))
        if staged.exit_code == 0:
            where = f" in {', '.join(paths)}" if paths else ""
            raise ToolError(f"nothing to commit: no changes{where}")
        config = {"commit.gpgsign": "false"}
        for key, value in IDENTITY.items():
            config[key] = await git.identity(key) or value
        await git.change("commit", "-q", "-m", with_trailer(message), "--", *paths, config=config)
        shown = await git.change("show", "--no-color", "--stat=100", "--format=%h%x1f%s", "HEAD")
        first, _, stat = shown.output.strip("\n").partition("\n")
        short, _, subject = first.partition("\x1f")
        stat = "\n".join(line.strip() for line in stat.splitlines() if line.strip())
        return (
            f"committed {short} on {status.branch}: {subject}\n{stat}\n"
            f"(with the trailer `{TRAILER}`; action `undo` takes it back)"
        )

    async def _undo(self, git: _Git) -> str:
        status = await self._status(git)
        if status.oid is None:
            raise ToolError("nothing to undo: there are no commits yet")
        if status.branch is None:
            raise ToolError("HEAD is detached (not on a branch); undo works on a branch only")
        for marker in await git.in_progress():
            raise ToolError(f"{IN_PROGRESS[marker]} is in progress; finish or abort it before undoing")
        head = await git.query("log", "-1", "--format=%h%x1f%P%x1f%B", "HEAD")
        short, parents, body = [*head.output.split("\x1f", 2), "", ""][:3]
        subject = body.strip().splitlines()[0] if body.strip() else "(no message)"
        described = f'HEAD {short} "{subject}"'
        if not parents.split():
            raise ToolError(f"{described} is the root commit; undoing it would leave no commit")
        if len(parents.split()) > 1:
            raise ToolError(f"{described} is a merge commit; undo takes back only trident's own commits")
        if not has_trailer(body):
            raise ToolError(
                f"{described} was not made by trident (it has no `{TRAILER}` trailer); "
                "undo takes back only trident's own last commit"
            )
        parent = parents.split()[0]
        await git.change("reset", "-q", "--soft", parent)
        now = await git.query("log", "-1", "--format=%h%x1f%s", "HEAD")
        now_short, _, now_subject = now.output.strip().partition("\x1f")
        return (
            f'undid {short} "{subject}"; {status.branch} is back at {now_short} "{now_subject}"\n'
            "its changes are kept and staged; the working tree was not touched"
        )

    async def _branch(self, git: _Git, name: str) -> str:
        rule = (
            "use letters, digits and - _ . / (e.g. trident/fix-date-parsing): no spaces, no `..`, "
            "none of ~ ^ : ? * [ \\ and no leading `-`, trailing `/`, `.` or `.lock`"
        )
        if name.startswith("-") or "@{" in name or name == "HEAD":
            raise ToolError(f"`{name}` is not a valid branch name; {rule}")
        valid = await git.query("check-ref-format", "--branch", name, allowed=(0, 1, 128))
        if valid.exit_code != 0:
            raise ToolError(f"`{name}` is not a valid branch name; {rule}")
        status = await self._status(git)
        exists = await git.query("show-ref", "--verify", "--quiet", f"refs/heads/{name}", allowed=(0, 1))
        if exists.exit_code == 0:
            raise ToolError(f"branch `{name}` already exists; pick another name")
        await git.change("checkout", "-q", "-b", name)
        origin = f"branch {status.branch}" if status.branch else "a detached HEAD"
        at = f"at {_short(status.oid)}" if status.oid else "with no commits yet"
        changes = "; uncommitted changes came along" if status.entries else ""
        return f"created branch {name} {at} (from {origin}) and switched to it{changes}"


def _under(path: str, paths: list[str]) -> bool:
    if not paths:
        return True
    return any(path == p.rstrip("/") or path.startswith(p.rstrip("/") + "/") for p in paths)
