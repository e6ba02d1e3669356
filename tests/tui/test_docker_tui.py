"""The TUI on a real Docker sandbox: full-auto by default (no network), and the status bar says so."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.chat_helpers import answer, edit_turn, git_repo
from tests.helpers import write_session
from tests.tui.conftest import SIZE, visible_text
from tests.tui.test_app import idle, type_line
from trident.agent.config import load_settings
from trident.agent.policies.approval import ApprovalPolicy, default_mode
from trident.agent.session.chat import ChatSession
from trident.agent.session.input_history import InputHistory
from trident.agent.tui.app import TridentApp
from trident.sandbox.docker import DockerSandbox, DockerSettings


async def test_docker_sandbox_runs_full_auto_and_says_so(sandbox_image: str, tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo")
    if os.geteuid() == 0:  # a root-owned repository is refused: commands never run as root
        subprocess.run(["chown", "-R", "1000:1000", str(repo)], check=True)
    probe = {
        "tool_calls": [{"name": "bash", "arguments": {"command": "echo inside $(hostname) as $(id -u)"}}]
    }
    session_file = write_session(tmp_path / "s.jsonl", [probe, edit_turn(), answer("Done in the container.")])
    settings = load_settings(repo, {"sandbox": {"kind": "docker", "image": sandbox_image}})
    sandbox = DockerSandbox(mode="bind", source=repo, settings=DockerSettings(image=sandbox_image))
    mode = default_mode(settings.sandbox.kind, settings.sandbox.network)
    session = ChatSession.start(settings, repo, f"scripted:{session_file}", sandbox, ApprovalPolicy(mode))
    app = TridentApp(session, history=InputHistory(), clock=lambda: 0.0)
    async with app.run_test(size=SIZE) as pilot:
        status = str(app.status_bar.content)
        assert "docker, no network" in status and "full-auto" in status
        assert "full-auto: the Docker sandbox has no network" in visible_text(app)
        await type_line(pilot, "fix add")
        await idle(pilot)
        assert "Done in the container." in visible_text(app)
        assert f"as {repo.stat().st_uid}" in visible_text(app)  # the bind mount's owner, in the container
    assert (repo / "calc.py").read_text().endswith("return a + b\n")
