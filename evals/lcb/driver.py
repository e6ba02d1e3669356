"""The in-sandbox grading driver: one process per batch of samples, reading the jobs (JSON) on stdin.

Stdlib only, python3 >= 3.8 (it is copied into the sandbox and run by the sandbox's python3).
It prints one JSON object: upstream's per-test result list, upstream-style metadata and a verdict
name. The rules are LiveCodeBench's (lcb_runner/evaluation/testing_util.py); the execution is not:

- stdin problems: for each test a child is forked from this warm process (the modules upstream
  pre-imports are already loaded), with the test input on a real pipe as fd 0 and fd 1 a real pipe
  read here, so `sys.stdin.buffer`, `os.read(0, …)`, `open(0)`, `exit()` behave as on a judge.
  The solution runs as `__main__` in a namespace holding upstream's star imports.
- functional problems: one child execs the module once (upstream's `compile_code`), builds
  `Solution()` when the code has `class Solution`, then calls the method test by test (one shared
  instance, as upstream), reporting each result on a pipe.
- every child: address-space and CPU rlimits, no core files, first in line for the OOM killer, and
  a wall-clock kill here when its test overruns the per-test timeout.
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


# -- child processes ---------------------------------------------------------------------------
def limit_child(memory_bytes: int, cpu_s: float) -> None:
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(INT_DIGITS)
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    cpu = int(cpu_s) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        with open("/proc/self/oom_score_adj", "w") as handle:
            handle.write("1000")
    except OSError:
        pass


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
    data = (json.dumps(message) + "\n").encode()
    while data:
        data = data[os.write(fd, data) :]


class Child:
    """A forked child and the pipes read here: its stdout (capped) and its report lines."""

    def __init__(self, pid: int, out_fd: int | None, report_fd: int, output_limit: int) -> None:
        self.pid, self.out_fd, self.report_fd = pid, out_fd, report_fd
        self.output = bytearray()
        self.overflow = 0
        self.output_limit = output_limit
        self.reports: list[dict[str, Any]] = []
        self._partial = b""
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
        else:
            self._partial += data
            *lines, self._partial = self._partial.split(b"\n")
            self.reports.extend(json.loads(line) for line in lines if line)
        return True

    def _reap(self) -> bool:
        if self.status is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = status
        return self.status is not None

    def wait(self, deadline: float, reports: int | None = None) -> bool:
        """Read until the child exits (or has sent `reports` lines); False when the deadline passed."""
        open_fds = [fd for fd in (self.out_fd, self.report_fd) if fd is not None]
        while True:
            if self._reap():
                self._drain(open_fds)
                return True
            if reports is not None and len(self.reports) >= reports:
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

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        if self.status is None:
            self.status = os.waitpid(self.pid, 0)[1]

    def close(self) -> None:
        """Kill the child if still there (reaped later, off the critical path) and close the pipes."""
        if self.status is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            UNREAPED.append(self.pid)
        for fd in (self.out_fd, self.report_fd, self.exit_fd):
            if fd is not None:
                os.close(fd)

    def death(self) -> str | None:
        """How the child ended when it did not end by itself: a signal name, or None."""
        if self.status is not None and os.WIFSIGNALED(self.status):
            number = os.WTERMSIG(self.status)
            try:
                return signal.Signals(number).name
            except ValueError:
                return f"signal {number}"
        return None


UNREAPED: list[int] = []


def reap(block: bool = False) -> None:
    """Collect killed children; without `block`, only those already gone."""
    for pid in list(UNREAPED):
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(pid, 0 if block else os.WNOHANG)[0] == 0:
                continue
        UNREAPED.remove(pid)


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
def run_stdin_test(compiled: Any, data: str, job: dict[str, Any]) -> Child:
    reap()
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    rep_r, rep_w = os.pipe()
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        try:
            os.dup2(in_r, 0)
            os.dup2(out_w, 1)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
            for fd in (in_r, in_w, out_r, out_w, rep_r, devnull):
                os.close(fd)
            scrub()
            limit_child(job["memory_bytes"], job["timeout"])
            reopen_std_streams()
            report: dict[str, Any] = {"status": "ok"}
            try:
                exec(compiled, namespace())
            except SystemExit:
                pass  # upstream: exit() ends the program, its output counts
            except BaseException as exc:
                report = {"status": "error", "error": safe_repr(exc)}
            with contextlib.suppress(BaseException):
                sys.stdout.flush()
            send(rep_w, report)
        finally:
            os._exit(0)
    for fd in (in_r, out_w, rep_w):
        os.close(fd)
    feed(in_w, data.encode("utf-8"))
    return Child(pid, out_r, rep_r, job["output_limit"])


def grade_stdin(job: dict[str, Any]) -> dict[str, Any]:
    try:
        compiled = compile(job["code"], "<solution>", "exec")
    except (SyntaxError, ValueError) as exc:
        return compile_error(exc)
    results: list[Any] = []
    # by index, so no local of this frame holds an expected output while a child runs
    for index in range(min(len(job["inputs"]), len(job["outputs"]))):
        child = run_stdin_test(compiled, job["inputs"][index], job)
        try:
            finished = child.wait(time.monotonic() + job["timeout"], reports=1)
        finally:
            child.close()
        verdict = judge_stdin(child, finished, job, index)
        if verdict is not None:
            results.append(verdict[0])
            return finished_with(results, verdict[1], verdict[2])
        results.append(PASS)
    return finished_with(results, "pass", {})


def judge_stdin(
    child: Child, finished: bool, job: dict[str, Any], index: int
) -> tuple[int, str, dict[str, Any]] | None:
    """None when test `index` passed, else (code, verdict name, upstream-style metadata)."""
    expected = job["outputs"][index]
    details = {"inputs": truncate(job["inputs"][index]), "expected": truncate(expected)}
    if not finished:
        return TIME, "time_limit", time_limit(details)
    report = child.reports[0] if child.reports else None
    if report is None or report["status"] != "ok":
        error = str(report["error"]) if report else died(child)
        return RUNTIME, "runtime_error", runtime_error(error, details)
    output = child.output.decode("utf-8", "replace")
    message: str | None
    if child.overflow:
        message = f"Wrong answer: output over {job['output_limit']} bytes ({child.overflow} more cut)"
    else:
        message = compare_stdout(output, expected)
    if message is None:
        return None
    return WRONG, "wrong_answer", wrong_answer(truncate(output), details, message)


JOBS: list[dict[str, Any]] = []  # the batch: its expected outputs are scrubbed in every stdin child


def scrub() -> None:
    """In a child about to run a solution: drop every expected output this process still holds, so
    a solution cannot find the answers in its inherited memory (gc, frames)."""
    for job in JOBS:
        job["outputs"].clear()
        job.pop("answer", None)


# -- functional problems -----------------------------------------------------------------------
def functional_child(job: dict[str, Any], rep_w: int) -> None:
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
        outputs = [json.loads(text) for text in job["outputs"]]
    except SystemExit:
        return  # upstream's child dies without a result
    except BaseException as exc:
        send(rep_w, {"status": "load_error", "error": safe_repr(exc, str)})
        return
    send(rep_w, {"status": "loaded"})
    for args, expected in zip(inputs, outputs):  # noqa: B905
        try:
            prediction = method(*args)
            if isinstance(prediction, tuple):
                prediction = list(prediction)
            ok = bool(prediction == expected)
            output = "" if ok else truncate(prediction)  # upstream formats it inside its try
        except SystemExit:
            return
        except BaseException as exc:
            send(rep_w, {"status": "error", "error": safe_repr(exc)})
            return
        send(rep_w, {"status": "ok" if ok else "wrong", "output": output})
        if not ok:
            return


def grade_functional(job: dict[str, Any]) -> dict[str, Any]:
    try:
        compile(job["code"], "<solution>", "exec")
    except (SyntaxError, ValueError) as exc:
        return compile_error(exc)
    out = os.open(os.devnull, os.O_RDWR)
    rep_r, rep_w = os.pipe()
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        try:
            os.dup2(out, 0)
            os.dup2(out, 1)
            os.dup2(out, 2)
            os.close(rep_r)
            n = len(job["inputs"])
            limit_child(job["memory_bytes"], (job["timeout"] + 1) * (n + 1))
            reopen_std_streams()
            functional_child(job, rep_w)
            sys.stdout.flush()
        finally:
            os._exit(0)
    os.close(rep_w)
    os.close(out)
    child = Child(pid, None, rep_r, 0)
    results: list[Any] = []
    try:
        if not child.wait(time.monotonic() + job["timeout"], reports=1):
            # upstream: compile_code's alarm raises inside run_test's try → -4 "Error during testing: "
            return finished_with([RUNTIME], "compile_error", testing_error(""))
        if not child.reports:
            return crashed(job, child)
        if child.reports[0]["status"] == "load_error":
            return finished_with([RUNTIME], "compile_error", testing_error(child.reports[0]["error"]))
        for index, (args, expected) in enumerate(zip(job["inputs"], job["outputs"])):  # noqa: B905
            details = {"inputs": truncate(args_value(args)), "expected": truncate(json_value(expected))}
            if not child.wait(time.monotonic() + job["timeout"], reports=index + 2):
                results.append(TIME)
                return finished_with(results, "time_limit", time_limit(details))
            if len(child.reports) < index + 2:
                if child.death() is None:
                    return crashed(job, child)
                results.append(RUNTIME)
                return finished_with(results, "runtime_error", runtime_error(died(child), details))
            report = child.reports[index + 1]
            if report["status"] == "error":
                results.append(RUNTIME)
                return finished_with(results, "runtime_error", runtime_error(report["error"], details))
            if report["status"] == "wrong":
                results.append(WRONG)
                return finished_with(results, "wrong_answer", wrong_answer(report["output"], details))
            results.append(PASS)
    finally:
        child.close()
    return finished_with(results, "pass", {})


def args_value(text: str) -> Any:
    try:
        return [json.loads(line) for line in text.split("\n")]
    except ValueError:
        return text


def json_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


# -- results -----------------------------------------------------------------------------------
def finished_with(results: list[Any], name: str, metadata: dict[str, Any]) -> dict[str, Any]:
    return {"results": results, "metadata": metadata, "name": name}


def testing_error(message: str) -> dict[str, Any]:
    return {"error_code": -4, "error_message": f"Error during testing: {message}"}


def compile_error(exc: BaseException) -> dict[str, Any]:
    # upstream: the exception escapes compile_code into run_test's handler
    return finished_with([RUNTIME], "compile_error", testing_error(str(exc)))


def time_limit(details: dict[str, Any]) -> dict[str, Any]:
    return {
        "error": "TimeoutException()",
        "error_code": -3,
        "error_message": "Time Limit Exceeded",
        **details,
    }


def runtime_error(error: str, details: dict[str, Any]) -> dict[str, Any]:
    return {"error": error, "error_code": -4, "error_message": "Runtime Error", **details}


def wrong_answer(output: str, details: dict[str, Any], message: str = "Wrong Answer") -> dict[str, Any]:
    return {"output": output, **details, "error_code": -2, "error_message": message}


def died(child: Child) -> str:
    how = child.death()
    if how == "SIGKILL":
        return "MemoryError() (killed by SIGKILL: out of memory)"
    return f"the solution process died ({how or 'exited without finishing'})"


def crashed(job: dict[str, Any], child: Child) -> dict[str, Any]:
    """The child ended without reporting (exit() in a functional solution): upstream's global path."""
    results: list[Any] = [GLOBAL] * len(job["inputs"])
    meta = {"error_code": -1, "error_message": "the solution process ended without a result"}
    return finished_with(results, "crash", meta)


def grade(job: dict[str, Any]) -> dict[str, Any]:
    if job.get("fn_name"):
        return grade_functional(job)
    return grade_stdin(job)


def undumpable() -> None:
    """PR_SET_DUMPABLE 0: the solutions (same uid) cannot ptrace this process or read its memory."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def warm_up() -> None:
    """Import what every solution gets, once, before any fork."""
    namespace()
    sys.setrecursionlimit(1000)
    gc.freeze()  # children do not touch (and copy) the pages of what is already here


def main() -> None:
    """Grade each job of the batch on stdin in turn; one JSON line per job, as soon as it is done."""
    undumpable()
    batch = json.loads(sys.stdin.buffer.read())
    for job in batch["jobs"]:  # the tests are sent once per problem; jobs share the lists
        job.update(batch["tests"][job.pop("tests")])
    JOBS.extend(batch.pop("jobs"))
    batch.clear()
    warm_up()
    for index, job in enumerate(JOBS):
        started = time.monotonic()
        job["answer"] = grade(job)  # kept on the job (scrubbed in children with the outputs)
        job["answer"].update(index=index, duration=time.monotonic() - started)
        sys.stdout.write(json.dumps(job.pop("answer")) + "\n")
        sys.stdout.flush()
    reap(block=True)


if __name__ == "__main__":
    main()
