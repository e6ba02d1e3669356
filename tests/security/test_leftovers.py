"""Item 3: when a command ends or times out, every process it started is gone, and the count is told."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from tests.helpers import COUNT_SLEEPERS, python
from trident.sandbox.client import RunnerSession
from trident.sandbox.docker import DockerSandbox, DockerSettings


async def alive(box: RunnerSession, *seconds: str) -> int:
    """How many `sleep SECONDS` processes (marker values no one else uses) are alive."""
    result = await box.exec(
        f'{python(box)} -c "$FIND" {" ".join(seconds)}', timeout=30, env={"FIND": COUNT_SLEEPERS}
    )
    return int(result.output.split()[0])


async def test_background_jobs_do_not_outlive_their_command(box: RunnerSession) -> None:
    result = await box.exec(
        "sleep 61.01 & sleep 61.02 & disown; nohup sleep 61.03 >/dev/null 2>&1 & echo started", timeout=30
    )
    assert result.exit_code == 0 and result.background_killed == 3
    assert result.output == "started\n[killed 3 background processes left running]\n"
    assert await alive(box, "61.01", "61.02", "61.03") == 0


async def test_setsid_and_double_forked_daemons_are_killed_at_the_end(box: RunnerSession) -> None:
    daemon = (
        "import os, sys\n"
        "if os.fork(): sys.exit(0)\n"
        "os.setsid()\n"
        "if os.fork(): os._exit(0)\n"
        "for fd in range(3): os.close(fd)\n"
        "os.execvp('sleep', ['sleep', '62.03'])\n"
    )
    command = f'setsid sleep 62.01 & (sleep 62.02 &); {python(box)} -c "$DAEMON"; echo done'
    result = await box.exec(command, timeout=30, env={"DAEMON": daemon})
    assert result.output.startswith("done\n") and result.background_killed == 3, result.output
    assert await alive(box, "62.01", "62.02", "62.03") == 0


async def test_a_timeout_kills_setsid_and_double_forked_children(box: RunnerSession) -> None:
    command = "setsid sleep 63.01 & (setsid sleep 63.02 &); sleep 63.03"
    result = await box.exec(command, timeout=1)
    assert result.timed_out and result.killed_by == "timeout" and result.duration_s < 10
    assert await alive(box, "63.01", "63.02", "63.03") == 0


async def test_a_cancelled_command_leaves_nothing(box: RunnerSession) -> None:
    running = asyncio.create_task(
        box.exec("setsid sleep 64.01 & (sleep 64.02 &); touch go; sleep 64.03", timeout=60)
    )
    while True:  # file reads are served while the command runs
        try:
            await box.read_file("go")
            break
        except Exception:
            await asyncio.sleep(0.05)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert await alive(box, "64.01", "64.02", "64.03") == 0


def free_port() -> int:
    """A port nothing listens on now (the local sandbox shares this machine's loopback with
    other runs of this very test: a fixed port could answer from another run's server)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_server_in_the_foreground_of_its_command_still_works(box: RunnerSession) -> None:
    port = free_port()
    server = (
        f"{python(box)} -m http.server {port} --bind 127.0.0.1 >/dev/null 2>&1 & "
        f'for i in $(seq 100); do {python(box)} -c "$GET" && break; sleep 0.1; done'
    )
    get = f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{port}/', timeout=1)"
    result = await box.exec(server, timeout=60, env={"GET": get})
    assert result.exit_code == 0 and result.background_killed == 1, result.output


async def test_a_fork_bomb_ends_with_its_command(sandbox_image: str, tmp_path: Path) -> None:
    """Docker only: a fork bomb on the local sandbox would be one on the host."""
    box = DockerSandbox(mode="copy", settings=DockerSettings(image=sandbox_image, pids_limit=64))
    try:
        result = await box.exec("bomb() { bomb | bomb & }; bomb; echo launched", timeout=20)
        assert result.exit_code == 0 and "launched" in result.output
        assert result.background_killed > 0 and not result.timed_out
        for _ in range(3):  # the next commands work, and nothing of the bomb is left
            after = await box.exec("ls /proc | grep -c '^[0-9]'", timeout=20)
            assert after.exit_code == 0 and int(after.output.split()[0]) < 10, after.output
        timed = await box.exec("bomb() { bomb | bomb; }; bomb", timeout=3)
        assert timed.timed_out
        after = await box.exec("echo alive", timeout=20)
        assert after.output == "alive\n" and after.background_killed == 0
    finally:
        await box.close()


async def test_runs_leave_nothing_once_the_last_one_ends(box: RunnerSession) -> None:
    # The setsid'd sleep is in its own session before the command ends (else the group kill, which is
    # not counted, would take it); the other sleep stays in the command's group.
    script = (
        'r=$(mktemp -d)/ready; setsid sh -c "touch $r; exec sleep 65.01" & (sleep 65.02 &); '
        'while [ ! -e "$r" ]; do sleep 0.01; done; echo ok'
    )
    run = await box.run(["bash", "-c", script], timeout=30)
    assert run.stdout == b"ok\n" and run.background_killed >= 1
    assert await alive(box, "65.01", "65.02") == 0
