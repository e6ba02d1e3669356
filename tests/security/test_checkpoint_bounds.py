"""Item 7: the checkpoint pull (copy mode: the container's workspace copied to the host after each
step) is bounded, whatever the commands made of the workspace.

The tmpfs caps what the sandbox holds, not what a naive copy writes on the host: a sparse file of
40 GiB holds no page in the tmpfs, fifty hard links of one file are one file there, and a deep or
long path is fine in the container but not under the host's longer prefix. The pull counts every
file at its full length, each inode once (hard links stay links on the host), and refuses paths
past MAX_PATH_BYTES or folders past MAX_DEPTH, with a clear error, before anything is downloaded.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.helpers import make_workspace, write_session
from tests.security.conftest import disk_use
from tests.security.test_copy_mode import bash
from tests.test_cli import example_args, runs_left, trident
from trident.sandbox import checkpoint
from trident.sandbox.checkpoint import CheckpointError
from trident.sandbox.docker import DockerSandbox, DockerSettings

MIB = 1024 * 1024
CAP_MB = 32


async def test_each_hostile_shape_is_refused_before_anything_reaches_the_host(
    tmp_path: Path, sandbox_image: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = tmp_path / "run"
    workspace = make_workspace(run / "workspace", {"a.txt": "a\n"})
    settings = DockerSettings(image=sandbox_image, workspace_mb=CAP_MB)
    box = DockerSandbox(mode="copy", source=workspace, settings=settings)
    attacks = [
        ("add up to more than", "truncate -s 40G huge.bin"),  # one sparse file: no page in the tmpfs
        ("add up to more than", "for i in 1 2 3; do truncate -s 16M s$i; done"),  # several, in total
        (
            "longer than 1024 bytes",
            'p=.; for i in 1 2 3 4 5; do p=$p/$(printf "n%.0s" $(seq 250)); done; mkdir -p "$p"',
        ),
        ("deeper than 64 levels", "for i in $(seq 70); do mkdir d && cd d; done"),
    ]
    try:
        await box.start()
        await checkpoint.start(box)
        for reason, command in attacks:
            made = await box.exec(f"({command}) && echo made", timeout=60)
            assert "made" in made.output, made.output
            with pytest.raises(CheckpointError, match=reason):
                await checkpoint.pull(box, run, workspace, seq=1)
            assert sorted(p.name for p in workspace.iterdir()) == ["a.txt"]  # nothing of it pulled
            assert disk_use(run) < MIB
            await box.exec("rm -rf huge.bin s1 s2 s3 n* d", timeout=60)
        # too many changes for one answer (64 MiB of listing; here 64 KiB, so a thousand files do)
        monkeypatch.setattr(checkpoint, "MAX_LISTING", 64 * 1024)
        await box.exec("mkdir many && (cd many && touch $(seq -f 'file-%04g' 1000))", timeout=60)
        with pytest.raises(CheckpointError, match="more changes than a listing"):
            await checkpoint.pull(box, run, workspace, seq=1)
        monkeypatch.setattr(checkpoint, "MAX_LISTING", 64 * 1024 * 1024)
        # within the bounds again: the pull goes on from where the last good one was
        cleaned = await box.exec("rm -r many && echo b > b.txt && echo cleaned", timeout=30)
        assert "cleaned" in cleaned.output, cleaned.output
        await checkpoint.pull(box, run, workspace, seq=2)
    finally:
        await box.close()
    assert (workspace / "b.txt").read_text() == "b\n" and checkpoint.recover(run, workspace) == 2


async def test_hard_links_are_pulled_once_and_stay_links(tmp_path: Path, sandbox_image: str) -> None:
    """Fifty names of one 8 MiB file: 400 MiB if each were copied, 8 MiB on the host."""
    run = tmp_path / "run"
    workspace = make_workspace(run / "workspace", {"a.txt": "a\n"})
    settings = DockerSettings(image=sandbox_image, workspace_mb=CAP_MB)
    box = DockerSandbox(mode="copy", source=workspace, settings=settings)
    try:
        await box.start()
        await checkpoint.start(box)
        made = await box.exec(
            "head -c 8M /dev/urandom > big && for i in $(seq 50); do ln big link$i; done && echo made",
            timeout=60,
        )
        assert "made" in made.output, made.output
        await checkpoint.pull(box, run, workspace, seq=1)
    finally:
        await box.close()
    names = [workspace / "big", *(workspace / f"link{i}" for i in range(1, 51))]
    assert {os.lstat(p).st_ino for p in names} == {os.lstat(workspace / "big").st_ino}
    assert os.lstat(workspace / "big").st_nlink == 51 and (workspace / "link7").stat().st_size == 8 * MIB
    assert disk_use(run) < 10 * MIB


def test_a_run_whose_checkpoint_is_refused_ends_with_an_error_event(
    tmp_path: Path, sandbox_image: str
) -> None:
    """End to end: `trident run` stops with exit 4, one line, and an `error` event naming the bound;
    the host copy never gets the sparse file."""
    config = tmp_path / "config.toml"
    config.write_text(f"[sandbox]\nworkspace_mb = {CAP_MB}\n")
    session = write_session(
        tmp_path / "s.jsonl", [bash("truncate -s 20G sparse.bin; echo ok"), {"content": "Done."}]
    )
    args = [*example_args(tmp_path, session), "--sandbox", "docker", "--image", sandbox_image, "--json"]
    result = trident(*args, env={"TRIDENT_CONFIG": str(config)}, timeout=300)
    assert result.returncode == 4, result.stderr
    assert "the workspace was not copied to the host" in result.stderr.splitlines()[-1]
    events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    errors = [e for e in events if e.get("type") == "error"]
    assert errors and errors[-1]["kind"] == "checkpoint" and "add up to more than" in errors[-1]["message"]
    for path in runs_left(tmp_path):
        assert not (path / "sparse.bin").exists()
        assert disk_use(path) < 8 * MIB
