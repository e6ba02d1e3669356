"""`grep`: regex search over workspace files, ripgrep inside the sandbox when it is installed.

Both engines search the same files: those `list_files` gives (hidden files included, `.gitignore`
not applied, `.git` and cache directories skipped), less protected paths, binary files and files over
1 MiB (unless named as the path); in the same order (by path, as a tree walk); with Python `re`
syntax checked first. Both give the same result: `path:line: text` for a match, `path-line- text`
for context, `--` between separate groups. A pattern ripgrep cannot run (look-around,
backreferences) falls back to Python, and so does an output cut before what is to be shown.
"""

from __future__ import annotations

import re
import shlex
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import Field

from trident.sandbox.base import ExecResult, Sandbox
from trident.sandbox.runner import SKIP_DIRS
from trident.tools.base import Tool, ToolArgs, ToolContext, ToolError, ToolOutput
from trident.tools.glob import list_under, matches_filter, normalize, path_key, read_batches
from trident.tools.paths import protecting_pattern

MAX_FILE_BYTES = 1024 * 1024  # larger files are skipped, unless named as the path
MAX_NAMED_FILE_BYTES = 256 * 1024 * 1024  # what the Python engine reads into memory at most
MAX_LINE_CHARS = 300
MAX_OUTPUT_CHARS = 20_000  # about 5k tokens
RG_MAX_COLUMNS = 4 * MAX_LINE_CHARS  # bytes: ripgrep cuts longer lines, keeping all that is shown
RG_OUTPUT_LIMIT = 256 * 1024  # bytes of ripgrep output kept (head and tail); beyond, only the head is used
RG_LINE = re.compile(r"(\d+)([:-])(.*)", re.DOTALL)
RG_STAT = re.compile(r"(\d+) (matched lines|files contained matches|files searched)")
RG_LONG_LINE = re.compile(r" \[\.\.\. (?:omitted end of long line|\d+ more matches?)\]$")
CLIP_MARK = re.compile(r"\n\[\.\.\. \d+ bytes of output left out \.\.\.\]\n")


class GrepArgs(ToolArgs):
    pattern: str = Field(
        min_length=1,
        description="Regular expression (Python `re` syntax), matched within single lines.",
        examples=[r"def load_config\(", "TODO|FIXME"],
    )
    path: str = Field(".", description="File or directory to search, relative to the workspace root.")
    glob: str | None = Field(
        None,
        description=(
            "Only search files matching this glob: without `/` it matches file names at any depth "
            "(`*.py`); with `/` the path from the workspace root (`src/**/*.ts`); `!` excludes (`!*.min.js`)."
        ),
        examples=["*.py", "src/**/*.{ts,tsx}", "!tests/**"],
    )
    literal: bool = Field(False, description="Search for the pattern as plain text, not a regex.")
    ignore_case: bool = Field(False, description="Match letters regardless of case.")
    context: int = Field(
        0, ge=0, le=10, description="Lines of context shown before and after each match.", examples=[2]
    )
    max_results: int = Field(
        100, ge=1, le=1000, description="Matching lines shown at most; the rest are counted, not shown."
    )


@dataclass
class Hits:
    """Matching and context lines by file, and what was counted over every searched file."""

    files: dict[str, dict[int, tuple[bool, str]]] = field(default_factory=dict)  # line -> (is match, text)
    total: int = 0  # matching lines in all
    total_files: int = 0  # files with a match
    searched: int = 0
    partial: bool = False  # only the start of the results is here (ripgrep's output was cut)

    def add(self, path: str, number: int, is_match: bool, text: str) -> None:
        lines = self.files.setdefault(path, {})
        if is_match or number not in lines:
            lines[number] = (is_match, text)


def compile_pattern(args: GrepArgs) -> re.Pattern[str]:
    source = re.escape(args.pattern) if args.literal else args.pattern
    try:
        return re.compile(source, re.IGNORECASE if args.ignore_case else 0)
    except re.error as exc:
        where = f" at position {exc.pos}" if exc.pos is not None else ""
        raise ToolError(
            f"invalid regex {args.pattern!r}: {exc.msg}{where}; escape special characters "
            "(`\\(`, `\\[`, `\\.`) or set literal=true"
        ) from None


# -- the Python engine ----------------------------------------------------------------------------
async def search_python(ctx: ToolContext, args: GrepArgs, regex: re.Pattern[str]) -> Hits:
    listing = await list_under(ctx, args.path)
    if listing.is_file:  # a file named as the path is searched whatever its size, as ripgrep does
        candidates = [f for f in listing.files if f.size <= MAX_NAMED_FILE_BYTES]
    else:
        candidates = [
            f
            for f in listing.files
            if f.size <= MAX_FILE_BYTES and (not args.glob or matches_filter(f.path, args.glob))
        ]
    prefilter = _prefilter(regex)
    hits = Hits()
    async for batch in read_batches(ctx.sandbox, candidates):
        for path, data in batch.items():
            if data is None:
                continue
            hits.searched += 1
            if b"\x00" in data:
                continue
            text = data.decode("utf-8", "replace")
            if prefilter is not None and prefilter.search(text) is None:
                continue
            lines = text.split("\n")
            if lines[-1] == "":
                lines.pop()
            matched = [i for i, line in enumerate(lines) if regex.search(line)]
            if not matched:
                continue
            hits.total_files += 1
            for i in matched:
                hits.total += 1
                if hits.total > args.max_results + 1:  # one more than shown: it ends the last context
                    continue
                for j in range(max(0, i - args.context), min(len(lines), i + args.context + 1)):
                    hits.add(path, j + 1, j == i, lines[j])
    return hits


def _prefilter(regex: re.Pattern[str]) -> re.Pattern[str] | None:
    """The pattern over a whole file, to skip files without a match fast. It may match where no single
    line does (the line scan then finds nothing) but not the reverse, unless the pattern looks past
    a line's ends: look-arounds, \\A, \\Z; those get no prefilter."""
    if any(marker in regex.pattern for marker in ("(?=", "(?!", "(?<=", "(?<!", "\\A", "\\Z")):
        return None
    return re.compile(regex.pattern, regex.flags | re.MULTILINE)


# -- the ripgrep engine ---------------------------------------------------------------------------
async def has_ripgrep(ctx: ToolContext) -> bool:
    result = await ctx.sandbox.exec("command -v rg >/dev/null", timeout=30)
    return result.exit_code == 0


def ripgrep_command(ctx: ToolContext, args: GrepArgs, base: str) -> str:
    argv = [
        "rg", "--no-config", "--null", "--line-number", "--with-filename", "--no-heading",
        "--color=never", "--sort=path", "--hidden", "--no-ignore", "--stats", "--no-messages",
        f"--max-filesize={MAX_FILE_BYTES}", f"--max-columns={RG_MAX_COLUMNS}", "--max-columns-preview",
    ]  # fmt: skip
    if args.ignore_case:
        argv.append("--ignore-case")
    if args.literal:
        argv.append("--fixed-strings")
    if args.context:
        argv.append(f"--context={args.context}")
    if args.glob:
        argv += ["--glob", args.glob]
    for excluded in (*sorted(SKIP_DIRS), *ctx.protected_paths):  # last: exclusions win over the filter
        argv += ["--glob", "!" + excluded]
    argv += ["--regexp", args.pattern]
    if base != ".":
        argv += ["--", base]
    # A subshell: the session's persistent working directory is left as it was.
    return f"(cd -- {shlex.quote(ctx.sandbox.workspace)} && {shlex.join(argv)})"


async def search_ripgrep(ctx: ToolContext, args: GrepArgs) -> Hits | None:
    """None when ripgrep cannot answer (a regex it does not support, an unreadable output)."""
    base = normalize(args.path, ctx)
    if base != ".":
        await ctx.sandbox.list_files(base, limit=1)  # confinement: a path outside is refused here
    command = ripgrep_command(ctx, args, base)
    result = await ctx.sandbox.exec(command, timeout=ctx.command_timeout_s, limit=RG_OUTPUT_LIMIT)
    if result.timed_out:
        raise ToolError(
            f"the search took longer than {ctx.command_timeout_s:g}s; narrow the path or glob, "
            "or make the pattern more specific"
        )
    return parse_ripgrep(result, ctx.protected_paths)


def parse_ripgrep(result: ExecResult, protected: Sequence[str]) -> Hits | None:
    output, stats_text = result.output, result.output
    if result.truncated:
        marks = list(CLIP_MARK.finditer(output))
        if not marks:
            return None
        output, stats_text = output[: marks[-1].start()], output[marks[-1].end() :]
    hits = Hits(partial=result.truncated)
    for raw in output.split("\n"):
        path, nul, rest = raw.partition("\x00")
        match = RG_LINE.match(rest) if nul else None
        if match is None or (protected and protecting_pattern(path, protected) is not None):
            continue
        hits.total += match.group(2) == ":"
        hits.add(path, int(match.group(1)), match.group(2) == ":", RG_LONG_LINE.sub("", match.group(3)))
    if hits.partial and hits.files:
        del hits.files[next(reversed(hits.files))]  # the last file in the head may be cut short
    stats = {m.group(2): int(m.group(1)) for m in RG_STAT.finditer(stats_text)}
    if "matched lines" not in stats:
        return None
    if result.exit_code == 2 and stats["matched lines"] == 0:
        return None  # an error, not an empty result: a regex ripgrep does not support, most likely
    if hits.partial:
        hits.total = stats["matched lines"]
    hits.total_files = stats["files contained matches"]
    hits.searched = stats["files searched"]
    return hits


# -- the result -------------------------------------------------------------------------------------
Group = tuple[str, list[tuple[int, bool, str]]]


def keep_first(hits: Hits, max_results: int, context: int) -> tuple[list[Group], bool]:
    """The first `max_results` matching lines with their context, by file; and whether more matches
    were found. Nothing at or after the first match left out is kept."""
    out: list[Group] = []
    budget = max_results
    for path in sorted(hits.files, key=path_key):
        lines = hits.files[path]
        matches = [n for n in sorted(lines) if lines[n][0]]
        kept, dropped = matches[: max(budget, 0)], matches[max(budget, 0) :]
        budget -= len(kept)
        if kept:
            stop = dropped[0] if dropped else None
            wanted = {n for m in kept for n in range(m - context, m + context + 1)}
            out.append(
                (path, [(n, *lines[n]) for n in sorted(lines) if n in wanted and (stop is None or n < stop)])
            )
        if dropped:
            return out, True
    return out, False


def render(hits: Hits, args: GrepArgs, where: str) -> tuple[str, bool]:
    """The result text, and whether it was cut short (by max_results or the output size) rather than
    showing all the lines it was given."""
    groups, limited = keep_first(hits, args.max_results, args.context)
    if not groups:
        return f"No matches for {args.pattern!r} in {where} ({hits.searched:,} files searched)", False
    out: list[str] = []
    size = shown = 0
    clipped = False
    for path, lines in groups:
        previous: int | None = None
        for number, is_match, text in lines:
            text = text.rstrip("\r")
            if len(text) > MAX_LINE_CHARS:
                text = text[:MAX_LINE_CHARS] + "[...]"
            line = f"{path}{':' if is_match else '-'}{number}{':' if is_match else '-'} {text}"
            separator = args.context > 0 and bool(out) and (previous is None or number != previous + 1)
            size += len(line) + 1 + 3 * separator
            if size > MAX_OUTPUT_CHARS:
                clipped = True
                break
            if separator:
                out.append("--")
            out.append(line)
            shown += is_match
            previous = number
        if clipped:
            break
    if hits.total > shown:
        why = "the output size limit" if clipped else "max_results"
        out.append(
            f"[{hits.total:,} matching lines in {hits.total_files:,} files; showing the first {shown:,} "
            f"({why}), {hits.total - shown:,} left out. Narrow the pattern, path or glob]"
        )
    return "\n".join(out), limited or clipped


class GrepTool(Tool[GrepArgs]):
    name = "grep"
    args_model = GrepArgs
    read_only = True

    def __init__(self, ripgrep: bool | None = None) -> None:
        """`ripgrep`: None to use it when the sandbox has it, False to always search in Python."""
        self._ripgrep = ripgrep
        self._detected: weakref.WeakKeyDictionary[Sandbox, bool] = weakref.WeakKeyDictionary()

    async def use_ripgrep(self, ctx: ToolContext) -> bool:
        if self._ripgrep is not None:
            return self._ripgrep
        if ctx.sandbox not in self._detected:
            self._detected[ctx.sandbox] = await has_ripgrep(ctx)
        return self._detected[ctx.sandbox]

    async def run(self, args: GrepArgs, ctx: ToolContext) -> ToolOutput:
        regex = compile_pattern(args)
        use_rg = await self.use_ripgrep(ctx)
        base = normalize(args.path, ctx)
        where = "the workspace" if base == "." else base
        if use_rg:
            hits = await search_ripgrep(ctx, args)
            if hits is not None:
                text, cut_short = render(hits, args, where)
                if not hits.partial or cut_short:
                    return ToolOutput(text)
            # ripgrep could not run the pattern, or its output was cut before what is shown here
        return ToolOutput(render(await search_python(ctx, args, regex), args, where)[0])
