"""The sandbox interface every tool goes through: files and commands inside one workspace.

Implementations (local subprocess, Docker container) all talk to the same stdlib-only runner
(`sandbox/runner.py`) over a JSON-lines pipe, so path confinement, timeouts, output caps and the
persistent shell state behave the same everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from pydantic import BaseModel


class SandboxError(Exception):
    """The sandbox itself failed (container gone, runner dead, disk full...): an infrastructure error."""


class PathRefused(Exception):
    """A path resolves outside the workspace, to a protected location, or does not exist."""


class ExecResult(BaseModel):
    exit_code: int  # -N when killed by signal N
    output: str  # stdout and stderr interleaved; when truncated, head and tail with the middle counted
    timed_out: bool = False
    truncated: bool = False
    omitted_bytes: int = 0
    duration_s: float = 0.0
    # "timeout", "out of memory", "file size limit", "signal N", "interrupted", "workspace disk cap: ..."
    killed_by: str | None = None
    background_killed: int = 0  # processes the command left running, killed when it ended
    disk_full: bool = False  # the workspace's filesystem had no space left when the command ended


class RunResult(BaseModel):
    """One program run with `RunnerSession.run` (argv, stdin bytes; stdout and stderr apart)."""

    exit_code: int  # -N when killed by signal N
    stdout: bytes
    stderr: bytes
    stdout_omitted: int = 0  # bytes cut from the middle of stdout (head and tail kept)
    stderr_omitted: int = 0
    timed_out: bool = False
    duration_s: float = 0.0
    background_killed: int = 0  # what it left running, killed once no other run was in flight


class FileInfo(BaseModel):
    path: str  # relative to the workspace root, with forward slashes
    size: int
    mtime_ns: int


class Sandbox(Protocol):
    @property
    def workspace(self) -> str:
        """The workspace root, as commands inside the sandbox see it."""
        ...

    @property
    def isolated(self) -> bool:
        """False for the local sandbox: it confines paths but not processes."""
        ...

    async def exec(
        self,
        command: str,
        *,
        timeout: float,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        limit: int = 64 * 1024,
        on_output: Callable[[str], None] | None = None,
    ) -> ExecResult:
        """Run in the session's shell (cd, variables, functions persist); output capped at `limit` bytes.

        `on_output` gets the output as it comes (in batches, up to a cap), before the result."""
        ...

    async def read_file(self, path: str) -> bytes: ...

    async def write_file(self, path: str, data: bytes) -> None:
        """Atomic (temp file + rename); parents are created."""
        ...

    async def list_files(self, path: str = ".", *, limit: int = 100_000) -> list[FileInfo]:
        """Regular files below `path` (skipping .git and common cache dirs), with size and mtime."""
        ...

    async def read_files(self, paths: list[str], *, limit: int | None = None) -> dict[str, bytes | None]:
        """Many files in one round trip (each cut at `limit` bytes); None for a file that cannot be read."""
        ...

    async def close(self) -> None: ...
