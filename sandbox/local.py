"""A sandbox that is a local directory: no isolation, for hosts without Docker and for tests.

Paths are still confined to the workspace (symlinks resolved), and commands run in their own
process group so a timeout kills everything they started.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import stat
import tempfile
import time
from pathlib import Path

from sandbox.base import ExecResult, FileInfo, PathRefused, SandboxError, clip_output

OUTPUT_LIMIT = 64 * 1024
SKIP_DIRS = frozenset(
    {".git", "node_modules", "__pycache__", ".venv", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
)


class LocalSandbox:
    def __init__(self, root: str | Path) -> None:
        self._root = Path(root).resolve()
        if not self._root.is_dir():
            raise SandboxError(f"workspace {self._root} is not a directory")

    @property
    def workspace(self) -> str:
        return str(self._root)

    @property
    def isolated(self) -> bool:
        return False

    async def list_files(self, path: str = ".", *, limit: int = 100_000) -> list[FileInfo]:
        base = self.resolve(path)
        out: list[FileInfo] = []
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
            for name in sorted(filenames):
                full = Path(dirpath) / name
                st = full.lstat()
                if not stat.S_ISREG(st.st_mode):
                    continue
                out.append(
                    FileInfo(
                        path=full.relative_to(self._root).as_posix(), size=st.st_size, mtime_ns=st.st_mtime_ns
                    )
                )
                if len(out) >= limit:
                    return out
        return out

    async def read_files(self, paths: list[str]) -> dict[str, bytes | None]:
        out: dict[str, bytes | None] = {}
        for path in paths:
            try:
                out[path] = await self.read_file(path)
            except PathRefused:
                out[path] = None
        return out

    def resolve(self, path: str) -> Path:
        candidate = Path(path)
        if not candidate.is_absolute():
            candidate = self._root / candidate
        resolved = candidate.resolve()
        if resolved != self._root and not resolved.is_relative_to(self._root):
            raise PathRefused(f"{path!r} is outside the workspace {self._root}")
        return resolved

    async def read_file(self, path: str) -> bytes:
        target = self.resolve(path)
        try:
            return await asyncio.to_thread(target.read_bytes)
        except FileNotFoundError:
            raise PathRefused(f"{path!r} does not exist") from None
        except IsADirectoryError:
            raise PathRefused(f"{path!r} is a directory") from None

    async def write_file(self, path: str, data: bytes) -> None:
        target = self.resolve(path)
        await asyncio.to_thread(_atomic_write, target, data)

    async def exec(
        self, command: str, *, timeout: float, cwd: str | None = None, env: dict[str, str] | None = None
    ) -> ExecResult:
        workdir = self.resolve(cwd) if cwd else self._root
        started = time.monotonic()
        proc = await asyncio.create_subprocess_exec(
            "/bin/bash",
            "-c",
            command,
            cwd=workdir,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )
        timed_out = False
        try:
            data, _ = await asyncio.wait_for(proc.communicate(), timeout)
        except TimeoutError:
            timed_out = True
            _kill_group(proc.pid)
            data, _ = await proc.communicate()
        except asyncio.CancelledError:
            _kill_group(proc.pid)
            raise
        output, truncated = clip_output(data, OUTPUT_LIMIT)
        return ExecResult(
            exit_code=proc.returncode if proc.returncode is not None else -1,
            output=output,
            timed_out=timed_out,
            truncated=truncated,
            duration_s=time.monotonic() - started,
        )

    async def close(self) -> None:
        return None


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _atomic_write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    mode = target.stat().st_mode & 0o7777 if target.exists() else 0o644
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise SandboxError(f"could not write {target}: {exc}") from exc
