"""The local sandbox: the runner as a plain subprocess on this machine. Confines paths, not processes.

For machines without Docker. Commands run as the current user with the runner's process groups,
timeouts, output caps and an address-space rlimit; nothing stops them from reading or writing
elsewhere on the machine, and `isolated` says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import tempfile
from pathlib import Path

from trident.sandbox.base import SandboxError
from trident.sandbox.client import RUNNER_SOURCE, RunnerSession

STREAM_LIMIT = 256 * 1024 * 1024  # the longest answer line (a base64 file) the client accepts


class LocalSandbox(RunnerSession):
    def __init__(self, root: str | Path, *, memory_limit_mb: int | None = None) -> None:
        self._root = Path(root).resolve()
        super().__init__(workspace=str(self._root), isolated=False)
        self._memory_limit_mb = memory_limit_mb
        self._proc: asyncio.subprocess.Process | None = None
        self._state = tempfile.TemporaryDirectory(prefix="trident-shell-")

    async def _connect(self) -> None:
        if not self._root.is_dir():
            raise SandboxError(f"workspace {self._root} is not a directory")
        memory = str((self._memory_limit_mb or 0) * 1024 * 1024)
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-u",
            "-c",
            RUNNER_SOURCE,
            "--root",
            str(self._root),
            "--state",
            self._state.name,
            "--memory-limit",
            memory,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=STREAM_LIMIT,
        )
        assert self._proc.stdin is not None and self._proc.stdout is not None
        await self.attach(self._proc.stdout, self._proc.stdin)

    async def _on_dead(self) -> None:
        if self._proc is not None and self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.kill()
            await self._proc.wait()

    async def close(self) -> None:
        await super().close()
        if self._proc is not None:
            try:
                await asyncio.wait_for(self._proc.wait(), 5)
            except TimeoutError:
                await self._on_dead()
        self._state.cleanup()
