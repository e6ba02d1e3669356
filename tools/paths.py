"""Path checks for the file tools: protected paths (globs from `.trident.toml`), existence, size.

Confinement (`..`, absolute paths, symlinks out of the workspace) is the sandbox's job; here paths
are only normalized lexically, to match them against `protected_paths` the way `.gitignore` matches:
a pattern without a slash matches a name at any depth, one with a slash is anchored at the
workspace root, `**` spans directories, and a pattern matching a directory covers all inside it.
"""

from __future__ import annotations

import functools
import posixpath
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from trident.sandbox.base import PathRefused
from trident.tools.base import ToolContext, ToolError

MAX_WHOLE_BYTES = 16 * 1024 * 1024  # files loaded whole (edit, write, apply_patch) stop here
# Never touched by the file tools, whatever the config says: a git directory (at any depth) holds
# config and hooks that git on the host would run; the `git` tool is the way to change it.
ALWAYS_PROTECTED = (".git",)


def workspace_relative(path: str, workspace: str) -> str | None:
    """The path relative to the workspace root, normalized ("a/./b/../c" -> "a/c"); None when it
    points outside (the sandbox then refuses it) or at the root itself."""
    path = path.replace("\\", "/")
    if posixpath.isabs(path):
        root = posixpath.normpath(workspace)
        path = posixpath.normpath(path)
        if not path.startswith(root.rstrip("/") + "/"):
            return None
        path = path[len(root.rstrip("/")) + 1 :]
    normalized = posixpath.normpath(path)
    if normalized == "." or normalized == ".." or normalized.startswith("../"):
        return None
    return normalized


def protecting_pattern(relative: str, patterns: Sequence[str]) -> str | None:
    """The first pattern that protects this workspace-relative path, if any."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        anchored, regex = _compile(pattern)
        candidates = prefixes if anchored else parts
        if any(regex.fullmatch(candidate) for candidate in candidates):
            return pattern
    return None


def check_readable(path: str, ctx: ToolContext) -> str:
    """The normalized path (or `path` as given, if it points outside); ToolError if it is protected."""
    return _check(path, ctx, "read")


def check_writable(path: str, ctx: ToolContext) -> str:
    return _check(path, ctx, "changed")


Kind = Literal["file", "directory", "other", "missing", "unknown"]  # other: a FIFO, socket, device


@dataclass(frozen=True)
class Probe:
    kind: Kind
    size: int = 0  # for a regular file


async def probe(ctx: ToolContext, path: str) -> Probe:
    """What is at `path`, and a regular file's size, without reading it (a FIFO is never opened).

    The Sandbox protocol has no stat, so this asks the sandbox's shell. It runs before confinement
    is checked: whatever a caller does next goes through `read_file`, `write_file` or `list_files`,
    which refuse paths outside the workspace, before anything about the path is reported."""
    q = shlex.quote(path)
    result = await ctx.sandbox.exec(
        f"if [ -f {q} ]; then command -p wc -c < {q}; elif [ -d {q} ]; then echo directory; "
        f"elif [ -e {q} ]; then echo other; else echo missing; fi",
        timeout=30,
        cwd=ctx.sandbox.workspace,
    )
    answer = result.output.strip()
    if answer.isdigit():
        return Probe("file", int(answer))
    kinds: dict[str, Kind] = {"directory": "directory", "other": "other", "missing": "missing"}
    return Probe(kinds.get(answer, "unknown"))


async def refuse_special(ctx: ToolContext, path: str, found: Probe) -> None:
    """ToolError for a FIFO, socket or device (reading one could block forever)."""
    if found.kind == "other":
        await ctx.sandbox.list_files(path, limit=1)  # a path outside is refused first
        raise ToolError(
            f"{path} is not a regular file (a FIFO, socket or device); the file tools leave it alone"
        )


async def read_existing(
    ctx: ToolContext, path: str, *, max_bytes: int = MAX_WHOLE_BYTES, found: Probe | None = None
) -> bytes | None:
    """The file's bytes, or None when it does not exist. Other refusals (outside the workspace, a
    directory) propagate as PathRefused, which the tool base reports to the model; a file larger
    than `max_bytes` is a ToolError (loading it would stall the tool and flood the sandbox pipe).
    `found`: the caller's own probe of the path, if it made one."""
    found = found or await probe(ctx, path)
    await refuse_special(ctx, path, found)
    if found.size > max_bytes:
        await ctx.sandbox.list_files(path, limit=1)  # a path outside is refused, its size untold
        raise ToolError(
            f"{path} is {found.size:,} bytes, too large to load whole (the limit is {max_bytes:,}); "
            "work on it with bash (grep -n, sed -n 'A,Bp', sed -i) instead"
        )
    try:
        return await ctx.sandbox.read_file(path)
    except PathRefused as exc:
        if "does not exist" in str(exc):
            return None
        raise


def _check(path: str, ctx: ToolContext, verb: str) -> str:
    if not path.strip():
        raise ToolError("the path is empty; give a file path relative to the workspace root")
    relative = workspace_relative(path, ctx.sandbox.workspace)
    if relative is None:
        return path
    if protecting_pattern(relative, ALWAYS_PROTECTED) is not None:
        raise ToolError(
            f"{path} is inside a git directory, which the file tools never read or change "
            "(git would run what is written there); use the `git` tool"
        )
    pattern = protecting_pattern(relative, ctx.protected_paths)
    if pattern is not None:
        raise ToolError(
            f"{path} is protected (it matches `{pattern}` in protected_paths of .trident.toml) "
            f"and cannot be {verb} by the agent; leave it alone"
        )
    return relative


@functools.cache
def _compile(pattern: str) -> tuple[bool, re.Pattern[str]]:
    """(anchored, regex) for a gitignore-style glob."""
    body = pattern.strip().replace("\\", "/")
    anchored = "/" in body.rstrip("/")
    body = body.strip("/")
    out: list[str] = []
    i = 0
    while i < len(body):
        if body.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif body.startswith("/**", i) and i + 3 == len(body):
            out.append("(?:/.*)?")
            i += 3
        elif body.startswith("**", i):
            out.append(".*")
            i += 2
        elif body[i] == "*":
            out.append("[^/]*")
            i += 1
        elif body[i] == "?":
            out.append("[^/]")
            i += 1
        elif body[i] == "[" and "]" in body[i + 2 :]:
            end = body.index("]", i + 2)
            inner = body[i + 1 : end]
            if inner.startswith("!"):
                inner = "^" + inner[1:]
            out.append("[" + inner.replace("\\", "\\\\") + "]")
            i = end + 1
        else:
            out.append(re.escape(body[i]))
            i += 1
    return anchored, re.compile("".join(out))
