"""Grading samples with LiveCodeBench's rules, each sample a real process inside a sandbox.

One sandbox (a hardened Docker container by default, or the local runner) serves every sample: a
batch of samples is one `RunnerSession.run` of `python3 -c <evals/lcb/driver.py>` (passed as an
argument, so no file a solution could tamper with) with the jobs on stdin; `workers` run at once. The
driver enforces the per-test timeout (a wall-clock kill of the test's process); the runner kills the
driver at upstream's global backstop, `(timeout + 1) * tests + 5` seconds, so no sample can hang a run.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Protocol

from pydantic import BaseModel

from trident.evals.lcb.problems import Problem
from trident.sandbox.base import SandboxError
from trident.sandbox.client import RunnerSession
from trident.sandbox.local import LocalSandbox

DRIVER_SOURCE = (Path(__file__).parent / "driver.py").read_text(encoding="utf-8")

VERDICT_CODES = {
    "pass": 1,
    "global_timeout": -1,
    "crash": -1,
    "wrong_answer": -2,
    "time_limit": -3,
    "runtime_error": -4,
    "compile_error": -4,
    "runner_error": -5,
}


class SampleResult(BaseModel):
    question_id: str
    sample_index: int
    passed: bool
    verdict: int  # 1 pass; upstream codes -1 global timeout/crash, -2 wrong answer, -3 time limit,
    # -4 runtime error (and compile error, told apart by name), -5 runner error
    verdict_name: str
    test_results: list[bool | int]  # upstream's per-test list (stops at the first failure)
    metadata: dict[str, Any]  # upstream-style error_code / error_message / inputs / output / expected
    duration_s: float


class Grader(Protocol):
    async def __aenter__(self) -> Grader: ...

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def grade(
        self,
        problem: Problem,
        code: str,
        sample_index: int = 0,
        tests: Literal["public", "private", "all"] = "all",
    ) -> SampleResult: ...


def global_timeout_s(timeout_s: float, tests: int, extra_s: float = 5.0) -> float:
    """Upstream's backstop for one sample (check_correctness's join timeout)."""
    return (timeout_s + 1) * tests + extra_s


def job_for(
    problem: Problem, code: str, tests: Literal["public", "private", "all"], **limits: Any
) -> dict[str, Any]:
    cases = problem.tests(tests)
    return {
        "code": code,
        "fn_name": problem.func_name,
        "inputs": [case.input for case in cases],
        "outputs": [case.output for case in cases],
        **limits,
    }


def output_limit_for(problem: Problem) -> int:
    """The stdout kept per test: far more than any accepted answer needs, far less than a flood."""
    longest = max((len(case.output) for case in problem.tests("all")), default=0)
    return 4 * longest + (1 << 20)


@dataclass
class Pending:
    """A sample waiting for a driver run."""

    problem: Problem
    sample_index: int
    job: dict[str, Any]
    tests: int
    done: asyncio.Future[SampleResult]
    key: str = ""  # the tests it shares with other samples of its problem (sent once per batch)
    size: int = 0  # bytes of those tests


def batch_payload(batch: list[Pending]) -> bytes:
    """The driver's stdin: each problem's tests once, then the jobs naming them."""
    shared: dict[str, dict[str, list[str]]] = {}
    jobs = []
    for pending in batch:
        job = dict(pending.job)
        tests = {"inputs": job.pop("inputs"), "outputs": job.pop("outputs")}
        shared.setdefault(pending.key, tests)
        jobs.append({**job, "tests": pending.key})
    return json.dumps({"tests": shared, "jobs": jobs}).encode("utf-8")


class SandboxGrader:
    """A `Grader` over one runner session (Docker container or local runner).

    `workers` driver processes run at once. Each takes a small batch of the samples waiting (a
    python start costs more than grading a typical sample; every test still gets its own fresh
    process), with a backstop of the batch's summed per-sample backstops; a sample whose batch hit
    the backstop unfinished is graded again alone, against its own backstop. If the sandbox dies
    (a solution killed the runner, the container went away), a fresh one is started and the
    batch's samples are graded again alone; one that breaks it again gets `runner_error`.
    """

    def __init__(
        self,
        make_sandbox: Callable[[], RunnerSession],
        *,
        python: str,
        workers: int,
        timeout_s: float,
        memory_mb: int,
        batch_max: int = 64,
        batch_bytes: int = 16 << 20,
        backstop_extra_s: float = 5.0,
    ) -> None:
        self._make_sandbox, self.python = make_sandbox, python
        self.sandbox = make_sandbox()
        self.restarts = 0
        self._restarting = asyncio.Lock()
        self.workers, self.timeout_s, self.memory_mb = workers, timeout_s, memory_mb
        self.batch_max, self.batch_bytes, self.backstop_extra_s = batch_max, batch_bytes, backstop_extra_s
        self._queue: asyncio.Queue[Pending] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> SandboxGrader:
        try:
            await self.sandbox.start()
        except BaseException:
            await self.sandbox.close()
            raise
        self._tasks = [asyncio.create_task(self._work()) for _ in range(self.workers)]
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        while not self._queue.empty():
            self._queue.get_nowait().done.cancel()
        await self.sandbox.close()

    async def grade(
        self,
        problem: Problem,
        code: str,
        sample_index: int = 0,
        tests: Literal["public", "private", "all"] = "all",
    ) -> SampleResult:
        if not self._tasks:
            raise RuntimeError("use the grader as `async with open_grader(...) as grader`")
        limits = {
            "timeout": self.timeout_s,
            "memory_bytes": self.memory_mb * 1024 * 1024,
            "output_limit": output_limit_for(problem),
        }
        job = job_for(problem, code, tests, **limits)
        pending = Pending(
            problem=problem,
            sample_index=sample_index,
            job=job,
            tests=len(job["inputs"]),
            done=asyncio.get_running_loop().create_future(),
            key=f"{id(problem)}|{tests}",  # the problem object lives as long as the sample waits
            size=sum(map(len, job["inputs"])) + sum(map(len, job["outputs"])),
        )
        await self._queue.put(pending)
        return await pending.done

    async def _work(self) -> None:
        while True:
            batch = [await self._queue.get()]
            share = -(-(self._queue.qsize() + 1) // self.workers)
            sizes = {batch[0].key: batch[0].size}
            while len(batch) < min(self.batch_max, share) and not self._queue.empty():
                if sum(sizes.values()) >= self.batch_bytes:
                    break  # big tests: fewer samples per batch (each problem's tests go once)
                batch.append(self._queue.get_nowait())
                sizes[batch[-1].key] = batch[-1].size
            try:
                left = await self._run(batch, retry=True)
                for pending in left:  # each alone, against its own backstop, in a live sandbox
                    await self._run([pending], retry=False)
            except Exception as exc:  # never leave a caller waiting
                for pending in batch:
                    if not pending.done.done():
                        pending.done.set_exception(exc)

    async def _restart(self, dead: RunnerSession) -> None:
        async with self._restarting:
            if self.sandbox is not dead:
                return  # another worker already replaced it
            with contextlib.suppress(Exception):
                await dead.close()
            self.sandbox = self._make_sandbox()
            await self.sandbox.start()
            self.restarts += 1

    async def _run(self, batch: list[Pending], *, retry: bool) -> list[Pending]:
        """Grade a batch in one driver run; returns the samples to grade again alone (`retry`)."""
        backstop = sum(global_timeout_s(self.timeout_s, p.tests, self.backstop_extra_s) for p in batch)
        payload = batch_payload(batch)
        started = time.monotonic()
        box = self.sandbox
        try:
            run = await box.run(
                [self.python, "-I", "-c", DRIVER_SOURCE], stdin=payload, timeout=backstop, limit=64 << 20
            )
        except SandboxError as exc:
            await self._restart(box)
            if retry:
                return list(batch)
            for pending in batch:
                settle(pending, runner_error(pending, str(exc), time.monotonic() - started))
            return []
        answers: dict[int, dict[str, Any]] = {}
        for line in run.stdout.splitlines():
            with contextlib.suppress(ValueError):
                answer = json.loads(line)
                answers[int(answer["index"])] = answer
        left = []
        for index, pending in enumerate(batch):
            answer = answers.get(index)
            if answer is not None:
                result = make_result(
                    pending, answer["name"], answer["results"], answer["metadata"], float(answer["duration"])
                )
                settle(pending, result)
            elif run.timed_out and len(batch) > 1:
                left.append(pending)
            elif run.timed_out:
                meta = {"error_code": -1, "error_message": f"Global timeout after {backstop:g} s"}
                settle(pending, make_result(pending, "global_timeout", [-1] * pending.tests, meta, backstop))
            else:
                detail = run.stderr.decode("utf-8", "replace")[-2000:]
                message = f"grading driver failed (exit {run.exit_code}): {detail}"
                settle(pending, runner_error(pending, message, time.monotonic() - started))
        return left


def settle(pending: Pending, result: SampleResult) -> None:
    if not pending.done.done():
        pending.done.set_result(result)


def make_result(
    pending: Pending,
    name: str,
    results: list[bool | int],
    metadata: dict[str, Any],
    duration: float,
) -> SampleResult:
    passed = name == "pass" and all(r is True for r in results)
    return SampleResult(
        question_id=pending.problem.question_id,
        sample_index=pending.sample_index,
        passed=passed,
        verdict=1 if passed else VERDICT_CODES[name],
        verdict_name=name,
        test_results=results,
        metadata=metadata,
        duration_s=duration,
    )


def runner_error(pending: Pending, message: str, duration: float) -> SampleResult:
    meta = {"error": message, "error_code": -5, "error_message": "TestRunnerError"}
    return make_result(pending, "runner_error", [-2], meta, duration)


class TempLocalSandbox(LocalSandbox):
    """The local runner on a scratch directory, removed when the sandbox closes."""

    def __init__(self) -> None:
        self._scratch = tempfile.TemporaryDirectory(prefix="trident-grade-")
        super().__init__(self._scratch.name)

    async def close(self) -> None:
        await super().close()
        self._scratch.cleanup()


def container_memory_mb(memory_mb: int, workers: int) -> int:
    """One sample may use its whole limit while the others use 1 GiB each; at most 3/4 of the host."""
    host_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1 << 20)
    return max(512, min(memory_mb + 1024 * (workers - 1) + 512, host_mb * 3 // 4))


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def open_grader(
    kind: Literal["docker", "local"] = "docker",
    *,
    workers: int | None = None,
    timeout_s: float = 6.0,
    memory_mb: int = 4096,
    image: str | None = None,
) -> Grader:
    """A grader (use as `async with`): one sandbox serving `workers` samples at a time."""
    workers = workers or default_workers()
    if kind == "local":
        return SandboxGrader(
            TempLocalSandbox, python=sys.executable, workers=workers, timeout_s=timeout_s, memory_mb=memory_mb
        )
    from trident.sandbox.docker import DockerSandbox, DockerSettings

    settings = DockerSettings(
        image=image,
        memory_mb=container_memory_mb(memory_mb, workers),
        cpus=float(min(workers, default_workers())),
        pids_limit=max(512, 256 * workers),
    )
    return SandboxGrader(
        lambda: DockerSandbox(mode="copy", settings=settings),
        python="python3",
        workers=workers,
        timeout_s=timeout_s,
        memory_mb=memory_mb,
    )
