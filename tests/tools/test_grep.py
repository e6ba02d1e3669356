"""`grep` on real files, through both engines: ripgrep in the sandbox (when installed) and Python.

Every behaviour test runs on both engines with the same expected text; a last group checks that the
two give identical results on larger searches, including ripgrep output too long for one exec.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import make_workspace
from trident.sandbox.local import LocalSandbox
from trident.tools.base import ToolContext, ToolOutput
from trident.tools.grep import MAX_FILE_BYTES, MAX_OUTPUT_CHARS, GrepArgs, GrepTool, search_ripgrep

HAS_RG = shutil.which("rg") is not None
NO_RG = "ripgrep (rg) is not installed here: only the Python engine is tested"
ENGINES = [
    pytest.param(False, id="python"),
    pytest.param(True, id="ripgrep", marks=pytest.mark.skipif(not HAS_RG, reason=NO_RG)),
]

APP = """import os

def load_config(path):
    return open(path).read()

def save_config(path, data):
    # TODO: atomic write
    open(path, "w").write(data)
"""
UTIL = """def helper():
    return load_config("x")
"""
FILES = {
    "src/app.py": APP,
    "src/util.py": UTIL,
    "README.md": "Call load_config() first.\n",
    ".hidden/settings.py": "load_config = None\n",
    "node_modules/pkg/index.js": "load_config();\n",
    "notes.txt": "nothing here\r\nload_config\r\n",
}


@pytest.fixture
async def box(tmp_path: Path) -> AsyncIterator[LocalSandbox]:
    root = make_workspace(tmp_path / "ws", FILES)
    (root / "data.bin").write_bytes(b"load_config\x00\x01\x02 binary")
    (root / "huge.txt").write_text("load_config\n" + "x" * MAX_FILE_BYTES, encoding="utf-8")
    sandbox = LocalSandbox(root)
    yield sandbox
    await sandbox.close()


async def grep(box: LocalSandbox, ripgrep: bool, *protected: str, **arguments: Any) -> ToolOutput:
    ctx = ToolContext(sandbox=box, protected_paths=protected, command_timeout_s=60)
    return await GrepTool(ripgrep=ripgrep).invoke(arguments, ctx)


@pytest.mark.parametrize("ripgrep", ENGINES)
async def test_matches_come_as_path_line_text_in_path_order(box: LocalSandbox, ripgrep: bool) -> None:
    result = await grep(box, ripgrep, pattern="load_config")
    assert result.ok
    # hidden files are searched; node_modules, binary and >1 MiB files are not; CR is not shown
    assert result.output == "\n".join(
        [
            ".hidden/settings.py:1: load_config = None",
            "README.md:1: Call load_config() first.",
            "notes.txt:2: load_config",
            "src/app.py:3: def load_config(path):",
            'src/util.py:2:     return load_config("x")',
        ]
    )


@pytest.mark.parametrize("ripgrep", ENGINES)
async def test_context_lines_are_marked_and_groups_separated(box: LocalSandbox, ripgrep: bool) -> None:
    result = await grep(box, ripgrep, pattern="def load|TODO|helper", path="src", context=1)
    assert result.output == "\n".join(
        [
            "src/app.py-2- ",
            "src/app.py:3: def load_config(path):",
            "src/app.py-4-     return open(path).read()",
            "--",
            "src/app.py-6- def save_config(path, data):",
            "src/app.py:7:     # TODO: atomic write",
            'src/app.py-8-     open(path, "w").write(data)',
            "--",
            "src/util.py:1: def helper():",
            'src/util.py-2-     return load_config("x")',
        ]
    )


@pytest.mark.parametrize("ripgrep", ENGINES)
async def test_the_cap_says_how_many_matches_were_left_out(box: LocalSandbox, ripgrep: bool) -> None:
    result = await grep(box, ripgrep, pattern="load_config", max_results=2)
    lines = result.output.splitlines()
    assert lines[:2] == [
        ".hidden/settings.py:1: load_config = None",
        "README.md:1: Call load_config() first.",
    ]
    assert lines[2] == (
        "[5 matching lines in 5 files; showing the first 2 (max_results), 3 left out. "
        "Narrow the pattern, path or glob]"
    )


@pytest.mark.parametrize("ripgrep", ENGINES)
async def test_context_stops_before_the_first_match_left_out(box: LocalSandbox, ripgrep: bool) -> None:
    result = await grep(box, ripgrep, pattern="config", path="src/app.py", context=3, max_results=1)
    shown = [line for line in result.output.splitlines() if not line.startswith("[")]
    # line 6 matches too but is over the cap: neither it nor anything after it is shown
    assert shown == [
        "src/app.py-1- import os",
        "src/app.py-2- ",
        "src/app.py:3: def load_config(path):",
        "src/app.py-4-     return open(path).read()",
        "src/app.py-5- ",
    ]
    assert "[2 matching lines in 1 files; showing the first 1 (max_results), 1 left out." in result.output


@pytest.mark.parametrize("ripgrep", ENGINES)
async def test_glob_filters_by_name_at_any_depth_or_by_path(box: LocalSandbox, ripgrep: bool) -> None:
    by_name = await grep(box, ripgrep, pattern="load_config", glob="*.py")
    assert [line.split(":")[0] for line in by_name.output.splitlines()] == [
        ".hidden/settings.py",
        "src/app.py",
        "src/util.py",
    ]
    by_path = await grep(box, ripgrep, pattern="load_config", glob="src/**/*.py")
    assert [line.split(":")[0] for line in by_path.output.splitlines()] == ["src/app.py", "src/util.py"]
    braces = await grep(box, ripgrep, pattern="load_config", glob="*.{md,txt}")
    assert [line.split(":")[0] for line in braces.output.splitlines()] == ["README.md", "notes.txt"]


@pytest.mark.parametrize("ripgrep", ENGINES)
async def test_one_file_literal_text_and_case(box: LocalSandbox, ripgrep: bool) -> None:
    literal = await grep(box, ripgrep, pattern="load_config()", literal=True)
    assert literal.output == "README.md:1: Call load_config() first."
    single = await grep(box, ripgrep, pattern="TODO", path="src/app.py")
    assert single.output == "src/app.py:7:     # TODO: atomic write"
    folded = await grep(box, ripgrep, pattern="todo", path="src", ignore_case=True)
    assert folded.output == single.output
    strict = await grep(box, ripgrep, pattern="todo", path="src")
    assert strict.ok and strict.output == "No matches for 'todo' in src (2 files searched)"


@pytest.mark.parametrize("ripgrep", ENGINES)
async def test_binary_and_huge_files_are_skipped_even_when_named(box: LocalSandbox, ripgrep: bool) -> None:
    binary = await grep(box, ripgrep, pattern="load_config", path="data.bin")
    assert binary.ok and binary.output.startswith("No matches for 'load_config' in data.bin")
    everything = await grep(box, ripgrep, pattern="binary|x{100}")
    assert everything.output.startswith("No matches")
    named = await grep(box, ripgrep, pattern="load_config", path="huge.txt")  # named: searched
    assert named.output == "huge.txt:1: load_config"


@pytest.mark.parametrize("ripgrep", ENGINES)
async def test_look_around_works_in_both_engines(box: LocalSandbox, ripgrep: bool) -> None:
    # ripgrep (without PCRE2) refuses look-behind: the tool falls back to Python
    result = await grep(box, ripgrep, pattern=r"(?<=def )\w+_config", path="src")
    assert result.output.splitlines() == [
        "src/app.py:3: def load_config(path):",
        "src/app.py:6: def save_config(path, data):",
    ]


@pytest.mark.parametrize("ripgrep", ENGINES)
async def test_an_invalid_regex_is_a_clear_error(box: LocalSandbox, ripgrep: bool) -> None:
    result = await grep(box, ripgrep, pattern="load_config(")
    assert not result.ok
    assert "invalid regex 'load_config(': missing ), unterminated subpattern at position 11" in result.output
    assert "literal=true" in result.output


@pytest.mark.parametrize("ripgrep", ENGINES)
async def test_protected_and_outside_paths(box: LocalSandbox, ripgrep: bool) -> None:
    result = await grep(box, ripgrep, "src/util.py", ".hidden", pattern="load_config")
    assert [line.split(":")[0] for line in result.output.splitlines()] == [
        "README.md",
        "notes.txt",
        "src/app.py",
    ]
    refused = await grep(box, ripgrep, "src/util.py", pattern="x", path="src/util.py")
    assert not refused.ok and "protected" in refused.output
    outside = await grep(box, ripgrep, pattern="x", path="../")
    assert not outside.ok and "outside the workspace" in outside.output
    missing = await grep(box, ripgrep, pattern="x", path="nope")
    assert not missing.ok and "does not exist" in missing.output


@pytest.mark.skipif(not HAS_RG, reason=NO_RG)
async def test_ripgrep_leaves_the_session_working_directory_alone(box: LocalSandbox) -> None:
    await box.exec("cd src", timeout=10)
    result = await grep(box, True, pattern="TODO")
    assert result.output == "src/app.py:7:     # TODO: atomic write"  # paths stay workspace-relative
    assert (await box.exec("pwd", timeout=10)).output.strip().endswith("/ws/src")


async def test_ripgrep_is_used_when_the_sandbox_has_it(box: LocalSandbox) -> None:
    tool = GrepTool()
    assert await tool.use_ripgrep(ToolContext(sandbox=box)) is HAS_RG


# -- both engines agree ---------------------------------------------------------------------------------
@pytest.fixture
async def big_box(tmp_path: Path) -> AsyncIterator[LocalSandbox]:
    """Enough matching text that ripgrep's output (~600 KB) is cut by the exec output cap."""
    files = {
        f"pkg{d}/mod{m}.py": "".join(
            f"def handler_{d}_{m}_{i}(request):  # route /api/v{d}/items/{i} of module {m}\n"
            f"    return respond(request, status={200 + i % 3})  # {'.' * 100}\n"
            for i in range(60)
        )
        for d in range(5)
        for m in range(10)
    }
    files["pkg0/long.py"] = "respond(" + "é" * 2000 + ")\n"
    sandbox = LocalSandbox(make_workspace(tmp_path / "big", files))
    yield sandbox
    await sandbox.close()


@pytest.mark.skipif(not HAS_RG, reason=NO_RG)
@pytest.mark.parametrize(
    "arguments",
    [
        {"pattern": "respond", "max_results": 1000},
        {"pattern": "handler_3_", "context": 2},
        {"pattern": r"status=20[12]", "glob": "pkg4/**/*.py", "max_results": 50},
        {"pattern": "items/59", "context": 1},
        {"pattern": "respond(", "literal": True, "path": "pkg0", "max_results": 5},
        {"pattern": "no such text"},
    ],
    ids=["flood", "context", "glob", "few", "literal", "none"],
)
async def test_ripgrep_and_python_give_the_same_result(
    big_box: LocalSandbox, arguments: dict[str, Any]
) -> None:
    with_rg = await grep(big_box, True, **arguments)
    with_python = await grep(big_box, False, **arguments)
    assert with_rg.output == with_python.output
    assert len(with_rg.output) <= MAX_OUTPUT_CHARS + 300


@pytest.mark.skipif(not HAS_RG, reason=NO_RG)
async def test_a_flood_is_counted_in_full_and_shown_within_the_output_limit(big_box: LocalSandbox) -> None:
    args = GrepArgs(pattern="respond", max_results=1000)
    hits = await search_ripgrep(ToolContext(sandbox=big_box), args)
    assert hits is not None and hits.partial  # ripgrep's output was cut: the head alone is parsed
    assert hits.total == 3001 and sum(len(lines) for lines in hits.files.values()) < 3001
    result = await grep(big_box, True, pattern="respond", max_results=1000)
    footer = result.output.splitlines()[-1]
    shown = sum(1 for line in result.output.splitlines() if ".py:" in line)
    assert footer == (
        f"[3,001 matching lines in 51 files; showing the first {shown:,} (the output size limit), "
        f"{3001 - shown:,} left out. Narrow the pattern, path or glob]"
    )
    assert result.output.startswith("pkg0/long.py:1: respond(" + "é" * 292 + "[...]\npkg0/mod0.py:2: ")
