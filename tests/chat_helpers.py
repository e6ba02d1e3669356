"""Interactive sessions for tests: a repo, a scripted model, a local sandbox, an approval policy."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from tests.helpers import OPEN_SANDBOXES, make_workspace, write_session
from trident.agent.config import ApprovalMode, load_settings
from trident.agent.policies.approval import ApprovalPolicy
from trident.agent.session.chat import ChatSession
from trident.sandbox.local import LocalSandbox

CALC = {"calc.py": "def add(a, b):\n    return a - b\n"}


def git_repo(root: Path, files: dict[str, str] | None = None) -> Path:
    """A committed git repository with these files."""
    make_workspace(root, files or CALC)
    env = ["-c", "user.email=test@example.com", "-c", "user.name=test"]
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", *env, "commit", "-qm", "init"], cwd=root, check=True)
    return root


def chat_session(
    tmp_path: Path,
    turns: list[dict[str, Any]],
    *,
    mode: ApprovalMode = "ask",
    files: dict[str, str] | None = None,
    run_id: str = "chat-test",
) -> ChatSession:
    """A session on a fresh git repo under `tmp_path/repo`, replaying `turns`."""
    repo = tmp_path / "repo"
    if not repo.exists():
        git_repo(repo, files)
    session_file = write_session(tmp_path / "session.jsonl", turns)
    OPEN_SANDBOXES.append(LocalSandbox(repo))
    return ChatSession.start(
        load_settings(repo),
        repo,
        f"scripted:{session_file}",
        OPEN_SANDBOXES[-1],
        ApprovalPolicy(mode=mode),
        run_id=run_id,
    )


def edit_turn(old: str = "    return a - b\n", new: str = "    return a + b\n") -> dict[str, Any]:
    return {
        "content": "Fixing `add`.",
        "tool_calls": [{"name": "edit", "arguments": {"path": "calc.py", "old_text": old, "new_text": new}}],
    }


def answer(text: str = "Done.") -> dict[str, Any]:
    return {"content": text, "usage": {"input_tokens": 100, "output_tokens": 10}}
