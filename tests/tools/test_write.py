"""`write` on real files: create vs overwrite, no echo, CRLF kept, atomic, refusals, syntax checks."""

from __future__ import annotations

import os
from pathlib import Path

from tests.helpers import make_workspace, tool_context
from trident.tools.base import ToolOutput
from trident.tools.paths import MAX_WHOLE_BYTES
from trident.tools.write import WriteTool


async def write(root: Path, *protected: str, **arguments: object) -> ToolOutput:
    ctx = tool_context(root, *protected)
    return await WriteTool().invoke(dict(arguments), ctx)


async def test_a_new_file_is_created_with_its_parents(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws", {})
    content = "def marker_function_xyz():\n    return 42\n"
    result = await write(root, path="pkg/sub/new.py", content=content)
    assert result.ok and result.output == "Created pkg/sub/new.py (2 lines)."
    assert (root / "pkg" / "sub" / "new.py").read_text() == content
    assert oct((root / "pkg" / "sub" / "new.py").stat().st_mode & 0o777) == "0o644"


async def test_an_overwrite_reports_old_and_new_sizes_and_never_the_content(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws", {"a.py": "x = 1\ny = 2\nz = 3\n"})
    (root / "a.py").chmod(0o755)
    result = await write(root, path="a.py", content="secret_marker = 'visible only on disk'\n")
    assert result.ok and result.output == "Overwrote a.py (1 line; it had 3 lines)."
    assert "secret_marker" not in result.output
    assert (root / "a.py").read_text() == "secret_marker = 'visible only on disk'\n"
    assert (root / "a.py").stat().st_mode & 0o777 == 0o755  # the mode survives the atomic replace
    assert sorted(p.name for p in root.iterdir()) == ["a.py"]  # no temp file left behind


async def test_the_same_content_is_not_rewritten(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws", {"a.txt": "same\n"})
    before = (root / "a.txt").stat().st_mtime_ns
    result = await write(root, path="a.txt", content="same\n")
    assert result.ok and result.output == "a.txt already has this content (1 line); unchanged"
    assert (root / "a.txt").stat().st_mtime_ns == before


async def test_crlf_files_keep_their_line_endings(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws", {})
    (root / "w.bat").write_bytes(b"@echo off\r\necho hi\r\n")
    result = await write(root, path="w.bat", content="@echo off\necho bye\n")
    assert result.ok and "CRLF line endings kept" in result.output
    assert (root / "w.bat").read_bytes() == b"@echo off\r\necho bye\r\n"
    lf = await write(root, path="new.txt", content="a\nb\n")
    assert lf.ok and (root / "new.txt").read_bytes() == b"a\nb\n"


async def test_binary_and_oversized_files_are_overwritten_without_being_loaded(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws", {})
    (root / "blob.bin").write_bytes(b"\x00\x01\x02")
    (root / "huge.log").write_bytes(b"x" * (MAX_WHOLE_BYTES + 1))
    binary = await write(root, path="blob.bin", content="text now\n")
    assert binary.ok and binary.output == "Overwrote blob.bin (1 line; it had 3 bytes)."
    huge = await write(root, path="huge.log", content="short\n")
    assert huge.ok and huge.output == f"Overwrote huge.log (1 line; it had {MAX_WHOLE_BYTES + 1:,} bytes)."
    assert (root / "huge.log").read_text() == "short\n"


async def test_directories_and_fifos_are_not_files(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws", {"pkg/a.py": "x = 1\n"})
    result = await write(root, path="pkg", content="x")
    assert not result.ok and "is a directory" in result.output
    assert (root / "pkg" / "a.py").read_text() == "x = 1\n"
    os.mkfifo(root / "pipe")
    fifo = await write(root, path="pipe", content="x")
    assert not fifo.ok and "not a regular file" in fifo.output


async def test_escapes_are_refused_and_nothing_lands_outside(tmp_path: Path) -> None:
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "target.txt").write_text("original\n")
    root = make_workspace(tmp_path / "ws", {})
    (root / "out").symlink_to(tmp_path / "outside")
    (root / "t.txt").symlink_to(tmp_path / "outside" / "target.txt")
    for path in ("../evil.txt", str(tmp_path / "evil.txt"), "out/evil.txt", "t.txt", "a/../../evil.txt"):
        result = await write(root, path=path, content="pwned\n")
        assert not result.ok and "outside the workspace" in result.output, path
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "outside" / "evil.txt").exists()
    assert (tmp_path / "outside" / "target.txt").read_text() == "original\n"


async def test_protected_paths_are_not_written(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws", {".env": "TOKEN=1\n"})
    for path in (".env", "deploy/.env", "certs/server.pem", str(root / ".env")):
        result = await write(root, ".env", "*.pem", path=path, content="x\n")
        assert not result.ok and "is protected" in result.output, path
    assert (root / ".env").read_text() == "TOKEN=1\n"
    assert not (root / "deploy").exists() and not (root / "certs").exists()


async def test_syntax_errors_are_reported_only_when_new(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws", {"broken.ts": "let x: = 1;\n"})
    created = await write(root, path="app.rs", content="fn main() {\n    let x = ;\n}\n")
    assert created.ok and "app.rs:2:11 unexpected `=`" in created.output
    kept = await write(root, path="broken.ts", content="const y = 2;\nlet x: = 1;\n")
    assert kept.ok and "syntax error" not in kept.output
    worse = await write(root, path="broken.ts", content="let x: = 1;\nfunction (\n")
    assert worse.ok and "introduced" in worse.output and "broken.ts:2:" in worse.output
