"""The sandbox interface every tool goes through: files and commands inside one workspace."""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel


class SandboxError(Exception):
    """The sandbox itself failed (container gone, disk full...): an infrastructure error."""


class PathRefused(Exception):
    """A path resolves outside the workspace or to a protected location: the caller's mistake."""


class ExecResult(BaseModel):
    exit_code: int
    output: str  # stdout and stderr interleaved, possibly truncated in the middle
    timed_out: bool = False
    truncated: bool = False
    duration_s: float = 0.0


class Sandbox(Protocol):
    @property
    def workspace(self) -> str:
        """The workspace root, as commands inside the sandbox see it."""
        ...

    async def read_file(self, path: str) -> bytes: ...

    async def write_file(self, path: str, data: bytes) -> None: ...

    async def exec(self, command: str, *, timeout: float, cwd: str | None = None) -> ExecResult: ...

    async def close(self) -> None: ...


def clip_output(data: bytes, limit: int) -> tuple[str, bool]:
    """Decode command output, keeping head and tail when it is longer than `limit` bytes."""
    if len(data) <= limit:
        return data.decode("utf-8", "replace"), False
    half = limit // 2
    head = data[:half].decode("utf-8", "replace")
    tail = data[-half:].decode("utf-8", "replace")
    return f"{head}\n[... {len(data) - 2 * half} bytes of output left out ...]\n{tail}", True
