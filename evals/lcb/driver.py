"""The in-sandbox side of grading: it runs samples and relays what they did; it never judges.

Stdlib only, python3 >= 3.8 (passed to the sandbox's python3 as a `-c` argument). Two roles:

- the driver (`python3 -c SRC`): one per batch, reading the jobs (code, inputs, limits; never an
  expected output) as JSON on stdin. In the Docker sandbox it runs as the runner's user (root with only
  SETUID/SETGID/KILL), not dumpable, a child subreaper. Per job it makes a fresh working directory,
  starts a supervisor for the sample under a uid of its own (never reused, never the driver's),
  enforces the sample's backstop, then kills every process of that uid and deletes every file it left
  (its directory, /tmp, /var/tmp, /dev/shm, /dev/mqueue). It prints one JSON line per job with the
  supervisor's records, verbatim, for the host to judge (`grader.judge`).
- the supervisor (`python3 -c SRC zygote`): a fresh process per sample (exec'd, so it never held
  another sample's code, inputs or outputs), under the sample's uid. stdin problems: a child forked
  per test with the input on a real pipe as fd 0 and fd 1 a real pipe read here, so
  `sys.stdin.buffer`, `os.read(0, ...)`, `open(0)`, `exit()` behave as on a judge; the solution runs as
  `__main__` in a namespace holding upstream's star imports. Functional problems: one child execs the
  module once, builds `Solution()` when the code has `class Solution`, then calls the method test by
  test (one shared instance, as upstream), each return value sent as data (a tagged JSON encoding).
  Every child: address-space and CPU rlimits, no core files, first in line for the OOM killer, a
  wall-clock kill at the per-test timeout; the sample's uid has a process limit (no fork bomb reaches
  past it).

What a solution can write (its stdout, its report lines, its return values) is only ever data that
the host parses strictly and compares with expected outputs that never enter the sandbox. A
solution that forges any of it forges its own answers, and nothing else.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import json
import os
import resource
import select
import signal
import sys
import threading
import time
from decimal import Decimal, InvalidOperation
from typing import Any

# The modules upstream's grader star-imports before every solution, in its order, then its
# recursion limit. Solutions relying on them (`deque` without an import) pass upstream, so here too.
PLAIN_IMPORTS = (
    "string",
    "re",
    "datetime",
    "collections",
    "heapq",
    "bisect",
    "copy",
    "math",
    "random",
    "statistics",
    "itertools",
    "functools",
    "operator",
    "io",
    "sys",
    "json",
)
STAR_IMPORTS = (*PLAIN_IMPORTS, "builtins", "typing")
RECURSION_LIMIT = 50000
INT_DIGITS = 50000  # upstream's evaluator sets sys.set_int_max_str_digits(50000) for every solution
TRUNCATE = 300

PASS, GLOBAL, WRONG, TIME, RUNTIME = True, -1, -2, -3, -4


def prelude() -> str:
    lines = [f"from {name} import *" for name in STAR_IMPORTS]
    lines += [f"import {name}" for name in PLAIN_IMPORTS]
    lines.append(f"sys.setrecursionlimit({RECURSION_LIMIT})")
    return "\n".join(lines) + "\n"


PRELUDE = prelude()


def truncate(value: Any, length: int = TRUNCATE) -> str:
    """Upstream's `truncatefn`: str(), then head and tail around a marker past `length`."""
    text = value if isinstance(value, str) else str(value)
    if len(text) <= length:
        return text
    return text[: length // 2] + "...(truncated) ..." + text[-length // 2 :]


# -- upstream's stdout comparison ------------------------------------------------------------
def stripped_lines(text: str) -> list[str]:
    return [line.strip() for line in text.strip().split("\n")]


def decimals(line: str) -> list[Decimal] | None:
    try:
        return [Decimal(token) for token in line.split()]
    except (InvalidOperation, ValueError):
        return None


def compare_stdout(output: str, expected: str) -> str | None:
    """None when the output is accepted, else upstream's wrong-answer message."""
    got, want = stripped_lines(output), stripped_lines(expected)
    if len(got) != len(want):
        return "Wrong answer: mismatched output length"
    for index, (line, target) in enumerate(zip(got, want)):  # noqa: B905 (python3 >= 3.8 in sandboxes)
        if line == target:
            continue
        message = f"Wrong answer at output_line_idx={index}: {truncate(line)} != {truncate(target)}"
        a, b = decimals(line), decimals(target)
        if a is None or b is None or a != b:
            return message
    return None


# -- the supervisor's children ------------------------------------------------------------------
REPORT_FD = 3  # in a solution's process: where its wrapper writes its report lines
REPORT_CAP = 1 << 16  # bytes of a stdin program's report kept (an exception's repr)
NPROC = 128  # processes (and threads) one sample's uid may have at once


def limit_child(memory_bytes: int, cpu_s: float) -> None:
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(INT_DIGITS)
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    cpu = int(cpu_s) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def only_fds(keep: dict[int, int]) -> None:
    """In a fresh child: fds 0.. become `keep`'s values (target -> source), every other fd is closed,
    so nothing of the supervisor (its channel to the driver, other pipes) is reachable."""
    moved = {}
    for target, source in keep.items():
        moved[target] = os.dup(source)  # dups above every target, so no dup2 clobbers a source
    for target, source in moved.items():
        os.dup2(source, target)
    for name in os.listdir("/proc/self/fd") if os.path.isdir("/proc/self/fd") else []:
        fd = int(name)
        if fd not in keep:
            with contextlib.suppress(OSError):
                os.close(fd)


def reopen_std_streams() -> None:
    """Fresh sys.stdin/stdout objects on fds 0 and 1 (which now hold this child's pipes)."""
    import io

    stdin = io.BufferedReader(io.FileIO(0, "r", closefd=False))
    stdout = io.BufferedWriter(io.FileIO(1, "w", closefd=False))
    sys.stdin = io.TextIOWrapper(stdin, encoding="utf-8")
    sys.stdout = io.TextIOWrapper(stdout, encoding="utf-8")
    sys.__stdin__, sys.__stdout__ = sys.stdin, sys.stdout  # type: ignore[misc]


BASE_SCOPE: dict[str, Any] = {}


def namespace() -> dict[str, Any]:
    """A fresh `__main__` namespace holding upstream's imports (copied from the one built once)."""
    if not BASE_SCOPE:
        exec(PRELUDE, BASE_SCOPE)
    scope = dict(BASE_SCOPE)
    scope.update(__name__="__main__", stdin=sys.stdin, stdout=sys.stdout)
    sys.setrecursionlimit(RECURSION_LIMIT)
    return scope


def safe_repr(exc: BaseException, show: Any = repr) -> str:
    """repr() (or `show`) of a solution's exception, which may itself fail."""
    try:
        return str(show(exc))
    except Exception:
        return type(exc).__name__ + "(<unprintable>)"


def send(fd: int, message: dict[str, Any]) -> None:
    data = (json.dumps(message, ensure_ascii=True) + "\n").encode()
    while data:
        data = data[os.write(fd, data) :]


def load_failure(exc: BaseException, status: str) -> dict[str, Any]:
    kind = "memory" if isinstance(exc, MemoryError) else "error"
    return {"status": status, "error": safe_repr(exc, str), "kind": kind}


class Child:
    """A forked child and the pipes read here: its stdout (capped) and its report lines (capped)."""

    def __init__(self, pid: int, out_fd: int | None, report_fd: int, output_limit: int) -> None:
        self.pid, self.out_fd, self.report_fd = pid, out_fd, report_fd
        self.output = bytearray()
        self.overflow = 0
        self.output_limit = output_limit
        self.lines: list[str | int] = []  # report lines as text; an int: a line over the cap, its size
        self._partial = bytearray()
        self._partial_over = 0
        self.status: int | None = None
        try:
            self.exit_fd: int | None = os.pidfd_open(pid)  # type: ignore[attr-defined,unused-ignore]
        except (AttributeError, OSError):
            self.exit_fd = None

    def _read(self, fd: int) -> bool:
        data = os.read(fd, 1 << 16)
        if not data:
            return False
        if fd == self.out_fd:
            room = self.output_limit - len(self.output)
            self.output += data[: max(room, 0)]
            self.overflow += max(len(data) - max(room, 0), 0)
            return True
        while data:
            cut = data.find(b"\n")
            piece, data = (data, b"") if cut < 0 else (data[:cut], data[cut + 1 :])
            if self._partial_over or len(self._partial) + len(piece) > self.output_limit:
                self._partial_over += len(self._partial) + len(piece)
                self._partial.clear()
            else:
                self._partial += piece
            if cut >= 0:
                if self._partial_over:
                    self.lines.append(self._partial_over)
                else:
                    self.lines.append(self._partial.decode("utf-8", "replace"))
                self._partial.clear()
                self._partial_over = 0
        return True

    def _reap(self) -> bool:
        if self.status is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = status
        return self.status is not None

    def wait(self, deadline: float, lines: int | None = None) -> bool:
        """Read until the child exits (or has sent `lines` lines); False when the deadline passed."""
        open_fds = [fd for fd in (self.out_fd, self.report_fd) if fd is not None]
        while True:
            if self._reap():
                self._drain(open_fds)
                return True
            if lines is not None and len(self.lines) >= lines:
                self._drain(open_fds)  # what it wrote before reporting is in the pipes
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            watch = open_fds + ([self.exit_fd] if self.exit_fd is not None else [])
            ready, _, _ = select.select(watch, [], [], min(left, 0.05 if self.exit_fd is None else left))
            for fd in ready:
                if fd != self.exit_fd and not self._read(fd):
                    open_fds.remove(fd)

    def _drain(self, fds: list[int]) -> None:
        # the child is gone; grandchildren may still hold the pipes, so read only what is there now
        for fd in fds:
            while select.select([fd], [], [], 0)[0] and self._read(fd):
                pass

    def usage(self) -> dict[str, float]:
        """CPU time used and time spent waiting for a CPU (schedstat), for a child still running."""
        try:
            with open(f"/proc/{self.pid}/schedstat") as handle:
                run, wait = (int(v) / 1e9 for v in handle.read().split()[:2])
            return {"cpu": run, "wait": wait}
        except (OSError, ValueError):
            return {}

    def close(self) -> None:
        """Kill the child (and, under a uid of its own, every process of that uid) and close the pipes."""
        if self.status is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                self.status = os.waitpid(self.pid, 0)[1]
        kill_mine()
        for fd in (self.out_fd, self.report_fd, self.exit_fd):
            if fd is not None:
                os.close(fd)

    def end(self) -> dict[str, Any]:
        """How the child ended: exit code or signal name."""
        if self.status is None:
            return {"exit": None, "signal": None}
        if os.WIFSIGNALED(self.status):
            number = os.WTERMSIG(self.status)
            try:
                name = signal.Signals(number).name
            except ValueError:
                name = f"signal {number}"
            return {"exit": None, "signal": name}
        return {"exit": os.WEXITSTATUS(self.status), "signal": None}


OWN_UID = False  # the supervisor runs under a uid of its own (then kill(-1) reaches only the sample)


def kill_mine() -> None:
    """Under the sample's own uid: every other process of it (whatever the test left) is killed."""
    if OWN_UID:
        kill_uid(os.getuid(), reap=True)


def uid_processes(uid: int) -> list[int]:
    """Live processes (not zombies) whose real uid is `uid`, but this one."""
    found = []
    me = os.getpid()
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open(f"/proc/{name}/status") as handle:
                text = handle.read()
        except OSError:
            continue
        state = uid_of = None
        for line in text.splitlines():
            if line.startswith("State:"):
                state = line.split()[1]
            elif line.startswith("Uid:"):
                uid_of = int(line.split()[1])
                break
        if uid_of == uid and state not in ("Z", "X"):
            found.append(int(name))
    return found


def kill_uid(uid: int, reap: bool, limit_s: float = 5.0) -> None:
    """From a process of `uid`: SIGKILL to every other process of it, round after round (a fork bomb
    refills between two), until none is left alive."""
    give_up = time.monotonic() + limit_s
    while True:
        with contextlib.suppress(OSError):
            os.kill(-1, signal.SIGKILL)  # every process this uid may signal, never the caller
        if reap:
            with contextlib.suppress(ChildProcessError):
                while os.waitpid(-1, os.WNOHANG)[0]:
                    pass
        if not uid_processes(uid) or time.monotonic() > give_up:
            return
        time.sleep(0.001)


def feed(fd: int, data: bytes) -> None:
    """Write a test's input to the child's stdin pipe: at once when the pipe can hold it all, else
    from a thread (the child may never read it all)."""
    if len(data) <= PIPE_SIZE and pipe_fits(fd, len(data)):
        with contextlib.suppress(OSError):
            os.write(fd, data)
        os.close(fd)
        return

    def write() -> None:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        except OSError:
            pass
        finally:
            os.close(fd)

    threading.Thread(target=write, daemon=True).start()


PIPE_SIZE = 1 << 20


def pipe_fits(fd: int, size: int) -> bool:
    """Grow the pipe's buffer to hold `size` bytes (Linux F_SETPIPE_SZ); False where it cannot."""
    if size < 4096:
        return True
    try:
        setsize = getattr(fcntl, "F_SETPIPE_SZ", 1031)
        return int(fcntl.fcntl(fd, setsize, size)) >= size
    except OSError:
        return False


# -- stdin problems ----------------------------------------------------------------------------
def run_stdin_test(code: str, data: str, job: dict[str, Any]) -> Child:
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    rep_r, rep_w = os.pipe()
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            only_fds({0: in_r, 1: out_w, 2: devnull, REPORT_FD: rep_w})
            limit_child(job["memory_bytes"], job["timeout"])
            reopen_std_streams()
            report: dict[str, Any] = {"status": "ok"}
            try:
                compiled = compile(code, "<solution>", "exec")
            except BaseException as exc:
                send(REPORT_FD, load_failure(exc, "compile_error"))
                os._exit(0)
            try:
                exec(compiled, namespace())
            except SystemExit:
                pass  # upstream: exit() ends the program, its output counts
            except BaseException as exc:
                report = {"status": "error", "error": safe_repr(exc)}
            with contextlib.suppress(BaseException):
                sys.stdout.flush()
            send(REPORT_FD, report)
        finally:
            os._exit(0)
    for fd in (in_r, out_w, rep_w):
        os.close(fd)
    feed(in_w, data.encode("utf-8", "surrogatepass"))
    return Child(pid, out_r, rep_r, job["output_limit"])


def report_status(text: Any) -> Any:
    try:
        report = json.loads(text)
        return report.get("status") if isinstance(report, dict) else None
    except (TypeError, ValueError, RecursionError):
        return None


def b64z(data: bytes | bytearray) -> str:
    import base64
    import zlib

    return base64.b64encode(zlib.compress(bytes(data), 1)).decode("ascii")


def supervise_stdin(job: dict[str, Any], channel: int) -> None:
    """Each test in a fresh child; a record per test. Stops at a time limit, an error or a death
    (anything later cannot change the verdict); a wrong output is for the host to see."""
    for index, data in enumerate(job["inputs"]):
        child = run_stdin_test(job["code"], data, job)
        record: dict[str, Any] = {"test": index}
        try:
            finished = child.wait(time.monotonic() + job["timeout"], lines=1)
            if not finished:
                record.update(end="timeout", **child.usage())
        finally:
            child.close()
        if finished:
            report = child.lines[0] if child.lines else None
            record.update(child.end())
            record["report"] = report[:REPORT_CAP] if isinstance(report, str) else None
            record["out"] = b64z(child.output)
            record["overflow"] = child.overflow
            record["end"] = "report" if report is not None else "died"
        send(channel, record)
        if record["end"] != "report" or report_status(record["report"]) != "ok":
            break
    send(channel, {"done": True})


# -- functional problems -----------------------------------------------------------------------
ENCODE_DEPTH = 100


def encode(value: Any, depth: int = 0) -> Any:
    """A return value as tagged JSON data: exact builtin types only, so the host rebuilds the same
    objects and compares them itself (nothing of the solution's runs there)."""
    kind = type(value)
    if value is None or kind is bool or kind is str:
        return value
    if kind is int:
        return value if -(1 << 53) < value < (1 << 53) else {"int": hex(value)}
    if kind is float:
        return (
            value if value == value and value not in (float("inf"), float("-inf")) else {"float": repr(value)}
        )
    if depth >= ENCODE_DEPTH:
        return {"other": kind.__name__, "str": "(nested too deep)"}
    if kind is list:
        return [encode(v, depth + 1) for v in value]
    if kind is tuple:
        return {"tuple": [encode(v, depth + 1) for v in value]}
    if kind in (set, frozenset):
        return {kind.__name__: [encode(v, depth + 1) for v in value]}
    if kind is complex:
        return {"complex": [encode(value.real), encode(value.imag)]}
    import collections

    if kind in (dict, collections.OrderedDict, collections.defaultdict, collections.Counter):
        return {"dict": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in dict.items(value)]}
    return {"other": kind.__name__, "str": truncate(safe_repr(value, str))}


def functional_child(job: dict[str, Any]) -> None:
    try:
        scope: dict[str, Any] = {"__name__": "tmp_sol", "__builtins__": __builtins__}
        code = PRELUDE + "\n\n" + job["code"]
        exec(compile(code, "<solution>", "exec"), scope)
        target: Any = scope["Solution"]() if "class Solution" in job["code"] else None
        fn_name = job["fn_name"]
        method = scope.get(fn_name) if target is None else getattr(target, fn_name, None)
        if method is None:
            # upstream: get_function returns None, grade_call_based returns None, unpacking it fails
            raise TypeError("cannot unpack non-iterable NoneType object")
        inputs = [[json.loads(line) for line in text.split("\n")] for text in job["inputs"]]
    except SystemExit:
        return  # upstream's child dies without a result
    except BaseException as exc:
        send(REPORT_FD, load_failure(exc, "load_error"))
        return
    send(REPORT_FD, {"status": "loaded"})
    for args in inputs:
        try:
            prediction = method(*args)
            if isinstance(prediction, tuple):
                prediction = list(prediction)
            message = {"status": "returned", "value": encode(prediction)}
        except SystemExit:
            return
        except BaseException as exc:
            send(REPORT_FD, {"status": "error", "error": safe_repr(exc)})
            return
        try:
            send(REPORT_FD, message)
        except (ValueError, RecursionError) as exc:
            send(REPORT_FD, {"status": "error", "error": safe_repr(exc)})
            return


def supervise_functional(job: dict[str, Any], channel: int) -> None:
    """One child for all tests; every line it sends is relayed as is (the host parses it)."""
    out = os.open(os.devnull, os.O_RDWR)
    rep_r, rep_w = os.pipe()
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        try:
            only_fds({0: out, 1: out, 2: out, REPORT_FD: rep_w})
            n = len(job["inputs"])
            limit_child(job["memory_bytes"], (job["timeout"] + 1) * (n + 1))
            reopen_std_streams()
            functional_child(job)
            sys.stdout.flush()
        finally:
            os._exit(0)
    os.close(rep_w)
    os.close(out)
    child = Child(pid, None, rep_r, job["output_limit"])
    sent = 0
    record: dict[str, Any] = {}
    try:
        # the load (line 0), then one line per test, each within the per-test timeout
        for wanted in range(1, len(job["inputs"]) + 2):
            finished = child.wait(time.monotonic() + job["timeout"], lines=wanted)
            for line in child.lines[sent:]:
                send(channel, {"line": line} if isinstance(line, str) else {"overflow": line})
            sent = len(child.lines)
            if not finished:
                record = {"end": "timeout", **child.usage()}
                break
            if child.status is not None and len(child.lines) < wanted:
                break
    finally:
        child.close()
    for line in child.lines[sent:]:
        send(channel, {"line": line} if isinstance(line, str) else {"overflow": line})
    if not record:
        record = {"end": "exit" if child.status is not None else "running", **child.end()}
    send(channel, {**record, "lines": len(child.lines)})
    send(channel, {"done": True})


def warm_up() -> None:
    """Import what every solution gets, once, before any fork."""
    namespace()
    sys.setrecursionlimit(1000)
    gc.freeze()  # children do not touch (and copy) the pages of what is already here


def zygote() -> None:
    """The supervisor of one sample: its job on stdin, its records on stdout."""
    global OWN_UID
    undumpable()
    job = json.loads(sys.stdin.buffer.read())
    OWN_UID = bool(job.get("own_uid"))
    channel = os.dup(1)
    only_fds(
        {0: os.open(os.devnull, os.O_RDONLY), 1: os.open(os.devnull, os.O_WRONLY), 2: 2, channel: channel}
    )
    if OWN_UID:
        nproc = int(job.get("nproc") or NPROC)
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    with contextlib.suppress(OSError), open("/proc/self/oom_score_adj", "w") as handle:
        handle.write("1000")
    warm_up()
    if job.get("fn_name"):
        supervise_functional(job, channel)
    else:
        supervise_stdin(job, channel)


def undumpable() -> None:
    """PR_SET_DUMPABLE 0: processes of the same uid cannot ptrace this one or read its memory or fds."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def subreaper() -> None:
    """PR_SET_CHILD_SUBREAPER: what a sample's processes orphan comes back here (to be reaped)."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


# -- the driver ----------------------------------------------------------------------------------
WRITABLE = ("/tmp", "/var/tmp", "/dev/shm", "/dev/mqueue")


def world_runnable(path: str) -> bool:
    """Whether a process of any uid can run `path` (every directory on the way traversable)."""
    import stat

    real = os.path.realpath(path)
    try:
        if not os.stat(real).st_mode & stat.S_IXOTH:
            return False
        folder = os.path.dirname(real)
        while True:
            if not os.stat(folder).st_mode & stat.S_IXOTH:
                return False
            if folder == os.path.dirname(folder):
                return True
            folder = os.path.dirname(folder)
    except OSError:
        return False


def sample_python() -> str | None:
    for path in (sys.executable, "/usr/bin/python3", "/usr/local/bin/python3"):
        if path and world_runnable(path):
            return path
    return None


def remove_owned(uid: int, workdir: str) -> None:
    """As the sample's uid: everything it made in its directory and in the world-writable places."""
    for name in os.listdir(workdir) if os.path.isdir(workdir) else []:
        remove(os.path.join(workdir, name))
    for top in WRITABLE:
        try:
            entries = list(os.scandir(top))
        except OSError:
            continue
        for entry in entries:
            with contextlib.suppress(OSError):
                if entry.stat(follow_symlinks=False).st_uid == uid:
                    remove(entry.path)


def remove(path: str) -> None:
    import shutil

    with contextlib.suppress(OSError):
        if os.path.isdir(path) and not os.path.islink(path):
            with contextlib.suppress(OSError):
                os.chmod(path, 0o700)
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)


def clean_up(uid: int | None, workdir: str, group: int) -> None:
    """Kill whatever the sample left running and delete whatever it wrote."""
    if uid is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)
        remove(workdir)
        return
    pid = os.fork()
    if pid == 0:  # a cleaner under the sample's uid: kill(-1) reaches exactly its processes
        code = 1
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            kill_uid(uid, reap=False)
            remove_owned(uid, workdir)
            code = 0
        finally:
            os._exit(code)
    while True:  # reap orphans of the sample (this is their subreaper) until the cleaner is done
        try:
            done, _ = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        if done == pid:
            break
    with contextlib.suppress(OSError):
        os.rmdir(workdir)


def run_sample(
    job: dict[str, Any], inputs: list[str], uid: int | None, scratch: str, python: str
) -> dict[str, Any]:
    import secrets
    import subprocess

    workdir = os.path.join(scratch, secrets.token_hex(16))  # the scratch root is not listable
    os.mkdir(workdir)
    os.chmod(workdir, 0o777 if uid is not None else 0o700)
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": workdir,
        "TMPDIR": workdir,
        "TMP": workdir,
        "TEMP": workdir,
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    keys = ("code", "fn_name", "timeout", "memory_bytes", "output_limit", "nproc")
    payload = {key: job.get(key) for key in keys}
    payload.update(inputs=inputs, own_uid=uid is not None)
    who: dict[str, Any] = {}
    if uid is not None:
        who = {"user": uid, "group": uid, "extra_groups": []}
    started = time.monotonic()
    answer: dict[str, Any] = {"backstop": False}
    try:
        proc = subprocess.Popen(
            [python, "-I", "-c", SOURCE, "zygote"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,  # the driver's: diagnostics only (no sample process holds it)
            cwd=workdir,
            env=env,
            close_fds=True,
            start_new_session=True,
            **who,
        )
    except OSError as exc:
        clean_up(uid, workdir, 0)
        return {"infra": f"cannot start the sample's supervisor: {exc}"}
    try:
        out, _ = proc.communicate(
            json.dumps(payload).encode("utf-8", "surrogatepass"), timeout=job["backstop"]
        )
    except subprocess.TimeoutExpired:
        answer["backstop"] = True
        proc.kill()
        out, _ = proc.communicate()
    clean_up(uid, workdir, proc.pid)
    answer.update(records=out.decode("ascii", "replace"), supervisor_exit=proc.returncode)
    answer["duration"] = time.monotonic() - started
    return answer


SOURCE = ""  # this file's text, for the supervisors (sent in the batch: the driver runs as `-c`)


def main() -> None:
    """Run each job of the batch on stdin in turn; one JSON line per job, as soon as it is done."""
    import tempfile

    undumpable()
    subreaper()
    global SOURCE
    batch = json.loads(sys.stdin.buffer.read())
    tests, jobs, SOURCE = batch["tests"], batch["jobs"], batch["source"]
    python = sample_python()
    base = batch.get("uid_base")
    separated = os.geteuid() == 0 and base is not None and python is not None
    header = {"header": True, "separated": separated, "euid": os.geteuid()}
    sys.stdout.write(json.dumps(header) + "\n")
    sys.stdout.flush()
    scratch = tempfile.mkdtemp(prefix="trident-grade-")
    os.chmod(scratch, 0o711)
    try:
        for index, job in enumerate(jobs):
            uid = base + index if separated else None
            answer = run_sample(job, tests[job["tests"]], uid, scratch, python or sys.executable)
            answer["index"] = index
            sys.stdout.write(json.dumps(answer) + "\n")
            sys.stdout.flush()
    finally:
        with contextlib.suppress(OSError):
            os.rmdir(scratch)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "zygote":
        zygote()
    else:
        main()
