"""Review and undo in a session: /undo restores the git index too, the test command is detected,
and a turn whose last tests failed says so whatever the model claims."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.chat_helpers import answer, chat_session, edit_turn
from tests.test_cli import trident
from trident.agent.session.preview import preview
from trident.agent.session.test_command import detect_test_command

GIT_ENV = ["-c", "user.email=test@example.com", "-c", "user.name=test"]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *GIT_ENV, *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout


def bash(command: str) -> dict[str, Any]:
    return {"tool_calls": [{"name": "bash", "arguments": {"command": command}}]}


async def test_undo_of_a_staged_edit_unstages_it(tmp_path: Path) -> None:
    session = chat_session(tmp_path, [edit_turn(), bash("git add calc.py"), answer()], mode="full-auto")
    await session.send("fix add and stage it", lambda e: None)
    assert git(session.repo, "diff", "--cached", "--name-only").split() == ["calc.py"]
    answer_text = await session.undo()
    assert "restored calc.py" in answer_text
    assert (session.repo / "calc.py").read_text().endswith("return a - b\n")
    assert git(session.repo, "diff", "--cached", "--name-only") == ""  # nothing left staged
    assert git(session.repo, "status", "--porcelain") == ""


async def test_undo_of_a_created_file_says_removed_and_drops_it_from_the_index(tmp_path: Path) -> None:
    write_new = {"tool_calls": [{"name": "write", "arguments": {"path": "./new.py", "content": "x = 1\n"}}]}
    session = chat_session(tmp_path, [write_new, bash("git add -A"), answer()], mode="full-auto")
    await session.send("add new.py", lambda e: None)
    assert "new.py" in git(session.repo, "diff", "--cached", "--name-only")
    said = await session.undo()
    assert "removed ./new.py" in said and "restored" not in said
    assert not (session.repo / "new.py").exists()
    assert git(session.repo, "status", "--porcelain") == ""
    assert session.notes and "removed" in session.notes[-1]


async def test_undo_of_a_commit_leaves_nothing_staged(tmp_path: Path) -> None:
    commit = {"tool_calls": [{"name": "git", "arguments": {"action": "commit", "message": "Fix add"}}]}
    session = chat_session(tmp_path, [edit_turn(), commit, answer()], mode="full-auto")
    await session.send("fix and commit", lambda e: None)
    assert "Generated-by: trident" in git(session.repo, "log", "-1", "--format=%B")
    said = await session.undo()
    assert "index is as it was before the commit" in said
    assert git(session.repo, "log", "-1", "--format=%s").strip() == "init"
    assert git(session.repo, "diff", "--cached", "--name-only") == ""
    assert (session.repo / "calc.py").read_text().endswith("return a + b\n")  # the change stays, unstaged


@pytest.mark.parametrize(
    ("files", "command"),
    [
        ({"pyproject.toml": "[tool.pytest.ini_options]\n"}, "python -m pytest -q"),
        ({"tests/test_a.py": "import unittest\n"}, "python -m unittest discover -s tests"),
        ({"test_a.py": "def test_x():\n    assert 1\n"}, "python -m pytest -q"),
        ({"package.json": '{"scripts": {"test": "jest"}}'}, "npm test"),
        ({"package.json": '{"scripts": {"test": "echo \\"Error: no test specified\\" && exit 1"}}'}, None),
        ({"Cargo.toml": "[package]\n"}, "cargo test"),
        ({"go.mod": "module x\n"}, "go test ./..."),
        ({"README.md": "hi\n"}, None),
    ],
)
def test_the_test_command_is_detected_from_common_layouts(
    tmp_path: Path, files: dict[str, str], command: str | None
) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert detect_test_command(tmp_path) == command


async def test_a_configured_command_wins_and_a_detected_one_is_used(tmp_path: Path) -> None:
    session = chat_session(tmp_path, [answer()], files={"calc.py": "x = 1\n", "go.mod": "module x\n"})
    assert session.agent.context.test_command == "go test ./..." and session.test_source == "detected"
    found = await preview("run_tests", {}, session.sandbox, session.agent.context.test_command)
    assert found is not None and found.command == "go test ./..."


async def test_a_turn_whose_last_tests_failed_says_so(tmp_path: Path) -> None:
    files = {
        "calc.py": "def add(a, b):\n    return a - b\n",
        "test_calc.py": TEST,
        "pytest.ini": "[pytest]\n",
    }
    run = {"tool_calls": [{"name": "run_tests", "arguments": {}}]}
    session = chat_session(
        tmp_path,
        [run, answer("All tests pass!"), edit_turn(), run, answer("Fixed.")],
        mode="full-auto",
        files=files,
    )
    await session.send("run the tests", lambda e: None)
    failed = session.tests_failed()
    assert failed is not None and failed.startswith("FAILED: 1 failed")
    await session.send("fix it", lambda e: None)
    assert session.tests_failed() is None  # the last run of this turn passed


def test_chat_takes_a_test_command_flag() -> None:
    assert "--test-cmd" in trident("chat", "--help").stdout


TEST = "from calc import add\n\ndef test_add():\n    assert add(1, 2) == 3\n"
