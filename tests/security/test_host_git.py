"""Item 5: the host never runs what the agent (or the repository) wrote.

The agent, in a chat session on the user's repository mounted in Docker, tries to plant
`core.fsmonitor`, a hook and a `gitdir:` redirection: with the write tool and with bash. Then a
`.git/config` planted beforehand (every key that names a program) is shown to run nothing when
trident's host-side git calls (repo discovery, and the git tool's status/diff/log/commit/undo/
branch, which run on the host in that sandbox) touch the repository; while plain git does run it.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.chat_helpers import answer, edit_turn, git_repo
from tests.helpers import write_session
from trident.agent.config import load_settings
from trident.agent.core.events import Event, ToolResult
from trident.agent.policies.approval import ApprovalPolicy
from trident.agent.session.chat import ChatSession
from trident.agent.wiring import make_sandbox
from trident.sandbox import hostgit
from trident.sandbox.local import LocalSandbox
from trident.tools.base import ToolContext
from trident.tools.git import GitTool

USER = 1000


def users_repo(root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A committed repository owned by a normal user (trident refuses to bind a root-owned one);
    host git run as root then takes SUDO_UID as the owner, as under sudo."""
    repo = git_repo(root)
    if os.geteuid() == 0:
        subprocess.run(["chown", "-R", f"{USER}:{USER}", str(repo)], check=True)
        monkeypatch.setenv("SUDO_UID", str(USER))
    return repo


def call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"tool_calls": [{"name": name, "arguments": arguments}]}


def plant(repo: Path, marks: Path) -> dict[str, Path]:
    """Every git key that names a program, in .git/config, each touching its own marker file."""
    marks.mkdir(exist_ok=True)
    names = ["fsmonitor", "hook", "clean", "smudge", "textconv", "external", "pager", "ignored-hook"]
    found = {name: marks / name for name in names}
    hooks = repo / "evil-hooks"
    hooks.mkdir()
    for hook in ("pre-commit", "commit-msg", "post-commit", "post-checkout", "reference-transaction"):
        (hooks / hook).write_text(f"#!/bin/sh\ntouch {found['hook']}\n")
        (hooks / hook).chmod(0o755)
    (repo / ".git" / "hooks" / "post-commit").write_text(f"#!/bin/sh\ntouch {found['ignored-hook']}\n")
    (repo / ".git" / "hooks" / "post-commit").chmod(0o755)
    with (repo / ".git" / "config").open("a") as config:
        config.write(
            f'[core]\n\tfsmonitor = "touch {found["fsmonitor"]}; false"\n\thooksPath = {hooks}\n'
            f'\tpager = "touch {found["pager"]}; cat"\n'
            f'[filter "evil"]\n\tclean = "touch {found["clean"]}; cat"\n'
            f'\tsmudge = "touch {found["smudge"]}; cat"\n'
            f'[diff "evil"]\n\ttextconv = "touch {found["textconv"]}; cat"\n'
            f'[diff]\n\texternal = "touch {found["external"]}; true"\n'
        )
    (repo / ".gitattributes").write_text("*.py filter=evil diff=evil\n")
    return found


def test_plain_git_does_run_the_planted_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The control: the plant works against unhardened git (so the tests below mean something)."""
    repo = users_repo(tmp_path / "repo", monkeypatch)
    marks = plant(repo, tmp_path / "marks")
    (repo / "calc.py").write_text("changed\n")
    subprocess.run(["git", "status"], cwd=repo, capture_output=True, check=False)
    subprocess.run(["git", "-p", "diff"], cwd=repo, capture_output=True, check=False)
    assert marks["fsmonitor"].exists() and marks["clean"].exists()


async def test_a_planted_config_runs_nothing_through_tridents_host_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = users_repo(tmp_path / "repo", monkeypatch)
    marks = plant(repo, tmp_path / "marks")
    (repo / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    assert hostgit.repo_root(repo / ".git" / "..") == repo  # the TUI's repo discovery

    class HostBox(LocalSandbox):  # the git tool's host path, as the Docker bind sandbox sets it
        host_git_repo = repo

    box = HostBox(repo)
    ctx = ToolContext(sandbox=box)
    try:
        tool = GitTool()
        outputs = [
            await tool.invoke({"action": "status"}, ctx),
            await tool.invoke({"action": "diff"}, ctx),
            await tool.invoke({"action": "commit", "message": "Fix add"}, ctx),
            await tool.invoke({"action": "log"}, ctx),
            await tool.invoke({"action": "undo"}, ctx),
            await tool.invoke({"action": "branch", "name": "trident/x"}, ctx),
        ]
    finally:
        await box.close()
    assert [o.ok for o in outputs] == [True] * 6, [o.output for o in outputs]
    assert "committed" in outputs[2].output and "undid" in outputs[4].output
    for name in ("status", "log", "diff"):
        assert hostgit.output([name], repo) is not None
    assert hostgit.output(["rev-parse", "--show-toplevel"], repo) == str(repo)
    assert [name for name, mark in marks.items() if mark.exists()] == []


async def test_the_local_sandboxs_git_tool_is_hardened_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In the local sandbox git runs on this machine: status/diff/commit there run no fsmonitor,
    hook, pager or external diff either (filters are Docker's and the host path's guarantee)."""
    repo = users_repo(tmp_path / "repo", monkeypatch)
    marks = plant(repo, tmp_path / "marks")
    (repo / ".gitattributes").unlink()
    (repo / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    box = LocalSandbox(repo)
    try:
        ctx = ToolContext(sandbox=box)
        for arguments in ({"action": "status"}, {"action": "diff"}, {"action": "commit", "message": "x"}):
            result = await GitTool().invoke(arguments, ctx)
            assert result.ok, result.output
    finally:
        await box.close()
    assert [name for name, mark in marks.items() if mark.exists()] == []


async def test_the_agent_cannot_plant_git_config_or_hooks_in_the_docker_bind_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sandbox_image: str
) -> None:
    repo = users_repo(tmp_path / "repo", monkeypatch)
    marks = tmp_path / "marks"
    marks.mkdir()
    config_before = (repo / ".git" / "config").read_bytes()
    evil_config = f'[core]\n\tfsmonitor = "touch {marks}/fsmonitor; false"\n'
    shell = (
        f"git config core.fsmonitor 'touch {marks}/fsmonitor2; false'; echo config=$?; "
        f"printf '#!/bin/sh\\ntouch {marks}/hook\\n' > .git/hooks/post-commit; echo hook=$?; "
        "mkdir -p evil && printf '[core]\\n\\tfsmonitor = true\\n' > evil/config; "
        "echo 'gitdir: /workspace/evil' > .git; echo gitfile=$?; "
        "echo pwn >> .git/HEAD; echo head=$?; id -u"
    )
    turns = [
        call("write", path=".git/config", content=evil_config),
        call("write", path="sub/.git/hooks/pre-commit", content="#!/bin/sh\n"),
        call("bash", command=shell),
        edit_turn(),
        call("git", action="commit", message="Fix add"),
        call("git", action="status"),
        answer(),
    ]
    session_file = write_session(tmp_path / "s.jsonl", turns)
    settings = load_settings(repo, {"sandbox": {"kind": "docker", "image": sandbox_image}})
    sandbox = make_sandbox(settings, repo, user_repo=True)
    session = ChatSession.start(
        settings, repo, f"scripted:{session_file}", sandbox, ApprovalPolicy("full-auto")
    )
    events: list[Event] = []
    try:
        await session.send("fix add", events.append)
    finally:
        session.close()
        await sandbox.close()
    results = [e for e in events if isinstance(e, ToolResult)]
    write_config, write_nested, bash, edit, commit, status = results[:6]
    assert not write_config.ok and "git directory" in write_config.output
    assert not write_nested.ok and "git directory" in write_nested.output
    for step in ("config", "hook", "gitfile", "head"):
        assert f"{step}=0" not in bash.output, bash.output
    assert bash.output.strip().splitlines()[-1] == str(USER if os.geteuid() == 0 else os.geteuid())
    assert edit.ok and commit.ok, commit.output
    assert "committed" in commit.output and status.ok
    assert (repo / ".git" / "config").read_bytes() == config_before
    assert (repo / ".git").is_dir() and not (repo / ".git" / "hooks" / "post-commit").exists()
    assert list(marks.iterdir()) == []
    message = hostgit.output(["log", "-1", "--format=%B"], repo) or ""
    assert "Generated-by: trident" in message
    assert hostgit.output(["show", "HEAD:calc.py"], repo) == "def add(a, b):\n    return a + b"
