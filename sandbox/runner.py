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
STATE_VARS_DROPPED = {"_", "SHLVL", "OLDPWD", "TRIDENT_CMD", "TRIDENT_STATE", "TRIDENT_MEMORY_KB"}

WRAPPER = r"""
echo 1000 > /proc/self/oom_score_adj 2>/dev/null  # the OOM killer picks the command, not the runner
ulimit -c 0
if [ -n "$TRIDENT_MEMORY_KB" ]; then ulimit -v "$TRIDENT_MEMORY_KB"; fi
unset TRIDENT_MEMORY_KB
__trident_save() {
    __rc=$?
    printf '%s' "$__rc" > "$TRIDENT_STATE/rc.new" 2>/dev/null
    printf '%s' "$PWD" > "$TRIDENT_STATE/cwd.new" 2>/dev/null
    exec env -0 > "$TRIDENT_STATE/env.new" 2>/dev/null  # exec: no extra fork; the code is in rc.new
}
trap __trident_save EXIT
__trident_cmd=$TRIDENT_CMD
unset TRIDENT_CMD
eval "$__trident_cmd"
"""


class Refused(Exception):
    """A request the caller got wrong (bad path, missing file): answered with ok=false, kind=path."""


class Runner:
    def __init__(self, root: str, state_dir: str, output_limit: int, memory_limit: int | None) -> None:
        self.root = os.path.realpath(root)
        self.state_dir = state_dir
        self.output_limit = output_limit
        self.memory_limit = memory_limit
        os.makedirs(self.state_dir, exist_ok=True)
        self.cwd = self.root
        self.env = {k: v for k, v in os.environ.items() if k not in STATE_VARS_DROPPED}
        self.env.setdefault("HOME", tempfile.gettempdir())
        self.uploads: dict[str, str] = {}
        self.lock = threading.Lock()  # one command at a time: the shell state is sequential
        self.out_lock = threading.Lock()

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
                files[path] = self.op_read({"path": path})["data"]
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
    def op_exec(self, req: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            return self._exec(req)

    def _exec(self, req: dict[str, Any]) -> dict[str, Any]:
        timeout = float(req.get("time_limit", 120))
        limit = int(req.get("limit", self.output_limit))
        cwd = self.resolve(req["cwd"], must_exist=True) if req.get("cwd") else self.cwd
        if not os.path.isdir(cwd):
            cwd = self.root
        env = dict(self.env)
        env.update(req.get("env") or {})
        env["TRIDENT_CMD"] = req["command"]
        env["TRIDENT_STATE"] = self.state_dir
        if self.memory_limit:
            env["TRIDENT_MEMORY_KB"] = str(self.memory_limit // 1024)
        oom_before = oom_kills()
        started = time.monotonic()
        proc = subprocess.Popen(
            ["bash", "--noprofile", "--norc", "-c", WRAPPER],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        assert proc.stdout is not None
        capture = Capture(limit)
        timed_out = pump(proc, capture, started + timeout)
        if timed_out:
            kill_group(proc.pid)
            proc.wait()
        code = proc.returncode
        saved_code = self._saved_exit_code()
        if saved_code is not None and code == 0:
            code = saved_code  # bash exec'd `env` to save the environment: the real code is in rc.new
        killed_by = None
        if timed_out:
            killed_by = "timeout"
        elif code < 0 and code == -signal.SIGKILL and oom_kills() > oom_before:
            killed_by = "out of memory"
        elif code < 0:
            killed_by = f"signal {-code}"
        elif code == 137 and oom_kills() > oom_before:
            killed_by = "out of memory"
        if timed_out:  # a half-written state from a killed command is not adopted
            for name in ("cwd.new", "env.new"):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(self.state_dir, name))
        else:
            self._load_state()
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

    def _saved_exit_code(self) -> int | None:
        path = os.path.join(self.state_dir, "rc.new")
        try:
            with open(path) as handle:
                return int(handle.read().strip())
        except (OSError, ValueError):
            return None
        finally:
            with contextlib.suppress(OSError):
                os.unlink(path)

    def _load_state(self) -> None:
        """Adopt the cwd and environment the command's EXIT trap saved (builtins only: fast)."""
        cwd_file = os.path.join(self.state_dir, "cwd.new")
        env_file = os.path.join(self.state_dir, "env.new")
        try:
            with open(cwd_file, "rb") as handle:
                cwd = handle.read().decode("utf-8", "replace")
            with open(env_file, "rb") as handle:
                pairs = handle.read().split(b"\x00")
        except OSError:
            return
        finally:
            for path in (cwd_file, env_file):
                with contextlib.suppress(OSError):
                    os.unlink(path)
        env: dict[str, str] = {}
        for pair in pairs:
            key, sep, value = pair.partition(b"=")
            if sep and key:
                env[key.decode("utf-8", "replace")] = value.decode("utf-8", "replace")
        for name in STATE_VARS_DROPPED:
            env.pop(name, None)
        if env:
            self.env = env
        if os.path.isdir(cwd):
            try:
                self.cwd = self.resolve(cwd)
            except Refused:  # cd'ing out of the workspace works within a command, but does not persist
                self.cwd = self.root

    def op_reset(self, req: dict[str, Any]) -> dict[str, Any]:
        self.cwd = self.root
        return {}

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

    def serve(self, stdin: BinaryIO, stdout: BinaryIO) -> None:
        def answer(req: dict[str, Any]) -> None:
            response = self.handle(req)
            response["id"] = req.get("id")
            line = json.dumps(response).encode("utf-8") + b"\n"
            with self.out_lock:
                stdout.write(line)
                stdout.flush()

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


def pump(proc: subprocess.Popen[bytes], capture: Capture, deadline: float) -> bool:
    """Read the command's output until EOF (or shortly after it exits); True if the deadline passed."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    exited_at = None
    while True:
        now = time.monotonic()
        if now >= deadline:
            return True
        if exited_at is None and proc.poll() is not None:
            exited_at = now
        if exited_at is not None and now - exited_at > DRAIN_AFTER_EXIT_S:
            return False  # background jobs hold the pipe: stop reading, leave them be
        ready, _, _ = select.select([fd], [], [], min(0.1, deadline - now))
        if ready:
            data = os.read(fd, 65536)
            if not data:
                proc.wait()
                return False
            capture.add(data)


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
