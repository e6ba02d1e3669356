"""Path normalization, protected-path globs, and existence checks through a real local sandbox."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.helpers import make_workspace
from trident.sandbox.base import PathRefused
from trident.sandbox.local import LocalSandbox
from trident.tools.base import ToolContext, ToolError
from trident.tools.paths import (
    Probe,
    check_readable,
    check_writable,
    probe,
    protecting_pattern,
    read_existing,
    workspace_relative,
)

WS = "/work/ws"


@pytest.mark.parametrize(
    ("path", "relative"),
    [
        ("src/app.py", "src/app.py"),
        ("./src//app.py", "src/app.py"),
        ("src/../secrets/key", "secrets/key"),
        ("/work/ws/src/app.py", "src/app.py"),
        ("/work/ws/./a/../b", "b"),
        ("/work/wsx/app.py", None),  # a sibling directory sharing the prefix
        ("/etc/passwd", None),
        ("../outside.txt", None),
        ("a/../../outside.txt", None),
        (".", None),
        ("/work/ws", None),
    ],
)
def test_paths_are_normalized_relative_to_the_workspace(path: str, relative: str | None) -> None:
    assert workspace_relative(path, WS) == relative


@pytest.mark.parametrize(
    ("pattern", "protected", "free"),
    [
        (".env", [".env", "app/.env"], [".envrc", "env", "app/x.env"]),
        ("*.pem", ["key.pem", "certs/deep/key.pem"], ["key.pem.txt", "pem"]),
        ("secrets/**", ["secrets/a", "secrets/d/e/f.txt"], ["app/secrets/a", "secrets.txt", "mysecrets/a"]),
        ("secrets", ["secrets/a", "app/secrets/b"], ["secrets.txt"]),
        ("config/*.yml", ["config/db.yml"], ["config/sub/db.yml", "other/config/db.yml"]),
        ("/build", ["build/out.o"], ["src/build/out.o"]),
        ("**/id_rsa", ["id_rsa", "home/u/.ssh/id_rsa"], ["id_rsa.pub"]),
        ("docs/**/private.md", ["docs/private.md", "docs/a/b/private.md"], ["private.md"]),
        ("key[0-9].txt", ["key1.txt", "a/key7.txt"], ["keyA.txt", "key10.txt"]),
        ("key[!0-9].txt", ["keyA.txt"], ["key1.txt"]),
        ("f?le", ["file", "fale"], ["fiile", "f/le"]),
        ("a+b(1).txt", ["a+b(1).txt"], ["aab1.txt"]),
    ],
)
def test_gitignore_style_globs(pattern: str, protected: list[str], free: list[str]) -> None:
    for path in protected:
        assert protecting_pattern(path, [pattern]) == pattern, path
    for path in free:
        assert protecting_pattern(path, [pattern]) is None, path


def test_the_first_matching_pattern_is_named() -> None:
    assert protecting_pattern("certs/x.pem", ["*.key", "certs/**", "*.pem"]) == "certs/**"
    assert protecting_pattern("src/app.py", ["*.key", "certs/**"]) is None


SANDBOXES: list[ToolContext] = []


@pytest.fixture(autouse=True)
async def close_sandboxes() -> AsyncIterator[None]:
    yield
    while SANDBOXES:
        await SANDBOXES.pop().sandbox.close()


def context(root: Path, *protected: str) -> ToolContext:
    return ToolContext(sandbox=LocalSandbox(root), protected_paths=protected)


def test_checks_refuse_protected_paths_however_they_are_spelled(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws", {"app.py": "x = 1\n"})
    ctx = context(root, ".env", "secrets/**")
    for spelling in (".env", "./.env", "src/../.env", str(root / ".env"), "secrets/db/password"):
        with pytest.raises(ToolError) as refused:
            check_writable(spelling, ctx)
        assert "is protected" in str(refused.value) and "protected_paths" in str(refused.value)
    with pytest.raises(ToolError, match=r"matches `\.env`.*cannot be read"):
        check_readable("config/.env", ctx)
    assert check_writable("./src/../app.py", ctx) == "app.py"
    assert check_readable(str(root / "app.py"), ctx) == "app.py"
    assert check_writable("../elsewhere.py", ctx) == "../elsewhere.py"  # left for the sandbox to refuse
    with pytest.raises(ToolError, match="path is empty"):
        check_readable("  ", ctx)


async def test_read_existing_tells_missing_from_refused(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws", {"a.txt": "hello\n", "dir/b.txt": "b\n"})
    ctx = context(root)
    SANDBOXES.append(ctx)
    assert await read_existing(ctx, "a.txt") == b"hello\n"
    assert await read_existing(ctx, "missing.txt") is None
    with pytest.raises(PathRefused, match="is a directory"):
        await read_existing(ctx, "dir")
    with pytest.raises(PathRefused, match="outside the workspace"):
        await read_existing(ctx, "../x.txt")


async def test_probe_tells_files_directories_and_specials_apart_without_opening_them(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws", {"a.txt": "hello\n", "dir/b.txt": "b\n"})
    os.mkfifo(root / "pipe")
    (root / "dangling").symlink_to(root / "nowhere")
    ctx = context(root)
    SANDBOXES.append(ctx)
    started = time.perf_counter()
    assert await probe(ctx, "a.txt") == Probe("file", 6)
    assert await probe(ctx, "dir") == Probe("directory")
    assert await probe(ctx, "pipe") == Probe("other")  # a reader would block here for ever
    assert await probe(ctx, "missing.txt") == Probe("missing")
    assert await probe(ctx, "dangling") == Probe("missing")
    assert await probe(ctx, "it's; rm -rf x") == Probe("missing")  # quoted, not run
    assert time.perf_counter() - started < 5
    with pytest.raises(ToolError, match="not a regular file"):
        await read_existing(ctx, "pipe")


async def test_read_existing_refuses_large_files_but_tells_nothing_of_outside_ones(tmp_path: Path) -> None:
    (tmp_path / "outside.log").write_text("x" * 100)
    root = make_workspace(tmp_path / "ws", {"inside.log": "y" * 100})
    (root / "link.log").symlink_to(tmp_path / "outside.log")
    ctx = context(root)
    SANDBOXES.append(ctx)
    with pytest.raises(ToolError, match=r"inside\.log is 100 bytes, too large to load whole"):
        await read_existing(ctx, "inside.log", max_bytes=50)
    for path in ("link.log", "../outside.log"):
        with pytest.raises(PathRefused, match="outside the workspace"):
            await read_existing(ctx, path, max_bytes=50)
