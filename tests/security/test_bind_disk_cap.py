"""Item 7: a bind-mounted workspace (the TUI, on the user's repository) has a disk cap in total.

Before, bind mode only had a per-file cap (RLIMIT_FSIZE): a command writing many files filled the
host's disk through `/workspace`. Now the runner bounds what the workspace may grow over the session
(`sandbox.bind_growth_mb`): the command that passes it is killed and its result says why; over the
cap, commands may only delete, and the write tool refuses, until the workspace is back under.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.security.conftest import disk_use
from trident.sandbox.base import PathRefused
from trident.sandbox.docker import DockerSandbox, DockerSettings

MIB = 1024 * 1024
CAP_MB = 48
USER = 1000


def users_folder(path: Path) -> Path:
    """A folder owned by a normal user: trident never binds a root-owned one (commands run as its owner)."""
    path.mkdir()
    (path / "README.md").write_text("the user's project\n")
    if os.geteuid() == 0:
        subprocess.run(["chown", "-R", f"{USER}:{USER}", str(path)], check=True)
    return path


def capped(tmp_path: Path, image: str) -> tuple[Path, int, DockerSandbox]:
    """The user's folder, its disk use, and the TUI's sandbox on it with a small total cap (and a
    per-file cap under it)."""
    repo = users_folder(tmp_path / "repo")
    settings = DockerSettings(image=image, bind_growth_mb=CAP_MB, max_file_mb=8)
    return repo, disk_use(repo), DockerSandbox(mode="bind", source=repo, settings=settings)


async def test_many_files_cannot_fill_the_host_disk_through_a_bind_mount(
    tmp_path: Path, sandbox_image: str
) -> None:
    repo, before, box = capped(tmp_path, sandbox_image)
    try:
        await box.start()
        # 1 GiB in 1 MiB files: each under the per-file cap, twenty times the total cap
        flood = await box.exec(
            "for i in $(seq 1 1024); do head -c 1M /dev/urandom > f$i.bin || break; done; echo finished",
            timeout=120,
        )
        grown = disk_use(repo) - before
        assert flood.killed_by is not None and "disk cap" in flood.killed_by, flood
        assert "bind_growth_mb" in flood.killed_by and "finished" not in flood.output
        assert not flood.timed_out
        assert CAP_MB * MIB < grown <= (CAP_MB + 64) * MIB, grown

        # over the cap: nothing may grow, neither through a command nor through the write tool
        more = await box.exec("echo more > more.txt; echo wrote=$?", timeout=30)
        assert "wrote=0" not in more.output
        assert more.killed_by is not None and "disk cap" in more.killed_by, more
        assert not (repo / "more.txt").exists() or (repo / "more.txt").stat().st_size == 0
        with pytest.raises(PathRefused) as refused:
            await box.write_file("tool.txt", b"x" * 1000)
        assert "disk cap" in str(refused.value)
        assert disk_use(repo) - before <= (CAP_MB + 64) * MIB

        # deleting always works, and then the workspace is usable again (its shell state kept)
        cleanup = await box.exec("rm -f f*.bin more.txt; echo removed=$?", timeout=30)
        assert "removed=0" in cleanup.output and cleanup.killed_by is None, cleanup
        after = await box.exec("cd /tmp && cd /workspace && echo fine > ok.txt && cat ok.txt", timeout=30)
        assert after.exit_code == 0 and after.output.strip() == "fine", after
        await box.write_file("tool.txt", b"ok")
        assert (repo / "tool.txt").read_bytes() == b"ok"

        # over again, then the user deletes on the host: the next write measures again and goes on
        again = await box.exec(
            "for i in $(seq 1 1024); do head -c 1M /dev/zero > g$i.bin || break; done", timeout=120
        )
        assert again.killed_by is not None and "disk cap" in again.killed_by, again
        for path in repo.glob("g*.bin"):
            path.unlink()
        await box.write_file("tool.txt", b"again")
        assert (repo / "tool.txt").read_bytes() == b"again"
    finally:
        await box.close()
    assert disk_use(repo) - before < MIB


async def test_a_folder_made_unreadable_does_not_hide_what_it_holds(
    tmp_path: Path, sandbox_image: str
) -> None:
    """The walk cannot see into a folder the command locked (mode 000): the filesystem's growth counts."""
    repo, before, box = capped(tmp_path, sandbox_image)
    await box.start()
    try:
        flood = await box.exec(
            "mkdir hide && for i in $(seq 1 1024); do head -c 1M /dev/urandom > hide/f$i || break; "
            "chmod 000 hide; chmod 700 hide; done; chmod 000 hide; echo finished",
            timeout=120,
        )
        assert flood.killed_by is not None and "disk cap" in flood.killed_by, flood
        await box.exec("chmod 700 hide", timeout=30)
    finally:
        await box.close()
    assert disk_use(repo) - before <= (CAP_MB + 64) * MIB


def test_the_tuis_sandbox_gets_the_configured_cap_and_a_repo_cannot_raise_it(tmp_path: Path) -> None:
    from trident.agent.config import load_settings
    from trident.agent.wiring import make_sandbox

    repo = users_folder(tmp_path / "repo")
    (repo / ".trident.toml").write_text("[sandbox]\nbind_growth_mb = 999999\n")  # untrusted: ignored
    lines: list[str] = []
    settings = load_settings(repo, {"sandbox": {"kind": "docker"}}, warn=lines.append)
    assert settings.sandbox.bind_growth_mb == 2048 and "sandbox.bind_growth_mb" in lines[0]
    box = make_sandbox(settings.model_copy(deep=True), repo, user_repo=True)
    assert isinstance(box, DockerSandbox) and box.mode == "bind" and box.settings.bind_growth_mb == 2048
