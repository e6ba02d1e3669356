"""The local sandbox (the runner as a subprocess): the same protocol behaviour without Docker."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from trident.sandbox.base import PathRefused
from trident.sandbox.local import LocalSandbox


@pytest.fixture
async def box(tmp_path: Path) -> AsyncIterator[LocalSandbox]:
    (tmp_path / "ws").mkdir()
    (tmp_path / "secret").write_text("no")
    sandbox = LocalSandbox(tmp_path / "ws")
    yield sandbox
    await sandbox.close()


async def test_it_says_it_does_not_isolate(box: LocalSandbox) -> None:
    assert box.isolated is False


async def test_files_are_confined_to_the_workspace(box: LocalSandbox, tmp_path: Path) -> None:
    (tmp_path / "ws" / "link").symlink_to(tmp_path / "secret")
    for path in ("../secret", str(tmp_path / "secret"), "link"):
        with pytest.raises(PathRefused, match="outside the workspace"):
            await box.read_file(path)
    with pytest.raises(PathRefused, match="outside the workspace"):
        await box.write_file("../evil", b"x")
    with pytest.raises(PathRefused, match="does not exist"):
        await box.read_file("missing.txt")
    await box.write_file("deep/new/file.txt", b"data")
    assert (tmp_path / "ws" / "deep" / "new" / "file.txt").read_bytes() == b"data"
    listed = await box.list_files()
    assert [f.path for f in listed] == ["deep/new/file.txt"] and listed[0].size == 4
    assert await box.read_files(["deep/new/file.txt", "nope", "../secret"]) == {
        "deep/new/file.txt": b"data",
        "nope": None,
        "../secret": None,
    }


async def test_write_is_atomic_and_keeps_the_mode(box: LocalSandbox, tmp_path: Path) -> None:
    script = tmp_path / "ws" / "run.sh"
    script.write_text("old")
    script.chmod(0o755)
    await box.write_file("run.sh", b"#!/bin/sh\necho new\n")
    assert (await box.exec("./run.sh", timeout=10)).output == "new\n"
    assert [p.name for p in (tmp_path / "ws").iterdir()] == ["run.sh"]  # no temp files left


async def test_shell_state_persists_and_survives_exit_and_timeouts(box: LocalSandbox) -> None:
    await box.exec("mkdir d && cd d && export A='x y' && f() { echo f$1; }", timeout=10)
    assert (await box.exec('basename "$PWD"; echo "$A"; f 1', timeout=10)).output.split("\n")[:3] == [
        "d",
        "x y",
        "f1",
    ]
    exited = await box.exec("exit 7", timeout=10)
    assert exited.exit_code == 7
    assert (await box.exec('basename "$PWD"; echo "$A"', timeout=10)).output.split() == ["d", "x", "y"]
    started = time.monotonic()
    slow = await box.exec("sleep 30", timeout=0.5)
    assert slow.timed_out and slow.killed_by == "timeout" and time.monotonic() - started < 5
    assert (await box.exec("echo ok", timeout=10)).output == "ok\n"


async def test_per_command_cwd_and_env_do_not_leak(box: LocalSandbox) -> None:
    await box.write_file("sub/x.txt", b"1")
    result = await box.exec('ls; echo "$ONLY_HERE"', timeout=10, cwd="sub", env={"ONLY_HERE": "v"})
    assert result.output.split() == ["x.txt", "v"]
    after = await box.exec('ls; echo "[$ONLY_HERE]"', timeout=10)
    assert after.output.split() == ["sub", "[]"]  # and `cd -` still goes where the shell was before:
    await box.exec("mkdir other && cd sub && cd ..", timeout=10)
    await box.exec("true", timeout=10, cwd="other")  # e.g. run_tests, which runs at the root
    assert (await box.exec("cd - >/dev/null && basename $PWD", timeout=10)).output == "sub\n"
    with pytest.raises(PathRefused):
        await box.exec("true", timeout=10, cwd="../..")
    with pytest.raises(PathRefused, match="is not a directory"):  # not a cd that fails with exit code 0
        await box.exec("echo ran", timeout=10, cwd="sub/x.txt")


async def test_output_is_capped_with_head_and_tail(box: LocalSandbox) -> None:
    result = await box.exec("echo START; head -c 5000000 /dev/zero | tr '\\0' x; echo; echo END", timeout=60)
    assert result.truncated and result.omitted_bytes > 4_900_000
    assert result.output.startswith("START") and result.output.rstrip().endswith("END")
    assert "bytes of output left out" in result.output


async def test_a_background_job_does_not_block_the_command(box: LocalSandbox) -> None:
    started = time.monotonic()
    result = await box.exec("sleep 20 & echo started", timeout=10)
    assert not result.timed_out and time.monotonic() - started < 5
    assert result.output == "started\n[killed 1 background process left running]\n"  # not left running


async def test_memory_limit_stops_a_memory_bomb(tmp_path: Path) -> None:
    box = LocalSandbox(tmp_path, memory_limit_mb=256)
    try:
        result = await box.exec("python3 -c 'x = bytearray(1 << 30)'", timeout=60)
        assert result.exit_code != 0 and "MemoryError" in result.output
    finally:
        await box.close()


async def test_a_cancelled_command_is_killed_and_the_shell_stays(box: LocalSandbox) -> None:
    await box.exec("export KEEP=1", timeout=10)
    running = asyncio.create_task(box.exec("sleep 300 & echo $! > sleeper.pid; wait", timeout=600))
    pid_file = Path(box.workspace) / "sleeper.pid"
    while not pid_file.exists() or not pid_file.read_text().strip():
        await asyncio.sleep(0.05)
    running.cancel()  # what Esc in the TUI does to a step
    with pytest.raises(asyncio.CancelledError):
        await running
    await asyncio.wait_for(box.exec("true", timeout=10), 60)  # served once the killed command has ended
    stat = Path(f"/proc/{pid_file.read_text().strip()}/stat")
    assert not stat.exists() or stat.read_text().split(") ")[1].startswith("Z")
    assert (await box.exec('echo "alive $KEEP"', timeout=10)).output.strip() == "alive 1"
