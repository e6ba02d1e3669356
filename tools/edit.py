"""`edit`: exact search/replace in one file, with a "did you mean" answer when the text is not there.

Matching happens on text with "\\n" line endings; the splice goes back into the file's own bytes,
so a CRLF file stays CRLF and the lines not edited are untouched. When the quoted text is not in the
file exactly, two safe near-misses still apply: trailing whitespace, and an indentation shifted by
the same amount on every line (new_text is shifted alike). Anything else is answered with the
closest region and a diff against it.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from pydantic import Field

from trident.tools.base import Tool, ToolArgs, ToolContext, ToolError, ToolOutput
from trident.tools.paths import check_writable, read_existing
from trident.tools.syntax import syntax_report
from trident.tools.text import (
    closest_region,
    count_lines,
    decode_text,
    describe_whitespace,
    dominant_eol,
    leading_whitespace,
    mismatch_report,
    plural,
    short_diff,
    split_lines,
)

MAX_LISTED = 12


class EditArgs(ToolArgs):
    path: str = Field(description="File path, relative to the workspace root.", examples=["src/app.py"])
    old_text: str = Field(
        min_length=1,
        description="Exact text to replace, copied from the file with its indentation.",
        examples=["def total(items):\n    return sum(items)\n"],
    )
    new_text: str = Field(
        description="The text to put in its place (empty to delete).",
        examples=["def total(items):\n    return sum(item.price for item in items)\n"],
    )
    replace_all: bool = Field(False, description="Replace every occurrence instead of exactly one.")


@dataclass(frozen=True)
class Span:
    start: int  # offsets in the "\n"-normalized text
    stop: int
    replacement: str


class EditTool(Tool[EditArgs]):
    name = "edit"
    args_model = EditArgs
    edits_files = True

    async def run(self, args: EditArgs, ctx: ToolContext) -> ToolOutput:
        check_writable(args.path, ctx)
        data = await read_existing(ctx, args.path)
        if data is None:
            raise ToolError(f"{args.path} does not exist; create it with `write`")
        raw = decode_text(data, args.path)
        text, old, new = _lf(raw), _lf(args.old_text), _lf(args.new_text)
        if old == new:
            raise ToolError("old_text and new_text are identical; there is nothing to change")
        spans, note = _locate(text, old, new, args.path, args.replace_all)
        eol = dominant_eol(raw)
        after = _splice(raw, spans, eol)
        await ctx.sandbox.write_file(args.path, after.encode("utf-8"))

        first = _line_at(text, spans[0].start)
        removed = count_lines(text[spans[0].start : spans[0].stop]) or 1
        added = count_lines(spans[0].replacement)
        if len(spans) == 1:
            summary = f"replaced {plural(removed, 'line')} at line {first} with {plural(added, 'line')}"
        else:
            starts = [_line_at(text, span.start) for span in spans]
            summary = f"{len(spans)} replacements, at lines {_listing(starts)}"
        parts = [
            f"Edited {args.path}: {summary}" + (" (CRLF line endings kept)" if eol == "\r\n" else "") + "."
        ]
        if note:
            parts.append(note)
        parts.append(short_diff(raw, after, args.path))
        report = syntax_report(args.path, raw, after)
        if report:
            parts.append(report)
        return ToolOutput("\n".join(parts))


def _line_at(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n")


def _locate(text: str, old: str, new: str, path: str, replace_all: bool) -> tuple[list[Span], str]:
    """The spans to replace (in order) and a note when the match was not exact; ToolError otherwise."""
    found = _occurrences(text, old)
    if len(found) == 1 or (found and replace_all):
        return [Span(start, start + len(old), new) for start in found], ""
    if found:
        lines = [_line_at(text, start) for start in found]
        raise ToolError(
            f"old_text occurs {len(found)} times in {path} (lines {_listing(lines)}); include more "
            "surrounding lines to make it unique, or set replace_all to change every occurrence"
        )
    loose = _loose_matches(text, old, new)
    if len(loose) == 1 or (loose and replace_all):
        spans = [span for span, _ in loose]
        return spans, loose[0][1]
    if loose:
        where = [_line_at(text, span.start) for span, _ in loose]
        raise ToolError(
            f"old_text was not found exactly in {path}; ignoring whitespace it matches {len(loose)} places "
            f"(lines {_listing(where)}). Quote the file's exact text, with more surrounding lines."
        )
    raise ToolError(_miss(text, old, path))


def _occurrences(text: str, old: str) -> list[int]:
    found, start = [], text.find(old)
    while start != -1:
        found.append(start)
        start = text.find(old, start + len(old))
    return found


def _loose_matches(text: str, old: str, new: str) -> list[tuple[Span, str]]:
    """Whole-line matches that differ only in trailing whitespace or by one indentation shift."""
    whole_lines = old.endswith("\n")
    quoted = (old[:-1] if whole_lines else old).split("\n")
    anchor = next((j for j, line in enumerate(quoted) if line.strip()), None)
    if anchor is None:
        return []
    lines = text.split("\n")
    count = len(lines) - (1 if text.endswith("\n") else 0)
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    wanted = quoted[anchor].strip()
    matches: list[tuple[Span, str]] = []
    s = 0
    while s + len(quoted) <= count:
        shift = None
        if lines[s + anchor].strip() == wanted:
            shift = _shift(lines[s : s + len(quoted)], quoted)
        replacement = _reindent(new, shift) if shift is not None else None
        if shift is None or replacement is None:
            s += 1
            continue
        last = s + len(quoted) - 1
        stop = starts[last] + len(lines[last])
        if whole_lines and stop < len(text):
            stop += 1
        matches.append((Span(starts[s], stop, replacement), _note(s, last, shift)))
        s = last + 1
    return matches


def _shift(found: list[str], quoted: list[str]) -> tuple[str, str] | None:
    """("+", P) when every quoted line lacks the prefix P the file has, ("-", P) when every quoted line
    has an extra P; ("+", "") when only trailing whitespace differs. None when not so uniform."""
    shift: tuple[str, str] | None = None
    for ours, theirs in zip(quoted, found, strict=True):
        if not ours.strip():
            if theirs.strip():
                return None
            continue
        ours, theirs = ours.rstrip(), theirs.rstrip()
        if ours.lstrip() != theirs.lstrip():
            return None
        our_lead, their_lead = leading_whitespace(ours), leading_whitespace(theirs)
        if their_lead.endswith(our_lead):
            this = ("+", their_lead[: len(their_lead) - len(our_lead)])
        elif our_lead.endswith(their_lead):
            this = ("-", our_lead[: len(our_lead) - len(their_lead)])
        else:
            return None
        if shift is not None and this != shift:
            return None
        shift = this
    return shift


def _reindent(new: str, shift: tuple[str, str]) -> str | None:
    sign, prefix = shift
    if not prefix:
        return new
    out: list[str] = []
    for line in new.split("\n"):
        if not line.strip():
            out.append(line)
        elif sign == "+":
            out.append(prefix + line)
        elif line.startswith(prefix):
            out.append(line[len(prefix) :])
        else:
            return None  # new_text is not indented the way old_text was: do not guess
    return "\n".join(out)


def _note(first: int, last: int, shift: tuple[str, str]) -> str:
    where = f"line {first + 1}" if first == last else f"lines {first + 1}-{last + 1}"
    sign, prefix = shift
    if not prefix:
        return f"Note: old_text differed from {where} in trailing whitespace only; matched ignoring it."
    amount = describe_whitespace(prefix)
    direction = "less" if sign == "+" else "more"
    return (
        f"Note: old_text was indented {amount} {direction} than {where}; matched there, and new_text was "
        "re-indented the same way. Quote indentation exactly next time."
    )


def _miss(text: str, old: str, path: str) -> str:
    quoted = split_lines(old) or [old]
    lines = split_lines(text)
    region = closest_region(lines, quoted)
    if region is None:
        return (
            f"old_text was not found in {path} ({plural(len(lines), 'line')}), and no part of the file is "
            "similar to it. Read the file and copy the text exactly."
        )
    where = region.describe()
    return (
        f"old_text was not found in {path}. Did you mean {where}? "
        "Your old_text (-) against the file there (+):\n"
        + mismatch_report(quoted, lines[region.start : region.stop], "old_text", f"{path} {region.lines()}")
        + "\nCopy the file's text exactly (read it again if unsure) and retry."
    )


def _splice(raw: str, spans: list[Span], eol: str) -> str:
    """Apply spans given in "\\n"-normalized offsets to the raw text, writing new lines with `eol`."""
    crlf: list[int] = []  # normalized offsets of the newlines that are "\r\n" in the raw text
    index = raw.find("\r\n")
    while index != -1:
        crlf.append(index - len(crlf))
        index = raw.find("\r\n", index + 2)

    def raw_offset(offset: int) -> int:
        return offset + bisect.bisect_left(crlf, offset)

    out, done = [], 0
    for span in spans:
        start, stop = raw_offset(span.start), raw_offset(span.stop)
        out.append(raw[done:start])
        out.append(span.replacement.replace("\n", eol) if eol != "\n" else span.replacement)
        done = stop
    out.append(raw[done:])
    return "".join(out)


def _listing(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:MAX_LISTED])
    return shown + (f", ... ({len(numbers) - MAX_LISTED} more)" if len(numbers) > MAX_LISTED else "")
