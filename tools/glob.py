"""`glob`: workspace files whose path matches a pattern, sorted and capped; and the file-finding helpers
the search tools share (glob patterns, path order, listing under a path, batched reads).

Everything goes through the sandbox: one `list_files` call gives the files (with size and mtime,
`.git` and cache directories skipped), `read_files` fetches contents in batches.
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from pydantic import Field

from trident.sandbox.base import FileInfo, PathRefused, Sandbox
from trident.tools.base import Tool, ToolArgs, ToolContext, ToolOutput
from trident.tools.paths import check_readable, probe, protecting_pattern, refuse_special

MAX_GLOB_RESULTS = 200
READ_BATCH_BYTES = 8 * 1024 * 1024  # one read_files round trip carries about this much
READ_BATCH_FILES = 1000


# -- glob patterns ------------------------------------------------------------------------------
@functools.lru_cache(maxsize=256)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """A compiled regex that fullmatches the paths the glob matches.

    `*` and `?` stay within one path segment, `**` as a whole segment spans any number of
    directories (zero included), `[abc]`/`[!abc]` are character classes, `{a,b}` alternatives,
    and a backslash escapes the next character.
    """
    return re.compile(_translate(pattern), re.DOTALL)


def _translate(pattern: str) -> str:
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        segment_start = i == 0 or pattern[i - 1] == "/"
        if pattern.startswith("**", i) and segment_start and i + 2 == n:
            out.append(".*")  # a trailing `**`: everything below
            i += 2
        elif pattern.startswith("**/", i) and segment_start:
            out.append("(?:[^/]+/)*")  # `**/`: zero or more directories
            i += 3
        elif char == "*":
            while i < n and pattern[i] == "*":  # `**` inside a segment is a plain `*`
                i += 1
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
            i += 1
        elif char == "[" and (end := _class_end(pattern, i)) > 0:
            out.append(_char_class(pattern[i + 1 : end]))
            i = end + 1
        elif char == "{" and (end := _brace_end(pattern, i)) > 0:
            options = _split_top_level(pattern[i + 1 : end])
            out.append("(?:" + "|".join(_translate(option) for option in options) + ")")
            i = end + 1
        elif char == "\\" and i + 1 < n:
            out.append(re.escape(pattern[i + 1]))
            i += 2
        else:
            out.append(re.escape(char))
            i += 1
    return "".join(out)


def _class_end(pattern: str, start: int) -> int:
    """Index of the `]` closing the class opened at `start`, or -1 (then `[` is literal)."""
    i = start + 1
    if i < len(pattern) and pattern[i] in "!^":
        i += 1
    if i < len(pattern) and pattern[i] == "]":  # `[]a]`: a leading `]` is a member
        i += 1
    end = pattern.find("]", i)
    return end if end > 0 and "/" not in pattern[start:end] else -1


def _char_class(body: str) -> str:
    negate = body[:1] in ("!", "^")
    if negate:
        body = body[1:]
    members = "".join(
        "-" if char == "-" and 0 < k < len(body) - 1 else re.escape(char) for k, char in enumerate(body)
    )
    return f"[^/{members}]" if negate else f"[{members}]"


def _brace_end(pattern: str, start: int) -> int:
    depth = 0
    for i in range(start, len(pattern)):
        if pattern[i] == "{":
            depth += 1
        elif pattern[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    return -1


def _split_top_level(body: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in body:
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        depth += (char == "{") - (char == "}")
        current.append(char)
    parts.append("".join(current))
    return parts


def matches_filter(path: str, pattern: str) -> bool:
    """ripgrep's `--glob` rule: a pattern without `/` matches the file name at any depth; one with
    `/` matches the whole workspace-relative path (a leading `/` only anchors); a leading `!` inverts."""
    if pattern.startswith("!"):
        return not matches_filter(path, pattern[1:])
    if "/" in pattern:
        return glob_regex(pattern.lstrip("/")).fullmatch(path) is not None
    return glob_regex(pattern).fullmatch(posixpath.basename(path)) is not None


# -- paths and listings -------------------------------------------------------------------------
def path_key(path: str) -> tuple[str, ...]:
    """Sort key of a tree walk by name (ripgrep's `--sort path`): `a/b.py` comes before `a.py`."""
    return tuple(path.split("/"))


def relative_to(path: str, base: str) -> str:
    """`path` (workspace-relative) as seen from the directory `base` (workspace-relative or ".")."""
    return path if base == "." else path[len(base) + 1 :]


@dataclass(frozen=True)
class Listing:
    base: str  # workspace-relative, "." for the root
    files: list[FileInfo]  # sorted by path_key, protected files left out
    is_file: bool = False  # `base` names one file (then `files` is that file alone)


def normalize(path: str, ctx: ToolContext) -> str:
    """Workspace-relative and normalized ("." for the root); a protected path is a ToolError, a path
    outside the workspace is left for the sandbox to refuse."""
    if not path.strip() or posixpath.normpath(path.strip()) == ".":
        return "."
    checked = check_readable(path.strip(), ctx)
    if posixpath.isabs(checked):
        root = ctx.sandbox.workspace.rstrip("/")
        if checked.rstrip("/") == root:
            return "."
    return posixpath.normpath(checked)


def visible(files: Sequence[FileInfo], ctx: ToolContext) -> list[FileInfo]:
    """Files sorted by path_key, without the protected ones."""
    patterns = ctx.protected_paths
    kept = [f for f in files if not patterns or protecting_pattern(f.path, patterns) is None]
    return sorted(kept, key=lambda f: path_key(f.path))


async def list_under(ctx: ToolContext, path: str) -> Listing:
    """The files below a directory, or the file itself. PathRefused when it does not exist, a
    ToolError for a FIFO, socket or device (never opened: reading one could block)."""
    base = normalize(path, ctx)
    files = await ctx.sandbox.list_files(base)  # refuses a path outside the workspace
    if files or base == ".":
        return Listing(base, visible(files, ctx))
    found = await probe(ctx, base)
    if found.kind == "directory":
        return Listing(base, [])
    if found.kind == "missing":
        raise PathRefused(f"{base!r} does not exist")
    await refuse_special(ctx, base, found)
    size = found.size if found.kind == "file" else len(await ctx.sandbox.read_file(base))
    return Listing(base, [FileInfo(path=base, size=size, mtime_ns=0)], is_file=True)


async def read_batches(sandbox: Sandbox, files: Sequence[FileInfo]) -> AsyncIterator[dict[str, bytes | None]]:
    """Contents in order, a few megabytes per read_files round trip."""
    batch: list[str] = []
    size = 0
    for info in files:
        if batch and (size + info.size > READ_BATCH_BYTES or len(batch) >= READ_BATCH_FILES):
            yield await sandbox.read_files(batch)
            batch, size = [], 0
        batch.append(info.path)
        size += info.size
    if batch:
        yield await sandbox.read_files(batch)


# -- the tool -----------------------------------------------------------------------------------
class GlobArgs(ToolArgs):
    pattern: str = Field(
        min_length=1,
        description=(
            "Glob matched against file paths relative to `path`: `*` and `?` stay within one directory, "
            "`**` spans any number of directories, `{a,b}` alternatives, `[abc]` character classes."
        ),
        examples=["src/**/*.py", "**/test_*.py", "*.{yml,yaml}"],
    )
    path: str = Field(
        ".", description="Directory to search in, relative to the workspace root.", examples=["src"]
    )
    max_results: int = Field(MAX_GLOB_RESULTS, ge=1, le=2000, description="How many paths to show at most.")


class GlobTool(Tool[GlobArgs]):
    name = "glob"
    args_model = GlobArgs
    read_only = True

    async def run(self, args: GlobArgs, ctx: ToolContext) -> ToolOutput:
        listing = await list_under(ctx, args.path)
        if listing.is_file:
            return ToolOutput(f"{listing.base} is a file, not a directory; give its directory as `path`")
        regex = glob_regex(args.pattern.lstrip("/"))
        found = [f.path for f in listing.files if regex.fullmatch(relative_to(f.path, listing.base))]
        where = "the workspace" if listing.base == "." else listing.base
        if not found:
            hint = ""
            if "/" not in args.pattern and "**" not in args.pattern:
                hint = (
                    f"; `{args.pattern}` matches only directly in {where}, `**/{args.pattern}` at any depth"
                )
            return ToolOutput(
                f"No files match `{args.pattern}` in {where} ({len(listing.files):,} files){hint}"
            )
        shown = found[: args.max_results]
        body = "\n".join(shown)
        if len(found) > len(shown):
            body += (
                f"\n[{len(found) - len(shown):,} more of {len(found):,} matching files left out; "
                "narrow the pattern or path, or raise max_results]"
            )
        return ToolOutput(body)
