"""The UI-independent pieces of the TUI: approval policy, AGENTS.md, input history, @mentions."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from trident.agent.policies.approval import ApprovalPolicy, call_kind, default_mode, session_rule
from trident.agent.session.agents_md import find_agents_files, with_agents_files
from trident.agent.session.input_history import InputHistory, history_path
from trident.agent.session.mentions import MAX_ATTACH_BYTES, attach, complete, mentioned, repo_files
from trident.agent.session.undo import edited_paths
from trident.sandbox.local import LocalSandbox
from trident.tools.registry import default_tools


@pytest.mark.parametrize(
    ("name", "arguments", "kind"),
    [
        ("read", {"path": "a.py"}, "read"),
        ("grep", {"pattern": "x"}, "read"),
        ("git", {"action": "diff"}, "read"),
        ("git", {"action": "commit", "message": "m"}, "exec"),
        ("edit", {"path": "a.py"}, "edit"),
        ("apply_patch", {"patch": "..."}, "edit"),
        ("bash", {"command": "ls"}, "exec"),
        ("run_tests", {}, "exec"),
        ("some_new_tool", {}, "exec"),
    ],
)
def test_call_kinds(name: str, arguments: dict[str, str], kind: str) -> None:
    assert call_kind(default_tools(), name, arguments) == kind


def test_every_read_only_tool_is_never_asked_and_every_other_is() -> None:
    tools = default_tools()
    for name in tools.names():
        asked = ApprovalPolicy("ask").needs_approval(name, call_kind(tools, name, {}), {})
        assert asked != tools[name].read_only, name


def test_modes_and_session_allowances() -> None:
    policy = ApprovalPolicy("ask")
    assert policy.needs_approval("edit", "edit", {}) and policy.needs_approval("bash", "exec", LS)
    assert not policy.needs_approval("read", "read", {})
    policy.mode = "auto-edit"
    assert not policy.needs_approval("write", "edit", {}) and policy.needs_approval("bash", "exec", LS)
    policy.allow_for_session("run_tests", {})  # the project's test command, not any command
    assert not policy.needs_approval("run_tests", "exec", {})
    assert policy.needs_approval("run_tests", "exec", {"command": "pytest -x"})
    assert [policy.cycle(), policy.cycle(), policy.cycle()] == ["full-auto", "ask", "auto-edit"]
    assert default_mode("docker", network=False) == "full-auto"
    assert default_mode("docker", network=True) == "ask" and default_mode("local", network=False) == "ask"


LS = {"command": "ls"}


@pytest.mark.parametrize(
    ("name", "allowed", "then", "asked"),
    [
        ("bash", "pytest -q tests/a.py", "pytest -q tests/a.py", False),  # the same command again
        ("bash", "pytest -q tests/a.py", "  pytest -q tests/a.py\n", False),
        ("bash", "pytest -q", "pytest -q --basetemp=/home", True),  # no prefix rules
        ("bash", "uv run pytest", "uv run rm -rf build", True),
        ("bash", "pytest -q", "pytest -q; rm -rf /", True),
        ("run_tests", "pytest -q", "rm -rf build", True),  # run_tests with a command: exactly too
        ("run_tests", None, "rm -rf build", True),
    ],
)
def test_always_for_a_command_allows_that_exact_command(
    name: str, allowed: str | None, then: str, asked: bool
) -> None:
    policy = ApprovalPolicy("ask")
    policy.allow_for_session(name, {} if allowed is None else {"command": allowed})
    assert policy.needs_approval(name, "exec", {"command": then}) == asked


def test_session_rules_say_what_they_allow() -> None:
    assert session_rule("bash", {"command": " cd src && make "}) == "bash= cd src && make"
    assert session_rule("run_tests", {}) == "run_tests"  # the project's own test command
    assert session_rule("edit", {"path": "a.py"}) == "edit"


def test_agents_files_from_user_dir_and_repo_root_down_to_cwd(tmp_path: Path) -> None:
    user = Path(os.environ["XDG_CONFIG_HOME"]) / "trident" / "AGENTS.md"
    user.parent.mkdir(parents=True)
    user.write_text("Answer in English.\n")
    repo = tmp_path / "repo"
    (repo / "pkg" / "sub").mkdir(parents=True)
    (repo / "AGENTS.md").write_text("Run tests with pytest -q.\n")
    (repo / "pkg" / "sub" / "AGENTS.md").write_text("This package is frozen.\n")
    (tmp_path / "AGENTS.md").write_text("outside the repo: never read\n")
    found = find_agents_files(repo, repo / "pkg" / "sub")
    assert [f.path for f in found] == [user, repo / "AGENTS.md", repo / "pkg" / "sub" / "AGENTS.md"]
    assert [f.path for f in find_agents_files(repo, tmp_path)] == [user, repo / "AGENTS.md"]
    prompt = with_agents_files("BASE", found, repo)
    assert prompt.startswith("BASE") and "## pkg/sub/AGENTS.md\n\nThis package is frozen." in prompt
    assert prompt.index("English") < prompt.index("Run tests") < prompt.index("frozen")
    assert with_agents_files("BASE", [], repo) == "BASE"


def test_history_persists_across_sessions_and_walks_like_a_shell(tmp_path: Path) -> None:
    assert history_path().is_relative_to(Path(os.environ["XDG_STATE_HOME"]))
    first = InputHistory()
    for text in ("one", "two", "two", "  ", "three"):
        first.add(text)
    with history_path().open("a") as handle:
        handle.write('"cut sho')  # a line cut by a crash
    again = InputHistory()
    assert again.entries == ["one", "two", "three"]
    assert [again.previous(), again.previous(), again.previous(), again.previous()] == [
        "three",
        "two",
        "one",
        None,
    ]
    assert [again.next(), again.next(), again.next(), again.next()] == ["two", "three", "", None]


async def test_mentions_complete_and_attach(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("print('app')\n")
    (tmp_path / "README.md").write_text("readme\n")
    (tmp_path / "blob.bin").write_bytes(b"\0\1\2")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref\n")
    files = repo_files(tmp_path)
    assert files == ["README.md", "blob.bin", "src/app.py"]
    assert complete("src/a", files) == "src/app.py" and complete("app", files) == "src/app.py"
    assert complete("zzz", files) is None
    assert mentioned("see @src/app.py, and mail me@example.com") == ["src/app.py"]
    (tmp_path.parent / "secret.txt").write_text("outside\n")
    (tmp_path / "big.txt").write_text("x" * (MAX_ATTACH_BYTES + 10))
    sandbox = LocalSandbox(tmp_path)
    try:
        mentions = "fix @src/app.py and @missing.py and @blob.bin and @../secret.txt and @big.txt"
        text, attached = await attach(mentions, sandbox)
        assert await attach("no mention here", sandbox) == ("no mention here", [])
    finally:
        await sandbox.close()
    assert attached == ["src/app.py", "big.txt"]  # missing, binary and outside the workspace: not attached
    assert text.startswith("fix @src/app.py") and "<file path=\"src/app.py\">\nprint('app')\n" in text
    assert f"[... cut at {MAX_ATTACH_BYTES} bytes]" in text and "outside" not in text


def test_edited_paths_of_edit_calls() -> None:
    patch = "--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n--- /dev/null\n+++ b/new.py\n@@ -0,0 +1 @@\n+c\n"
    assert edited_paths("apply_patch", {"patch": patch}) == ["new.py", "x.py"]
    assert edited_paths("write", {"path": "w.py", "content": ""}) == ["w.py"]
    assert edited_paths("apply_patch", {"patch": "not a patch"}) == []
    assert edited_paths("bash", {"command": "rm -rf /"}) == []
