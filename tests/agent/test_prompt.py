"""The system prompt is the same for every run; what varies (workspace, test command) is in the task."""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console

from tests.helpers import EXAMPLE
from trident.agent.core.events import BackendRetry
from trident.agent.headless.progress import Progress, summary
from trident.agent.prompt import system_prompt, task_message
from trident.cli import main
from trident.tools.registry import default_tools


def test_runs_in_other_workspaces_share_the_system_prompt() -> None:
    first = task_message("fix a", "/tmp/run-1/workspace", "pytest -q")
    second = task_message("fix b", "/tmp/run-2/workspace", "python -m unittest")
    assert "/tmp/run-1" not in system_prompt() and "pytest" not in system_prompt()
    assert first.startswith("The repository is at /tmp/run-1/workspace. `run_tests` runs `pytest -q`.")
    assert first.endswith("\n\nfix a") and second.endswith("\n\nfix b")
    assert task_message("t", "/w", None) == "The repository is at /w.\n\nt"


def test_a_headless_run_sends_the_stable_system_prompt(tmp_path: Path) -> None:
    trajectory = tmp_path / "t.jsonl"
    session = f"scripted:{EXAMPLE / 'session.jsonl'}"
    args = [
        "run",
        "--sandbox",
        "local",
        "--repo",
        str(EXAMPLE / "repo"),
        "--task-file",
        str(EXAMPLE / "task.md"),
    ]
    args += ["--test-cmd", "python3 -m unittest", "--model", session, "--trajectory-out", str(trajectory)]
    code = main([*args, "--patch-out", str(tmp_path / "p.patch")])
    assert code == 0
    events = [json.loads(line) for line in trajectory.read_text().splitlines()]
    system = next(e for e in events if e["type"] == "system_message")
    user = next(e for e in events if e["type"] == "user_message")
    assert system["text"] == system_prompt()
    assert "`run_tests` runs `python3 -m unittest`." in user["text"]
    assert (
        user["text"].endswith((EXAMPLE / "task.md").read_text().strip())
        or (EXAMPLE / "task.md").read_text() in user["text"]
    )


def test_progress_summarises_an_answer_by_its_first_informative_line() -> None:
    assert summary('```json\n{"name": "edit"}\n```') == '[code] {"name": "edit"}'
    assert summary("## Fixed\nThe bug was in x.\nDone.") == "Fixed (+2 more lines)"
    assert summary("All good.") == "All good."
    assert summary("one\n\n```py\nx = 1\n```") == "one (+1 more line)"
    assert summary("   ") == ""


def test_the_system_prompt_names_every_default_tool() -> None:
    """A tool the prompt never names is one the model rarely thinks of (the task list above all)."""
    missing = [name for name in default_tools().names() if f"`{name}`" not in system_prompt()]
    assert missing == []


def test_progress_shows_the_backends_retries() -> None:
    out = io.StringIO()
    Progress(Console(file=out, width=200)).show(
        BackendRetry(attempt=2, retries=5, reason="the server answered 503 (loading model)", delay_s=1.0)
    )
    assert out.getvalue().strip() == "the server answered 503 (loading model): retrying (2/5) in 1.0s"
