"""Sandboxes to attack: the local one and a real Docker container (no mocks)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from trident.sandbox.client import RunnerSession
from trident.sandbox.docker import DockerSandbox
from trident.sandbox.local import LocalSandbox


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


def disk_use(root: Path) -> int:
    """Real bytes under `root` on the host (allocated blocks, each inode once)."""
    seen: set[int] = set()
    total = 0
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            st = os.lstat(os.path.join(dirpath, name))
            if st.st_ino not in seen:
                seen.add(st.st_ino)
                total += st.st_blocks * 512
    return total
