"""`apply_patch`: a multi-file unified diff, applied all-or-nothing.

Parsing is our own (no `patch`, no `git apply`). A hunk's context and removed lines must match the
file exactly (line endings aside); its position may be off: the nearest match within NEAR lines of
the stated line wins, and a match farther away is taken only when it is the only one in the file.
Every file is patched in memory first; nothing is written unless every hunk of every file applies.
"""

from __future__ import annotations

import codecs
import re
import shlex
from dataclasses import dataclass, field

from pydantic import Field

from trident.sandbox.base import PathRefused
from trident.tools.base import Tool, ToolArgs, ToolContext, ToolError, ToolOutput
from trident.tools.paths import check_writable, read_existing
from trident.tools.syntax import syntax_report
from trident.tools.text import closest_region, count_lines, decode_text, dominant_eol, mismatch_report, plural

DEV_NULL = "/dev/null"
NEAR = 100
NOT_APPLIED = "Patch not applied; nothing was written."
HUNK_HEADER = re.compile(r"^@@+ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@+")
GIT_HEADERS = (
    "index ",
    "old mode ",
    "new mode ",
    "new file mode ",
    "deleted file mode ",
    "similarity index ",
    "dissimilarity index ",
    "rename from ",
    "rename to ",
    "copy from ",
    "copy to ",
)

EXAMPLE = """\
--- a/src/app.py
+++ b/src/app.py
@@ -10,2 +10,2 @@ def total(items):
     subtotal = sum(items)
-    return subtotal
+    return round(subtotal, 2)
--- /dev/null
+++ b/src/new_module.py
@@ -0,0 +1,2 @@
+def helper():
+    return 1
"""


class ApplyPatchArgs(ToolArgs):
    patch: str = Field(
        min_length=1,
        description="A unified diff (as `git diff` or `diff -u` print it), for one or more files.",
        examples=[EXAMPLE],
    )


# ---- the patch, parsed -------------------------------------------------------------------------


@dataclass
class Hunk:
    header: str
    old_start: int | None  # None for a bare "@@" without line numbers
    lines: list[tuple[str, str]] = field(default_factory=list)  # (" " | "-" | "+", text)
    old_no_eol: bool = False  # "\ No newline at end of file" after an old-side line
    new_no_eol: bool = False

    @property
    def before(self) -> list[str]:
        return [text for tag, text in self.lines if tag != "+"]

    @property
    def after(self) -> list[str]:
        return [text for tag, text in self.lines if tag != "-"]


@dataclass
class FilePatch:
    old_path: str | None  # None: /dev/null (the file is created)
    new_path: str | None  # None: /dev/null (the file is deleted)
    hunks: list[Hunk]
    rename: bool = False


@dataclass
class _GitBlock:
    paths: tuple[str, str] | None
    new_file: bool = False
    deleted: bool = False
    rename_from: str | None = None
    rename_to: str | None = None


def parse_patch(text: str) -> list[FilePatch]:
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if any(line.startswith("*** Begin Patch") for line in lines[:5]):
        raise ToolError(
            "this is the `*** Begin Patch` format; apply_patch takes a unified diff "
            "(`--- a/path`, `+++ b/path`, `@@ -l,n +l,n @@` hunks)"
        )
    files: list[FilePatch] = []
    git: _GitBlock | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("diff --git "):
            _flush_git(git, files)
            git = _GitBlock(paths=_git_paths(line[len("diff --git ") :]))
            i += 1
        elif git is not None and line.startswith(GIT_HEADERS):
            _read_git_header(git, line)
            i += 1
        elif _is_file_header(lines, i):
            old, new = _strip_prefixes(_header_path(line[4:]), _header_path(lines[i + 1][4:]))
            i += 2
            hunks: list[Hunk] = []
            while i < len(lines) and lines[i].startswith("@@"):
                hunk, i = _parse_hunk(lines, i)
                hunks.append(hunk)
            rename = git is not None and git.rename_from is not None and git.rename_to is not None
            if git is not None and rename:
                old, new = git.rename_from, git.rename_to
            if not hunks and old is not None and new is not None and not rename:
                raise ToolError(
                    f"patch line {i - 1}: the file header for {new} is not followed by any hunk "
                    "(`@@ -start,count +start,count @@` and its lines)"
                )
            files.append(FilePatch(old, new, hunks, rename))
            git = None
        elif line.startswith("@@"):
            raise ToolError(f"patch line {i + 1}: hunk `{line}` has no `---`/`+++` file header before it")
        elif line.startswith(("GIT binary patch", "Binary files ")):
            raise ToolError(f"patch line {i + 1}: binary patches are not supported")
        else:
            i += 1  # prose, code fences, "Index:" lines...
    _flush_git(git, files)
    if not files:
        raise ToolError(
            "no file header found: the patch must be a unified diff with `--- a/path` and `+++ b/path` "
            "lines, each followed by `@@ -start,count +start,count @@` hunks"
        )
    return files


def _is_file_header(lines: list[str], i: int) -> bool:
    return lines[i].startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ ")


def _parse_hunk(lines: list[str], i: int) -> tuple[Hunk, int]:
    header = lines[i]
    match = HUNK_HEADER.match(header)
    if match:
        old_start = int(match[1])
        counts: tuple[int, int] | None = (int(match[2] or 1), int(match[4] or 1))
    elif re.fullmatch(r"@@( @@)?\s*", header):  # no line numbers: found by its context alone
        old_start, counts = None, None
    else:
        raise ToolError(f"patch line {i + 1}: malformed hunk header `{header}`; expected `@@ -10,4 +10,5 @@`")
    hunk = Hunk(header.strip(), old_start)
    old_seen = new_seen = 0
    i += 1
    while i < len(lines):
        line = lines[i]
        complete = counts is not None and old_seen >= counts[0] and new_seen >= counts[1]
        if line.startswith("\\"):  # "\ No newline at end of file" marks the line before it
            if hunk.lines:
                tag = hunk.lines[-1][0]
                hunk.old_no_eol |= tag != "+"
                hunk.new_no_eol |= tag != "-"
            i += 1
            continue
        if (complete or counts is None) and (
            line.startswith(("@@", "diff --git ")) or _is_file_header(lines, i)
        ):
            break
        if complete and (not line or line[0] not in " +-"):
            break
        if not line:
            tag, text = " ", ""  # an empty context line whose leading space was lost
        elif line[0] in " +-":
            tag, text = line[0], line[1:]
        else:
            break
        hunk.lines.append((tag, text))
        old_seen += tag != "+"
        new_seen += tag != "-"
        i += 1
    complete = counts is not None and old_seen >= counts[0] and new_seen >= counts[1]
    if not complete:  # counts were wrong or absent: trailing blank lines are more likely separators
        while hunk.lines and hunk.lines[-1] == (" ", ""):
            hunk.lines.pop()
    if not hunk.lines:
        raise ToolError(f"hunk `{header}` has no lines")
    return hunk, i


def _header_path(value: str) -> str | None:
    value = value.split("\t", 1)[0].rstrip()
    if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        value = codecs.escape_decode(value[1:-1].encode("utf-8"))[0].decode("utf-8", "replace")
    return None if value == DEV_NULL else value


def _strip_prefixes(old: str | None, new: str | None) -> tuple[str | None, str | None]:
    """Drop git's a/ and b/ prefixes when both sides (or the side that is not /dev/null) carry them."""
    if (old is None or old.startswith("a/")) and (new is None or new.startswith("b/")) and (old or new):
        return (old[2:] if old else None), (new[2:] if new else None)
    return old, new


def _git_paths(rest: str) -> tuple[str, str] | None:
    """The two paths of `diff --git a/X b/X` when they are the same (no way to split them otherwise)."""
    if rest.startswith("a/") and (len(rest) - 5) % 2 == 0:
        size = (len(rest) - 5) // 2
        if rest[2 : 2 + size] == rest[5 + size :] and rest[2 + size : 5 + size] == " b/":
            return rest[2 : 2 + size], rest[5 + size :]
    return None


def _read_git_header(git: _GitBlock, line: str) -> None:
    if line.startswith("new file mode "):
        git.new_file = True
    elif line.startswith("deleted file mode "):
        git.deleted = True
    elif line.startswith("rename from "):
        git.rename_from = line[len("rename from ") :]
    elif line.startswith("rename to "):
        git.rename_to = line[len("rename to ") :]


def _flush_git(git: _GitBlock | None, files: list[FilePatch]) -> None:
    """A git block that had no ---/+++ section: a pure rename, an empty file created or deleted."""
    if git is None:
        return
    if git.rename_from is not None and git.rename_to is not None:
        files.append(FilePatch(git.rename_from, git.rename_to, [], rename=True))
    elif git.paths is not None and git.new_file:
        files.append(FilePatch(None, git.paths[1], []))
    elif git.paths is not None and git.deleted:
        files.append(FilePatch(git.paths[0], None, []))


# ---- applying it in memory -----------------------------------------------------------------------

Line = tuple[str, str]  # (content, ending: "\n", "\r\n" or "" for a last line without one)


@dataclass
class _File:
    path: str
    original: bytes | None  # None: did not exist
    text: str | None  # current content; None: does not exist (now)


def _to_lines(text: str) -> list[Line]:
    parts = text.split("\n")
    last = parts.pop()
    out = [(part[:-1], "\r\n") if part.endswith("\r") else (part, "\n") for part in parts]
    if last:
        out.append((last, ""))
    return out


def _apply_hunks(path: str, text: str, hunks: list[Hunk]) -> tuple[str, list[str]]:
    """The patched text and notes on hunks found away from their stated line; ToolError on a conflict."""
    items = _to_lines(text)
    eol = dominant_eol(text) if text else "\n"
    notes: list[str] = []
    shift = offset = floor = 0
    for number, hunk in enumerate(hunks, 1):
        before = hunk.before
        stated = None
        if hunk.old_start is not None:
            stated = max(hunk.old_start - (1 if before else 0), 0) + shift
        position = _find([content for content, _ in items], before, stated, offset, floor, path, hunk)
        if position is None:
            raise ToolError(_conflict(path, number, len(hunks), hunk, items, stated))
        if stated is not None and position != stated + offset:
            moved = position - stated
            direction = "below" if moved > 0 else "above"
            notes.append(f"hunk {number} applied {plural(abs(moved), 'line')} {direction} its stated line")
        matched = iter(items[position : position + len(before)])
        replacement: list[Line] = []
        for tag, content in hunk.lines:
            if tag == "+":
                replacement.append((content, eol))
                continue
            kept = next(matched)
            if tag == " ":
                replacement.append(kept)
        at_end = position + len(before) == len(items)
        items[position : position + len(before)] = replacement
        if at_end and replacement:
            content, ending = replacement[-1]
            if hunk.new_no_eol:
                ending = ""
            elif hunk.old_no_eol:
                ending = eol
            items[position + len(replacement) - 1] = (content, ending)
        if stated is not None:
            offset = position - stated
        shift += len(replacement) - len(before)
        floor = position + len(replacement)
    fixed = [(content, ending or eol) for content, ending in items[:-1]] + items[-1:]
    return "".join(content + ending for content, ending in fixed), notes


def _find(
    contents: list[str], before: list[str], stated: int | None, offset: int, floor: int, path: str, hunk: Hunk
) -> int | None:
    """Where the hunk's old lines are: nearest to the stated line (moved by the previous hunk's offset),
    within NEAR lines; else the only match in the rest of the file."""
    size = len(before)
    if size == 0:  # pure insertion: no context to search with
        target = floor if stated is None else stated + offset
        return target if floor <= target <= len(contents) else None
    matches = [
        p
        for p in range(floor, len(contents) - size + 1)
        if contents[p] == before[0] and contents[p : p + size] == before
    ]
    if not matches:
        return None
    if stated is None:
        return matches[0]
    expected = stated + offset
    nearest = min(matches, key=lambda p: (abs(p - expected), p))
    if abs(nearest - expected) <= NEAR or len(matches) == 1:
        return nearest
    raise ToolError(
        f"{NOT_APPLIED}\n{path}: hunk `{hunk.header}` matches at lines "
        f"{', '.join(str(p + 1) for p in matches[:10])}, all far from its stated line {expected + 1}; "
        "correct the line numbers in its @@ header or add context lines that make it unique."
    )


def _conflict(path: str, number: int, total: int, hunk: Hunk, items: list[Line], stated: int | None) -> str:
    contents = [content for content, _ in items]
    expected = hunk.before
    where = f" at line {stated + 1}" if stated is not None else ""
    searched = f"after hunk {number - 1}" if number > 1 else "in the file"
    head = (
        f"{NOT_APPLIED}\n{path}: hunk {number} of {total} `{hunk.header}` does not match the file{where} "
        f"(nor anywhere else {searched})."
    )
    if not expected:
        return (
            f"{head} It inserts lines after line {stated}, but the file has {plural(len(contents), 'line')}."
        )
    region = closest_region(contents, expected, stated)
    if region is None:
        listing = "\n".join(f"  {line}" for line in expected[:10])
        return (
            f"{head} No part of the file ({plural(len(contents), 'line')}) is similar to the lines "
            f"it expects:\n"
            f"{listing}\nRead the file and rebuild the hunk from its current text."
        )
    found = contents[region.start : region.stop]
    return (
        f"{head}\nClosest: {region.describe()}. "
        "The hunk's context and removed lines (-) against the file (+):\n"
        + mismatch_report(expected, found, f"hunk {number}", f"{path} {region.lines()}")
        + "\nContext (' ') and removed ('-') lines must be the file's exact current lines; fix the hunk and "
        "send the whole patch again."
    )


# ---- the tool ---------------------------------------------------------------------------------------


class ApplyPatchTool(Tool[ApplyPatchArgs]):
    name = "apply_patch"
    args_model = ApplyPatchArgs
    edits_files = True

    async def run(self, args: ApplyPatchArgs, ctx: ToolContext) -> ToolOutput:
        patches = parse_patch(args.patch)
        for patch in patches:  # every path is checked before any file is read
            patch.old_path = check_writable(patch.old_path, ctx) if patch.old_path is not None else None
            patch.new_path = check_writable(patch.new_path, ctx) if patch.new_path is not None else None
        files: dict[str, _File] = {}
        summary = [await _apply_in_memory(patch, files, ctx) for patch in patches]
        changed = [f for f in files.values() if _encoded(f.text) != f.original]
        await _commit(changed, ctx)
        reports = [syntax_report(f.path, _decoded(f.original), f.text) for f in changed if f.text is not None]
        return ToolOutput(
            "\n".join(
                [f"Applied the patch ({plural(len(patches), 'file')}):", *summary, *filter(None, reports)]
            )
        )


async def _apply_in_memory(patch: FilePatch, files: dict[str, _File], ctx: ToolContext) -> str:
    """Patch one file section into `files` (path -> current state); a line for the summary."""
    if patch.old_path is None:
        if patch.new_path is None:
            raise ToolError(f"{NOT_APPLIED}\na file section goes from /dev/null to /dev/null")
        target = await _load(patch.new_path, files, ctx)
        if target.text is not None:
            raise ToolError(
                f"{NOT_APPLIED}\n{target.path} already exists, but the patch creates it (from /dev/null)"
            )
        if any(hunk.before for hunk in patch.hunks):
            raise ToolError(
                f"{NOT_APPLIED}\n{target.path} is created (from /dev/null): its hunks can only add lines"
            )
        target.text, _ = _apply_hunks(target.path, "", patch.hunks)
        return f"  created {target.path} ({plural(count_lines(target.text), 'line')})"
    source = await _load(patch.old_path, files, ctx)
    if patch.new_path is not None and patch.new_path != patch.old_path and not patch.rename:
        other = await _load(patch.new_path, files, ctx)
        if other.text is not None:  # `--- file.orig` / `+++ file`: patch the file that exists
            source = other
    if source.text is None:
        raise ToolError(f"{NOT_APPLIED}\n{source.path} does not exist")
    text, notes = _apply_hunks(source.path, source.text, patch.hunks)
    if patch.new_path is None:
        if text and patch.hunks:
            raise ToolError(
                f"{NOT_APPLIED}\n{source.path} is deleted (to /dev/null), but its hunks leave "
                f"{plural(count_lines(text), 'line')} in it; a deletion must remove every line"
            )
        source.text = None
        return f"  deleted {source.path}"
    detail = ""
    if patch.hunks:
        added = sum(len(h.lines) - len(h.before) for h in patch.hunks)
        removed = sum(len(h.lines) - len(h.after) for h in patch.hunks)
        detail = f": {plural(len(patch.hunks), 'hunk')}, +{added} -{removed}"
        detail += f" ({'; '.join(notes)})" if notes else ""
    if patch.rename:
        target = await _load(patch.new_path, files, ctx)
        if target.text is not None:
            raise ToolError(
                f"{NOT_APPLIED}\n{target.path} already exists; the patch renames {source.path} to it"
            )
        source.text, target.text = None, text
        return f"  renamed {source.path} -> {target.path}{detail}"
    source.text = text
    return f"  modified {source.path}{detail}"


async def _load(path: str, files: dict[str, _File], ctx: ToolContext) -> _File:
    if path not in files:
        try:
            data = await read_existing(ctx, path)
            text = decode_text(data, path) if data is not None else None
        except (PathRefused, ToolError) as exc:
            raise ToolError(f"{NOT_APPLIED}\n{exc}") from None
        files[path] = _File(path, data, text)
    return files[path]


def _decoded(data: bytes | None) -> str | None:
    return data.decode("utf-8") if data is not None else None


def _encoded(text: str | None) -> bytes | None:
    return text.encode("utf-8") if text is not None else None


async def _commit(changed: list[_File], ctx: ToolContext) -> None:
    """Write every changed file, then delete; on a failure, put back what was already done."""
    done: list[_File] = []
    try:
        for file in sorted(changed, key=lambda f: f.text is None):
            if file.text is None:
                await _delete(file.path, ctx)
            else:
                await ctx.sandbox.write_file(file.path, file.text.encode("utf-8"))
            done.append(file)
    except Exception:
        for file in reversed(done):
            if file.original is None:
                await _delete(file.path, ctx)
            else:
                await ctx.sandbox.write_file(file.path, file.original)
        raise


async def _delete(path: str, ctx: ToolContext) -> None:
    """The sandbox protocol has no delete: remove the file with a command inside the sandbox."""
    result = await ctx.sandbox.exec(f"rm -f -- {shlex.quote(path)}", timeout=30, cwd=ctx.sandbox.workspace)
    if result.exit_code != 0:
        raise ToolError(f"could not delete {path}: {result.output.strip()}")
