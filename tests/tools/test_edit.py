"""`edit` on real files: exact matches, near misses answered or applied, CRLF, safety, syntax checks."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import make_workspace, tool_context
from trident.tools.base import ToolOutput
from trident.tools.edit import EditTool

CODE = """\
import os


def load(path):
    with open(path) as handle:
        data = handle.read()
    return data


def save(path, data):
    with open(path, "w") as handle:
        handle.write(data)
"""


async def edit(root: Path, *protected: str, **arguments: object) -> ToolOutput:
    ctx = tool_context(root, *protected)
    return await EditTool().invoke(dict(arguments), ctx)


def workspace(tmp_path: Path, files: dict[str, str] | None = None) -> Path:
    return make_workspace(tmp_path / "ws", files if files is not None else {"io.py": CODE})


async def test_an_exact_unique_match_is_replaced_and_summarized(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    result = await edit(
        root,
        path="io.py",
        old_text="        data = handle.read()\n",
        new_text="        data = handle.read().strip()\n",
    )
    assert result.ok
    assert (root / "io.py").read_text() == CODE.replace("handle.read()", "handle.read().strip()")
    assert result.output.startswith("Edited io.py: replaced 1 line at line 6 with 1 line.")
    assert "-        data = handle.read()\n+        data = handle.read().strip()" in result.output
    assert "@@ -5,3 +5,3 @@" in result.output


async def test_the_result_never_echoes_a_large_file(tmp_path: Path) -> None:
    body = "".join(f"value_{i} = {i}\n" for i in range(5000))
    root = workspace(tmp_path, {"big.py": body})
    result = await edit(root, path="big.py", old_text="value_2500 = 2500\n", new_text="value_2500 = -1\n")
    assert result.ok and "value_2500 = -1" in result.output
    assert len(result.output.splitlines()) < 12 and "value_10 " not in result.output
    assert "@@ -2500,3 +2500,3 @@" in result.output


async def test_several_matches_are_refused_with_their_lines(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    result = await edit(root, path="io.py", old_text="    with open(path", new_text="    with open(str(path)")
    assert not result.ok
    assert (
        "old_text occurs 2 times in io.py (lines 5, 11)" in result.output and "replace_all" in result.output
    )
    assert (root / "io.py").read_text() == CODE


async def test_replace_all_changes_every_occurrence(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    result = await edit(root, path="io.py", old_text="handle", new_text="stream", replace_all=True)
    assert result.ok and "Edited io.py: 4 replacements, at lines 5, 6, 11, 12." in result.output
    assert (root / "io.py").read_text() == CODE.replace("handle", "stream")


async def test_a_typo_is_answered_with_the_nearest_region_and_a_diff(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    result = await edit(
        root,
        path="io.py",
        old_text="def save(path, data):\n    with open(path, 'w') as handle:\n",
        new_text="def save(path, data, mode='w'):\n    with open(path, mode) as handle:\n",
    )
    assert not result.ok
    assert "old_text was not found in io.py. Did you mean lines 10-11" in result.output
    assert "--- old_text\n+++ io.py lines 10-11\n def save(path, data):\n" in result.output
    assert "-    with open(path, 'w') as handle:\n+    with open(path, \"w\") as handle:" in result.output
    assert (root / "io.py").read_text() == CODE


async def test_nothing_similar_says_so(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    result = await edit(root, path="io.py", old_text="class Completely(Different):", new_text="x")
    assert not result.ok and "no part of the file is similar" in result.output
    assert "Did you mean" not in result.output


async def test_an_indentation_shifted_uniformly_is_applied_and_reindented(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    result = await edit(
        root,
        path="io.py",
        old_text="with open(path) as handle:\n    data = handle.read()\n",
        new_text="with open(path, encoding='utf-8') as handle:\n    data = handle.read()\n",
    )
    assert result.ok, result.output
    assert "old_text was indented 4 spaces less than lines 5-6" in result.output
    assert (
        "    with open(path, encoding='utf-8') as handle:\n        data = handle.read()\n"
        in (root / "io.py").read_text()
    )


async def test_an_over_indented_quote_is_dedented(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    result = await edit(
        root,
        path="io.py",
        old_text="        def load(path):\n            with open(path) as handle:",
        new_text="        def load_text(path):\n            with open(path) as handle:",
    )
    assert result.ok and "indented 8 spaces more than lines 4-5" in result.output
    assert "\ndef load_text(path):\n    with open(path) as handle:\n" in (root / "io.py").read_text()


async def test_trailing_whitespace_differences_are_applied(tmp_path: Path) -> None:
    root = workspace(tmp_path, {"t.py": "a = 1   \nb = 2\t\nc = 3\n"})
    result = await edit(root, path="t.py", old_text="a = 1\nb = 2\n", new_text="a = 10\nb = 20\n")
    assert result.ok and "trailing whitespace only" in result.output
    assert (root / "t.py").read_text() == "a = 10\nb = 20\nc = 3\n"


async def test_tabs_against_spaces_are_explained_not_guessed(tmp_path: Path) -> None:
    root = workspace(tmp_path, {"m.go": "func f() {\n\treturn 1\n}\n"})
    result = await edit(
        root, path="m.go", old_text="func f() {\n    return 1\n}", new_text="func f() {\n    return 2\n}"
    )
    assert not result.ok and "Did you mean lines 1-3" in result.output
    assert "quoted line 2: indented with 1 tab in the file, 4 spaces in yours" in result.output
    assert (root / "m.go").read_text() == "func f() {\n\treturn 1\n}\n"


async def test_a_loose_match_in_several_places_is_refused(tmp_path: Path) -> None:
    root = workspace(tmp_path, {"t.py": "if a:\n    x = 1\nif b:\n    x = 1\n"})
    result = await edit(root, path="t.py", old_text="x = 1  \n", new_text="x = 2\n")
    assert not result.ok and "ignoring whitespace it matches 2 places (lines 2, 4)" in result.output


async def test_new_text_that_cannot_be_dedented_is_not_guessed(tmp_path: Path) -> None:
    root = workspace(tmp_path, {"t.py": "def f():\n    return 1\n"})
    result = await edit(
        root, path="t.py", old_text="    def f():\n        return 1\n", new_text="def g():\n  return 2\n"
    )
    assert not result.ok and "Did you mean lines 1-2" in result.output
    assert (root / "t.py").read_text() == "def f():\n    return 1\n"


async def test_a_crlf_file_stays_crlf(tmp_path: Path) -> None:
    root = workspace(tmp_path, {})
    (root / "w.txt").write_bytes(b"one\r\ntwo\r\nthree\r\n")
    result = await edit(root, path="w.txt", old_text="two\nthree\n", new_text="2\n2.5\nthree\n")
    assert result.ok and "(CRLF line endings kept)" in result.output
    assert (root / "w.txt").read_bytes() == b"one\r\n2\r\n2.5\r\nthree\r\n"
    again = await edit(root, path="w.txt", old_text="one\r\n2\r\n", new_text="1\r\n2\r\n")
    assert again.ok and (root / "w.txt").read_bytes() == b"1\r\n2\r\n2.5\r\nthree\r\n"


async def test_mixed_line_endings_are_left_alone_outside_the_edit(tmp_path: Path) -> None:
    root = workspace(tmp_path, {})
    (root / "m.txt").write_bytes(b"a\r\nb\nc\r\nd\r\n")
    result = await edit(root, path="m.txt", old_text="c\nd", new_text="C\nD")
    assert result.ok
    assert (root / "m.txt").read_bytes() == b"a\r\nb\nC\r\nD\r\n"


async def test_identical_missing_binary_and_protected(tmp_path: Path) -> None:
    root = workspace(tmp_path, {"a.py": "x = 1\n", "secrets/key.txt": "k\n"})
    (root / "blob.bin").write_bytes(b"\x00\x01x = 1")
    same = await edit(root, path="a.py", old_text="x = 1", new_text="x = 1")
    assert not same.ok and "identical" in same.output
    missing = await edit(root, path="b.py", old_text="x", new_text="y")
    assert not missing.ok and "b.py does not exist; create it with `write`" in missing.output
    binary = await edit(root, path="blob.bin", old_text="x = 1", new_text="x = 2")
    assert not binary.ok and "binary file" in binary.output
    protected = await edit(root, "secrets/**", path="secrets/key.txt", old_text="k", new_text="j")
    assert not protected.ok and "matches `secrets/**`" in protected.output
    assert (root / "secrets" / "key.txt").read_text() == "k\n"
    assert (root / "blob.bin").read_bytes() == b"\x00\x01x = 1"


async def test_escapes_through_dotdot_absolute_paths_and_symlinks_are_refused(tmp_path: Path) -> None:
    (tmp_path / "outside.py").write_text("x = 1\n")
    root = workspace(tmp_path, {"a.py": "x = 1\n"})
    (root / "link.py").symlink_to(tmp_path / "outside.py")
    for path in ("../outside.py", str(tmp_path / "outside.py"), "link.py"):
        result = await edit(root, path=path, old_text="x = 1", new_text="x = 2")
        assert not result.ok and "outside the workspace" in result.output, path
    assert (tmp_path / "outside.py").read_text() == "x = 1\n"


async def test_a_syntax_error_it_introduces_is_reported_with_its_position(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    result = await edit(root, path="io.py", old_text="def save(path, data):", new_text="def save(path, data:")
    assert result.ok  # the edit is made: the model fixes it next
    assert "introduced 1 syntax error(s) (python, tree-sitter)" in result.output
    assert "io.py:10:1 unexpected `def save(path, data:`" in result.output


async def test_a_pre_existing_syntax_error_is_not_blamed_on_the_edit(tmp_path: Path) -> None:
    broken = CODE.replace("def load(path):", "def load(path:")
    root = workspace(tmp_path, {"io.py": broken})
    result = await edit(
        root, path="io.py", old_text="handle.write(data)", new_text="handle.write(data or '')"
    )
    assert result.ok and "syntax error" not in result.output
    fixed = await edit(root, path="io.py", old_text="def load(path:", new_text="def load(path):")
    assert fixed.ok and "syntax error" not in fixed.output


async def test_edits_to_unknown_languages_are_not_checked(tmp_path: Path) -> None:
    root = workspace(tmp_path, {"notes.txt": "def f():\n"})
    result = await edit(root, path="notes.txt", old_text="def f():", new_text="def f(:")
    assert result.ok and "syntax" not in result.output
