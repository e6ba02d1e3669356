"""Closing the terminal (SIGHUP) while a command runs: the command stops and the Docker container is
removed at once, not left to a later session's gc. The real `trident chat --sandbox docker` in tmux."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import docker
import pytest

from tests.chat_helpers import answer, git_repo
from tests.helpers import write_session
from tests.tui.test_smoke_tmux import Tmux
from trident.sandbox.docker import LABEL

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux (apt-get install tmux)")


def containers_on(client: Any, repo: Path) -> list[str]:
    """The ids of trident's sandbox containers with `repo` bind-mounted. From the listing alone:
    `containers.list` inspects each one after listing it, which fails on a container removed in
    between (the very removal this test waits for)."""
    found = []
    for summary in client.api.containers(all=True, filters={"label": LABEL}):
        mounts = summary.get("Mounts") or []
        if any(m.get("Source") == str(repo) for m in mounts):
            found.append(summary["Id"])
    return found


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    """Running (not a zombie waiting for its parent to reap it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def test_closing_the_terminal_removes_the_container_at_once(
    docker_client: Any, sandbox_image: str, tmp_path: Path
) -> None:
    repo = git_repo(tmp_path / "repo").resolve()
    if os.geteuid() == 0:  # a root-owned repository is refused: commands never run as root
        subprocess.run(["chown", "-R", "1000:1000", str(repo)], check=True)
    long = {"tool_calls": [{"name": "bash", "arguments": {"command": "echo started-$((40 + 2)); sleep 300"}}]}
    session = write_session(tmp_path / "session.jsonl", [long, answer("never")])
    tmux = Tmux(f"trident-hangup-{os.getpid()}")
    command = f"{sys.executable} -m trident chat --sandbox docker --image {sandbox_image}"
    env = {**os.environ, "TRIDENT_MODEL": f"scripted:{session}", "TERM": "xterm-256color"}
    subprocess.run(
        [*tmux.base, "new-session", "-d", "-s", "smoke", "-x", "120", "-y", "40", "-c", str(repo), command],
        env=env,
        check=True,
    )
    try:
        tmux.wait_for("Ask trident", timeout_s=120)
        tmux.run("send-keys", "-t", "smoke", "-l", "run the long thing")
        tmux.run("send-keys", "-t", "smoke", "Enter")
        tmux.wait_for("started-42", timeout_s=60)  # its output (not the card's arguments): it runs
        [container] = containers_on(docker_client, repo)
        assert "sleep" in str(docker_client.api.top(container))
        pane = int(tmux.run("display-message", "-p", "-t", "smoke", "#{pane_pid}").strip())
        processes = [pane, *descendants(pane)]  # trident itself (or the shell tmux started it with)
        tmux.run("kill-server")  # the terminal goes: its processes get SIGHUP
        deadline = time.monotonic() + 5
        while containers_on(docker_client, repo) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert containers_on(docker_client, repo) == [], "the container outlived the terminal"
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in processes) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in processes if alive(pid)], "trident outlived its terminal"
    finally:
        subprocess.run([*tmux.base, "kill-server"], capture_output=True, check=False)
        for container in containers_on(docker_client, repo):
            with contextlib.suppress(docker.errors.NotFound):
                docker_client.api.remove_container(container, force=True)
