"""The real `trident` in a real terminal (tmux): type a task, read the screen until the edit shows."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.chat_helpers import answer, edit_turn, git_repo
from tests.helpers import write_session

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux (apt-get install tmux)")


class Tmux:
    """One private tmux server (its own socket) running one window."""

    def __init__(self, socket: str) -> None:
        self.base = ["tmux", "-L", socket, "-f", "/dev/null"]

    def run(self, *args: str) -> str:
        return subprocess.run([*self.base, *args], capture_output=True, text=True, check=True).stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "smoke")

    def wait_for(self, text: str, timeout_s: float = 60) -> str:
        deadline = time.monotonic() + timeout_s
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared; the screen:\n{screen}")


def test_trident_in_tmux_shows_the_scripted_edit(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo")
    session = write_session(tmp_path / "session.jsonl", [edit_turn(), answer("Fixed add for you.")])
    tmux = Tmux(f"trident-smoke-{os.getpid()}")
    command = f"{sys.executable} -m trident; echo exited $?; sleep 60"  # the screen after it stays
    config = tmp_path / "config.toml"  # the user's choice of the local sandbox (Docker would not ask)
    config.write_text('[sandbox]\nkind = "local"\n', encoding="utf-8")
    env = {
        **os.environ,
        "TRIDENT_MODEL": f"scripted:{session}",
        "TRIDENT_CONFIG": str(config),
        "TERM": "xterm-256color",
    }
    subprocess.run(
        [*tmux.base, "new-session", "-d", "-s", "smoke", "-x", "120", "-y", "40", "-c", str(repo), command],
        env=env,
        check=True,
    )
    try:
        tmux.wait_for("Ask trident")  # `trident` alone, inside a repository, opened the app
        tmux.run("send-keys", "-t", "smoke", "-l", "fix add please")
        tmux.run("send-keys", "-t", "smoke", "Enter")
        tmux.wait_for("trident wants to edit files")  # the local sandbox asks before edits
        tmux.run("send-keys", "-t", "smoke", "y")
        screen = tmux.wait_for("Fixed add for you.")
        assert "+    return a + b" in screen and "Edited calc.py" in screen
        assert (repo / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
        tmux.run("send-keys", "-t", "smoke", "-l", "/quit")
        tmux.run("send-keys", "-t", "smoke", "Enter")
        screen = tmux.wait_for("exited 0", timeout_s=30)  # the app quit
        assert "trident: session " in screen and "trident chat --resume" in screen  # how to come back
    finally:
        subprocess.run([*tmux.base, "kill-server"], capture_output=True, check=False)
