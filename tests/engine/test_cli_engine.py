"""The `trident` command on `vllm:DIR` in a fresh process: it loads the engine itself (vLLM spawns
its workers; the CLI has the main guard) and keeps stdout to JSON events."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.engine.conftest import TEST_ENGINE
from tests.helpers import make_workspace
from trident.agent.core.events import RunStart


def test_cli_run_on_vllm_in_a_fresh_process(tiny_checkpoint: Path, tmp_path: Path) -> None:
    """The `trident` command loads the engine itself (spawned workers, main guard) and keeps
    stdout to JSON events: vLLM's logs go to stderr."""
    repo = make_workspace(tmp_path / "repo", {"notes.txt": "hello\n"})
    config = tmp_path / "config.toml"
    config.write_text(
        "[engine]\n"
        + "".join(f"{k} = {json.dumps(v)}\n" for k, v in TEST_ENGINE.model_dump().items() if v is not None),
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "trident", "run", "--repo", str(repo), "--task", "Edit notes.txt.",
         "--model", f"vllm:{tiny_checkpoint}", "--sandbox", "local", "--max-steps", "1", "--json"],
        capture_output=True, text=True, timeout=600, env={**os.environ, "TRIDENT_CONFIG": str(config)},
    )  # fmt: skip
    assert result.returncode in (1, 3), result.stderr[-2000:]
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events[0]["type"] == RunStart.model_fields["type"].default
    assert any(e["type"] == "assistant_turn" and e["usage"]["output_tokens"] > 0 for e in events)
    assert events[-1]["type"] == "verdict"
    assert "trident: engine: " in result.stderr  # the forcing counters


def test_engine_check_reports_a_gpu_profile_on_cpu_and_makes_both_calls(
    tiny_checkpoint: Path, tmp_path: Path
) -> None:
    """`trident engine check` with a GPU profile on the CPU build: the GPU-only settings are reported as
    not applicable (not a crash), an explicit setting wins over the profile, vLLM's own choices are
    shown, one tool call and one reasoning call are made, and the verdict is the exit code."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".trident.toml").write_text(
        '[engine]\nprofile = "h200x2-fp8"\nkv_cache_gib = 1\nenforce_eager = true\nmax_model_len = 16384\n',
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "trident", "engine", "check", str(tiny_checkpoint), "--repo", str(repo),
         "--max-tokens", "32"],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "TRIDENT_CONFIG": str(tmp_path / "none.toml")},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line.startswith("  ")}
    assert "(profile) not applicable: the CPU build runs 1" in lines["tensor_parallel_size"]
    assert "FLASH_ATTN_MLA   (profile) not applicable" in lines["attention_backend"]
    assert "(profile) not applicable" in lines["gpu_memory_utilization"]
    assert "16384            (explicit) applied" in lines["max_model_len"]
    assert "max_model_len 16384" in result.stdout and "prefix caching" in result.stdout
    assert "tool call: ok: report_status {" in result.stdout
    assert "reasoning call: ok: " in result.stdout
    assert result.stdout.rstrip().endswith("verdict: PASS: tool calls and reasoning work on this machine")
