"""Grading samples with LiveCodeBench's rules, each sample a real process inside a sandbox.

One sandbox (a hardened Docker container by default, or the local runner) serves every sample: a
batch of samples is one `RunnerSession.run` (as the runner's user) of `python3 -c <driver.py>`
(passed as an argument, so no file a solution could tamper with) with the code and test inputs on
stdin; `workers` run at once. The driver runs each sample under a fresh uid in a fresh directory and
relays what it did; the verdict is computed here (`judge.py`) against expected outputs that never
leave this process. A batch that goes wrong costs only the sample that broke it: the others are
graded again alone (see `SandboxGrader`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Protocol

from pydantic import BaseModel

from trident.evals.lcb.judge import Judged, judge
from trident.evals.lcb.problems import Problem, TestCase
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
    "load_time_limit": -4,  # a functional module's load overran the timeout (upstream's -4 too)
    "runner_error": -5,
    "infra_failure": -5,  # the grader failed, not the sample: not a model failure (retried, listed)
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
    regraded: list[str] = []  # why it was graded again alone (a batch that went wrong), each time


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


FIRST_PHASE_MIN = 1  # tests in the first phase at least (the public ones when there are more)
PHASE_GROWTH = 4  # each later phase, but the last, runs up to this many times the tests before it
PHASES_MAX = 3


def phase_bounds(total: int, public: int) -> list[int]:
    """Where each grading phase of a sample with `total` tests ends (the first `public` of them
    public). A sample is graded phase by phase, the next only when every test so far passed, so a
    wrong sample stops early as upstream's does (at its first failing test, give or take a phase)
    while the sandbox still never holds an expected output. A passing sample pays a supervisor start
    per extra phase, hence few phases: the public tests (cheap, where most wrong samples fail), a few
    more, then the rest."""
    bounds = [min(total, max(FIRST_PHASE_MIN, public))]
    while bounds[-1] < total and len(bounds) < PHASES_MAX - 1:
        bounds.append(min(total, bounds[-1] * (PHASE_GROWTH + 1)))
    if bounds[-1] < total:
        bounds.append(total)
    return bounds


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
    regraded: list[str] = field(default_factory=list)  # why it was graded again alone, each time
    duration: float = 0.0
    start: int = 0  # this phase's first test (stdin problems: the tests sent begin there)
    total: int = 0  # the sample's tests, every phase
    backstop: float = 0.0  # the sample's (every phase's) global backstop, as upstream's


def batch_payload(batch: list[Pending], uid_base: int) -> bytes:
    """The driver's stdin: each problem's test inputs once, then the jobs naming them. No expected
    output is ever sent: the verdicts are computed here."""
    shared: dict[str, list[str]] = {}
    jobs = []
    for pending in batch:
        job = {k: v for k, v in pending.job.items() if k not in ("inputs", "outputs")}
        shared.setdefault(pending.key, pending.job["inputs"])
        jobs.append({**job, "tests": pending.key})
    payload = {"tests": shared, "jobs": jobs, "uid_base": uid_base, "source": DRIVER_SOURCE}
    return json.dumps(payload).encode("utf-8", "surrogatepass")


class SandboxGrader:
    """A `Grader` over one runner session (Docker container or local runner).

    `workers` driver processes run at once, each over a small batch of the samples waiting (a python
    start costs more than grading a typical sample). The driver gets code and inputs only; every
    verdict is computed here (`judge`) from what it relays. Each sample runs under a uid of its own in a
    fresh directory, so it cannot reach the driver, another sample, or what another sample left.

    A sample whose batch went wrong (the driver died or hit the backstop, the sandbox died, the
    sample's supervisor was killed) or whose failure may be another's doing (a time limit while
    starved of CPU, a SIGKILL from the OOM killer) is graded again alone, and `regraded` says so.
    Alone, the result counts; if the grader breaks again with it alone, a known-good canary decides
    whom to blame: the sample (`runner_error`, a failure) or the infrastructure (`infra_failure`,
    not a model failure: retried on the next run and listed in the summary).
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
        phased: bool = True,
    ) -> None:
        self._make_sandbox, self.python = make_sandbox, python
        self.phased = phased  # False: every test in one phase (a wrong sample runs them all)
        self.sandbox = make_sandbox()
        self.restarts = 0
        self._restarting = asyncio.Lock()
        self.workers, self.timeout_s, self.memory_mb = workers, timeout_s, memory_mb
        self.batch_max, self.batch_bytes, self.backstop_extra_s = batch_max, batch_bytes, backstop_extra_s
        self._queue: asyncio.Queue[Pending] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._next_uid = FIRST_UID + secrets.randbelow(1 << 30)  # never reused by this grader
        self.separated: bool | None = None  # whether samples ran under uids of their own (driver's header)
        self.incidents: list[dict[str, Any]] = []  # every regrade and infra failure, in order

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
        return await self._queue_sample(problem, code, sample_index, tests)

    async def _queue_sample(
        self, problem: Problem, code: str, sample_index: int, tests: Literal["public", "private", "all"]
    ) -> SampleResult:
        """Phase by phase (`phase_bounds`): the next phase's tests only when all so far passed."""
        total = len(problem.tests(tests))
        public = len(problem.public_tests) if tests != "private" else 0
        bounds = phase_bounds(total, public) if self.phased else [total]
        start, duration, regraded = 0, 0.0, []
        for stop in bounds:
            pending = self._pending(problem, code, sample_index, tests, start, stop)
            await self._queue.put(pending)
            result = await pending.done
            duration += result.duration_s
            regraded += result.regraded
            if not result.passed:
                break
            start = stop
        return result.model_copy(update={"duration_s": duration, "regraded": regraded})

    def _pending(
        self,
        problem: Problem,
        code: str,
        sample_index: int,
        tests: Literal["public", "private", "all"],
        start: int = 0,
        stop: int | None = None,
    ) -> Pending:
        """The tests [start, stop) of a sample (a functional one runs [0, stop): one instance, one
        call sequence, as upstream)."""
        limits = {
            "timeout": self.timeout_s,
            "memory_bytes": self.memory_mb * 1024 * 1024,
            "output_limit": output_limit_for(problem),
        }
        job = job_for(problem, code, tests, **limits)
        total = len(job["inputs"])
        stop = total if stop is None else stop
        first = 0 if job["fn_name"] else start
        job["inputs"], job["outputs"] = job["inputs"][first:stop], job["outputs"][first:stop]
        job["backstop"] = global_timeout_s(self.timeout_s, len(job["inputs"]), self.backstop_extra_s)
        return Pending(
            problem=problem,
            sample_index=sample_index,
            job=job,
            tests=len(job["inputs"]),
            done=asyncio.get_running_loop().create_future(),
            # the problem object lives as long as the sample waits
            key=f"{id(problem)}|{tests}|{first}:{stop}",
            size=sum(map(len, job["inputs"])) + sum(map(len, job["outputs"])),
            start=first,
            total=total,
            backstop=global_timeout_s(self.timeout_s, total, self.backstop_extra_s),
        )

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
                again = await self._settle_or_retry(batch)
                for pending, reason in again:  # each alone, in a live sandbox
                    await self._alone(pending, reason)
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

    async def _settle_or_retry(self, batch: list[Pending]) -> list[tuple[Pending, str]]:
        """Grade a batch; settle what counts, return the rest (with why) to grade again alone."""
        again = []
        for pending, judged, why in await self._attempt(batch):
            if judged is not None and not judged.incomplete and (judged.suspect is None or len(batch) == 1):
                settle(pending, make_result(pending, judged))
            else:
                again.append((pending, why or (judged.suspect or judged.incomplete if judged else "") or "?"))
        return again

    async def _alone(self, pending: Pending, reason: str) -> None:
        last: Judged | None = None
        for _ in range(2):
            pending.regraded.append(reason)
            self.incidents.append(
                {
                    "question_id": pending.problem.question_id,
                    "sample_index": pending.sample_index,
                    "regraded": reason,
                }
            )
            try:
                ((_, judged, why),) = await self._attempt([pending])
            except SandboxError as exc:
                settle(pending, infra_failure(pending, f"the sandbox cannot be restarted: {exc}"))
                self.incidents.append({**self.incidents[-1], "infra_failure": str(exc)})
                return
            if judged is not None and not judged.incomplete:
                settle(pending, make_result(pending, judged))
                return
            last = judged
            reason = why or (judged.incomplete if judged else None) or "?"
        if last is not None and self.separated:
            # only the sample's own uid can kill its supervisor: the sample did it, every time
            settle(pending, make_result(pending, last))
        elif await self._canary_passes():
            settle(
                pending, runner_error(pending, f"the grader broke with this sample alone, twice: {reason}")
            )
        else:
            settle(pending, infra_failure(pending, reason))
            self.incidents.append({**self.incidents[-1], "infra_failure": reason})

    async def _canary_passes(self) -> bool:
        """Whether the grader, as it is now, grades a known-good sample (then a sample that breaks it
        alone, repeatedly, is to blame for it)."""
        canary = self._pending(CANARY, "print(int(input()) + 1)", 0, "all")
        try:
            ((_, judged, _),) = await self._attempt([canary])
        except SandboxError:
            return False
        return judged is not None and judged.name == "pass"

    async def _attempt(self, batch: list[Pending]) -> list[tuple[Pending, Judged | None, str | None]]:
        """One driver run over `batch`: per sample, its judged records, or why there are none."""
        backstop = sum(float(p.job["backstop"]) + 1.0 for p in batch) + 3.0  # the driver keeps each
        uid_base = self._next_uid
        self._next_uid += len(batch)
        payload = batch_payload(batch, uid_base)
        box = self.sandbox
        try:
            run = await box.run(
                [self.python, "-I", "-c", DRIVER_SOURCE],
                stdin=payload,
                timeout=backstop,
                limit=64 << 20,
                as_runner=True,
            )
        except SandboxError as exc:
            await self._restart(box)  # a SandboxError from here: the sandbox cannot be had again
            return [(p, None, f"the sandbox died: {exc}") for p in batch]
        answers: dict[int, dict[str, Any]] = {}
        for line in run.stdout.splitlines():
            with contextlib.suppress(ValueError, TypeError, KeyError):
                answer = json.loads(line)
                if answer.get("header"):
                    self.separated = bool(answer.get("separated"))
                else:
                    answers[int(answer["index"])] = answer
        out: list[tuple[Pending, Judged | None, str | None]] = []
        for index, pending in enumerate(batch):
            answer = answers.get(index)
            if answer is None:
                if run.timed_out:
                    why = f"the batch's driver hit its backstop ({backstop:g} s)"
                else:
                    detail = run.stderr.decode("utf-8", "replace")[-500:].strip()
                    why = f"the grading driver died (exit {run.exit_code}) {detail}".strip()
                out.append((pending, None, why))
            elif "infra" in answer:
                out.append((pending, None, str(answer["infra"])))
            else:
                judged = judge(
                    answer,
                    functional=bool(pending.job["fn_name"]),
                    inputs=pending.job["inputs"],
                    outputs=pending.job["outputs"],
                    timeout=self.timeout_s,
                    output_limit=int(pending.job["output_limit"]),
                    backstop=pending.backstop,
                    total=pending.total,
                    start=pending.start,
                )
                pending.duration = float(answer.get("duration") or 0.0)
                out.append((pending, judged, None))
        return out


CANARY = Problem(
    question_id="trident-canary",
    question_title="canary",
    question_content="print n + 1",
    platform="trident",
    contest_id="",
    contest_date=datetime(2024, 1, 1),
    starter_code="",
    difficulty="easy",
    public_tests=[TestCase(input="41\n", output="42\n", testtype="stdin")],
    private_tests=[],
    func_name=None,
    metadata={},
)
FIRST_UID = 100_000_000  # samples' uids: far above any real user's (each sample gets a fresh one)


def settle(pending: Pending, result: SampleResult) -> None:
    if not pending.done.done():
        pending.done.set_result(result)


def make_result(pending: Pending, judged: Judged) -> SampleResult:
    passed = judged.name == "pass" and all(r is True for r in judged.results)
    return SampleResult(
        question_id=pending.problem.question_id,
        sample_index=pending.sample_index,
        passed=passed,
        verdict=1 if passed else VERDICT_CODES[judged.name],
        verdict_name=judged.name,
        test_results=judged.results,
        metadata=judged.metadata,
        duration_s=pending.duration,
        regraded=list(pending.regraded),
    )


def runner_error(pending: Pending, message: str) -> SampleResult:
    meta = {"error": message, "error_code": -5, "error_message": "TestRunnerError"}
    return make_result(pending, Judged("runner_error", [-2], meta))


def infra_failure(pending: Pending, message: str) -> SampleResult:
    meta = {"error": message, "error_code": -5, "error_message": "infrastructure failure (not the sample's)"}
    return make_result(pending, Judged("infra_failure", [-5], meta))


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
    phased: bool = True,
) -> Grader:
    """A grader (use as `async with`): one sandbox serving `workers` samples at a time. `phased`
    (the default): a sample's tests in phases, stopping at the first failing phase."""
    workers = workers or default_workers()
    if kind == "local":
        return SandboxGrader(
            TempLocalSandbox,
            python=sys.executable,
            workers=workers,
            timeout_s=timeout_s,
            memory_mb=memory_mb,
            phased=phased,
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
        phased=phased,
    )
