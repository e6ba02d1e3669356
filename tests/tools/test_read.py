"""`read` on real files: numbering, ranges, caps with notes, binary refusal, huge files, escapes."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.helpers import make_workspace, tool_context
from trident.tools.base import ToolOutput
from trident.tools.read import (
    MAX_LINE_CHARS,
    MAX_LINES,
    MAX_OUTPUT_CHARS,
    WHOLE_FILE_BYTES,
    WINDOW_BYTES,
    ReadTool,
)


async def read(root: Path, *protected: str, **arguments: object) -> ToolOutput:
    ctx = tool_context(root, *protected)
    return await ReadTool().invoke(dict(arguments), ctx)


def numbered(output: str) -> list[tuple[int, str]]:
    rows = [line.split("\t", 1) for line in output.splitlines() if not line.startswith("[")]
    return [(int(number), text) for number, text in rows]


async def test_a_small_file_is_shown_whole_with_numbers_and_no_note(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws", {"a.py": "import os\n\ndef f():\n    return 1\n"})
    result = await read(root, path="a.py")
    assert result.ok
    assert numbered(result.output) == [(1, "import os"), (2, ""), (3, "def f():"), (4, "    return 1")]
    assert "[" not in result.output


async def test_a_range_says_what_was_left_out_in_lines_and_bytes(tmp_path: Path) -> None:
    text = "".join(f"line {i}\n" for i in range(1, 101))  # "line 1\n" .. "line 100\n"
    root = make_workspace(tmp_path / "ws", {"t.txt": text})
    result = await read(root, path="t.txt", offset=11, limit=5)
    assert numbered(result.output) == [(n, f"line {n}") for n in range(11, 16)]
    before = len("".join(f"line {i}\n" for i in range(1, 11)))
    after = len("".join(f"line {i}\n" for i in range(16, 101)))
    assert f"[showing lines 11-15 of 100; not shown: 10 lines ({before} bytes) before, " in result.output
    assert f"85 lines ({after} bytes) after]" in result.output
    assert "[continue with offset=16]" in result.output


async def test_the_default_limit_pages_a_long_file(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws", {"t.txt": "x\n" * 1000})
    result = await read(root, path="t.txt")
    rows = numbered(result.output)
    assert len(rows) == MAX_LINES and rows[-1][0] == MAX_LINES
    assert f"[continue with offset={MAX_LINES + 1}]" in result.output
    tail = await read(root, path="t.txt", offset=901)
    assert [n for n, _ in numbered(tail.output)] == list(range(901, 1001))
    assert "continue with" not in tail.output and "900 lines (1,800 bytes) before" in tail.output


async def test_offset_past_the_end_and_empty_files(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws", {"t.txt": "a\nb\n", "empty.txt": ""})
    past = await read(root, path="t.txt", offset=3)
    assert not past.ok and "has 2 lines; offset 3 is past the end" in past.output
    empty = await read(root, path="empty.txt")
    assert empty.ok and empty.output == "empty.txt is empty (0 bytes)"


async def test_long_lines_are_cut_and_counted(tmp_path: Path) -> None:
    long_line = "é" * (MAX_LINE_CHARS + 100)  # two bytes per character
    root = make_workspace(tmp_path / "ws", {"t.txt": f"short\n{long_line}\nend"})
    result = await read(root, path="t.txt")
    rows = numbered(result.output)
    assert rows[0] == (1, "short") and rows[2] == (3, "end")
    assert rows[1][1] == "é" * MAX_LINE_CHARS + " [... 200 more bytes on this line]"
    assert "[1 line longer than 500 characters cut short]" in result.output


async def test_output_is_capped_in_characters_even_within_the_line_limit(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws", {"t.txt": ("y" * 400 + "\n") * 2000})
    result = await read(root, path="t.txt", limit=2000)
    rows = numbered(result.output)
    assert len(result.output) < MAX_OUTPUT_CHARS + 500
    assert 90 < len(rows) < 110
    last = rows[-1][0]
    assert f"[stopped after line {last}: output is capped at 40,000 characters]" in result.output
    assert f"[continue with offset={last + 1}]" in result.output


async def test_crlf_lines_are_shown_without_carriage_returns(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "w.txt").write_bytes(b"one\r\ntwo\r\nthree")
    result = await read(root, path="w.txt")
    assert numbered(result.output) == [(1, "one"), (2, "two"), (3, "three")]
    assert "\r" not in result.output


async def test_binary_and_undecodable_files_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "img.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    (root / "latin1.txt").write_bytes("caf\xe9 cr\xe8me\n".encode("latin-1"))
    (root / "late.txt").write_bytes((b"x" * 99 + b"\n") * 5000 + b"bad \x00 byte\n")
    png = await read(root, path="img.png")
    assert not png.ok and "img.png is a binary file (1,040 bytes, contains NUL bytes)" in png.output
    latin = await read(root, path="latin1.txt")
    assert not latin.ok and "latin1.txt is not UTF-8 text" in latin.output and "byte 3" in latin.output
    near = await read(root, path="late.txt", offset=4990)  # the NUL is in the first 8 KB read
    assert not near.ok and "late.txt is a binary file" in near.output
    early = await read(root, path="late.txt", limit=3)
    assert early.ok and len(numbered(early.output)) == 3  # the NUL is 500 KB in: not reached
    farther = await read(root, path="late.txt", offset=4900, limit=200)  # 10 KB in: found line by line
    assert not farther.ok and "NUL bytes on line 5001" in farther.output


async def test_a_50_megabyte_file_reads_capped_and_fast(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    line = "{:08d} " + "lorem ipsum dolor sit amet " * 3 + "\n"
    width = len(line.format(1))
    count = 50 * 1024 * 1024 // width
    with (root / "big.log").open("w", encoding="utf-8") as handle:
        for start in range(0, count, 10_000):
            handle.write("".join(line.format(i + 1) for i in range(start, min(start + 10_000, count))))
    size = (root / "big.log").stat().st_size
    assert size == count * width >= 50 * 1024 * 1024 - width

    started = time.perf_counter()
    head = await read(root, path="big.log")
    first_took = time.perf_counter() - started
    started = time.perf_counter()
    deep = await read(root, path="big.log", offset=count - 10, limit=50)
    deep_took = time.perf_counter() - started

    assert head.ok and len(head.output) < 45_000
    assert numbered(head.output)[-1] == (MAX_LINES, line.format(MAX_LINES).rstrip("\n"))
    left = f"{count - MAX_LINES:,} lines ({size - MAX_LINES * width:,} bytes) after"
    assert f"[showing lines 1-{MAX_LINES} of {count:,}; not shown: {left}]" in head.output
    assert [n for n, _ in numbered(deep.output)] == list(range(count - 10, count + 1))
    assert numbered(deep.output)[-1][1].startswith(f"{count:08d} ")
    assert first_took < 3 and deep_took < 3, (first_took, deep_took)


async def test_a_huge_single_line_is_cut_not_decoded_whole(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "min.js").write_bytes(b"var a=1;" * 1_500_000)  # 12 MB, no newline
    started = time.perf_counter()
    result = await read(root, path="min.js")
    took = time.perf_counter() - started
    assert result.ok and len(result.output) < 1000 and took < 3
    assert f"[... {12_000_000 - MAX_LINE_CHARS:,} more bytes on this line]" in result.output
    assert WHOLE_FILE_BYTES < 12_000_000  # so this went through the shell window


async def test_a_long_line_past_the_window_stops_the_page(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    giant = b"z" * (WINDOW_BYTES * 2)
    (root / "mixed.txt").write_bytes(b"a\n" * (WHOLE_FILE_BYTES // 2) + b"b\n" + giant + b"\nc\n")
    lines = WHOLE_FILE_BYTES // 2 + 3
    before = await read(root, path="mixed.txt", offset=lines - 3, limit=10)
    assert numbered(before.output) == [(lines - 3, "a"), (lines - 2, "b")]
    assert f"[stopped after line {lines - 2}: the next line is longer than the read window]" in before.output
    assert f"[continue with offset={lines - 1}]" in before.output
    assert f"2 lines ({len(giant) + 3:,} bytes) after" in before.output
    alone = await read(root, path="mixed.txt", offset=lines - 1)
    first = numbered(alone.output)[0]
    assert first == (
        lines - 1,
        "z" * MAX_LINE_CHARS + f" [... {WINDOW_BYTES - MAX_LINE_CHARS:,}+ more bytes on this line]",
    )
    assert f"[continue with offset={lines}]" in alone.output
    last = await read(root, path="mixed.txt", offset=lines)
    assert numbered(last.output) == [(lines, "c")]


async def test_escapes_are_refused_without_leaking_content(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("top secret\n")
    root = make_workspace(tmp_path / "ws", {"a.txt": "fine\n"})
    (root / "link.txt").symlink_to(tmp_path / "secret.txt")
    (root / "linkdir").symlink_to(tmp_path)
    for path in ("../secret.txt", str(tmp_path / "secret.txt"), "link.txt", "linkdir/secret.txt"):
        result = await read(root, path=path)
        assert not result.ok and "outside the workspace" in result.output, path
        assert "top secret" not in result.output


async def test_an_inside_symlink_is_followed(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws", {"real/a.txt": "inside\n"})
    (root / "alias.txt").symlink_to(root / "real" / "a.txt")
    result = await read(root, path="alias.txt")
    assert result.ok and numbered(result.output) == [(1, "inside")]


async def test_protected_missing_and_directory_paths(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws", {".env": "TOKEN=abc\n", "certs/k.pem": "KEY\n", "d/x.txt": "x\n"})
    env = await read(root, ".env", "*.pem", path="./.env")
    assert not env.ok and "matches `.env`" in env.output and "TOKEN" not in env.output
    pem = await read(root, ".env", "*.pem", path="certs/k.pem")
    assert not pem.ok and "matches `*.pem`" in pem.output
    missing = await read(root, path="nope.txt")
    assert not missing.ok and "does not exist" in missing.output
    directory = await read(root, path="d")
    assert not directory.ok and "is a directory" in directory.output
    os.mkfifo(root / "pipe")
    fifo = await read(root, path="pipe")  # would block for ever if it were opened
    assert not fifo.ok and "pipe is not a regular file" in fifo.output
