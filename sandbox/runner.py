"""The in-sandbox runner: a stdlib-only process that does file and command work inside one workspace.

It is started once per session (as a local subprocess, or as a Docker container's main process) and
speaks JSON lines on stdin/stdout. The first line the client sends is a per-session key (never in
argv or the environment); every later line, both ways, is `<hmac> <json>`, signed with that key, so
no line that a process inside the sandbox manages to put on the channel is taken for the runner's
(`{"id": n, "op": ...}` in, `{"id": n, "ok": ..., ...}` out; request ids must increase).
Requests are served concurrently (a thread each), so file reads are answered while a command runs.

Commands are hostile. The runner defends itself with the kernel's means:
- it is not dumpable (prctl): no process of its uid can open its /proc fds, memory or environ;
- in Docker it runs as root with only CAP_SETUID, CAP_SETGID and CAP_KILL, and every command runs
  under the workspace's unprivileged uid (`--user`), so commands cannot signal it or the container's
  init, nor touch their stdio (the container's attach stream); file work is done with the
  commands' uid as the filesystem uid, so files get the right owner and no more access;
- it is a child subreaper: whatever a command leaves behind (background jobs, setsid'd and
  double-forked daemons) is reparented to it, and when a command ends or times out every process
  it started is killed (the commands' uid, and every descendant of the runner but the shell), the
  count reported in the answer (`background_killed`).

The shell: one persistent bash (a "forkserver", running a fixed loop, started as an unreadable copy
of bash so the kernel makes it non-dumpable) forks a subshell per command. The subshell restores
the session's state (exported variables, functions, working directory) from a file, sources the
command (stdin from /dev/null), and saves the state again on exit. The exit code reaches the runner
on a pipe the subshell closes before the command runs: whatever a command does to its own stdin,
stdout and stderr, the answer comes when it exits, or at its deadline, when everything is killed
and the shell is started again from the saved state.
- Paths are confined to the workspace root (symlinks resolved); escapes are refused.
- Output is read as it comes and capped: head and tail kept, the middle counted, so a flood of
  output neither stalls the command nor fills memory.

This file must stay runnable by any python3 >= 3.8 with nothing else installed: it is copied into
containers as a `python3 -c` argument.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
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
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

PROTOCOL = 2
SKIP_DIRS = {".git", "node_modules", "__pycache__", ".venv", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
DRAIN_AFTER_EXIT_S = 0.3  # how long output is still read after the command exits (background jobs)
STREAM_EVERY_S = 0.05  # live output (`"stream": true`) is sent at most this often
STREAM_CAP = 256 * 1024  # and at most this much per command: the answer still has head and tail
SWEEP_LIMIT_S = 5.0  # how long a sweep keeps killing (a fork bomb refills between two rounds)
PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER = 4, 36
DISK_SAMPLE_S = 0.1  # how often a running command's disk growth is sampled (bind mode's cap)
ENTRY_BYTES = 4096  # each file counts at least this much: empty files cannot use up the inodes


class Refused(Exception):
    """A request the caller got wrong (bad path, missing file): answered with ok=false, kind=path."""


class Runner:
    def __init__(
        self,
        root: str,
        state_dir: str,
        output_limit: int,
        memory_limit: int | None,
        creds: Creds | None = None,
        disk_cap: int = 0,
    ) -> None:
        self.root = os.path.realpath(root)
        self.state_dir = state_dir
        self.output_limit = output_limit
        self.memory_limit = memory_limit
        self.creds = creds or Creds(None)
        os.makedirs(self.state_dir, mode=0o700, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRIDENT_")}
        env.setdefault("HOME", tempfile.gettempdir())
        self.sweeper = Sweeper(self.creds.uid)
        self.shell = Shell(self.root, state_dir, env, memory_limit, self.creds, self.sweeper)
        self.disk = DiskCap(self.root, disk_cap) if disk_cap > 0 else None
        self.uploads: dict[str, str] = {}
        self.manifest: dict[str, tuple[Any, ...]] = {}  # the workspace as the last `changes` saw it
        self.gate = Gate()  # one command at a time (the shell state is sequential); `run`s overlap
        self.out_lock = threading.Lock()
        self.stdout: BinaryIO | None = None
        self.key = b""

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
        _regular(req["path"], os.stat(real).st_mode)  # a fifo, socket or device is not even opened
        # never blocks (a fifo with no writer), never follows a link put there since `resolve`
        fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(fd)
            _regular(req["path"], info.st_mode)  # swapped in meanwhile
            os.set_blocking(fd, True)
            handle.seek(int(req.get("offset") or 0))
            data = handle.read(limit) if limit else handle.read()
        return {"data": base64.b64encode(data).decode("ascii"), "size": info.st_size}

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
        if self.disk is not None and self.disk.still_over():
            raise Refused(self.disk.message())
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

    def op_changes(self, req: dict[str, Any]) -> dict[str, Any]:
        """What changed in the workspace since the last `changes` (`.git` included, links not followed):
        `changed` as [path, kind ("d", "f", "l"), mode, size, link target, inode], parents first, and
        `deleted` paths. A file counts as changed when its inode, size, mtime or ctime moved (ctime
        cannot be set back by a command; a new hard link moves it for every name of the file). With
        `reset`, only records the workspace as it is (after a copy-in).

        Bounded for the host that copies it: with `max_bytes`, `max_path` (bytes of a relative path),
        `max_depth` (folders) or `max_listing` (bytes of the answer's list, roughly), a workspace
        whose files' full lengths add up to more (each file once, however many names it has; a
        sparse file counts whole), holding a longer path or a deeper folder, or with more changes
        to list, is answered `refused` (the reason) instead, and nothing is recorded."""
        max_bytes, max_path, max_depth, max_listing = (
            int(req.get(k) or 0) for k in ("max_bytes", "max_path", "max_depth", "max_listing")
        )
        listed = 0
        seen: dict[str, tuple[Any, ...]] = {}
        changed: list[list[Any]] = []
        inodes: set[int] = set()
        total = 0
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames.sort()  # top-down: a directory is listed before anything in it
            depth = 0 if dirpath == self.root else self.rel(dirpath).count("/") + 1
            if max_depth and dirnames and depth >= max_depth:
                return {"refused": f"{self.rel(dirpath)!r} holds folders deeper than {max_depth} levels"}
            for name in dirnames + sorted(filenames):
                full = os.path.join(dirpath, name)
                try:
                    st = os.lstat(full)
                except OSError:
                    continue
                mode, rel = stat.S_IMODE(st.st_mode), self.rel(full)
                if max_path and len(os.fsencode(rel)) > max_path:
                    return {"refused": f"a path longer than {max_path} bytes: {rel[:80]!r}..."}
                if stat.S_ISDIR(st.st_mode):
                    sig: tuple[Any, ...] = ("d", mode)
                elif stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode):
                    kind = "f" if stat.S_ISREG(st.st_mode) else "l"
                    sig = (kind, mode, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
                    if kind == "f" and st.st_ino not in inodes:
                        inodes.add(st.st_ino)
                        total += st.st_size
                        if max_bytes and total > max_bytes:
                            return {
                                "refused": f"its files add up to more than {max_bytes} bytes (at {rel!r})"
                            }
                else:
                    continue  # fifos, sockets, devices: not content
                seen[rel] = sig
                if self.manifest.get(rel) != sig:
                    link = os.readlink(full) if sig[0] == "l" else ""
                    size = st.st_size if sig[0] == "f" else 0
                    changed.append([rel, sig[0], mode, size, link, st.st_ino if sig[0] == "f" else 0])
                    listed += len(rel) + len(link) + 64
                    if max_listing and listed > max_listing:
                        return {"refused": f"more changes than a listing of {max_listing} bytes holds"}
        deleted = sorted(rel for rel in self.manifest if rel not in seen)
        self.manifest = seen
        if req.get("reset"):
            return {"changed": [], "deleted": [], "files": len(seen)}
        return {"changed": changed, "deleted": deleted, "files": len(seen)}

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
        """Unpack an uploaded tar into the (fresh) workspace; members escaping it are refused.

        Files and folders first, then links, each made where its folder really is (no link on the
        way): so nothing is ever written through a link the archive made. A symbolic link's target
        is kept as it is, wherever it points (as in the repository: following it is what the file
        tools refuse); a hard link must name a file inside the workspace."""
        path = self.uploads.pop(req["name"])
        count = 0
        try:
            with tarfile.open(path) as archive:
                members = archive.getmembers()
                plain = [m for m in members if m.isfile() or m.isdir()]
                links = [m for m in members if m.issym() or m.islnk()]
                if len(plain) + len(links) != len(members):
                    odd = next(m for m in members if m not in plain and m not in links)
                    raise Refused(f"{odd.name!r}: unsupported tar member type")
                for member in plain:
                    self.resolve(member.name)
                    member.mode &= 0o777
                    member.uid, member.gid = os.getuid(), os.getgid()
                archive.extractall(self.root, members=plain, numeric_owner=True)
                for member in links:
                    self._link(member)
                count = len(members)
        finally:
            os.unlink(path)
        return {"members": count}

    def _link(self, member: tarfile.TarInfo) -> None:
        name = os.path.normpath(member.name)
        folder = os.path.normpath(os.path.join(self.root, os.path.dirname(name)))
        if os.path.realpath(folder) != folder or self.resolve(folder) != folder:
            raise Refused(f"{member.name!r}: its folder is not a plain folder of the workspace")
        target = os.path.join(folder, os.path.basename(name))
        if os.path.lexists(target) and not os.path.isdir(target):
            os.unlink(target)
        if member.issym():
            os.symlink(member.linkname, target)
        else:
            os.link(self.resolve(member.linkname, must_exist=True), target, follow_symlinks=False)

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
        with self.gate.exclusive():
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
        guard = self.disk.guard() if self.disk is not None else None
        outcome = self.shell.run(req["command"], cwd, env, started + timeout, capture, req["id"], guard)
        capture.flush()
        code = outcome.code
        killed_by = outcome.killed_by
        if killed_by is None and code in (-signal.SIGKILL, 128 + signal.SIGKILL) and oom_kills() > oom_before:
            killed_by = "out of memory"
        elif killed_by is None and code in (-signal.SIGXFSZ, 128 + signal.SIGXFSZ) and guard and guard.locked:
            killed_by = self.disk.message() if self.disk is not None else "file size limit"
        elif killed_by is None and code in (-signal.SIGXFSZ, 128 + signal.SIGXFSZ):
            killed_by = "file size limit"  # RLIMIT_FSIZE (bind mode's max_file_mb): SIGXFSZ
        elif killed_by is None and code < 0:
            killed_by = f"signal {-code}"
        head, tail, omitted = capture.result()
        return {
            "exit_code": code,
            "head": base64.b64encode(head).decode("ascii"),
            "tail": base64.b64encode(tail).decode("ascii"),
            "omitted": omitted,
            "timed_out": outcome.timed_out,
            "killed_by": killed_by,
            "background_killed": outcome.background_killed,
            "disk_full": _full(self.root),
            "duration": time.monotonic() - started,
        }

    def op_run(self, req: dict[str, Any]) -> dict[str, Any]:
        """One program (an argv, no shell) with bytes on a real stdin pipe; served concurrently.

        Not the session's shell: no state is kept, and many `run`s may overlap (an eval grader
        runs one per sample), but not with an `exec`. With `as_runner`, it runs as the runner's own
        user rather than the commands' (in Docker: root with only SETUID, SETGID and KILL), for a
        trusted supervisor that starts untrusted processes itself under uids of their own (the eval
        grader's driver); otherwise as every command. The process gets its own session; on timeout,
        and always once it has exited, its whole process group is killed, and when the last of the
        overlapping runs ends, everything they left (setsid'd or double-forked) is killed too.
        """
        argv = req["argv"]
        if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
            raise Refused("argv must be a non-empty list of strings")
        env = {**self.shell.env, **self._extra_env(req)}
        cwd = self._cwd(req) or self.root
        with self.gate.shared() as last:
            answer = self._run(argv, env, cwd, req)
            if last():
                answer["background_killed"] = self.sweeper.sweep(keep=self.shell.pids())
        return answer

    def _run(self, argv: list[str], env: dict[str, str], cwd: str, req: dict[str, Any]) -> dict[str, Any]:
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
            **({} if req.get("as_runner") else self.creds.popen()),
        )
        self.sweeper.own.add(proc.pid)
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
        self.sweeper.own.discard(proc.pid)
        for thread in readers[:2]:
            thread.join(DRAIN_AFTER_EXIT_S)
        answer: dict[str, Any] = {"exit_code": code, "timed_out": timed_out, "background_killed": 0}
        answer["duration"] = time.monotonic() - started
        for name, capture in (("stdout", out), ("stderr", err)):
            head, tail, omitted = capture.result()
            answer[name] = base64.b64encode(head + tail).decode("ascii")
            answer[name + "_omitted"] = omitted
        return answer

    def op_interrupt(self, req: dict[str, Any]) -> dict[str, Any]:
        """Kill the command of exec request `target` and all it started (the user cancelled it); the
        shell restarts. The interrupt may be served before that command has started: it then ends at once."""
        return {"killed": self.shell.interrupt(int(req.get("target") or 0))}

    def op_hello(self, req: dict[str, Any]) -> dict[str, Any]:
        return {
            "protocol": PROTOCOL,
            "root": self.root,
            "pid": os.getpid(),
            "uid": os.getuid(),
            "command_uid": self.creds.uid if self.creds.uid is not None else os.getuid(),
            "dumpable": _dumpable(),
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
        body = json.dumps(message).encode("utf-8")
        line = sign(self.key, b"answer", body) + b" " + body + b"\n"
        assert self.stdout is not None
        with self.out_lock:
            try:
                self.stdout.write(line)
                self.stdout.flush()
            except BrokenPipeError:
                os._exit(141)  # the host side is gone: nobody reads answers any more

    def progress(self, request_id: Any, data: bytes) -> None:
        """Live output of a running command: sent before its answer, never instead of it."""
        self.send({"id": request_id, "progress": True, "data": base64.b64encode(data).decode("ascii")})

    def serve(self, stdin: BinaryIO, stdout: BinaryIO) -> None:
        """Read the session key (the first line), then signed requests, until shutdown or EOF."""
        self.stdout = stdout
        try:
            self.key = bytes.fromhex(json.loads(stdin.readline())["key"])
        except (ValueError, KeyError, TypeError):
            sys.stderr.write("trident runner: the first line must carry the session key\n")
            return
        if len(self.key) < 16:
            sys.stderr.write("trident runner: the session key is too short\n")
            return
        last_id = 0

        def answer(req: dict[str, Any]) -> None:
            response = self.handle(req)
            response["id"] = req.get("id")
            self.send(response)

        for raw in stdin:
            mac, _, body = raw.rstrip(b"\n").partition(b" ")
            if not hmac.compare_digest(mac, sign(self.key, b"request", body)):
                sys.stderr.write("trident runner: ignored a request that was not signed with the key\n")
                continue
            try:
                req = json.loads(body)
            except ValueError:
                continue
            if not isinstance(req, dict) or not isinstance(req.get("id"), int) or req["id"] <= last_id:
                continue  # a replayed request (ids only increase)
            last_id = req["id"]
            if req.get("op") == "shutdown":
                self.shell.stop()
                answer({"id": req.get("id"), "op": "ping"})
                return
            try:
                threading.Thread(target=answer, args=(req,), daemon=True).start()
            except RuntimeError:  # no thread left under the pid limit (a fork bomb): answer now
                self.send({"id": req["id"], "ok": False, "kind": "internal", "error": "no thread available"})
        self.shell.stop()


def sign(key: bytes, direction: bytes, body: bytes) -> bytes:
    """The hex HMAC of one protocol line; `direction` keeps an answer from passing for a request."""
    return hmac.new(key, direction + b" " + body, hashlib.sha256).hexdigest().encode("ascii")


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


# The forkserver's fixed loop: `TAG JOBFILE` per line on stdin, `TAG STATUS` back on the status pipe,
# whose fd is $1 (closed in the subshell before anything of the command runs); memory limit (KiB) $2.
FORKSERVER = """
__trident_status=$1
echo 1000 > /proc/self/oom_score_adj 2>/dev/null
ulimit -c 0
[ "$2" != 0 ] && ulimit -v "$2"
while IFS=' ' read -r __trident_tag __trident_job; do
  [ "$__trident_job" = "$3" ] || continue  # a line a command wrote on this pipe (as root, locally)
  ( . "$__trident_job" ) </dev/null 2>&1 {__trident_status}>&-
  printf '%s %s\\n' "$__trident_tag" "$?" >&"$__trident_status"
done
"""


class Outcome:
    def __init__(self, code: int, timed_out: bool, killed_by: str | None, background_killed: int) -> None:
        self.code, self.timed_out, self.killed_by = code, timed_out, killed_by
        self.background_killed = background_killed


class Shell:
    """The session's shell: a forkserver bash forking one subshell per command (see the module doc).

    State between commands (exported variables, functions, cwd, OLDPWD) lives in `state.sh`,
    written by the subshell's EXIT trap and sourced by the next one. A command that times out,
    is interrupted or kills the forkserver takes everything down with it; the next command starts
    a fresh forkserver from the last saved state.
    """

    def __init__(
        self,
        root: str,
        state_dir: str,
        env: dict[str, str],
        memory_limit: int | None,
        creds: Creds,
        sweeper: Sweeper,
    ) -> None:
        self.root, self.env, self.memory_limit = root, env, memory_limit
        self.creds, self.sweeper = creds, sweeper
        self.state_file = os.path.join(state_dir, "state.sh")
        self.job_file = os.path.join(state_dir, "job.sh")
        self.cmd_file = os.path.join(state_dir, "command.sh")
        self.proc: subprocess.Popen[bytes] | None = None
        self.out_fd = self.status_fd = -1
        self.current = 0  # the exec request whose command runs (ids only increase)
        self.cancelled_upto = 0  # every exec request up to this id was cancelled by the client
        self.stopped_by: str | None = None

    def pids(self) -> set[int]:
        proc = self.proc
        return {proc.pid} if proc is not None and proc.poll() is None else set()

    def _start(self) -> subprocess.Popen[bytes]:
        out_r, out_w = os.pipe()
        status_r, status_w = os.pipe()
        memory = str(self.memory_limit // 1024) if self.memory_limit else "0"
        try:
            proc = subprocess.Popen(
                [
                    self.creds.bash(),
                    "--noprofile",
                    "--norc",
                    "-c",
                    FORKSERVER,
                    "trident-shell",
                    str(status_w),
                    memory,
                    self.job_file,
                ],
                cwd=self.root,
                env=self.env,
                stdin=subprocess.PIPE,
                stdout=out_w,
                stderr=subprocess.DEVNULL,
                pass_fds=(status_w,),
                start_new_session=True,
                **self.creds.popen(),
            )
        except BaseException:
            for fd in (out_r, status_r):
                os.close(fd)
            raise
        finally:
            os.close(out_w)
            os.close(status_w)
        os.set_blocking(out_r, False)
        self.out_fd, self.status_fd = out_r, status_r
        self.sweeper.own.add(proc.pid)
        return proc

    def _close_pipes(self) -> None:
        for fd in (self.out_fd, self.status_fd):
            if fd >= 0:
                os.close(fd)
        self.out_fd = self.status_fd = -1

    def stop(self) -> int:
        """Kill everything commands started, then the forkserver; how many of the former there were."""
        proc = self.proc
        killed = self.sweeper.sweep(keep=self.pids())
        if proc is not None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait()
            self.sweeper.own.discard(proc.pid)
        killed += self.sweeper.sweep(keep=set())  # anything started meanwhile
        self.proc = None
        return killed

    def interrupt(self, target: int) -> bool:
        """Called from another thread, before or while `run` serves request `target`: `run` then
        sees it cancelled (before starting, or in its read loop) and the shell gone."""
        self.cancelled_upto = max(self.cancelled_upto, target)
        proc = self.proc
        if proc is None or proc.poll() is not None or self.current != target:
            return False
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        return True

    def _job(self, cwd: str | None, env: dict[str, str], no_growth: bool = False) -> str:
        state = _q(self.state_file)
        lines = [
            f"[ -r {state} ] && . {state}",
            "__trident_home=$PWD __trident_oldpwd=$OLDPWD",
        ]
        restore = []
        if cwd is not None:  # back where it was, `cd -` included
            restore.append('cd -- "$__trident_home" 2>/dev/null; OLDPWD=$__trident_oldpwd')
        for index, name in enumerate(env):  # the command's own variables do not outlive it
            lines.append(f"__trident_had{index}=${{{name}+1}} __trident_was{index}=${{{name}-}}")
            restore.append(
                f'unset -v {name}; [ -n "$__trident_had{index}" ] && export {name}="$__trident_was{index}"'
            )
        save = "; ".join(
            [*restore, '{ export -p; declare -f; printf \'cd -- %q\\nOLDPWD=%q\\n\' "$PWD" "$OLDPWD"; }']
        )
        if no_growth:  # over the disk cap: no file may grow (deleting still works), the state is not saved
            lines.append("ulimit -f 0")
        else:
            lines.append(f"__trident_save() {{ {save} > {state}; }}")
            lines.append("trap __trident_save EXIT")
        assign = "".join(f"{name}={_q(value)} " for name, value in env.items())
        source = f"{assign}. {_q(self.cmd_file)}"
        if cwd is not None:
            source = f"cd -- {_q(cwd)} || exit; {source}"
        lines.append(source)
        return "\n".join(lines) + "\n"

    def _cancelled(self) -> bool:
        return self.current <= self.cancelled_upto

    def run(
        self,
        command: str,
        cwd: str | None,
        env: dict[str, str],
        deadline: float,
        capture: Capture,
        request: int,
        guard: DiskGuard | None = None,
    ) -> Outcome:
        if self._stale():  # something wrote on the status pipe between commands: start afresh
            self.stop()
        if self.proc is None or self.proc.poll() is not None:
            self._reset()
            self.proc = self._start()
        proc = self.proc
        self.current = request
        # anew each time, never through what a command may have left in their place (a symlink, a fifo)
        _put(self.cmd_file, command + "\n")
        _put(self.job_file, self._job(cwd, env, guard is not None and guard.locked))
        assert proc.stdin is not None
        tag = os.urandom(8).hex().encode()  # a status line for another job is not this one's
        try:
            proc.stdin.write(tag + b" " + self.job_file.encode() + b"\n")
            proc.stdin.flush()
        except BrokenPipeError:
            pass  # the shell is gone: reading below finds out
        self.stopped_by = None
        status = self._read(deadline, capture, tag, guard)
        if status is None:  # timed out, interrupted, stopped by the disk cap, or the shell was killed
            timed_out = time.monotonic() >= deadline and not self._cancelled() and not self.stopped_by
            killed = self.stop()
            self._drain(capture)
            self._close_pipes()
            if self.stopped_by:
                return Outcome(-signal.SIGKILL, False, self.stopped_by, killed)
            if timed_out:
                return Outcome(-signal.SIGKILL, True, "timeout", killed)
            if self._cancelled():
                return Outcome(-signal.SIGKILL, False, "interrupted", killed)
            return Outcome(proc.returncode or -signal.SIGKILL, False, "the shell was killed", killed)
        killed = self.sweeper.sweep(keep={proc.pid})
        self._drain(capture)
        if guard is not None:
            guard.check(final=True)  # a command quicker than a sample: the next ones know
        return Outcome(status, False, None, killed)

    def _stale(self) -> bool:
        if self.status_fd < 0:
            return False
        ready, _, _ = select.select([self.status_fd], [], [], 0)
        return bool(ready)

    def _reset(self) -> None:
        """Before a new forkserver: nothing of the old one may be left (a command could have killed it)."""
        if self.proc is not None:
            self.stop()
        self._close_pipes()

    def _drain(self, capture: Capture) -> None:
        """What is left in the output pipe once every writer but the forkserver is dead."""
        while self.out_fd >= 0:
            try:
                data = os.read(self.out_fd, 65536)
            except BlockingIOError:
                return
            if not data:
                return
            capture.add(data)

    def _read(self, deadline: float, capture: Capture, tag: bytes, guard: DiskGuard | None) -> int | None:
        """Output until the status line comes; None when it never will (deadline, shell gone, or the
        disk cap: then `stopped_by` says so)."""
        status = bytearray()
        watch = [self.out_fd, self.status_fd]
        while True:
            now = time.monotonic()
            if now >= deadline or self._cancelled():
                return None
            if guard is not None:
                self.stopped_by = guard.check()
                if self.stopped_by:
                    return None
            ready, _, _ = select.select(watch, [], [], min(0.05, deadline - now))
            if not ready:
                capture.tick()
                continue
            if self.out_fd in ready:
                try:
                    data = os.read(self.out_fd, 65536)
                except BlockingIOError:
                    data = None
                if data == b"":
                    watch = [self.status_fd]  # every writer closed it (the forkserver is gone)
                elif data:
                    capture.add(data)
            if self.status_fd in ready:
                data = os.read(self.status_fd, 64)
                if not data:
                    return None
                status += data
                while b"\n" in status:
                    line, _, rest = bytes(status).partition(b"\n")
                    status[:] = rest
                    got, _, code = line.partition(b" ")
                    if got == tag:
                        try:
                            return int(code)
                        except ValueError:
                            return None


class Creds:
    """Who commands run as: `uid`/`gid` when the runner (root) drops them to an unprivileged user,
    else None (the runner's own uid, as in the local sandbox)."""

    def __init__(self, user: str | None) -> None:
        self.uid: int | None = None
        self.gid = 0
        if user:
            uid, _, gid = user.partition(":")
            if int(uid) != os.getuid():
                if os.getuid() != 0:
                    raise SystemExit(f"trident runner: --user {user} needs the runner to run as root")
                self.uid, self.gid = int(uid), int(gid or uid)
        self._bash: str | None = None
        self.bin_dir: str | None = None  # where execute-only copies of bash go (None: the temp dir)

    def popen(self) -> dict[str, Any]:
        """Popen arguments that start a process as the commands' user (no supplementary groups)."""
        if self.uid is None:
            return {}
        if sys.version_info >= (3, 9):  # noqa: UP036 (this file runs on python 3.8 too)
            return {"user": self.uid, "group": self.gid, "extra_groups": []}
        uid, gid = self.uid, self.gid

        def drop() -> None:  # python 3.8: no user=/group= in Popen
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)

        return {"preexec_fn": drop}

    def bash(self) -> str:
        """An execute-only copy of bash: a process that execs a file it cannot read is not dumpable,
        so no command (same uid) can open the forkserver's fds or memory. Made once by a root
        runner (the copy is root's); by a runner sharing its uid with commands, anew each time."""
        if self._bash is not None and self.uid is not None:
            return self._bash
        real = shutil.which("bash") or "/bin/bash"
        try:
            folder = tempfile.mkdtemp(prefix="trident-bin-", dir=self.bin_dir)
            os.chmod(folder, 0o711)
            copy = os.path.join(folder, "bash")
            with open(real, "rb") as source:
                data = source.read()
            fd = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o111)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(copy, 0o111)
        except OSError as exc:
            sys.stderr.write(f"trident runner: no execute-only bash ({exc}); the shell stays dumpable\n")
            return real
        if self._bash is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._bash)
                os.rmdir(os.path.dirname(self._bash))
        self._bash = copy
        return copy

    def enter(self) -> None:
        """From now on, files are made and opened as the commands' user (the filesystem uid, per thread;
        threads started later inherit it)."""
        if self.uid is None:
            return
        libc = _libc()
        if libc is None:
            raise SystemExit("trident runner: --user needs ctypes (setfsuid)")
        libc.setfsgid(self.gid)
        libc.setfsuid(self.uid)
        if libc.setfsuid(-1) != self.uid:  # -1 only queries it
            raise SystemExit("trident runner: setfsuid failed")


class Sweeper:
    """Kills what commands leave behind: every descendant of the runner (orphans are reparented to it,
    a child subreaper), and every process of the commands' uid when that is not the runner's."""

    def __init__(self, uid: int | None) -> None:
        self.uid = uid
        self.me = os.getpid()
        self.own: set[int] = set()  # Popen children the runner waits for itself (never reaped here)
        children = f"/proc/{self.me}/task/{self.me}/children"
        self.tree = uid is None and os.path.exists(children)

    def _descendants(self) -> dict[int, str]:
        """pid -> state, by the children lists from the runner down (cheap on a busy host)."""
        found: dict[int, str] = {}
        todo = [self.me]
        while todo:
            pid = todo.pop()
            try:
                tasks = os.listdir(f"/proc/{pid}/task")
            except OSError:
                continue
            for task in tasks:
                try:
                    with open(f"/proc/{pid}/task/{task}/children") as handle:
                        kids = [int(k) for k in handle.read().split()]
                except (OSError, ValueError):
                    continue
                for kid in kids:
                    if kid not in found:
                        found[kid] = _state(kid)
                        todo.append(kid)
        return found

    def _scan(self) -> dict[int, str]:
        """pid -> state for every process that is the commands' or descends from the runner."""
        table: dict[int, tuple[int, str, int]] = {}
        for name in os.listdir("/proc"):
            if name.isdigit():
                info = _status(int(name))
                if info is not None:
                    table[int(name)] = info
        found: dict[int, str] = {}
        for pid, (ppid, state, uid) in table.items():
            if pid in (self.me, 1):
                continue
            mine = self.uid is not None and uid == self.uid
            seen = 0
            while not mine and ppid > 1 and seen < 4096:
                if ppid == self.me:
                    mine = True
                ppid = table.get(ppid, (0, "", -1))[0]
                seen += 1
            if mine:
                found[pid] = state
        return found

    def sweep(self, keep: set[int]) -> int:
        """SIGKILL, round after round, until nothing is left; how many live processes were killed."""
        killed: set[int] = set()
        refused: set[int] = set()
        give_up = time.monotonic() + SWEEP_LIMIT_S
        while time.monotonic() < give_up:
            found = self._descendants() if self.tree else self._scan()
            alive = [pid for pid, state in found.items() if pid not in keep and state not in ("Z", "X", "")]
            for pid, state in found.items():
                if state == "Z" and pid not in self.own and pid not in keep:
                    with contextlib.suppress(ChildProcessError, OSError):
                        os.waitpid(pid, os.WNOHANG)  # an orphan reparented to us, now dead
            targets = [pid for pid in alive if pid not in refused]
            if not targets:
                break
            for pid in targets:
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed.add(pid)
                except ProcessLookupError:
                    pass
                except PermissionError:  # e.g. a setuid program in the local sandbox
                    refused.add(pid)
            time.sleep(0.001)
        return len(killed)


class DiskCap:
    """Bind mode: how much the workspace may grow over the session, all files together (`--disk-cap`).

    The growth is the workspace's real disk use (allocated blocks, each file at least ENTRY_BYTES,
    a hard-linked file once; the mounted `.git` left out) minus what it was when the session
    started. Cheap per command: while one runs, the filesystem's free space is sampled (statvfs,
    every DISK_SAMPLE_S), and the workspace is walked only when the filesystem grew by more than the
    room left at the last walk. A command that takes the workspace past the cap is killed, with
    everything it started; once over, commands run with no file growth allowed (`ulimit -f 0`: they
    can still delete) and the file tools refuse to write, until the workspace is back under. Where a
    command made a folder the walk cannot read, the filesystem's growth counts instead."""

    def __init__(self, root: str, cap: int) -> None:
        self.root, self.cap = root, cap
        self.grown = 0  # at the last walk
        self.fs_mark = 0  # the filesystem's use at the last walk
        self.next_walk = 0.0
        self.base_fs = 0
        self.base_use, self.base_hidden = 0, {}  # type: int, dict[str, int]
        self.ready = threading.Event()
        threading.Thread(target=self._baseline, daemon=True).start()

    def _baseline(self) -> None:
        try:
            self.base_fs = self.fs_mark = _fs_used(self.root)
            self.base_use, self.base_hidden = self._usage()
        finally:
            self.ready.set()

    def _usage(self) -> tuple[int, dict[str, int]]:
        """Bytes the workspace holds, and the folders the walk could not read (path -> ctime)."""
        total, seen, hidden = 0, set(), {}  # type: int, set[tuple[int, int]], dict[str, int]
        git = os.path.join(self.root, ".git")

        def fail(error: OSError) -> None:
            path = error.filename or ""
            with contextlib.suppress(OSError):
                hidden[path] = os.lstat(path).st_ctime_ns

        for dirpath, dirnames, filenames in os.walk(self.root, onerror=fail):
            if dirpath == self.root and ".git" in dirnames:
                dirnames.remove(".git")
            for name in dirnames + filenames:
                full = os.path.join(dirpath, name)
                if full == git:
                    continue
                try:
                    st = os.lstat(full)
                except OSError:
                    continue
                if (st.st_dev, st.st_ino) in seen:
                    continue
                seen.add((st.st_dev, st.st_ino))
                total += max(getattr(st, "st_blocks", 0) * 512, ENTRY_BYTES)
        return total, hidden

    def over(self) -> bool:
        return self.grown > self.cap

    def still_over(self) -> bool:
        """Over the cap, measured again if the last walk said so (files may have been deleted since)."""
        if self.over():
            self.measure()
        return self.over()

    def message(self) -> str:
        mib = 1024 * 1024
        return (
            f"workspace disk cap: the workspace grew by {self.grown // mib} MiB in this session, over the "
            f"{self.cap // mib} MiB allowed (sandbox.bind_growth_mb); delete files to go on"
        )

    def measure(self) -> None:
        """Walk the workspace: its growth now."""
        self.ready.wait()
        fs = _fs_used(self.root)
        started = time.monotonic()
        use, hidden = self._usage()
        grown = use - self.base_use
        if any(self.base_hidden.get(path) != ctime for path, ctime in hidden.items()):
            grown = max(grown, fs - self.base_fs)  # a folder made unreadable may hide anything
        self.grown, self.fs_mark = grown, fs
        self.next_walk = time.monotonic() + max(0.2, 4 * (time.monotonic() - started))

    def guard(self) -> DiskGuard:
        return DiskGuard(self)


class DiskGuard:
    """One command's view of the cap: `check()` while it runs says why it must stop, if it must."""

    def __init__(self, cap: DiskCap) -> None:
        self.cap = cap
        self.locked = cap.still_over()  # over already: this command may only shrink the workspace
        self.start_fs = _fs_used(cap.root)
        self.next_sample = 0.0

    def check(self, final: bool = False) -> str | None:
        cap, now = self.cap, time.monotonic()
        if not final and now < self.next_sample:
            return None
        self.next_sample = now + DISK_SAMPLE_S
        if not cap.ready.is_set():
            return None
        fs = _fs_used(cap.root)
        if fs - cap.fs_mark <= cap.cap - cap.grown and not (final and cap.over()):
            return None  # the filesystem did not grow by the room left: the workspace cannot have
        if not final and now < cap.next_walk:
            return None
        cap.measure()
        if cap.over() and fs > self.start_fs:  # a command that deletes files is never stopped
            return cap.message()
        return None


class Gate:
    """`exec` runs alone; `run`s overlap each other but not an `exec`."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.runs = 0
        self.execing = False

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        with self.cond:
            self.cond.wait_for(lambda: not self.execing and self.runs == 0)
            self.execing = True
        try:
            yield
        finally:
            with self.cond:
                self.execing = False
                self.cond.notify_all()

    @contextlib.contextmanager
    def shared(self) -> Iterator[Callable[[], bool]]:
        """Yields `last()`: whether no other run is in flight (then the caller may sweep)."""
        with self.cond:
            self.cond.wait_for(lambda: not self.execing)
            self.runs += 1

        def last() -> bool:
            with self.cond:
                return self.runs == 1

        try:
            yield last
        finally:
            with self.cond:
                self.runs -= 1
                self.cond.notify_all()


def _put(path: str, text: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def _status(pid: int) -> tuple[int, str, int] | None:
    """(ppid, state letter, real uid) from /proc/PID/status, None if it is gone."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            text = handle.read()
    except OSError:
        return None
    ppid, state, uid = 0, "", -1
    for line in text.splitlines():
        if line.startswith("State:"):
            state = line.split()[1]
        elif line.startswith("PPid:"):
            ppid = int(line.split()[1])
        elif line.startswith("Uid:"):
            uid = int(line.split()[1])
            break
    return ppid, state, uid


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""


def _libc() -> Any:
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True)
    except (ImportError, OSError):
        return None


def harden() -> None:
    """Not dumpable (no /proc/self/fd, mem or environ for anyone without CAP_SYS_PTRACE), and a
    child subreaper (orphaned descendants come back to us, so they can be found and killed)."""
    libc = _libc()
    if libc is None:
        sys.stderr.write("trident runner: no ctypes: the runner stays dumpable\n")
        return
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _dumpable() -> bool:
    libc = _libc()
    return bool(libc.prctl(3, 0, 0, 0, 0)) if libc is not None else True  # PR_GET_DUMPABLE


def _pump(stream: Any, capture: Capture) -> None:
    with contextlib.suppress(OSError, ValueError):
        for chunk in iter(lambda: stream.read1(65536), b""):
            capture.add(chunk)


def _feed(stream: Any, data: bytes) -> None:
    with contextlib.suppress(OSError, ValueError):
        stream.write(data)
    with contextlib.suppress(OSError, ValueError):
        stream.close()


def _q(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


def _is_identifier(name: str) -> bool:
    return bool(name) and (name[0].isalpha() or name[0] == "_") and all(c.isalnum() or c == "_" for c in name)


def kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _regular(path: str, mode: int) -> None:
    """Refuse what is not a regular file (a fifo would block the read, a device has no end)."""
    if stat.S_ISREG(mode):
        return
    kind = "a fifo" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
    raise Refused(f"{path!r} is {kind}, not a regular file: not read")


def _full(root: str) -> bool:
    """Whether the workspace's filesystem has no space left for the commands (its cap is reached)."""
    try:
        info = os.statvfs(root)
    except OSError:
        return False
    return info.f_bavail * info.f_frsize < 64 * 1024 or (info.f_files > 0 and info.f_favail == 0)


def _fs_used(root: str) -> int:
    """What the filesystem holding `root` has in use: its used blocks, and ENTRY_BYTES per used inode."""
    try:
        info = os.statvfs(root)
    except OSError:
        return 0
    return (info.f_blocks - info.f_bfree) * info.f_frsize + (info.f_files - info.f_ffree) * ENTRY_BYTES


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
    harden()  # first: before anything else can look at this process
    args = {"--root": os.getcwd(), "--state": "", "--output-limit": "65536", "--memory-limit": "0"}
    args["--user"] = ""
    args["--disk-cap"] = "0"
    for key, value in zip(argv[::2], argv[1::2]):  # noqa: B905 (no strict= before python 3.10)
        args[key] = value
    creds = Creds(args["--user"] or None)
    if creds.uid is not None:
        creds.bash()  # the execute-only copy is root's: made before files are made as the user
    creds.enter()
    state = args["--state"] or tempfile.mkdtemp(prefix="trident-shell-")
    if creds.uid is None:
        creds.bin_dir = state  # removed with it
    memory = int(args["--memory-limit"]) or None
    runner = Runner(
        args["--root"], state, int(args["--output-limit"]), memory, creds, int(args["--disk-cap"])
    )
    # SIGPIPE stays ignored (Python's default): a write to a shell that an interrupt has just killed
    # must fail as BrokenPipeError, not kill the runner; a closed stdout ends it in `send`.
    runner.serve(sys.stdin.buffer, sys.stdout.buffer)


if __name__ == "__main__":
    main(sys.argv[1:])
