"""Item 2, host side: trident's own baseline store and diff read the workspace as hostile data.

The workspace is what the agent left: its `.git` may be armed, its files may be symlinks to host
secrets or fifos, its `.gitattributes` may ask for filters. `workspace_diff` must record exactly the
change, never run anything of the workspace's, never follow a link; `unsafe_changes` must catch
what `--apply` may not write, however the patch is dressed.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from trident.sandbox.workspace import clean_copy, snapshot_baseline, unsafe_changes, workspace_diff


def store_over(tmp_path: Path, files: dict[str, str]) -> tuple[Path, Path]:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    for name, text in files.items():
        (workspace / name).parent.mkdir(parents=True, exist_ok=True)
        (workspace / name).write_text(text)
    store = tmp_path / "baseline.git"
    snapshot_baseline(workspace, store)
    return workspace, store


def test_an_armed_workspace_git_runs_nothing_and_hides_nothing(tmp_path: Path) -> None:
    workspace, store = store_over(
        tmp_path, {"a.py": "x = 1\n", ".gitattributes": "*.py filter=evil diff=evil\n"}
    )
    marker = tmp_path / "ran"
    hook = tmp_path / "hook.sh"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\necho fake\n")
    hook.chmod(0o755)
    subprocess.run(["git", "init", "-q"], cwd=workspace, check=True)
    config = (
        f"[core]\n\tfsmonitor = {hook}\n\thooksPath = {workspace}\n[diff]\n\texternal = {hook}\n"
        f'[diff "evil"]\n\ttextconv = {hook}\n[filter "evil"]\n\tclean = {hook}\n\tsmudge = {hook}\n'
    )
    (workspace / ".git" / "config").write_text(config)
    (workspace / ".git" / "info").mkdir(exist_ok=True)
    (workspace / ".git" / "info" / "exclude").write_text("secret_change.py\n")
    (workspace / "a.py").write_text("x = 2\n")
    (workspace / "secret_change.py").write_text("y = 1\n")
    patch = workspace_diff(workspace, store)
    assert "+x = 2" in patch and "+y = 1" in patch and "fake" not in patch
    assert not marker.exists()
    copy = clean_copy(store, tmp_path / "copy", patch)  # checkout and apply: no smudge filter either
    assert (copy / "a.py").read_text() == "x = 2\n" and not marker.exists()
    assert not (copy / ".git").exists()


def test_links_and_fifos_in_the_workspace_are_never_followed(tmp_path: Path) -> None:
    secret = tmp_path / "host-secret"
    secret.write_text("TOP SECRET\n")
    workspace, store = store_over(tmp_path, {"a.py": "x = 1\n", "sub/b.py": "b = 1\n"})
    (workspace / "leak").symlink_to(secret)
    (workspace / "a.py").unlink()
    (workspace / "a.py").symlink_to(secret)
    os.rename(workspace / "sub", tmp_path / "moved-sub")
    (workspace / "sub").symlink_to(tmp_path)  # a directory turned into a link to the host
    os.mkfifo(workspace / "pipe")  # reading it would block forever
    patch = workspace_diff(workspace, store)
    assert "TOP SECRET" not in patch
    assert f"+{secret}" in patch and "new file mode 120000" in patch
    assert "pipe" not in patch
    assert sorted(unsafe_changes(patch)) == sorted(
        [
            f"a.py is a symlink out of the repository (to {secret})",
            f"leak is a symlink out of the repository (to {secret})",
            f"sub is a symlink out of the repository (to {tmp_path})",
        ]
    )


def test_the_baseline_keeps_ignored_files_and_the_diff_skips_new_ignored_ones(tmp_path: Path) -> None:
    workspace, store = store_over(tmp_path, {".gitignore": "*.so\n", "ext.so": "binary\n", "a.py": "1\n"})
    (workspace / "cache.so").write_text("new build output\n")
    assert workspace_diff(workspace, store) == ""
    copy = clean_copy(store, tmp_path / "copy")
    assert (copy / "ext.so").read_text() == "binary\n"  # the verification copy has what the workspace had


def diff(path: str, mode: str = "100644", added: str = "x") -> str:
    quoted_a, quoted_b = (
        (f'"a/{path}"', f'"b/{path}"') if '"' in path or "\\" in path else (f"a/{path}", f"b/{path}")
    )
    return (
        f"diff --git {quoted_a} {quoted_b}\nnew file mode {mode}\nindex 0000000..1111111\n"
        f"--- /dev/null\n+++ {quoted_b}\n@@ -0,0 +1 @@\n+{added}\n"
    )


@pytest.mark.parametrize(
    ("patch", "refusal"),
    [
        (diff(".git/hooks/pre-commit"), ".git/hooks/pre-commit is inside a .git directory"),
        (diff(".GIT/config"), ".GIT/config is inside a .git directory"),
        (diff("vendor/.git/config"), "vendor/.git/config is inside a .git directory"),
        (diff(".trident.toml"), ".trident.toml is trident's own configuration"),
        (diff("sub/.Trident.toml"), "sub/.Trident.toml is trident's own configuration"),
        (diff("../outside.py"), "'../outside.py' leaves the repository"),
        (diff("ok", "120000", "/etc/passwd"), "ok is a symlink out of the repository (to /etc/passwd)"),
        (diff("d/ok", "120000", "../../x"), "d/ok is a symlink out of the repository (to ../../x)"),
        (diff("\\056git/config"), ".git/config is inside a .git directory"),  # C-quoted octal
        # a hunk whose content looks like headers: counted as content, and git's reading is checked too
        (
            diff("innocent.py", added="x\r+++ b/ok.py") + diff(".trident.toml").replace("\n+x\n", "\n+y\n"),
            ".trident.toml is trident's own configuration",
        ),
    ],
)
def test_apply_refusals(patch: str, refusal: str) -> None:
    assert any(refusal in problem for problem in unsafe_changes(patch)), unsafe_changes(patch)


def test_a_plain_fix_and_an_inner_symlink_may_be_applied(tmp_path: Path) -> None:
    workspace, store = store_over(tmp_path, {"pkg/a.py": "x = 1\n"})
    (workspace / "pkg" / "a.py").write_text("x = 2\n")
    (workspace / "pkg" / "alias.py").symlink_to("a.py")
    (workspace / "top").symlink_to("pkg/../pkg")
    assert unsafe_changes(workspace_diff(workspace, store)) == []
