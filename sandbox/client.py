"""The host side of the runner protocol, shared by every sandbox: requests, answers, watchdog.

`RunnerSession` implements the `Sandbox` protocol on top of any pair of byte streams connected to
a `sandbox/runner.py` process (a local subprocess's pipes, a Docker attach socket).

The session key: a fresh random key is the first line written to the runner (never in its argv or
environment, which processes in the sandbox could read); every later line both ways carries an
HMAC of its body under that key. A line on the runner's output without a valid one did not come
from the runner (something inside the sandbox reached its channel): a protocol violation, which
ends the session rather than let a forged answer through.

The watchdog: every request has a deadline (its own timeout plus a grace); one not answered by
then ends the session (the runner process or container is killed) with a clear error, whether or
not the runner still answers anything else.
"""

from __future__ import annotations

import asyncio
import base64
import codecs
import contextlib
import errno
import hashlib
import hmac
import io
import itertools
import json
import secrets
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from trident.sandbox.base import ExecResult, FileInfo, PathRefused, RunResult, SandboxError

RUNNER_SOURCE = (Path(__file__).parent / "runner.py").read_text(encoding="utf-8")
UPLOAD_CHUNK = 4 * 1024 * 1024
REQUEST_GRACE_S = 15.0  # beyond a request's own deadline, before the session is declared dead
DISK_FULL = "the workspace's disk is full: no space left (the sandbox's size cap, or the host's disk)"


class LineReader(Protocol):
    async def readline(self) -> bytes: ...


class ByteWriter(Protocol):
    def write(self, data: bytes) -> None: ...

    async def drain(self) -> None: ...


class RunnerSession:
    """Talks to one runner. Subclasses start it in `_connect` (called lazily, once) and call `attach`."""

    def __init__(self, *, workspace: str, isolated: bool) -> None:
        self._workspace, self._isolated = workspace, isolated
        self._reader: LineReader | None = None
        self._writer: ByteWriter | None = None
        self._ids = itertools.count(1)
        self._exec_id = 0  # the last exec request: the one an interrupt cancels
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._listeners: dict[int, Callable[[bytes], None]] = {}  # live output by request id
        self._dead: str | None = None
        self._pump: asyncio.Task[None] | None = None
        self._connecting: asyncio.Lock | None = None
        self.info: dict[str, Any] = {}
        self.request_grace_s = REQUEST_GRACE_S
        self._closing = False
        self._key = secrets.token_bytes(32)

    async def _connect(self) -> None:
        """Start the runner and `attach` to it."""
        raise NotImplementedError

    async def _on_dead(self) -> None:
        """The runner stopped answering: make sure it is gone (kill the process or container)."""

    async def attach(self, reader: LineReader, writer: ByteWriter, timeout: float = 30.0) -> None:
        self._reader, self._writer = reader, writer
        writer.write(json.dumps({"key": self._key.hex()}).encode() + b"\n")  # the runner reads it first
        self._pump = asyncio.create_task(self._read_answers())
        self.info = await self._request("hello", timeout=timeout, fields={})

    async def start(self) -> None:
        """Start the runner now (otherwise the first request does)."""
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self._writer is None:
                await self._connect()

    @property
    def workspace(self) -> str:
        return self._workspace

    @property
    def isolated(self) -> bool:
        return self._isolated

    # -- protocol ----------------------------------------------------------------------------
    async def _read_answers(self) -> None:
        reason = "the sandbox runner closed its output"
        assert self._reader is not None
        try:
            while True:
                line = await self._reader.readline()
                if not line:
                    break
                mac, _, body = line.rstrip(b"\n").partition(b" ")
                if not hmac.compare_digest(mac, _sign(self._key, b"answer", body)):
                    reason = (
                        "protocol violation: a line on the sandbox runner's channel was not signed "
                        "with the session key (a process inside the sandbox wrote to it); session stopped"
                    )
                    break
                try:
                    answer = json.loads(body)
                except ValueError:
                    continue
                if answer.get("progress"):
                    listener = self._listeners.get(answer.get("id"))
                    if listener is not None:
                        listener(base64.b64decode(answer.get("data", "")))
                    continue
                future = self._pending.pop(answer.get("id"), None)
                if future is not None and not future.done():
                    future.set_result(answer)
        except (OSError, asyncio.IncompleteReadError) as exc:
            reason = f"lost the connection to the sandbox runner: {exc}"
        first = self._dead is None
        self._fail_all(reason)
        if first and not self._closing:
            await self._on_dead()  # the runner died or was impersonated: nothing of it may be left

    def _fail_all(self, reason: str) -> None:
        self._dead = self._dead or reason
        for future in self._pending.values():
            if not future.done():
                future.set_exception(SandboxError(self._dead))
        self._pending.clear()

    async def call(
        self,
        op: str,
        *,
        timeout: float = 60.0,
        on_progress: Callable[[bytes], None] | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        if self._writer is None:
            await self.start()
        return await self._request(op, timeout=timeout, fields=fields, on_progress=on_progress)

    async def _request(
        self,
        op: str,
        *,
        timeout: float,
        fields: dict[str, Any],
        on_progress: Callable[[bytes], None] | None = None,
    ) -> dict[str, Any]:
        if self._dead:
            raise SandboxError(self._dead)
        assert self._writer is not None
        request_id = next(self._ids)
        if op == "exec":
            self._exec_id = request_id
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        if on_progress is not None:
            self._listeners[request_id] = on_progress
        try:
            self._writer.write(self._line({"id": request_id, "op": op, **fields}))
            await self._writer.drain()
        except (OSError, RuntimeError) as exc:
            self._pending.pop(request_id, None)
            await self._die(f"cannot write to the sandbox runner: {exc}")
        deadline = timeout + self.request_grace_s
        try:
            answer = await asyncio.wait_for(asyncio.shield(future), deadline)
        except TimeoutError:
            await self._die(
                f"the sandbox runner did not answer {op} within its deadline ({timeout:g} s + "
                f"{self.request_grace_s:g} s grace): the sandbox session was stopped"
            )
            raise  # unreachable: _die raises
        finally:
            self._pending.pop(request_id, None)
            self._listeners.pop(request_id, None)
        if answer.get("ok"):
            return answer
        kind, message = answer.get("kind"), str(answer.get("error"))
        if kind == "path":
            raise PathRefused(message)
        if kind == "os" and answer.get("errno") in (errno.ENOSPC, errno.EDQUOT):
            raise SandboxError(f"the sandbox's disk is full: {message}")
        if kind == "os" and answer.get("errno") in (errno.EACCES, errno.EROFS, errno.EPERM):
            raise PathRefused(f"not permitted: {message}")
        raise SandboxError(f"sandbox runner failed on {op}: {message}")

    def _line(self, request: dict[str, Any]) -> bytes:
        body = json.dumps(request).encode()
        return _sign(self._key, b"request", body) + b" " + body + b"\n"

    async def _die(self, reason: str) -> None:
        first = self._dead is None
        self._fail_all(reason)
        if first:
            await self._on_dead()
        raise SandboxError(reason)

    # -- the Sandbox protocol ----------------------------------------------------------------
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
        listener = None
        if on_output is not None:
            decoder = codecs.getincrementaldecoder("utf-8")("replace")
            listener = lambda data: on_output(decoder.decode(data))  # noqa: E731
        try:
            answer = await self.call(
                "exec",
                timeout=timeout,
                on_progress=listener,
                command=command,
                time_limit=timeout,
                cwd=cwd,
                env=env,
                limit=limit,
                stream=on_output is not None,
            )
        except asyncio.CancelledError:
            self._interrupt()  # the caller gave up (Esc in the TUI, SIGINT): the command must not live on
            raise
        head = base64.b64decode(answer["head"]).decode("utf-8", "replace")
        tail = base64.b64decode(answer["tail"]).decode("utf-8", "replace")
        omitted = int(answer["omitted"])
        output = head + (f"\n[... {omitted} bytes of output left out ...]\n" if omitted else "") + tail
        left = int(answer.get("background_killed") or 0)
        if left and not answer["timed_out"] and not answer.get("killed_by"):
            plural = "es" if left > 1 else ""
            note = f"[killed {left} background process{plural} left running]\n"
            output += ("\n" if output and not output.endswith("\n") else "") + note
        if answer.get("disk_full"):
            note = f"[{DISK_FULL}]\n"
            output += ("\n" if output and not output.endswith("\n") else "") + note
        return ExecResult(
            exit_code=int(answer["exit_code"]),
            output=output,
            timed_out=bool(answer["timed_out"]),
            truncated=omitted > 0,
            omitted_bytes=omitted,
            duration_s=float(answer["duration"]),
            killed_by=answer.get("killed_by"),
            background_killed=left,
            disk_full=bool(answer.get("disk_full")),
        )

    async def run(
        self,
        argv: list[str],
        *,
        timeout: float,
        stdin: bytes = b"",
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        limit: int = 64 * 1024,
        as_runner: bool = False,
    ) -> RunResult:
        """Run one program (no shell, no session state) with `stdin` on a real pipe.

        Unlike `exec`, runs overlap: the runner serves each in its own thread, so one sandbox can
        grade many samples at once. The process group is killed at `timeout` and after exit.
        `as_runner`: as the runner's user (in Docker, root with only SETUID/SETGID/KILL) instead of the
        commands' uid, for a trusted supervisor that runs untrusted code under uids of its own.
        """
        fields: dict[str, Any] = {"as_runner": True} if as_runner else {}
        answer = await self.call(
            "run",
            timeout=timeout,
            argv=argv,
            stdin=base64.b64encode(stdin).decode("ascii"),
            time_limit=timeout,
            cwd=cwd,
            env=env,
            limit=limit,
            **fields,
        )
        return RunResult(
            exit_code=int(answer["exit_code"]),
            stdout=base64.b64decode(answer["stdout"]),
            stderr=base64.b64decode(answer["stderr"]),
            stdout_omitted=int(answer["stdout_omitted"]),
            stderr_omitted=int(answer["stderr_omitted"]),
            timed_out=bool(answer["timed_out"]),
            duration_s=float(answer["duration"]),
            background_killed=int(answer.get("background_killed") or 0),
        )

    def _interrupt(self) -> None:
        """Tell the runner to kill the running command, without waiting (called while cancelling)."""
        if self._writer is None or self._dead:
            return
        with contextlib.suppress(OSError, RuntimeError):
            self._writer.write(
                self._line({"id": next(self._ids), "op": "interrupt", "target": self._exec_id})
            )

    async def read_file(self, path: str) -> bytes:
        return base64.b64decode((await self.call("read", path=path))["data"])

    async def write_file(self, path: str, data: bytes) -> None:
        await self.call("write", path=path, data=base64.b64encode(data).decode("ascii"))

    async def list_files(self, path: str = ".", *, limit: int = 100_000) -> list[FileInfo]:
        answer = await self.call("list", path=path, limit=limit)
        return [FileInfo(path=p, size=size, mtime_ns=mtime) for p, size, mtime in answer["files"]]

    async def read_files(self, paths: list[str], *, limit: int | None = None) -> dict[str, bytes | None]:
        answer = await self.call("read_many", paths=paths, limit=limit, timeout=120)
        return {p: None if data is None else base64.b64decode(data) for p, data in answer["files"].items()}

    async def copy_in(self, source: Path) -> int:
        """Copy a host directory into the workspace (tar streamed over the runner connection)."""
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as archive:
            archive.add(source, arcname=".", recursive=True)
        data = buffer.getvalue()
        for start in range(0, max(len(data), 1), UPLOAD_CHUNK):
            chunk = base64.b64encode(data[start : start + UPLOAD_CHUNK]).decode("ascii")
            await self.call("upload", name="copy-in", data=chunk)
        return int((await self.call("extract", name="copy-in", timeout=600))["members"])

    async def close(self) -> None:
        self._closing = True
        if self._writer is not None and not self._dead:
            with contextlib.suppress(SandboxError, OSError, RuntimeError):
                self._writer.write(self._line({"id": next(self._ids), "op": "shutdown"}))
                await self._writer.drain()
        self._fail_all("the sandbox is closed")
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump


def _sign(key: bytes, direction: bytes, body: bytes) -> bytes:
    """The hex HMAC of one protocol line (the runner's `sign`)."""
    return hmac.new(key, direction + b" " + body, hashlib.sha256).hexdigest().encode("ascii")
