"""The `git` tool on real repositories made with the real `git`, through a local sandbox."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from trident.sandbox.local import LocalSandbox
from trident.sandbox.workspace import record_baseline
from trident.tools.base import ToolContext, ToolOutput
from trident.tools.git import DIFF_LINES, TRAILER, GitArgs, GitTool, has_trailer, parse_status, with_trailer

DEV = ("Dev Eloper", "dev@example.com")


@pytest.fixture(autouse=True)
def plain_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No user or system git config: identities and defaults come only from each test's repo."""
    empty = tmp_path / "empty-gitconfig"
    empty.write_text("", encoding="utf-8")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(name, raising=False)


def git(root: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
    return result.stdout


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def human_commit(root: Path, message: str) -> None:
    git(root, "add", "-A")
    git(root, "-c", f"user.name={DEV[0]}", "-c", f"user.email={DEV[1]}", "commit", "-q", "-m", message)


def make_repo(tmp_path: Path, *, identity: bool = True, commit: bool = True) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    git(root, "-c", "init.defaultBranch=main", "init", "-q")
    if identity:
        git(root, "config", "user.name", DEV[0])
        git(root, "config", "user.email", DEV[1])
    write(root, {"app.py": "def add(a, b):\n    return a + b\n", "README.md": "# app\n"})
    if commit:
        human_commit(root, "Initial commit")
    return root


async def run_git(root: Path, timeout: float = 30, **arguments: Any) -> ToolOutput:
    sandbox = LocalSandbox(root)
    try:
        return await GitTool().invoke(arguments, ToolContext(sandbox=sandbox, command_timeout_s=timeout))
    finally:
        await sandbox.close()


def head_message(root: Path) -> str:
    return git(root, "log", "-1", "--format=%B").strip()


# --- arguments ---


def test_schema_is_flat_with_an_action_enum() -> None:
    schema = GitTool.spec().parameters
    assert schema["required"] == ["action"]
    assert schema["properties"]["action"]["enum"] == ["status", "diff", "log", "commit", "undo", "branch"]
    assert set(schema["properties"]) == {"action", "message", "paths", "staged", "ref", "count", "name"}
    assert "oneOf" not in str(schema) and "$defs" not in schema
    assert all(prop.get("description") for prop in schema["properties"].values())


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"action": "commit"}, "action `commit` needs a `message`"),
        ({"action": "commit", "message": "  "}, "action `commit` needs a `message`"),
        ({"action": "branch"}, "action `branch` needs a `name`"),
        (
            {"action": "status", "message": "x"},
            "`message` does not apply to action `status` (it is for: commit)",
        ),
        ({"action": "commit", "message": "m", "ref": "main"}, "`ref` does not apply to action `commit`"),
        ({"action": "undo", "count": 3}, "`count` does not apply to action `undo` (it is for: log)"),
    ],
)
def test_fields_are_checked_per_action(arguments: dict[str, Any], error: str) -> None:
    with pytest.raises(ValueError, match="validation error") as caught:
        GitArgs.model_validate(arguments)
    assert error in str(caught.value)


def test_unused_fields_left_empty_or_default_are_fine() -> None:
    args = GitArgs.model_validate(
        {"action": "status", "message": None, "paths": [], "count": 10, "staged": False}
    )
    assert args.action == "status"


async def test_invalid_arguments_come_back_as_a_failed_result(tmp_path: Path) -> None:
    result = await run_git(make_repo(tmp_path), action="commit")
    assert not result.ok and "needs a `message`" in result.output


# --- trailers ---


def test_trailer_is_added_once_and_joins_an_existing_trailer_block() -> None:
    assert with_trailer("Fix parser") == f"Fix parser\n\n{TRAILER}"
    assert with_trailer("Fix parser\n\nLonger story.\n") == f"Fix parser\n\nLonger story.\n\n{TRAILER}"
    assert with_trailer("Fix parser\n\nFixes: #12") == f"Fix parser\n\nFixes: #12\n{TRAILER}"
    assert with_trailer(f"Fix\n\n{TRAILER}") == f"Fix\n\n{TRAILER}"
    assert has_trailer("Fix\n\nFixes: #1\ngenerated-by:  trident\n")
    assert not has_trailer(TRAILER)  # a subject line is not a trailer
    assert not has_trailer(f"Fix\n\n{TRAILER}\n\nMore text after it")
    assert not has_trailer("Fix\n\nGenerated-by: someone-else")


# --- status ---


async def test_status_of_a_clean_repository(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    short = git(root, "rev-parse", "--short=7", "HEAD").strip()
    result = await run_git(root, action="status")
    assert result.ok
    assert result.output == f"on branch main at {short}\nworking tree clean: nothing to commit"


async def test_status_lists_staged_unstaged_untracked_and_renames(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    write(
        root,
        {"app.py": "def add(a, b):\n    return b + a\n", "new dir/notes file.txt": "n\n", "ünï.txt": "u"},
    )
    git(root, "mv", "README.md", "README.rst")
    result = await run_git(root, action="status")
    lines = result.output.splitlines()
    assert lines[1:] == [
        "staged (1):",
        "  renamed: README.md -> README.rst",
        "unstaged (1):",
        "  modified: app.py",
        "untracked (2):",
        "  new dir/",
        "  ünï.txt",
    ]


async def test_status_of_a_new_repository_and_a_detached_head(tmp_path: Path) -> None:
    root = make_repo(tmp_path, commit=False)
    result = await run_git(root, action="status")
    assert result.output.splitlines()[0] == "on branch main, no commits yet"
    human_commit(root, "Initial commit")
    git(root, "checkout", "-q", "--detach")
    result = await run_git(root, action="status")
    assert result.output.startswith("HEAD detached at ")
    assert "use action `branch`" in result.output


async def test_not_a_repository(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    root.mkdir()
    result = await run_git(root, action="status")
    assert not result.ok
    assert result.output == "Error: the workspace is not a git repository (start one with bash: `git init`)"


def test_status_parser_skips_garbled_records() -> None:
    records = ["# branch.oid abc", "# branch.head main", "garbage", "? new.txt", "1 M. too short", ""]
    status = parse_status("\x00".join(records))
    assert (status.branch, status.oid) == ("main", "abc")
    assert [e.path for e in status.entries] == ["new.txt"]


# --- diff ---


async def test_diff_shows_all_uncommitted_changes_and_names_untracked_files(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    write(
        root, {"app.py": "def add(a, b):\n    return a + b + 0\n", "README.md": "# app!\n", "new.py": "x\n"}
    )
    git(root, "add", "README.md")
    result = await run_git(root, action="diff")
    assert result.ok
    assert result.output.startswith("working tree vs HEAD:\n")
    assert "+    return a + b + 0" in result.output and "+# app!" in result.output
    assert "2 files changed" in result.output
    assert result.output.endswith("not shown, untracked (new) files (1): new.py")


async def test_diff_staged_ref_and_paths(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    write(root, {"app.py": "def add(a, b):\n    return a + b + 0\n", "README.md": "# app!\n"})
    git(root, "add", "README.md")
    staged = await run_git(root, action="diff", staged=True)
    assert staged.output.startswith("staged changes vs HEAD:") and "+# app!" in staged.output
    assert "app.py" not in staged.output
    narrowed = await run_git(root, action="diff", paths=["app.py"])
    assert narrowed.output.startswith("working tree vs HEAD in app.py:") and "README" not in narrowed.output
    human_commit(root, "Second")
    against_first = await run_git(root, action="diff", ref="HEAD~1")
    assert against_first.output.startswith("working tree vs HEAD~1:") and "+# app!" in against_first.output
    nothing = await run_git(root, action="diff")
    assert nothing.ok and nothing.output == "no changes (working tree vs HEAD)"


async def test_diff_errors_and_a_new_repository(tmp_path: Path) -> None:
    root = make_repo(tmp_path, commit=False)
    git(root, "add", "app.py")
    result = await run_git(root, action="diff")
    assert result.ok and "+def add(a, b):" in result.output
    assert result.output.endswith("not shown, untracked (new) files (1): README.md")
    unknown = await run_git(root, action="diff", ref="no-such-branch")
    assert not unknown.ok
    assert unknown.output == "Error: unknown revision `no-such-branch`: no branch, tag or commit by that name"
    option = await run_git(root, action="diff", ref="--output=/tmp/x")
    assert not option.ok and "is not a revision" in option.output


async def test_long_diffs_are_cut(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    write(root, {"big.txt": "".join(f"line {i}\n" for i in range(2000))})
    git(root, "add", "big.txt")
    result = await run_git(root, action="diff")
    lines = result.output.splitlines()
    assert len(lines) == DIFF_LINES + 2  # the scope line, the kept lines, the note
    assert lines[-1].endswith("more diff lines left out; narrow it with `paths`]")


# --- log ---


async def test_log_one_line_per_commit_marking_tridents(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    write(root, {"app.py": "changed\n"})
    await run_git(root, action="commit", message="Change app")
    write(root, {"README.md": "changed\n"})
    human_commit(root, "Human change")
    result = await run_git(root, action="log", count=2)
    lines = result.output.splitlines()
    assert len(lines) == 2
    assert lines[0].endswith(f"{DEV[0]}: Human change (HEAD -> main)")
    assert lines[1].endswith(f"{DEV[0]}: Change app [{TRAILER}]")
    only_app = await run_git(root, action="log", paths=["app.py"])
    assert [line.split(": ", 1)[1] for line in only_app.output.splitlines()] == [
        f"Change app [{TRAILER}]",
        "Initial commit",
    ]


async def test_log_of_a_new_repository(tmp_path: Path) -> None:
    result = await run_git(make_repo(tmp_path, commit=False), action="log")
    assert result.ok and result.output == "no commits yet on branch main"


# --- commit ---


async def test_commit_takes_every_change_and_adds_the_trailer(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    write(root, {"app.py": "def add(a, b):\n    return a + b  # fixed\n", "src/new.py": "NEW = 1\n"})
    (root / "README.md").unlink()
    result = await run_git(root, action="commit", message="Fix add\n\nFixes: #7")
    assert result.ok, result.output
    short = git(root, "rev-parse", "--short", "HEAD").strip()
    assert result.output.splitlines()[0] == f"committed {short} on main: Fix add"
    assert "3 files changed" in result.output
    assert head_message(root) == f"Fix add\n\nFixes: #7\n{TRAILER}"
    assert git(root, "status", "--porcelain") == ""
    assert git(root, "show", "--name-status", "--format=", "HEAD").split() == [
        "D",
        "README.md",
        "M",
        "app.py",
        "A",
        "src/new.py",
    ]
    # the configured identity is the author
    assert git(root, "log", "-1", "--format=%an <%ae>").strip() == f"{DEV[0]} <{DEV[1]}>"


async def test_commit_without_an_identity_uses_tridents(tmp_path: Path) -> None:
    root = make_repo(tmp_path, identity=False)
    write(root, {"app.py": "x = 1\n"})
    result = await run_git(root, action="commit", message="Rewrite app")
    assert result.ok, result.output
    assert git(root, "log", "-1", "--format=%an <%ae>|%cn <%ce>").strip() == (
        "trident <trident@localhost>|trident <trident@localhost>"
    )
    # nothing was written into the repository's configuration
    config = subprocess.run(["git", "config", "--get", "user.name"], cwd=root, capture_output=True)
    assert config.returncode == 1


async def test_commit_only_the_given_paths(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    write(root, {"app.py": "changed\n", "README.md": "changed\n", "docs/a.md": "a\n", "docs/b.md": "b\n"})
    git(root, "add", "README.md")  # staged, but not among the paths: stays out of the commit
    result = await run_git(root, action="commit", message="Docs and app", paths=["docs", "app.py"])
    assert result.ok, result.output
    assert sorted(git(root, "show", "--name-only", "--format=", "HEAD").split()) == [
        "app.py",
        "docs/a.md",
        "docs/b.md",
    ]
    assert git(root, "status", "--porcelain").splitlines() == ["M  README.md"]


async def test_commit_refusals(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    nothing = await run_git(root, action="commit", message="Nothing")
    assert not nothing.ok and nothing.output == "Error: nothing to commit: no changes"
    write(root, {"app.py": "changed\n"})
    no_match = await run_git(root, action="commit", message="m", paths=["missing.py"])
    assert not no_match.ok and "pathspec 'missing.py' did not match any files" in no_match.output
    unchanged = await run_git(root, action="commit", message="m", paths=["README.md"])
    assert unchanged.output == "Error: nothing to commit: no changes in README.md"
    git(root, "checkout", "-q", "--detach")
    detached = await run_git(root, action="commit", message="m")
    assert not detached.ok and "HEAD is detached" in detached.output and "action `branch`" in detached.output


async def test_commit_hooks_do_not_run_in_the_local_sandbox(tmp_path: Path) -> None:
    """The local sandbox is this machine: a hook (which the agent may have written) is not run by
    trident's commit there; hooks run only in an isolating sandbox (Docker, copy mode)."""
    root = make_repo(tmp_path)
    hook = root / ".git" / "hooks" / "pre-commit"
    hook.write_text(f"#!/bin/sh\ntouch {tmp_path}/hook-ran\nexit 1\n", encoding="utf-8")
    hook.chmod(0o755)
    write(root, {"app.py": "changed\n"})
    result = await run_git(root, action="commit", message="m")
    assert result.ok, result.output
    assert not (tmp_path / "hook-ran").exists()


# --- undo ---


async def test_undo_takes_back_tridents_commit_and_keeps_all_work(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    before = git(root, "rev-parse", "HEAD").strip()
    write(root, {"app.py": "committed\n"})
    assert (await run_git(root, action="commit", message="Trident change")).ok
    # uncommitted work of every kind on top of the commit
    write(root, {"README.md": "staged\n"})
    git(root, "add", "README.md")
    write(root, {"README.md": "staged, then edited further\n", "scratch.txt": "untracked\n"})
    result = await run_git(root, action="undo")
    assert result.ok, result.output
    assert result.output.startswith("undid ") and '"Trident change"; main is back at ' in result.output
    assert git(root, "rev-parse", "HEAD").strip() == before
    assert (root / "app.py").read_text() == "committed\n"
    assert (root / "README.md").read_text() == "staged, then edited further\n"
    assert git(root, "show", ":README.md") == "staged\n"  # the staged version survived too
    assert git(root, "status", "--porcelain").splitlines() == ["MM README.md", "M  app.py", "?? scratch.txt"]


async def test_undo_refuses_commits_that_are_not_tridents(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    write(root, {"app.py": "human\n"})
    human_commit(root, "Human work")
    head = git(root, "rev-parse", "HEAD").strip()
    result = await run_git(root, action="undo")
    assert not result.ok
    assert '"Human work" was not made by trident' in result.output
    assert git(root, "rev-parse", "HEAD").strip() == head


async def test_undo_refuses_the_headless_runs_baseline_commit(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    write(root, {"app.py": "as found\n"})
    sandbox = LocalSandbox(root)
    try:
        await record_baseline(sandbox)
    finally:
        await sandbox.close()
    assert head_message(root) == "trident: baseline"
    result = await run_git(root, action="undo")
    assert not result.ok and '"trident: baseline" was not made by trident' in result.output


async def test_undo_refuses_the_root_commit_merges_and_detached_heads(tmp_path: Path) -> None:
    root = make_repo(tmp_path, commit=False)
    assert (await run_git(root, action="undo")).output == "Error: nothing to undo: there are no commits yet"
    assert (await run_git(root, action="commit", message="First")).ok
    root_commit = await run_git(root, action="undo")
    assert not root_commit.ok and "is the root commit" in root_commit.output

    git(root, "checkout", "-q", "-b", "side")
    write(root, {"side.txt": "s\n"})
    human_commit(root, "Side")
    git(root, "checkout", "-q", "main")
    write(root, {"main.txt": "m\n"})
    human_commit(root, "Main")
    git(root, "merge", "-q", "--no-ff", "side", "-m", f"Merge side\n\n{TRAILER}")
    merge = await run_git(root, action="undo")
    assert not merge.ok and "is a merge commit" in merge.output

    git(root, "checkout", "-q", "--detach")
    detached = await run_git(root, action="undo")
    assert not detached.ok and "HEAD is detached" in detached.output


async def test_undo_refuses_during_a_merge(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    git(root, "checkout", "-q", "-b", "side")
    write(root, {"app.py": "side\n"})
    human_commit(root, "Side")
    git(root, "checkout", "-q", "main")
    write(root, {"app.py": "main\n"})
    assert (await run_git(root, action="commit", message="Main")).ok
    subprocess.run(["git", "merge", "side"], cwd=root, capture_output=True)  # conflicts
    result = await run_git(root, action="undo")
    assert (
        not result.ok and result.output == "Error: a merge is in progress; finish or abort it before undoing"
    )


# --- branch ---


async def test_branch_creates_switches_and_keeps_changes(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    write(root, {"app.py": "work in progress\n"})
    result = await run_git(root, action="branch", name="trident/fix-add")
    assert result.ok, result.output
    assert result.output.startswith("created branch trident/fix-add at ")
    assert result.output.endswith("(from branch main) and switched to it; uncommitted changes came along")
    assert git(root, "branch", "--show-current").strip() == "trident/fix-add"
    assert (root / "app.py").read_text() == "work in progress\n"
    again = await run_git(root, action="branch", name="trident/fix-add")
    assert (
        not again.ok and again.output == "Error: branch `trident/fix-add` already exists; pick another name"
    )


@pytest.mark.parametrize(
    "name", ["has space", "a..b", "-rf", "ends/", "x.lock", "what?", "@{-1}", "HEAD", "tilde~1", "a:b"]
)
async def test_branch_refuses_invalid_names(tmp_path: Path, name: str) -> None:
    root = make_repo(tmp_path)
    result = await run_git(root, action="branch", name=name)
    assert not result.ok
    assert result.output.startswith(f"Error: `{name}` is not a valid branch name; use letters, digits")
    assert git(root, "branch", "--show-current").strip() == "main"


async def test_branch_from_a_detached_head_then_commit(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    git(root, "checkout", "-q", "--detach")
    write(root, {"app.py": "fix\n"})
    result = await run_git(root, action="branch", name="trident/run-1")
    assert result.ok and "(from a detached HEAD)" in result.output
    committed = await run_git(root, action="commit", message="Fix on a branch")
    assert committed.ok and " on trident/run-1: Fix on a branch" in committed.output


async def test_branch_in_a_new_repository(tmp_path: Path) -> None:
    root = make_repo(tmp_path, commit=False)
    result = await run_git(root, action="branch", name="trident/start")
    assert result.ok and "with no commits yet" in result.output
    assert git(root, "symbolic-ref", "--short", "HEAD").strip() == "trident/start"
