"""One switch (`sandbox.kind`) picks the sandbox; everything above sees only the `Sandbox` protocol."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from trident.sandbox.client import RunnerSession
from trident.sandbox.docker import DockerSandbox, DockerSettings
from trident.sandbox.local import LocalSandbox


def open_sandbox(
    kind: Literal["local", "docker"],
    workspace: Path,
    *,
    mode: Literal["bind", "copy"] = "bind",
    user_repo: bool = False,
    image: str | None = None,
    network: bool = False,
    memory_mb: int = 2048,
    cpus: float = 2.0,
    pids_limit: int = 512,
    max_file_mb: int = 1024,
    workspace_mb: int = 2048,
    bind_growth_mb: int = 2048,
) -> RunnerSession:
    """A sandbox on `workspace` (not started: the first request starts it, or call `start()`).

    `user_repo`: `workspace` is the user's own repository, bind-mounted (the TUI): in Docker its
    `.git` is read-only and a root-owned one is refused. Otherwise a bind-mounted workspace is a
    copy trident made. `copy`: in Docker, the workspace is a size-capped tmpfs the directory is copied
    into (headless runs pull it back with `sandbox/checkpoint.py`); the local sandbox always works
    on the directory itself."""
    if kind == "local":
        return LocalSandbox(workspace)
    settings = DockerSettings(
        image=image,
        network=network,
        memory_mb=memory_mb,
        cpus=cpus,
        pids_limit=pids_limit,
        max_file_mb=max_file_mb,
        workspace_mb=workspace_mb,
        bind_growth_mb=bind_growth_mb,
    )
    return DockerSandbox(mode=mode, source=workspace, settings=settings, scratch=not user_repo)
