"""Item 7: a headless run works in copy mode: its own size-capped tmpfs, never root, never the host.

The agent's workspace is the container's tmpfs `/workspace` (uid 1000, `workspace_mb`), copied in
from trident's host copy; after each step trident pulls what changed back into that host copy
(`sandbox/checkpoint.py`), which `--resume` starts a fresh container from and the verdict's diff is
taken on. Before, a headless run bind-mounted the host copy: a command wrote 3 GiB to the host's
disk through `/workspace`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import EXAMPLE, make_workspace, write_session
from tests.test_cli import TRIDENT, example_args, runs_left, trident
from trident.agent.core.events import ToolCall
from trident.agent.core.trajectory import load
from trident.sandbox import checkpoint
from trident.sandbox.checkpoint import CheckpointError, Entry, Pull
from trident.sandbox.docker import DockerSandbox, DockerSettings

MIB = 1024 * 1024
CAP_MB = 32


def bash(command: str) -> dict[str, Any]:
    return {"tool_calls": [{"name": "bash", "arguments": {"command": command}}]}


def outputs(events: list[Any]) -> list[str]:
    return [e["output"] for e in events if e["type"] == "tool_result"]


def wait_for_call(proc: subprocess.Popen[str], trajectory: Path, needle: str) -> None:
    import time

    deadline = time.monotonic() + 120
    while not any(
        isinstance(e, ToolCall) and needle in json.dumps(e.arguments)
        for e in (load(trajectory) if trajectory.exists() and trajectory.stat().st_size else [])
    ):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"no call with {needle!r}"
        time.sleep(0.05)


def host_bytes(root: Path) -> int:
    return sum(p.lstat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def test_a_flood_fills_only_the_capped_tmpfs_never_the_host(tmp_path: Path, sandbox_image: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"[sandbox]\nworkspace_mb = {CAP_MB}\n")
    env = {"TRIDENT_CONFIG": str(config)}
    flood = bash("id -u; stat -f -c %T /workspace; head -c 100M /dev/zero > big.bin; echo rc=$?")
    hold = bash("if [ ! -e .git/held ]; then touch .git/held; sleep 60; fi; echo held")
    session = write_session(tmp_path / "s.jsonl", [flood, hold, {"content": "Done."}])
    args = [*example_args(tmp_path, session), "--sandbox", "docker", "--image", sandbox_image]
    trajectory = tmp_path / "trajectory.jsonl"
    proc = subprocess.Popen(
        [*TRIDENT, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )
    try:
        wait_for_call(proc, trajectory, "held")
        # the flood's step is over and pulled: the host copy holds what the sandbox held, no more
        (run,) = {p.parent for p in runs_left(tmp_path)}
        workspace = run / "workspace"
        assert (workspace / "big.bin").stat().st_size <= CAP_MB * MIB
        assert host_bytes(run) <= CAP_MB * MIB + host_bytes(EXAMPLE / "repo") + 4 * MIB
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    (workspace / ".git" / "held").touch()  # the held step runs again on resume, without holding
    resumed = trident("run", "--resume", str(trajectory), "--json", env=env)
    assert resumed.returncode == 1, resumed.stderr  # the example's tests still fail: not solved
    flooded = outputs([json.loads(line) for line in trajectory.read_text().splitlines()])[0]
    lines = flooded.splitlines()
    assert lines[1:3] == ["1000", "tmpfs"], flooded  # never root, and /workspace is not a host mount
    assert "No space left on device" in flooded and "rc=1" in flooded
    assert "the workspace's disk is full" in flooded  # said plainly to the model
    assert not runs_left(tmp_path)


def test_links_made_in_the_sandbox_are_never_followed_on_the_host(tmp_path: Path, sandbox_image: str) -> None:
    """Links to a host folder, and a folder turned into a link to it and back: the pulls make links
    as links and replace them, and nothing is ever written into the host folder."""
    victim = tmp_path / "victim"
    victim.mkdir()
    steps = [
        bash(f"ln -s {victim} esc && mkdir d && echo a > d/f && echo x > esc/pwned; echo ok"),
        bash(f"rm -rf d && ln -s {victim} d && echo ok"),
        bash("rm d && mkdir d && echo y > d/f && echo ok"),
    ]
    session = write_session(tmp_path / "s.jsonl", [*steps, {"content": "Done."}])
    args = [*example_args(tmp_path, session), "--sandbox", "docker", "--image", sandbox_image, "--json"]
    result = trident(*[a for a in args if a not in ("--test-cmd", "python3 -m unittest")])
    assert result.returncode == 0, result.stderr  # finished with a patch
    assert list(victim.iterdir()) == []
    patch = (tmp_path / "fix.patch").read_text()
    assert "+++ b/esc\n" in patch and "new file mode 120000" in patch and f"+{victim}" in patch
    assert "+++ b/d/f\n@@ -0,0 +1 @@\n+y\n" in patch


# -- the pull itself, on the host: crash-safe, and never through a link ------------------------------


def test_a_committed_pull_is_redone_whole_after_a_crash(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "run" / "workspace", {"a.txt": "old\n", "gone.txt": "x\n"})
    run = workspace.parent
    data = run / checkpoint.PENDING / "data"
    data.mkdir(parents=True)
    (data / "0").write_text("new\n")
    (data / "1").write_text("made\n")
    record = Pull(
        seq=7,
        changed=[
            Entry(path="a.txt", kind="f", mode=0o755, data="0"),
            Entry(path="sub", kind="d", mode=0o755),
            Entry(path="sub/b.txt", kind="f", mode=0o644, data="1"),
        ],
        deleted=["gone.txt"],
    )
    (run / checkpoint.PENDING / checkpoint.COMMIT).write_text(record.model_dump_json())
    os.replace(data / "0", workspace / "a.txt")  # the killed attempt had applied the first entry
    assert checkpoint.recover(run, workspace) == 7
    assert (workspace / "a.txt").read_text() == "new\n" and (
        workspace / "sub" / "b.txt"
    ).read_text() == "made\n"
    assert not (workspace / "gone.txt").exists() and not (run / checkpoint.PENDING).exists()
    # an uncommitted pull (killed while downloading) is dropped: the last checkpoint stands
    (run / checkpoint.PENDING / "data").mkdir(parents=True)
    assert checkpoint.recover(run, workspace) == 7 and not (run / checkpoint.PENDING).exists()


def test_a_pull_never_writes_through_a_link_on_the_host(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    workspace = make_workspace(tmp_path / "run" / "workspace", {"a.txt": "a\n"})
    (workspace / "esc").symlink_to(victim)
    data = workspace.parent / checkpoint.PENDING / "data"
    data.mkdir(parents=True)
    (data / "0").write_text("pwned\n")
    record = Pull(seq=1, changed=[Entry(path="esc/pwned", kind="f", mode=0o644, data="0")])
    (workspace.parent / checkpoint.PENDING / checkpoint.COMMIT).write_text(record.model_dump_json())
    with pytest.raises(CheckpointError, match="not a directory on the host"):
        checkpoint.recover(workspace.parent, workspace)
    assert list(victim.iterdir()) == []


async def test_hostile_names_and_kind_changes_are_pulled_exactly(tmp_path: Path, sandbox_image: str) -> None:
    """Names that are not UTF-8 or hold a newline (they crashed the pull's record once), a folder
    turned into a file and a file into a folder: the host copy ends up as the sandbox's, byte for byte."""
    run = tmp_path / "run"
    workspace = make_workspace(run / "workspace", {"a.txt": "a\n"})
    box = DockerSandbox(mode="copy", source=workspace, settings=DockerSettings(image=sandbox_image))
    try:
        await box.start()
        await checkpoint.start(box)
        await box.exec("touch $'\\xff\\xfe-bad' $'new\\nline' && mkdir x && echo 1 > x/f", timeout=30)
        await checkpoint.pull(box, run, workspace, seq=1)
        await box.exec("rm -r x && echo 2 > x && rm a.txt && mkdir a.txt && echo 3 > a.txt/in", timeout=30)
        second = await checkpoint.pull(box, run, workspace, seq=2)
    finally:
        await box.close()
    assert second.deleted == ["x/f"]
    names = sorted(bytes(p.relative_to(workspace)) for p in workspace.rglob("*"))
    assert names == [b"a.txt", b"a.txt/in", b"new\nline", b"x", b"\xff\xfe-bad"]
    assert (workspace / "x").read_text() == "2\n" and (workspace / "a.txt" / "in").read_text() == "3\n"
    assert checkpoint.recover(run, workspace) == 2
