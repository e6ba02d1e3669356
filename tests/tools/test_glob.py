"""`glob` and `ls` on real directories, and the glob-pattern matching they and `grep` share."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import make_workspace
from trident.sandbox.local import LocalSandbox
from trident.tools.base import ToolContext, ToolOutput
from trident.tools.glob import GlobTool, glob_regex, matches_filter, path_key
from trident.tools.ls import LsTool, human_size

FILES = {
    "setup.py": "x" * 10,
    "README.md": "y" * 2048,
    "src/app.py": "a" * 100,
    "src/app_test.py": "b",
    "src/pkg/__init__.py": "",
    "src/pkg/core.py": "c" * 3000,
    "src/pkg/deep/more.pyi": "d" * 5,
    "src/web/index.ts": "e" * 7,
    "tests/test_app.py": "f" * 20,
    ".github/ci.yml": "g",
    "node_modules/lib/x.py": "skipped",
    ".venv/lib/y.py": "skipped",
}


@pytest.fixture
async def box(tmp_path: Path) -> AsyncIterator[LocalSandbox]:
    root = make_workspace(tmp_path / "ws", FILES)
    (root / "empty").mkdir()
    sandbox = LocalSandbox(root)
    yield sandbox
    await sandbox.close()


async def run_glob(box: LocalSandbox, *protected: str, **arguments: Any) -> ToolOutput:
    return await GlobTool().invoke(arguments, ToolContext(sandbox=box, protected_paths=protected))


async def run_ls(box: LocalSandbox, **arguments: Any) -> ToolOutput:
    return await LsTool().invoke(arguments, ToolContext(sandbox=box))


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("*.py", "a.py", True),
        ("*.py", "src/a.py", False),  # `*` stays within one directory
        ("**/*.py", "a.py", True),  # `**/` may be no directory at all
        ("**/*.py", "src/pkg/a.py", True),
        ("src/**/*.py", "src/a.py", True),
        ("src/**/*.py", "src/x/y/a.py", True),
        ("src/**/*.py", "lib/src/a.py", False),
        ("src/**", "src/x/y", True),
        ("src/*", "src/x/y", False),
        ("a?c", "abc", True),
        ("a?c", "a/c", False),
        ("[ab]x", "bx", True),
        ("[!ab]x", "cx", True),
        ("[!ab]x", "ax", False),
        ("[a-c]1", "b1", True),
        ("*.{ts,tsx}", "x.tsx", True),
        ("*.{ts,tsx}", "x.js", False),
        ("{src,lib}/**/{a,b}.py", "lib/q/b.py", True),
        ("a**b", "axyb", True),  # `**` inside a segment is a plain `*`
        ("a**b", "ax/yb", False),
        (r"\*.py", "*.py", True),
        (r"\*.py", "x.py", False),
        ("a+b(c).py", "a+b(c).py", True),  # regex characters are literal
        ("[oops", "[oops", True),  # an unclosed class is literal
    ],
)
def test_glob_patterns(pattern: str, path: str, expected: bool) -> None:
    assert (glob_regex(pattern).fullmatch(path) is not None) is expected


def test_the_grep_filter_matches_names_anywhere_and_paths_from_the_root() -> None:
    assert matches_filter("src/pkg/core.py", "*.py")
    assert matches_filter("src/pkg/core.py", "core.py")
    assert not matches_filter("src/pkg/core.py", "pkg/*.py")  # with a `/`: the whole path, from the root
    assert matches_filter("src/pkg/core.py", "src/pkg/*.py")
    assert matches_filter("src/pkg/core.py", "/src/**/core.py")


def test_paths_sort_as_a_tree_walk() -> None:
    paths = ["a.py", "a/b.py", "B.py", "a-b.py", "a/c/d.py", "a/a.py"]
    # by name at each level, as ripgrep's --sort=path: the directory `a` before the file `a.py`
    assert sorted(paths, key=path_key) == ["B.py", "a/a.py", "a/b.py", "a/c/d.py", "a-b.py", "a.py"]


async def test_glob_finds_sorted_paths_relative_to_the_root(box: LocalSandbox) -> None:
    result = await run_glob(box, pattern="src/**/*.py")
    assert result.ok
    assert result.output.splitlines() == [
        "src/app.py",
        "src/app_test.py",
        "src/pkg/__init__.py",
        "src/pkg/core.py",
    ]
    everywhere = await run_glob(box, pattern="**/*.py")
    assert "node_modules/lib/x.py" not in everywhere.output and ".venv/lib/y.py" not in everywhere.output
    assert everywhere.output.splitlines()[-1] == "tests/test_app.py"
    hidden = await run_glob(box, pattern="**/*.yml")
    assert hidden.output == ".github/ci.yml"


async def test_glob_pattern_is_relative_to_path(box: LocalSandbox) -> None:
    top = await run_glob(box, pattern="*.py", path="src")
    assert top.output.splitlines() == ["src/app.py", "src/app_test.py"]
    deep = await run_glob(box, pattern="**/*.py*", path="src/pkg")
    assert deep.output.splitlines() == ["src/pkg/__init__.py", "src/pkg/core.py", "src/pkg/deep/more.pyi"]


async def test_glob_caps_and_counts(box: LocalSandbox) -> None:
    result = await run_glob(box, pattern="**/*.py", max_results=2)
    lines = result.output.splitlines()
    assert lines[:2] == ["setup.py", "src/app.py"]
    assert (
        lines[2] == "[4 more of 6 matching files left out; narrow the pattern or path, or raise max_results]"
    )


async def test_glob_without_matches_explains_a_name_pattern(box: LocalSandbox) -> None:
    result = await run_glob(box, pattern="*.ts")
    assert result.ok
    assert result.output == (
        "No files match `*.ts` in the workspace (10 files); `*.ts` matches only directly in the "
        "workspace, `**/*.ts` at any depth"
    )


async def test_glob_leaves_out_protected_files_and_refuses_bad_paths(box: LocalSandbox) -> None:
    result = await run_glob(box, "src/pkg", pattern="**/*.py")
    assert "src/pkg" not in result.output and "src/app.py" in result.output
    outside = await run_glob(box, pattern="*", path="..")
    assert not outside.ok and "outside the workspace" in outside.output
    missing = await run_glob(box, pattern="*", path="nope")
    assert not missing.ok and "does not exist" in missing.output


def test_human_sizes() -> None:
    assert [human_size(n) for n in (0, 1023, 1024, 1536, 5 * 1024 * 1024)] == [
        "0 B",
        "1023 B",
        "1.0 KB",
        "1.5 KB",
        "5.0 MB",
    ]


async def test_ls_lists_directories_first_with_counts_then_files_with_sizes(box: LocalSandbox) -> None:
    result = await run_ls(box)
    assert result.ok
    assert result.output.splitlines() == [
        ".  (3 directories, 2 files; 10 files in all, 5.1 KB)",
        ".github/  (1 file, 1 B)",
        "src/  (6 files, 3.0 KB)",
        "tests/  (1 file, 20 B)",
        "README.md  2.0 KB",
        "setup.py  10 B",
    ]


async def test_ls_depth_expands_subdirectories(box: LocalSandbox) -> None:
    result = await run_ls(box, path="src", depth=2)
    assert result.output.splitlines() == [
        "src/  (2 directories, 2 files; 6 files in all, 3.0 KB)",
        "pkg/  (3 files, 2.9 KB)",
        "  deep/  (1 file, 5 B)",
        "  __init__.py  0 B",
        "  core.py  2.9 KB",
        "web/  (1 file, 7 B)",
        "  index.ts  7 B",
        "app.py  100 B",
        "app_test.py  1 B",
    ]


async def test_ls_caps_entries(box: LocalSandbox) -> None:
    result = await run_ls(box, path="src", depth=3, max_entries=3)
    lines = result.output.splitlines()
    assert lines[1:4] == ["pkg/  (3 files, 2.9 KB)", "  deep/  (1 file, 5 B)", "    more.pyi  5 B"]
    assert lines[4] == "[6 more entries left out; list a subdirectory, lower depth or raise max_entries]"


async def test_ls_of_a_file_an_empty_directory_and_a_missing_path(box: LocalSandbox) -> None:
    assert (await run_ls(box, path="src/app.py")).output == "src/app.py  100 B (a file)"
    empty = await run_ls(box, path="empty")
    assert empty.ok and empty.output.startswith("empty/ has no files")
    missing = await run_ls(box, path="nope")
    assert not missing.ok and "does not exist" in missing.output


async def test_a_fifo_named_as_the_path_is_refused_without_being_opened(box: LocalSandbox) -> None:
    os.mkfifo(Path(box.workspace) / "pipe")
    result = await asyncio.wait_for(run_ls(box, path="pipe"), 20)
    assert not result.ok and "not a regular file" in result.output
