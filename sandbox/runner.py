"""The in-sandbox runner: a stdlib-only process that does file and command work inside one workspace.

It is started once per session (as a local subprocess, or as a Docker container's main process) and
speaks JSON lines on stdin/stdout: `{"id": n, "op": ..., ...}` in, `{"id": n, "ok": ..., ...}` out.
Requests are served concurrently (a thread each), so a `ping` is answered while a command runs.

- Paths are confined to the workspace root (symlinks resolved); escapes are refused.
- Commands run in a fresh `bash` per command, in their own session (process group), so a timeout
  kills everything they started, from inside the sandbox. The shell state that matters between
  commands — working directory and exported variables (an activated venv included) — is saved by
  an EXIT trap after each command and restored before the next: the session behaves as one
  persistent shell, and a killed command cannot wedge it.
- Output is read as it comes and capped: head and tail kept, the middle counted, so a flood of
  output neither stalls the command nor fills memory.

This file must stay runnable by any python3 >= 3.8 with nothing else installed: it is copied into
containers as a `python3 -c` argument.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import signal
import stat
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from typing import Any, BinaryIO

PROTOCOL = 1
SKIP_DIRS = {".git", "node_modules", "__pycache__", ".venv", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
DRAIN_AFTER_EXIT_S = 0.3  # how long output is still read after the command exits (background jobs)
STREAM_EVERY_S = 0.05  # live output (`"stream": true`) is sent at most this often
STREAM_CAP = 256 * 1024  # and at most this much per command: the answer still has head and tail


class Refused(Exception):
    """A request the caller got wrong (bad path, missing file): answered with ok=false, kind=path."""


class Runner:
    def __init__(self, root: str, state_dir: str, output_limit: int, memory_limit: int | None) -> None:
        self.root = os.path.realpath(root)
        self.state_dir = state_dir
        self.output_limit = output_limit
        self.memory_limit = memory_limit
        os.makedirs(self.state_dir, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRIDENT_")}
        env.setdefault("HOME", tempfile.gettempdir())
        self.shell = Shell(self.root, state_dir, env, memory_limit)
        self.uploads: dict[str, str] = {}
        self.lock = threading.Lock()  # one command at a time: the shell state is sequential
        self.out_lock = threading.Lock()
        self.stdout: BinaryIO | None = None

    # -- paths -------------------------------------------------------------------------------
    def resolve(self, path: str, must_exist: bool = False) -> str:
        if "\x00" in path:
            raise Refused("path contains a NUL byte")
        full = path if os.path.isabs(path) else os.path.join(self.root, path)
        real = os.path.realpath(full)
        if real != self.root and not real.startswith(self.root + os.sep):
            raise Refused(f"{path!r} is outside the workspace {self.root}")
        if must_exist and not os.path.exists(real):
            raise Refused(f"{path!r} does not exist")
        return real

    def rel(self, real: str) -> str:
        return os.path.relpath(real, self.root).replace(os.sep, "/")

    # -- files -------------------------------------------------------------------------------
    def op_read(self, req: dict[str, Any]) -> dict[str, Any]:
        real = self.resolve(req["path"], must_exist=True)
        if os.path.isdir(real):
            raise Refused("{!r} is a directory".format(req["path"]))
        limit = req.get("limit")
        with open(real, "rb") as handle:
            data = handle.read(limit) if limit else handle.read()
        return {"data": base64.b64encode(data).decode("ascii"), "size": os.path.getsize(real)}

    def op_read_many(self, req: dict[str, Any]) -> dict[str, Any]:
        files: dict[str, str | None] = {}
        for path in req["paths"]:
            try:
                files[path] = self.op_read({"path": path, "limit": req.get("limit")})["data"]
            except (Refused, OSError):
                files[path] = None
        return {"files": files}

    def op_write(self, req: dict[str, Any]) -> dict[str, Any]:
        real = self.resolve(req["path"])
        if os.path.isdir(real):
            raise Refused("{!r} is a directory".format(req["path"]))
        parent = os.path.dirname(real)
        os.makedirs(parent, exist_ok=True)
        mode = stat.S_IMODE(os.stat(real).st_mode) if os.path.exists(real) else 0o644
        fd, tmp = tempfile.mkstemp(dir=parent, prefix=".trident.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(base64.b64decode(req["data"]))
            os.chmod(tmp, mode)
            os.replace(tmp, real)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return {}

    def op_list(self, req: dict[str, Any]) -> dict[str, Any]:
        base = self.resolve(req.get("path", "."), must_exist=True)
        limit = int(req.get("limit", 100000))
        files: list[list[Any]] = []
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
            for name in sorted(filenames):
                full = os.path.join(dirpath, name)
                try:
                    st = os.lstat(full)
                except OSError:
                    continue
                if stat.S_ISREG(st.st_mode):
                    files.append([self.rel(full), st.st_size, st.st_mtime_ns])
                    if len(files) >= limit:
                        return {"files": files, "truncated": True}
        return {"files": files, "truncated": False}

    def op_upload(self, req: dict[str, Any]) -> dict[str, Any]:
        """Append a chunk to a named upload (a temp file), for `extract`."""
        name = req["name"]
        if name not in self.uploads:
            fd, path = tempfile.mkstemp(dir=self.state_dir, prefix="upload.")
            os.close(fd)
            self.uploads[name] = path
        with open(self.uploads[name], "ab") as handle:
            handle.write(base64.b64decode(req["data"]))
        return {}

    def op_extract(self, req: dict[str, Any]) -> dict[str, Any]:
        """Unpack an uploaded tar into the workspace; members escaping it are refused."""
        path = self.uploads.pop(req["name"])
        count = 0
        try:
            with tarfile.open(path) as archive:
                members = archive.getmembers()
                for member in members:
                    target = self.resolve(member.name)
                    if member.issym() or member.islnk():
                        link = member.linkname
                        base = os.path.dirname(target) if member.issym() else self.root
                        self.resolve(link if os.path.isabs(link) else os.path.join(base, link))
                    elif not (member.isfile() or member.isdir()):
                        raise Refused(f"{member.name!r}: unsupported tar member type")
                    member.mode &= 0o777
                    member.uid = os.getuid()
                    member.gid = os.getgid()
                    count += 1
                archive.extractall(self.root, members=members, numeric_owner=True)
        finally:
            os.unlink(path)
        return {"members": count}

    # -- commands ----------------------------------------------------------------------------
    def _cwd(self, req: dict[str, Any]) -> str | None:
        """The request's working directory (an existing directory inside the root), if it names one."""
        if not req.get("cwd"):
            return None
        real = self.resolve(req["cwd"], must_exist=True)
        if not os.path.isdir(real):
            raise Refused("{!r} is not a directory".format(req["cwd"]))
        return real

    @staticmethod
    def _extra_env(req: dict[str, Any]) -> dict[str, str]:
        """The request's extra environment variables, their names checked."""
        env: dict[str, str] = dict(req.get("env") or {})
        for name in env:
            if not _is_identifier(name):
                raise Refused(f"{name!r} is not a valid environment variable name")
        return env

    def op_exec(self, req: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            return self._exec(req)

    def _exec(self, req: dict[str, Any]) -> dict[str, Any]:
        timeout = float(req.get("time_limit", 120))
        cwd, env = self._cwd(req), self._extra_env(req)
        limit = int(req.get("limit", self.output_limit))
        if req.get("stream"):
            capture: Capture = StreamingCapture(limit, lambda data: self.progress(req.get("id"), data))
        else:
            capture = Capture(limit)
        oom_before = oom_kills()
        started = time.monotonic()
        code, timed_out = self.shell.run(req["command"], cwd, env, started + timeout, capture)
        capture.flush()
        killed_by = None
        if timed_out:
            killed_by = "timeout"
        elif (code == -signal.SIGKILL or code == 128 + signal.SIGKILL) and oom_kills() > oom_before:
            killed_by = "out of memory"
        elif code < 0:
            killed_by = f"signal {-code}"
        head, tail, omitted = capture.result()
        return {
            "exit_code": code,
            "head": base64.b64encode(head).decode("ascii"),
            "tail": base64.b64encode(tail).decode("ascii"),
            "omitted": omitted,
            "timed_out": timed_out,
            "killed_by": killed_by,
            "duration": time.monotonic() - started,
        }

    def op_run(self, req: dict[str, Any]) -> dict[str, Any]:
        """One program (an argv, no shell) with bytes on a real stdin pipe; served concurrently.

        Not the session's shell: no state is kept, and many `run`s may overlap (an eval grader
        runs one per sample). The process gets its own session; on timeout, and always once it
        has exited, its whole process group is killed. stdout and stderr are capped separately.
        """
        argv = req["argv"]
        if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
            raise Refused("argv must be a non-empty list of strings")
        env = {**self.shell.env, **self._extra_env(req)}
        cwd = self._cwd(req) or self.root
        limit = int(req.get("limit", self.output_limit))
        timeout = float(req.get("time_limit", 120))
        data = base64.b64decode(req.get("stdin") or "")
        started = time.monotonic()
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        out, err = Capture(limit), Capture(limit)
        readers = [
            threading.Thread(target=_pump, args=(proc.stdout, out), daemon=True),
            threading.Thread(target=_pump, args=(proc.stderr, err), daemon=True),
            threading.Thread(target=_feed, args=(proc.stdin, data), daemon=True),
        ]
        for thread in readers:
            thread.start()
        timed_out = False
        try:
            code = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            kill_group(proc.pid)
            code = proc.wait()
        kill_group(proc.pid)  # what it left running in the background
        for thread in readers[:2]:
            thread.join(DRAIN_AFTER_EXIT_S)
        answer: dict[str, Any] = {"exit_code": code, "timed_out": timed_out}
        answer["duration"] = time.monotonic() - started
        for name, capture in (("stdout", out), ("stderr", err)):
            head, tail, omitted = capture.result()
            answer[name] = base64.b64encode(head + tail).decode("ascii")
            answer[name + "_omitted"] = omitted
        return answer

    def op_interrupt(self, req: dict[str, Any]) -> dict[str, Any]:
        """Kill the running command's process group (the user cancelled it); the shell restarts."""
        return {"killed": self.shell.interrupt()}

    def op_hello(self, req: dict[str, Any]) -> dict[str, Any]:
        return {
            "protocol": PROTOCOL,
            "root": self.root,
            "pid": os.getpid(),
            "uid": os.getuid(),
            "python": sys.version.split()[0],
            "rg": shutil.which("rg") is not None,
        }

    def op_ping(self, req: dict[str, Any]) -> dict[str, Any]:
        return {"time": time.time()}

    # -- protocol ----------------------------------------------------------------------------
    def handle(self, req: dict[str, Any]) -> dict[str, Any]:
        op = getattr(self, "op_" + str(req.get("op")), None)
        if op is None:
            return {"ok": False, "kind": "protocol", "error": "unknown op {!r}".format(req.get("op"))}
        try:
            result: dict[str, Any] = op(req)
        except Refused as exc:
            return {"ok": False, "kind": "path", "error": str(exc)}
        except OSError as exc:
            return {"ok": False, "kind": "os", "error": f"{type(exc).__name__}: {exc}", "errno": exc.errno}
        except Exception as exc:  # a runner bug: report it, keep serving
            return {"ok": False, "kind": "internal", "error": f"{type(exc).__name__}: {exc}"}
        result["ok"] = True
        return result

    def send(self, message: dict[str, Any]) -> None:
        line = json.dumps(message).encode("utf-8") + b"\n"
        assert self.stdout is not None
        with self.out_lock:
            self.stdout.write(line)
            self.stdout.flush()

    def progress(self, request_id: Any, data: bytes) -> None:
        """Live output of a running command: sent before its answer, never instead of it."""
        self.send({"id": request_id, "progress": True, "data": base64.b64encode(data).decode("ascii")})

    def serve(self, stdin: BinaryIO, stdout: BinaryIO) -> None:
        self.stdout = stdout

        def answer(req: dict[str, Any]) -> None:
            response = self.handle(req)
            response["id"] = req.get("id")
            self.send(response)

        for raw in stdin:
            try:
                req = json.loads(raw)
            except ValueError:
                continue
            if not isinstance(req, dict):
                continue
            if req.get("op") == "shutdown":
                answer({"id": req.get("id"), "op": "ping"})
                return
            threading.Thread(target=answer, args=(req,), daemon=True).start()


class Capture:
    """Head and tail of a byte stream, with the size of what was left out between them."""

    def __init__(self, limit: int) -> None:
        self.half = max(1, limit // 2)
        self.head = bytearray()
        self.tail = bytearray()
        self.omitted = 0

    def add(self, data: bytes) -> None:
        room = self.half - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if not data:
            return
        self.tail += data
        if len(self.tail) > self.half:
            cut = len(self.tail) - self.half
            self.omitted += cut
            del self.tail[:cut]

    def result(self) -> tuple[bytes, bytes, int]:
        return bytes(self.head), bytes(self.tail), self.omitted

    def tick(self) -> None:
        """Called while the command runs and is quiet."""

    def flush(self) -> None:
        """Called when the command has ended."""


class StreamingCapture(Capture):
    """A capture that also sends what comes, in small batches, up to `STREAM_CAP` bytes."""

    def __init__(self, limit: int, emit: Any) -> None:
        super().__init__(limit)
        self.emit = emit
        self.pending = bytearray()
        self.sent = 0
        self.last = time.monotonic()

    def add(self, data: bytes) -> None:
        super().add(data)
        room = STREAM_CAP - self.sent - len(self.pending)
        if room > 0:
            self.pending += data[:room]
        self.tick()

    def tick(self) -> None:
        if self.pending and time.monotonic() - self.last >= STREAM_EVERY_S:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.emit(bytes(self.pending))
            self.sent += len(self.pending)
            self.pending.clear()
        self.last = time.monotonic()


class Shell:
    """One persistent bash in its own process group: cd, variables, functions and venvs persist.

    A command is written to a file and sourced (stdin from /dev/null); then the shell saves its
    state (`export -p`, `$PWD`) and prints an end marker with the exit code. If a command times
    out, the whole group is killed; if the shell dies (`exit`, a crash), the next command starts a
    fresh shell from the last saved state.
    """

    def __init__(self, root: str, state_dir: str, env: dict[str, str], memory_limit: int | None) -> None:
        self.root, self.env, self.memory_limit = root, env, memory_limit
        self.env_file = os.path.join(state_dir, "env.sh")
        self.cwd_file = os.path.join(state_dir, "cwd")
        self.cmd_file = os.path.join(state_dir, "command.sh")
        self.marker = ("__TRIDENT_DONE_" + os.urandom(8).hex() + "__").encode()
        self.proc: subprocess.Popen[bytes] | None = None

    def _start(self) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],
            cwd=self.root,
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        setup = [
            "echo 1000 > /proc/self/oom_score_adj 2>/dev/null",  # the OOM killer picks us, not the runner
            "ulimit -c 0",
            f"[ -f {_q(self.env_file)} ] && . {_q(self.env_file)}",
            f'[ -f {_q(self.cwd_file)} ] && cd -- "$(< {_q(self.cwd_file)})" 2>/dev/null',
        ]
        if self.memory_limit:
            setup.append(f"ulimit -v {self.memory_limit // 1024}")
        assert proc.stdin is not None
        proc.stdin.write(("\n".join(setup) + "\n").encode())
        proc.stdin.flush()
        return proc

    def _kill(self) -> None:
        if self.proc is not None:
            kill_group(self.proc.pid)
            self.proc.wait()
            self.proc = None

    def interrupt(self) -> bool:
        """Called from another thread while `run` reads: `_read` then sees the shell gone."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return False
        kill_group(proc.pid)
        return True

    def run(
        self, command: str, cwd: str | None, env: dict[str, str], deadline: float, capture: Capture
    ) -> tuple[int, bool]:
        """Run one command; returns (exit code, timed out)."""
        if self.proc is None or self.proc.poll() is not None:
            self.proc = self._start()
        proc = self.proc
        with open(self.cmd_file, "w", encoding="utf-8") as handle:
            handle.write(command + "\n")
        assign = "".join(f"{name}={_q(value)} " for name, value in env.items())
        source = f"{assign}. {_q(self.cmd_file)} < /dev/null; __trident_rc=$?"
        if cwd is not None:
            source = (  # back where it was, `cd -` included
                f"__trident_old=$PWD __trident_oldpwd=$OLDPWD; cd -- {_q(cwd)} && {{ {source}; }}; "
                'cd -- "$__trident_old"; OLDPWD=$__trident_oldpwd'
            )
        script = (
            f"{source}\n"
            f"export -p > {_q(self.env_file)}; printf '%s' \"$PWD\" > {_q(self.cwd_file)}; "
            f"printf '{self.marker.decode()}%s\\n' \"$__trident_rc\"\n"
        )
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(script.encode())
            proc.stdin.flush()
        except BrokenPipeError:
            pass  # the shell is gone: reading below finds out why
        return self._read(proc, deadline, capture)

    def _read(self, proc: subprocess.Popen[bytes], deadline: float, capture: Capture) -> tuple[int, bool]:
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        pending = bytearray()
        keep = len(self.marker) + 24
        exited_at = None
        while True:
            now = time.monotonic()
            if now >= deadline:
                capture.add(bytes(pending))
                self._kill()
                return -signal.SIGKILL, True
            if exited_at is None and proc.poll() is not None:
                exited_at = now
            if exited_at is not None and now - exited_at > DRAIN_AFTER_EXIT_S:
                break  # the shell is gone; background jobs still hold the pipe
            ready, _, _ = select.select([fd], [], [], min(0.05, deadline - now))
            if not ready:
                if pending and self.marker not in pending:  # quiet: pass on what cannot be the marker
                    cut = len(pending) - _marker_start(pending, self.marker)
                    capture.add(bytes(pending[:cut]))
                    del pending[:cut]
                capture.tick()
                continue
            data = os.read(fd, 65536)
            if not data:
                break
            pending += data
            index = pending.find(self.marker)
            if index >= 0:
                end = pending.find(b"\n", index)
                if end >= 0:
                    capture.add(bytes(pending[:index]))
                    return int(pending[index + len(self.marker) : end] or b"0"), False
                continue
            if len(pending) > keep:
                capture.add(bytes(pending[:-keep]))
                del pending[:-keep]
        capture.add(bytes(pending))
        code = proc.wait()
        self.proc = None
        return code, False


def _pump(stream: Any, capture: Capture) -> None:
    with contextlib.suppress(OSError, ValueError):
        for chunk in iter(lambda: stream.read1(65536), b""):
            capture.add(chunk)


def _feed(stream: Any, data: bytes) -> None:
    with contextlib.suppress(OSError, ValueError):
        stream.write(data)
    with contextlib.suppress(OSError, ValueError):
        stream.close()


def _marker_start(data: bytearray, marker: bytes) -> int:
    """How many bytes at the end of `data` could be the beginning of `marker`."""
    for size in range(min(len(marker), len(data)), 0, -1):
        if data.endswith(marker[:size]):
            return size
    return 0


def _q(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


def _is_identifier(name: str) -> bool:
    return bool(name) and (name[0].isalpha() or name[0] == "_") and all(c.isalnum() or c == "_" for c in name)


def kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def oom_kills() -> int:
    """The cgroup's OOM-kill counter (cgroup v2 or v1), 0 when it cannot be read."""
    for path in ("/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control"):
        try:
            with open(path) as handle:
                for line in handle:
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return int(value)
        except (OSError, ValueError):
            continue
    return 0


def main(argv: list[str]) -> None:
    args = {"--root": os.getcwd(), "--state": "", "--output-limit": "65536", "--memory-limit": "0"}
    for key, value in zip(argv[::2], argv[1::2], strict=False):
        args[key] = value
    state = args["--state"] or tempfile.mkdtemp(prefix="trident-shell-")
    runner = Runner(args["--root"], state, int(args["--output-limit"]), int(args["--memory-limit"]) or None)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    runner.serve(sys.stdin.buffer, sys.stdout.buffer)


if __name__ == "__main__":
    main(sys.argv[1:])
