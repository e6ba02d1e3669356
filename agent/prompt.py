"""The prompts of a coding run: the same system prompt for every run, what varies in the task message.

A server's prefix cache reuses the longest prefix two requests share. Chat templates put the tool
schemas after the system prompt (llama.cpp's, Hermes-style) or around the first user message
(Mistral's), so anything that changes from run to run (the workspace path, the test command) goes
into the first user message, in front of the task, never into the system prompt
(`benchmarks/prompt_cache.py` measures the prefix two runs share).
"""

from __future__ import annotations

from pathlib import Path

SYSTEM_PROMPT = (Path(__file__).parent / "system_prompt.md").read_text(encoding="utf-8").strip()


def system_prompt() -> str:
    return SYSTEM_PROMPT


def run_context(workspace: str, test_command: str | None) -> str:
    """What is particular to this run: where the repository is, what `run_tests` runs."""
    details = [f"The repository is at {workspace}."]
    if test_command:
        details.append(f"`run_tests` runs `{test_command}`.")
    return " ".join(details)


def task_message(task: str, workspace: str, test_command: str | None) -> str:
    """The first user message of a headless run: the run's context, then the task."""
    return f"{run_context(workspace, test_command)}\n\n{task}"
