"""Resuming from the shell (`trident --continue`, `trident chat --resume [ID]`) and `/resume` hiding
sessions that hold no message (nor unsent text)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.chat_helpers import answer, chat_session
from tests.helpers import write_session
from tests.test_cli import trident
from tests.tui.conftest import SIZE, visible_text
from tests.tui.test_app import idle, type_line, until
from tests.tui.test_smoke_tmux import Tmux
from trident.agent.config import ConfigError, load_settings
from trident.agent.policies.approval import ApprovalPolicy
from trident.agent.session.chat import ChatSession
from trident.agent.session.input_history import InputHistory
from trident.agent.session.saved import resumable
from trident.agent.tui.app import TridentApp
from trident.agent.tui.launch import saved_session
from trident.agent.tui.resume_screen import ResumeScreen
from trident.sandbox.local import LocalSandbox


async def saved(tmp_path: Path, run_id: str, message: str | None) -> ChatSession:
    """A saved session of tmp_path/repo with one turn (or none)."""
    session = chat_session(tmp_path, [answer(f"answer to {message}")], run_id=run_id)
    if message is not None:
        await session.send(message, lambda e: None)
    session.close()
    return session


async def test_resume_lists_only_sessions_with_a_message(tmp_path: Path) -> None:
    await saved(tmp_path, "empty1", None)
    talked = await saved(tmp_path, "talked1", "hello there")
    assert [s.run_id for s in resumable(talked.repo)] == ["talked1"]
    assert (
        saved_session(talked.repo, None, True)[0] == talked.writer.path
    )  # --continue: the newest with turns
    assert saved_session(talked.repo, "talk", False)[0] == talked.writer.path  # an id's start is enough
    assert saved_session(talked.repo, "", False) == (None, True)  # --resume alone: the picker
    with pytest.raises(ConfigError, match="no saved session 'nope'"):
        saved_session(talked.repo, "nope", False)
    unsent = await saved(tmp_path, "unsent1", None)  # no message, but text left unsent (a crash)
    unsent.save_draft("a thought\nnot sent yet")
    listed = resumable(talked.repo)
    assert [s.run_id for s in listed] == ["unsent1", "talked1"] and listed[0].title == "(unsent) a thought"
    assert saved_session(talked.repo, None, True)[0] == unsent.writer.path  # --continue brings it back


def test_an_unknown_resume_id_is_refused_before_any_screen(tmp_path: Path) -> None:
    session = write_session(tmp_path / "s.jsonl", [answer()])
    done = trident("chat", "--repo", str(tmp_path), "--model", f"scripted:{session}", "--resume", "nope")
    assert done.returncode == 2 and "no saved session 'nope'" in done.stderr
    assert "--continue" in trident("--help").stdout and "--resume" in trident("chat", "--help").stdout


async def test_the_app_opens_on_a_resumed_session_or_the_picker(tmp_path: Path) -> None:
    await saved(tmp_path, "empty2", None)
    old = await saved(tmp_path, "talked2", "remember 42")
    repo = old.repo
    session_file = write_session(tmp_path / "next.jsonl", [answer("It was 42.")])
    settings = load_settings(repo)
    resumed, _ = ChatSession.resume(
        old.writer.path, settings, repo, f"scripted:{session_file}", LocalSandbox(repo), ApprovalPolicy("ask")
    )
    app = TridentApp(resumed, history=InputHistory(), clock=lambda: 0.0)
    async with app.run_test(size=SIZE) as pilot:
        text = visible_text(app)
        assert "remember 42" in text and "resumed session talked2" in text
    fresh = chat_session(tmp_path, [answer()], run_id="fresh")
    picker = TridentApp(fresh, history=InputHistory(), clock=lambda: 0.0, pick_session=True)
    async with picker.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(picker.screen, ResumeScreen), "the session list")
        screen = picker.screen
        assert isinstance(screen, ResumeScreen)
        assert [s.run_id for s in screen.sessions] == ["talked2"]  # the empty one is hidden
        await pilot.press("enter")
        await until(pilot, lambda: "resumed session talked2" in visible_text(picker), "the resumed session")
        await type_line(pilot, "what was it?")
        await idle(pilot)


@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux (apt-get install tmux)")
async def test_trident_continue_from_the_shell(tmp_path: Path) -> None:
    old = await saved(tmp_path, "talked3", "the magic word is plover")
    config = tmp_path / "config.toml"
    config.write_text('[sandbox]\nkind = "local"\n', encoding="utf-8")
    session = write_session(tmp_path / "next.jsonl", [answer()])
    env = {
        **os.environ,
        "TRIDENT_MODEL": f"scripted:{session}",
        "TRIDENT_CONFIG": str(config),
        "TERM": "xterm-256color",
    }
    tmux = Tmux(f"trident-continue-{os.getpid()}")
    command = f"{sys.executable} -m trident --continue"
    subprocess.run(
        [
            *tmux.base,
            "new-session",
            "-d",
            "-s",
            "smoke",
            "-x",
            "120",
            "-y",
            "40",
            "-c",
            str(old.repo),
            command,
        ],
        env=env,
        check=True,
    )
    try:
        screen = tmux.wait_for("resumed session talked3")
        assert "the magic word is plover" in screen
    finally:
        subprocess.run([*tmux.base, "kill-server"], capture_output=True, check=False)
