"""`apply_patch` with patches from real `git diff` and `diff -u`, model-style patches, and conflicts."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.helpers import make_workspace, tool_context
from trident.tools.apply_patch import ApplyPatchTool, parse_patch
from trident.tools.base import ToolError, ToolOutput

NUMBERS = "".join(f"n{i} = {i}\n" for i in range(1, 201))


async def apply(root: Path, patch: str, *protected: str) -> ToolOutput:
    ctx = tool_context(root, *protected)
    return await ApplyPatchTool().invoke({"patch": patch}, ctx)


def git(root: Path, *args: str) -> str:
    command = [
        "git",
        "-c",
        "user.email=t@example.com",
        "-c",
        "user.name=t",
        "-c",
        "core.autocrlf=false",
        *args,
    ]
    return subprocess.run(command, cwd=root, capture_output=True, text=True, check=True).stdout


def snapshot(root: Path) -> dict[str, bytes]:
    files = (p for p in sorted(root.rglob("*")) if p.is_file() and ".git" not in p.relative_to(root).parts)
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in files}


async def test_a_git_diff_round_trips_through_apply_patch(tmp_path: Path) -> None:
    """Modify (two hunks), create, delete, rename with an edit, CRLF, and "no newline at end"."""
    root = make_workspace(
        tmp_path / "ws",
        {"calc.py": NUMBERS, "gone.txt": "bye\n", "old_name.txt": NUMBERS[:400], "tail.txt": "p\nq"},
    )
    (root / "dos.txt").write_bytes(b"x\r\ny\r\nz\r\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    (root / "calc.py").write_text(
        NUMBERS.replace("n5 = 5\n", "n5 = 50\n").replace("n150 = 150\n", "n150 = 150\nextra = 1\n")
    )
    (root / "pkg").mkdir()
    (root / "pkg" / "new.py").write_text("def f():\n    return 1\n")
    (root / "gone.txt").unlink()
    git(root, "mv", "old_name.txt", "new_name.txt")
    (root / "new_name.txt").write_text(NUMBERS[:400].replace("n3 = 3\n", "n3 = three\n"))
    (root / "dos.txt").write_bytes(b"x\r\nY\r\nz\r\n")
    (root / "tail.txt").write_text("p\nq\nr\n")
    git(root, "add", "-A")
    patch = git(root, "diff", "--cached", "-M")
    assert "rename from old_name.txt" in patch and "\\ No newline at end of file" in patch
    expected = snapshot(root)
    git(root, "reset", "-q", "--hard")
    git(root, "clean", "-qfd")

    result = await apply(root, patch)

    assert result.ok, result.output
    assert snapshot(root) == expected
    assert result.output.splitlines() == [
        "Applied the patch (6 files):",
        "  modified calc.py: 2 hunks, +2 -1",
        "  modified dos.txt: 1 hunk, +1 -1",
        "  deleted gone.txt",
        "  renamed old_name.txt -> new_name.txt: 1 hunk, +1 -1",
        "  created pkg/new.py (2 lines)",
        "  modified tail.txt: 1 hunk, +2 -1",
    ]
    git(root, "add", "-A")
    assert git(root, "diff", "--cached", "-M") == patch


async def test_a_diff_u_patch_without_prefixes_applies(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws", {"conf.ini": "[a]\nkey = 1\nother = 2\n"})
    (tmp_path / "conf.ini").write_text("[a]\nkey = 10\nother = 2\n")
    diff = subprocess.run(
        ["diff", "-u", str(root / "conf.ini"), str(tmp_path / "conf.ini")], capture_output=True, text=True
    ).stdout
    patch = diff.replace(str(root / "conf.ini"), "conf.ini").replace(str(tmp_path / "conf.ini"), "conf.ini")
    assert "\t" in patch.splitlines()[0]  # diff -u puts a timestamp after a tab
    result = await apply(root, patch)
    assert result.ok and "modified conf.ini: 1 hunk, +1 -1" in result.output
    assert (root / "conf.ini").read_text() == "[a]\nkey = 10\nother = 2\n"


async def test_line_numbers_may_be_off_near_the_stated_line(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws", {"calc.py": NUMBERS})
    patch = "--- a/calc.py\n+++ b/calc.py\n@@ -40,3 +40,3 @@\n n50 = 50\n-n51 = 51\n+n51 = 5100\n n52 = 52\n"
    result = await apply(root, patch)
    assert result.ok and "hunk 1 applied 10 lines below its stated line" in result.output
    assert "n51 = 5100\n" in (root / "calc.py").read_text()


async def test_a_second_hunk_follows_the_first_ones_offset(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws", {"calc.py": NUMBERS})
    patch = (
        "--- a/calc.py\n+++ b/calc.py\n"
        "@@ -15,2 +15,3 @@\n n20 = 20\n+n20b = 20.5\n n21 = 21\n"
        "@@ -95,2 +96,2 @@\n n100 = 100\n-n101 = 101\n+n101 = -101\n"
    )
    result = await apply(root, patch)
    assert result.ok and "hunk 1 applied 5 lines below" in result.output
    assert "hunk 2" not in result.output  # it sat exactly where hunk 1's offset put it
    text = (root / "calc.py").read_text()
    assert "n20 = 20\nn20b = 20.5\nn21 = 21\n" in text and "n101 = -101\n" in text


async def test_a_far_match_applies_only_when_it_is_the_only_one(tmp_path: Path) -> None:
    repeated = "".join(f"def f{i}():\n    return None\n\n" for i in range(100))
    root = make_workspace(tmp_path / "ws", {"calc.py": NUMBERS, "rep.py": repeated})
    unique = "--- calc.py\n+++ calc.py\n@@ -1,2 +1,2 @@\n n180 = 180\n-n181 = 181\n+n181 = 0\n"
    result = await apply(root, unique)
    assert result.ok and "applied 179 lines below" in result.output
    ambiguous = "--- rep.py\n+++ rep.py\n@@ -1,2 +1,2 @@\n-    return None\n+    return 0\n \n"
    far = ambiguous.replace("@@ -1,2 +1,2 @@", "@@ -500,2 +500,2 @@")  # rep.py has 300 lines
    refused = await apply(root, far)
    assert not refused.ok and "matches at lines 2, 5, 8," in refused.output
    assert "all far from its stated line 500" in refused.output
    near = await apply(root, ambiguous)
    assert near.ok and (root / "rep.py").read_text().count("return 0") == 1
    assert (root / "rep.py").read_text().startswith("def f0():\n    return 0\n")


async def test_a_conflict_writes_nothing_and_shows_the_closest_lines(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws", {"a.py": "x = 1\n", "calc.py": NUMBERS})
    before = snapshot(root)
    patch = (
        "--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n"
        "--- /dev/null\n+++ b/new.py\n@@ -0,0 +1 @@\n+y = 1\n"
        "--- a/calc.py\n+++ b/calc.py\n@@ -10,3 +10,3 @@\n n10 = 10\n-n11 = eleven\n+n11 = 11.0\n n12 = 12\n"
    )
    result = await apply(root, patch)
    assert not result.ok
    assert snapshot(root) == before  # a.py untouched, new.py not created
    lines = result.output.splitlines()
    assert lines[0] == "Error: Patch not applied; nothing was written."
    assert lines[1].startswith("calc.py: hunk 1 of 1 `@@ -10,3 +10,3 @@` does not match the file at line 10")
    assert "Closest: lines 10-12 (" in result.output
    assert (
        "--- hunk 1\n+++ calc.py lines 10-12\n n10 = 10\n-n11 = eleven\n+n11 = 11\n n12 = 12" in result.output
    )


async def test_context_must_match_exactly_even_in_whitespace(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws", {"a.py": "def f():\n\treturn 1\n"})
    patch = "--- a.py\n+++ a.py\n@@ -1,2 +1,2 @@\n def f():\n-    return 1\n+    return 2\n"
    result = await apply(root, patch)
    assert not result.ok and "indented with 1 tab in the file, 4 spaces in yours" in result.output
    assert (root / "a.py").read_text() == "def f():\n\treturn 1\n"


async def test_creating_an_existing_file_or_deleting_a_missing_one_fails(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws", {"a.py": "x = 1\n"})
    create = await apply(root, "--- /dev/null\n+++ b/a.py\n@@ -0,0 +1 @@\n+x = 2\n")
    assert not create.ok and "a.py already exists, but the patch creates it" in create.output
    delete = await apply(root, "--- a/b.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-x = 1\n")
    assert not delete.ok and "b.py does not exist" in delete.output
    partial = await apply(root, "--- a/a.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-y = 1\n")
    assert not partial.ok and "does not match" in partial.output
    assert (root / "a.py").read_text() == "x = 1\n"


async def test_a_deletion_must_remove_every_line(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws", {"a.py": "x = 1\ny = 2\n"})
    result = await apply(root, "--- a/a.py\n+++ /dev/null\n@@ -1,1 +0,0 @@\n-x = 1\n")
    assert not result.ok and "its hunks leave 1 line in it" in result.output
    assert (root / "a.py").exists()


async def test_model_style_patches_with_wrong_counts_bare_headers_and_fences(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws", {"calc.py": NUMBERS, "b.py": "a = 1\n\nb = 2\n"})
    patch = (
        "Here is the change:\n```diff\n"
        "--- a/calc.py\n+++ b/calc.py\n@@ -7,2 +7,2 @@\n n7 = 7\n-n8 = 8\n+n8 = 80\n n9 = 9\n n10 = 10\n"
        "--- a/b.py\n+++ b/b.py\n@@\n a = 1\n\n-b = 2\n+b = 3\n"
        "```\n"
    )
    result = await apply(root, patch)
    assert result.ok, result.output
    assert "n8 = 80\nn9 = 9\n" in (root / "calc.py").read_text()
    assert (root / "b.py").read_text() == "a = 1\n\nb = 3\n"  # the blank context line had lost its space


async def test_malformed_patches_are_explained(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws", {"a.py": "x = 1\n"})
    cases = {
        "just some text\n": "no file header found",
        "@@ -1 +1 @@\n-x = 1\n+x = 2\n": "has no `---`/`+++` file header",
        "--- a/a.py\n+++ b/a.py\n@@ one two @@\n-x\n": "malformed hunk header `@@ one two @@`",
        "*** Begin Patch\n*** Update File: a.py\n": "`*** Begin Patch` format",
        "--- a/a.py\n+++ b/a.py\n-x = 1\n+x = 2\n": "the file header for a.py is not followed by any hunk",
        "diff --git a/i.png b/i.png\nBinary files a/i.png and b/i.png differ\n": "binary patches are not",
    }
    for patch, message in cases.items():
        result = await apply(root, patch)
        assert not result.ok and message in result.output, (patch, result.output)
    assert (root / "a.py").read_text() == "x = 1\n"


async def test_protected_paths_stop_the_whole_patch(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws", {"a.py": "x = 1\n", "config/.env": "K=1\n"})
    patch = (
        "--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n"
        "--- a/config/.env\n+++ b/config/.env\n@@ -1 +1 @@\n-K=1\n+K=2\n"
    )
    result = await apply(root, patch, ".env")
    assert not result.ok and "config/.env is protected" in result.output
    assert (root / "a.py").read_text() == "x = 1\n" and (root / "config" / ".env").read_text() == "K=1\n"


async def test_escapes_stop_the_whole_patch(tmp_path: Path) -> None:
    (tmp_path / "outside.py").write_text("x = 1\n")
    root = make_workspace(tmp_path / "ws", {"a.py": "x = 1\n"})
    (root / "link.py").symlink_to(tmp_path / "outside.py")
    edit_a = "--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n"
    for target in ("../outside.py", "link.py", str(tmp_path / "outside.py")):
        patch = edit_a + f"--- {target}\n+++ {target}\n@@ -1 +1 @@\n-x = 1\n+x = 2\n"
        result = await apply(root, patch)
        assert not result.ok and "outside the workspace" in result.output, target
        assert "nothing was written" in result.output
    created = await apply(root, edit_a + "--- /dev/null\n+++ ../new_outside.py\n@@ -0,0 +1 @@\n+x\n")
    assert not created.ok and "outside the workspace" in created.output
    assert (tmp_path / "outside.py").read_text() == "x = 1\n" and (root / "a.py").read_text() == "x = 1\n"
    assert not (tmp_path / "new_outside.py").exists()


async def test_new_syntax_errors_are_reported_per_file(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws", {"ok.py": "def f():\n    return 1\n"})
    patch = (
        "--- a/ok.py\n+++ b/ok.py\n@@ -1,2 +1,2 @@\n-def f():\n+def f(:\n     return 1\n"
        "--- /dev/null\n+++ b/fine.py\n@@ -0,0 +1 @@\n+x = 1\n"
    )
    result = await apply(root, patch)
    assert result.ok and "ok.py:1:7 missing `)`" in result.output and "fine.py:" not in result.output


def test_the_parser_reads_headers_hunks_and_markers() -> None:
    (patch,) = parse_patch(
        'diff --git "a/sp ace.txt" "b/sp ace.txt"\n'
        '--- "a/sp ace.txt"\n+++ "b/sp ace.txt"\n'
        "@@ -1,2 +1,2 @@ section\n keep\n"
        "-old\n\\ No newline at end of file\n"
        "+new\n\\ No newline at end of file\n"
    )
    assert (patch.old_path, patch.new_path) == ("sp ace.txt", "sp ace.txt")
    (hunk,) = patch.hunks
    assert hunk.old_start == 1 and hunk.header == "@@ -1,2 +1,2 @@ section"
    assert hunk.before == ["keep", "old"] and hunk.after == ["keep", "new"]
    assert hunk.old_no_eol and hunk.new_no_eol
    with pytest.raises(ToolError, match="no lines"):
        parse_patch("--- a\n+++ b\n@@ -1 +1 @@\n")


def test_a_removed_line_that_looks_like_a_header_is_read_by_the_counts() -> None:
    (patch,) = parse_patch("--- a/q.sql\n+++ b/q.sql\n@@ -1,2 +1,1 @@\n--- comment\n+++ other\n select 1;\n")
    assert patch.hunks[0].lines == [("-", "-- comment"), ("+", "++ other"), (" ", "select 1;")]
