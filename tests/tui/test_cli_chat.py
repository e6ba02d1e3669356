"""`trident` without a subcommand and `trident chat`: what happens before any screen opens."""

from __future__ import annotations

from pathlib import Path

from tests.test_cli import trident


def test_no_subcommand_without_a_terminal_prints_usage_and_exits_2() -> None:
    result = trident()
    assert result.returncode == 2
    assert result.stderr.startswith("usage: trident") and "needs a terminal" in result.stderr
    assert "chat" in trident("--help").stdout


def test_chat_refuses_a_missing_repo_and_a_missing_model(tmp_path: Path) -> None:
    missing = trident("chat", "--repo", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "is not a directory" in missing.stderr
    no_model = trident("chat", "--repo", str(tmp_path))
    assert no_model.returncode == 2 and "no model configured" in no_model.stderr
    bad_model = trident("chat", "--repo", str(tmp_path), "--model", "scripted:/nonexistent.jsonl")
    assert bad_model.returncode == 5 and "nonexistent" in bad_model.stderr
