"""The system prompt of a coding run."""

from __future__ import annotations

from pathlib import Path


def system_prompt(workspace: str, test_command: str | None) -> str:
    template = (Path(__file__).parent / "system_prompt.md").read_text(encoding="utf-8")
    hint = f" (`run_tests` runs `{test_command}`)" if test_command else ""
    return template.format(workspace=workspace, test_hint=hint).strip()
