"""Sandboxes to attack: the local one and a real Docker container (no mocks)."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from trident.sandbox.client import RunnerSession
from trident.sandbox.docker import DockerSandbox, DockerSettings
from trident.sandbox.local import LocalSandbox


@pytest.fixture(params=["local", "docker"])
async def box(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[RunnerSession]:
    sandbox: RunnerSession
    if request.param == "local":
        (tmp_path / "ws").mkdir()
        sandbox = LocalSandbox(tmp_path / "ws")
    else:
        image = request.getfixturevalue("sandbox_image")
        sandbox = DockerSandbox(mode="copy", settings=DockerSettings(image=image))
    await sandbox.start()
    yield sandbox
    await sandbox.close()


def python(box: RunnerSession) -> str:
    return "python3" if box.isolated else sys.executable


def separated(box: RunnerSession) -> bool:
    """Whether commands run under another uid than the runner (Docker), or at least not as root
    (the local sandbox run by a normal user): then the kernel refuses them the runner's /proc."""
    return box.info["command_uid"] != box.info["uid"] or os.getuid() != 0


def runner_host_pid(box: RunnerSession) -> int:
    """The runner's pid as the host sees it (to freeze it from outside)."""
    if isinstance(box, LocalSandbox):
        assert box._proc is not None
        return box._proc.pid
    assert isinstance(box, DockerSandbox)
    top = box.container.top(ps_args="-eo pid,args")
    for row in top["Processes"]:
        if "python3 -u -c" in row[-1] and "docker-init" not in row[-1]:
            return int(row[0])
    raise AssertionError(f"no runner in {top}")


def freeze(pid: int) -> None:
    os.kill(pid, signal.SIGSTOP)
