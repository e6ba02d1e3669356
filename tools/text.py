"""Text helpers shared by the file tools: decoding, lines and line endings, compact diffs, and the
region of a file closest to a text the model quoted wrongly."""

from __future__ import annotations

import difflib
import operator
import re
from collections import Counter
from dataclasses import dataclass

from trident.tools.base import ToolError

DIFF_LINES = 40
DIFF_LINE_CHARS = 300
SNIFF_BYTES = 8192
MIN_SIMILARITY = 0.5  # below this, a region is not worth showing as "did you mean"
FULL_SCAN_CELLS = 20_000  # lines x quoted lines scored one by one; above this, only anchored windows
TOP_WINDOWS = 60
ANCHOR_WORDS = 5
EXACT_COMPARE_CHARS = 4000  # differing runs longer than this are compared on bigrams
HUNK_HEADER = re.compile(r"^@@ -(\d+)(,\d+)? \+(\d+)(,\d+)? @@")


def is_binary(data: bytes) -> bool:
    return b"\x00" in data[:SNIFF_BYTES]


def decode_text(data: bytes, path: str) -> str:
    if is_binary(data):
        raise ToolError(
            f"{path} is a binary file ({len(data):,} bytes, contains NUL bytes); "
            "it cannot be read or edited as text"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ToolError(
            f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start:,}); "
            "it cannot be read or edited as text"
        ) from None


def split_lines(text: str) -> list[str]:
    """Lines without their endings. Only "\\n" (with an optional "\\r" before it) ends a line, as in
    every line number the tools report."""
    if not text:
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def count_lines(text: str) -> int:
    return text.count("\n") + (1 if text and not text.endswith("\n") else 0)


def dominant_eol(text: str) -> str:
    """ "\\r\\n" when most lines end with it, else "\\n"."""
    crlf = text.count("\r\n")
    return "\r\n" if crlf > text.count("\n") - crlf else "\n"


def clip(line: str, limit: int = DIFF_LINE_CHARS) -> str:
    """A line for a diff shown to the model: long ones (minified code) are cut."""
    return line if len(line) <= limit else f"{line[:limit]} [... {len(line) - limit:,} more characters]"


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"


def short_diff(before: str, after: str, path: str, limit: int = DIFF_LINES, context: int = 1) -> str:
    """A unified diff of the changed lines only, capped at `limit` lines. Unchanged head and tail are
    cut before diffing, so a one-line edit in a huge file costs a comparison, not a diff."""
    old, new = split_lines(before), split_lines(after)
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    skip = max(0, head - context)
    keep = max(0, tail - context)
    lines: list[str] = []
    for line in difflib.unified_diff(
        old[skip : len(old) - keep],
        new[skip : len(new) - keep],
        f"a/{path}",
        f"b/{path}",
        n=context,
        lineterm="",
    ):
        match = HUNK_HEADER.match(line)
        if match:
            old_start, old_len, new_start, new_len = match.groups()
            line = (
                f"@@ -{int(old_start) + skip}{old_len or ''} +{int(new_start) + skip}{new_len or ''} @@"
                + line[match.end() :]
            )
        lines.append(clip(line))
    if len(lines) > limit:
        lines = [*lines[:limit], f"[... {len(lines) - limit} more diff lines ...]"]
    return "\n".join(lines)


@dataclass(frozen=True)
class Region:
    start: int  # 0-based index of the first line
    stop: int  # exclusive
    similarity: float  # 0..1, character-level

    def lines(self) -> str:
        return (
            f"line {self.start + 1}" if self.stop - self.start == 1 else f"lines {self.start + 1}-{self.stop}"
        )

    def describe(self) -> str:
        return f"{self.lines()} ({int(self.similarity * 100)}% similar)"  # floor: 100% only when equal


def closest_region(lines: list[str], wanted: list[str], near: int | None = None) -> Region | None:
    """The run of `lines` most like `wanted`, or None when nothing is at least MIN_SIMILARITY alike.

    Windows are scored line by line on whitespace-insensitive character bigrams (cheap), the best are
    re-scored on the exact text with difflib, trying one line fewer or more; ties go to the window
    nearest `near` (a 0-based line index)."""
    if not lines or not wanted:
        return None
    width = min(len(wanted), len(lines))
    keys = [_key(line) for line in lines]
    wanted_keys = [_key(line) for line in wanted]
    last = len(lines) - width
    if len(lines) * width <= FULL_SCAN_CELLS:
        starts = list(range(last + 1))
    else:
        starts = _anchored_starts(keys, wanted_keys, last, near)
    if not starts:
        return None
    grams: dict[str, frozenset[str]] = {}
    distance = (lambda s: abs(s - near)) if near is not None else (lambda s: 0)

    def score(start: int) -> float:
        return sum(_similar(keys[start + j], wanted_keys[j], grams) for j in range(width)) / width

    best_starts = sorted(starts, key=lambda s: (-score(s), distance(s)))[:3]
    best: Region | None = None
    for start in best_starts:
        for size in (width, width - 1, width + 1):
            if size < 1 or start + size > len(lines):
                continue
            region = Region(start, start + size, similarity(lines[start : start + size], wanted))
            if best is None or (region.similarity, -distance(start)) > (
                best.similarity,
                -distance(best.start),
            ):
                best = region
    return best if best is not None and best.similarity >= MIN_SIMILARITY else None


def similarity(a: list[str], b: list[str]) -> float:
    """Character-level likeness of two runs of lines, 0..1: lines are aligned first (cheap), then the
    lines that differ are compared pairwise, character by character (on bigrams when very long)."""
    total = sum(len(line) + 1 for line in a) + sum(len(line) + 1 for line in b)
    if not total:
        return 1.0
    matched = 0.0
    for tag, a0, a1, b0, b1 in difflib.SequenceMatcher(None, a, b, False).get_opcodes():
        if tag == "equal":
            matched += 2 * sum(len(line) + 1 for line in a[a0:a1])
        elif tag == "replace":
            for x, y in zip(a[a0:a1], b[b0:b1], strict=False):
                if len(x) + len(y) <= EXACT_COMPARE_CHARS:
                    blocks = difflib.SequenceMatcher(None, x, y, False).get_matching_blocks()
                    matched += 2 * (sum(block.size for block in blocks) + 1)
                else:
                    matched += _similar(_key(x), _key(y), {}) * (len(x) + len(y) + 2)
    return min(matched / total, 1.0)


def mismatch_report(wanted: list[str], found: list[str], wanted_label: str, found_label: str) -> str:
    """A diff from what the model quoted (-) to what the file has (+), with the whitespace-only
    differences spelled out, since they are invisible in a diff."""
    diff = list(
        difflib.unified_diff(
            wanted, found, wanted_label, found_label, n=len(wanted) + len(found), lineterm=""
        )
    )
    body = [clip(line) for line in diff if not line.startswith("@@")]
    if len(body) > DIFF_LINES:
        body = [*body[:DIFF_LINES], f"[... {len(body) - DIFF_LINES} more diff lines ...]"]
    notes = whitespace_notes(wanted, found)
    return "\n".join(body + notes)


def whitespace_notes(wanted: list[str], found: list[str], limit: int = 5) -> list[str]:
    """For quoted lines that differ from the file's only in whitespace: what differs, line by line."""
    notes: list[str] = []
    matcher = difflib.SequenceMatcher(
        None, [_key(line) for line in wanted], [_key(line) for line in found], False
    )
    for tag, a0, a1, b0, _ in matcher.get_opcodes():
        if tag != "equal":
            continue
        for offset in range(a1 - a0):
            ours, theirs = wanted[a0 + offset], found[b0 + offset]
            if ours != theirs:
                notes.append(f"  quoted line {a0 + offset + 1}: {_whitespace_difference(ours, theirs)}")
    if not notes:
        return []
    more = [f"  [... {len(notes) - limit} more]"] if len(notes) > limit else []
    return ["Whitespace differences (not visible above):", *notes[:limit], *more]


def _whitespace_difference(ours: str, theirs: str) -> str:
    ours_lead, theirs_lead = leading_whitespace(ours), leading_whitespace(theirs)
    parts: list[str] = []
    if ours_lead != theirs_lead:
        theirs_text, ours_text = describe_whitespace(theirs_lead), describe_whitespace(ours_lead)
        parts.append(f"indented with {theirs_text} in the file, {ours_text} in yours")
    ours_trail, theirs_trail = ours[len(ours.rstrip()) :], theirs[len(theirs.rstrip()) :]
    if ours_trail != theirs_trail:
        parts.append(f"trailing whitespace {theirs_trail!r} in the file, {ours_trail!r} in yours")
    if ours.strip() != theirs.strip():
        parts.append(f"spacing inside the line differs: the file has {theirs.strip()!r}")
    return "; ".join(parts)


def leading_whitespace(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def describe_whitespace(ws: str) -> str:
    if not ws:
        return "nothing"
    counts = Counter(ws)
    if set(counts) == {" "}:
        return plural(len(ws), "space")
    if set(counts) == {"\t"}:
        return plural(len(ws), "tab")
    return repr(ws)


def _key(line: str) -> str:
    return " ".join(line.split())


def _bigrams(key: str, cache: dict[str, frozenset[str]]) -> frozenset[str]:
    grams = cache.get(key)
    if grams is None:
        padded = f" {key} "
        grams = frozenset(map(operator.add, padded, padded[1:]))
        cache[key] = grams
    return grams


def _similar(a: str, b: str, cache: dict[str, frozenset[str]]) -> float:
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    x, y = _bigrams(a, cache), _bigrams(b, cache)
    return 2 * len(x & y) / (len(x) + len(y))


def _anchored_starts(keys: list[str], wanted_keys: list[str], last: int, near: int | None) -> list[int]:
    """Window starts where some quoted line sits exactly (ignoring whitespace) where it would be; when
    no quoted line is in the file as such, where their longest words are."""
    where: dict[str, list[int]] = {}
    for j, key in enumerate(wanted_keys):
        if key:
            where.setdefault(key, []).append(j)
    votes: Counter[int] = Counter()
    for i, key in enumerate(keys):
        for j in where.get(key, ()):
            if 0 <= i - j <= last:
                votes[i - j] += 1
    if not votes:  # no quoted line is in the file as such: anchor on its rarest words instead
        text = "\n".join(keys)
        words = {word: j for j, key in enumerate(wanted_keys) for word in re.findall(r"\w{4,}", key)}
        longest = sorted(words, key=lambda word: (-len(word), word))[: ANCHOR_WORDS * 6]
        counts = {word: text.count(word) for word in longest}
        rarest = sorted((word for word in longest if counts[word]), key=lambda word: (counts[word], word))
        for i, key in enumerate(keys):
            for word in rarest[:ANCHOR_WORDS]:
                if word in key and 0 <= i - words[word] <= last:
                    votes[i - words[word]] += 1
    starts = [start for start, _ in votes.most_common(TOP_WINDOWS)]
    if near is not None:
        starts.extend(s for s in range(near - 3, near + 4) if 0 <= s <= last)
    return starts
