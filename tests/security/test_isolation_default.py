"""Item 7: isolation by default, commands never as root, a per-file write cap, OOM named as such.

- `sandbox.kind = "auto"` (the default) is Docker where an engine answers; with none, local, said
  on stderr with what that means.
- The user's repository bind-mounted (the TUI) is refused when root owns it (commands run as the
  repository's owner, and that must not be root); a headless run's own copy is given to uid 1000.
- In bind mode no process in the sandbox writes a file larger than `sandbox.max_file_mb`, and a
  command killed by that cap says so (`killed_by: "file size limit"`).
- A command killed by the memory limit says "out of memory".
- `trident eval` has the same `auto` default as `run` and `chat`.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.evals.toy_problems import ADD, RIGHT, write_dataset
from tests.helpers import make_workspace, write_session
from tests.test_cli import example_args, runs_left, trident
from trident.agent.config import ConfigError, SandboxConfig, Settings
from trident.agent.wiring import make_sandbox, resolve_sandbox_kind
from trident.sandbox.base import SandboxError
from trident.sandbox.docker import DockerSandbox, DockerSettings

MIB = 1024 * 1024


def test_auto_is_docker_where_an_engine_answers(docker_client: object) -> None:
    said: list[str] = []
    settings = resolve_sandbox_kind(Settings(), say=said.append)
    assert Settings().sandbox.kind == "auto" and settings.sandbox.kind == "docker" and said == []


def test_auto_without_an_engine_is_local_and_says_it_does_not_isolate(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-such.sock")
    if os.geteuid() == 0:  # as root, auto never falls back to local (next tests)
        monkeypatch.setattr(os, "geteuid", lambda: 1000)
    said: list[str] = []
    settings = resolve_sandbox_kind(Settings(), say=said.append)
    assert settings.sandbox.kind == "local"
    assert len(said) == 1 and "no Docker engine answered" in said[0] and "does not isolate" in said[0]
    explicit: list[str] = []
    resolve_sandbox_kind(Settings(sandbox=SandboxConfig(kind="local")), say=explicit.append)
    assert len(explicit) == 1 and "does not isolate" in explicit[0] and "root" not in explicit[0]


# -- item 5: the local sandbox run as root protects nothing ----------------------------------------------

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="trident must run as root")


@as_root
def test_as_root_auto_never_falls_back_to_local(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-such.sock")
    with pytest.raises(ConfigError, match="trident runs as root: it will not fall back to the local sandbox"):
        resolve_sandbox_kind(Settings(), say=pytest.fail)
    said: list[str] = []  # asked for explicitly: it runs, and says plainly what that means
    settings = resolve_sandbox_kind(Settings(sandbox=SandboxConfig(kind="local")), say=said.append)
    assert settings.sandbox.kind == "local"
    assert (
        len(said) == 1 and "trident runs as root: the agent's commands run as root on this machine" in said[0]
    )


@as_root
def test_as_root_a_run_without_docker_is_refused_before_anything_runs(tmp_path: Path) -> None:
    """The attack it prevents: a command that, as root on the host, rewrites the test runner the
    fresh verification uses (or trident itself). Refused before the repository is even copied."""
    marker = tmp_path / "pwned"
    session = write_session(tmp_path / "s.jsonl", [bash_call(f"touch {marker}"), {"content": "Done."}])
    nowhere = {"DOCKER_HOST": f"unix://{tmp_path}/no-such.sock"}
    result = trident(*example_args(tmp_path, session), env=nowhere)
    assert result.returncode == 2, result.stderr
    assert "will not fall back to the local sandbox" in result.stderr.splitlines()[-1]
    assert "Traceback" not in result.stderr and not marker.exists()
    assert not runs_left(tmp_path) and not (tmp_path / "trajectory.jsonl").exists()
    explicit = trident(*example_args(tmp_path, session), "--sandbox", "local", env=nowhere)
    assert explicit.returncode == 1, explicit.stderr  # asked for: it runs (the example is not fixed)
    assert "runs as root" in explicit.stderr and marker.exists()


def bash_call(command: str) -> dict[str, object]:
    return {"tool_calls": [{"name": "bash", "arguments": {"command": command}}]}


@pytest.mark.skipif(os.geteuid() != 0, reason="needs a root-owned directory")
async def test_a_root_owned_user_repo_is_refused_and_a_scratch_copy_runs_as_1000(
    sandbox_image: str, tmp_path: Path
) -> None:
    repo = make_workspace(tmp_path / "repo", {"a.py": "x = 1\n"})
    settings = Settings(sandbox=SandboxConfig(kind="docker", image=sandbox_image))
    refused = make_sandbox(settings, repo, user_repo=True)
    with pytest.raises(SandboxError, match="never runs them as root"):
        await refused.start()
    await refused.close()
    scratch = make_sandbox(settings, repo)  # a headless run's own copy
    try:
        result = await scratch.exec("id -u; echo y >> a.py; cat /proc/self/status | grep CapEff", timeout=30)
    finally:
        await scratch.close()
    assert result.exit_code == 0 and result.output.splitlines()[0] == "1000"
    assert "CapEff:\t0000000000000000" in result.output
    assert (repo / "a.py").stat().st_uid == 1000


def owned_repo(root: Path) -> Path:
    repo = make_workspace(root, {"a.py": "x = 1\n"})
    if os.geteuid() == 0:
        subprocess.run(["chown", "-R", "1000:1000", str(repo)], check=True)
    return repo


async def test_bind_mode_caps_the_size_of_a_written_file(sandbox_image: str, tmp_path: Path) -> None:
    repo = owned_repo(tmp_path / "repo")
    box = DockerSandbox(mode="bind", source=repo, settings=DockerSettings(image=sandbox_image, max_file_mb=8))
    try:
        shell = await box.exec("head -c 64M /dev/zero > big.bin; echo rc=$?", timeout=60)
        python = await box.exec("python3 -c \"open('big2.bin','wb').write(b'0' * (64 << 20))\"", timeout=60)
        killed = await box.exec("head -c 64M /dev/zero > big3.bin", timeout=60)
        dd = await box.exec("dd if=/dev/zero of=big4.bin bs=1M count=64 status=none", timeout=60)
    finally:
        await box.close()
    assert "File size limit exceeded" in shell.output and "rc=0" not in shell.output
    # a command killed by the cap says so in its result, like a timeout or the memory limit
    assert killed.killed_by == "file size limit" and dd.killed_by == "file size limit", (killed, dd)
    assert not killed.timed_out and (repo / "big3.bin").stat().st_size <= 8 * MIB
    assert python.exit_code != 0 and "File too large" in python.output
    assert (repo / "big.bin").stat().st_size <= 8 * MIB and (repo / "big2.bin").stat().st_size <= 8 * MIB


async def test_a_command_past_the_memory_limit_is_named_out_of_memory(
    sandbox_image: str, tmp_path: Path
) -> None:
    box = DockerSandbox(mode="copy", settings=DockerSettings(image=sandbox_image, memory_mb=128))
    try:
        result = await box.exec("python3 -c \"b = b'x' * (512 << 20); print(len(b))\"", timeout=60)
        after = await box.exec("echo still here", timeout=10)
    finally:
        await box.close()
    assert result.killed_by == "out of memory", result
    assert after.output.strip() == "still here"


def eval_args(tmp_path: Path) -> list[str]:
    """`trident eval` grading one right answer to a toy problem (no model, no --sandbox flag)."""
    data = write_dataset(tmp_path / "data" / "toy.jsonl")
    given = tmp_path / "given.json"
    given.write_text(json.dumps([{"question_id": ADD.question_id, "code_list": [RIGHT[ADD.question_id]]}]))
    return ["eval", "--data", str(data.parent), "--generations", str(given), "--limit", "1"]


def recorded_sandbox(out: Path) -> str:
    return str(json.loads((out / "run.json").read_text())["sandbox"])


def test_eval_defaults_to_docker_where_an_engine_answers(tmp_path: Path, sandbox_image: str) -> None:
    result = trident(*eval_args(tmp_path), "--out", str(tmp_path), "--run", "auto")
    assert result.returncode == 0, result.stderr
    assert "sandbox docker" in result.stderr and "does not isolate" not in result.stderr
    assert recorded_sandbox(tmp_path / "auto") == "docker"


def test_eval_without_an_engine_is_local_and_says_it_does_not_isolate(tmp_path: Path) -> None:
    nowhere = {"DOCKER_HOST": f"unix://{tmp_path}/no-such.sock"}
    result = trident(*eval_args(tmp_path), "--out", str(tmp_path), "--run", "auto", env=nowhere)
    if os.geteuid() == 0:  # as root: refused, unless asked for explicitly (item 5)
        assert result.returncode == 2 and "will not fall back" in result.stderr, result.stderr
        assert not (tmp_path / "auto").exists()
        result = trident(*eval_args(tmp_path), "--sandbox", "local", "--out", str(tmp_path), "--run", "auto")
    assert result.returncode == 0, result.stderr
    said = [line for line in result.stderr.splitlines() if "does not isolate" in line]
    assert len(said) == 1, result.stderr
    assert ("runs as root" if os.geteuid() == 0 else "no Docker engine answered") in said[0]
    assert recorded_sandbox(tmp_path / "auto") == "local"


def test_eval_follows_the_configured_sandbox_kind_as_run_does(tmp_path: Path) -> None:
    """No --sandbox: the config's `sandbox.kind` counts (before, `eval` always passed `auto`, so a
    configured `docker` fell back to the local sandbox where no engine answered)."""
    config = tmp_path / "config.toml"
    config.write_text('[sandbox]\nkind = "docker"\n')
    nowhere = {"DOCKER_HOST": f"unix://{tmp_path}/no-such.sock", "TRIDENT_CONFIG": str(config)}
    result = trident(*eval_args(tmp_path), "--out", str(tmp_path), "--run", "docker", env=nowhere)
    assert result.returncode == 4 and "Docker is not reachable" in result.stderr, result.stderr
    assert "does not isolate" not in result.stderr
    assert (
        not (tmp_path / "docker" / "run.json").exists() or recorded_sandbox(tmp_path / "docker") == "docker"
    )
