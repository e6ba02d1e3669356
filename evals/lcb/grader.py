"""Grading samples with LiveCodeBench's rules, each sample a real process inside a sandbox.

One sandbox (a hardened Docker container by default, or the local runner) serves every sample: the
grading driver (`evals/lcb/driver.py`) is written into it once, then each sample is one
`RunnerSession.run` of `python3 driver.py` with the job on stdin; up to `workers` run at once. The
driver enforces the per-test timeout (a wall-clock kill of the test's process); the runner kills the
driver at upstream's global backstop, `(timeout + 1) * tests + 5` seconds, so no sample can hang a run.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Protocol

from pydantic import BaseModel

from evals.lcb.problems import Problem
from sandbox.base import SandboxError
from sandbox.client import RunnerSession
from sandbox.local import LocalSandbox

DRIVER_SOURCE = (Path(__file__).parent / "driver.py").read_text(encoding="utf-8")
DRIVER_NAME = ".trident_lcb_driver.py"

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


def global_timeout_s(timeout_s: float, tests: int) -> float:
    """Upstream's backstop for one sample (check_correctness's join timeout)."""
    return (timeout_s + 1) * tests + 5


def job_for(problem: Problem, code: str, tests: Literal["public", "private", "all"], **limits: Any) -> bytes:
    cases = problem.tests(tests)
    job = {
        "code": code,
        "fn_name": problem.func_name,
        "inputs": [case.input for case in cases],
        "outputs": [case.output for case in cases],
        **limits,
    }
    return json.dumps(job).encode("utf-8")


def output_limit_for(problem: Problem) -> int:
    """The stdout kept per test: far more than any accepted answer needs, far less than a flood."""
    longest = max((len(case.output) for case in problem.tests("all")), default=0)
    return 4 * longest + (1 << 20)


class SandboxGrader:
    """A `Grader` over one runner session (Docker container or local runner)."""

    def __init__(
        self,
        sandbox: RunnerSession,
        *,
        python: str,
        workers: int,
        timeout_s: float,
        memory_mb: int,
    ) -> None:
        self.sandbox, self.python = sandbox, python
        self.workers, self.timeout_s, self.memory_mb = workers, timeout_s, memory_mb
        self._slots = asyncio.Semaphore(workers)

    async def __aenter__(self) -> SandboxGrader:
        try:
            await self.sandbox.start()
            await self.sandbox.write_file(DRIVER_NAME, DRIVER_SOURCE.encode("utf-8"))
        except BaseException:
            await self.sandbox.close()
            raise
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.sandbox.close()

    async def grade(
        self,
        problem: Problem,
        code: str,
        sample_index: int = 0,
        tests: Literal["public", "private", "all"] = "all",
    ) -> SampleResult:
        count = len(problem.tests(tests))
        job = job_for(
            problem,
            code,
            tests,
            timeout=self.timeout_s,
            memory_bytes=self.memory_mb * 1024 * 1024,
            output_limit=output_limit_for(problem),
        )
        backstop = global_timeout_s(self.timeout_s, count)
        async with self._slots:
            started = time.monotonic()
            try:
                run = await self.sandbox.run(
                    [self.python, DRIVER_NAME], stdin=job, timeout=backstop, limit=1 << 20
                )
            except SandboxError as exc:
                return runner_error(problem, sample_index, f"{exc}", time.monotonic() - started)
            duration = time.monotonic() - started
        if run.timed_out:
            results: list[bool | int] = [-1] * count
            meta = {"error_code": -1, "error_message": f"Global timeout after {backstop:g} s"}
            return make_result(problem, sample_index, "global_timeout", results, meta, duration)
        try:
            answer = json.loads(run.stdout)
        except ValueError:
            detail = run.stderr.decode("utf-8", "replace")[-2000:]
            message = f"grading driver failed (exit {run.exit_code}): {detail}"
            return runner_error(problem, sample_index, message, duration)
        return make_result(
            problem, sample_index, answer["name"], answer["results"], answer["metadata"], duration
        )


def make_result(
    problem: Problem,
    sample_index: int,
    name: str,
    results: list[bool | int],
    metadata: dict[str, Any],
    duration: float,
) -> SampleResult:
    passed = name == "pass" and all(r is True for r in results)
    return SampleResult(
        question_id=problem.question_id,
        sample_index=sample_index,
        passed=passed,
        verdict=1 if passed else VERDICT_CODES[name],
        verdict_name=name,
        test_results=results,
        metadata=metadata,
        duration_s=duration,
    )


def runner_error(problem: Problem, sample_index: int, message: str, duration: float) -> SampleResult:
    meta = {"error": message, "error_code": -5, "error_message": "TestRunnerError"}
    return make_result(problem, sample_index, "runner_error", [-2], meta, duration)


class TempLocalSandbox(LocalSandbox):
    """The local runner on a scratch directory, removed when the sandbox closes."""

    def __init__(self) -> None:
        self._scratch = tempfile.TemporaryDirectory(prefix="trident-grade-")
        super().__init__(self._scratch.name)

    async def close(self) -> None:
        await super().close()
        self._scratch.cleanup()


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
        local = TempLocalSandbox()
        return SandboxGrader(
            local, python=sys.executable, workers=workers, timeout_s=timeout_s, memory_mb=memory_mb
        )
    from sandbox.docker import DockerSandbox, DockerSettings

    settings = DockerSettings(
        image=image,
        memory_mb=memory_mb + 1024 * min(workers, 2),
        cpus=float(min(workers, default_workers())),
        pids_limit=max(512, 256 * workers),
    )
    box = DockerSandbox(mode="copy", settings=settings)
    return SandboxGrader(box, python="python3", workers=workers, timeout_s=timeout_s, memory_mb=memory_mb)
