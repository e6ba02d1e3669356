"""The grader on the bundled set (references pass, each variant gets its documented verdict) in both
sandboxes, plus what isolation must guarantee: limits, no hang, sandbox errors as results."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.evals.lcb_cases import make_problem
from trident.evals.lcb.grader import (
    Pending,
    SampleResult,
    SandboxGrader,
    TempLocalSandbox,
    batch_payload,
    default_workers,
    open_grader,
    phase_bounds,
)
from trident.evals.lcb.problems import Problem, bundled_data_dir, load_problems

PROBLEMS = {p.question_id: p for p in load_problems(bundled_data_dir())[0]}
REFERENCES: dict[str, str] = json.loads((bundled_data_dir() / "references.json").read_text(encoding="utf-8"))
VARIANTS: dict[str, dict[str, str]] = json.loads(
    (bundled_data_dir() / "variants.json").read_text(encoding="utf-8")
)
EXPECTED = {  # evals/data/README.md
    "wrong": "wrong_answer",
    "slow": "time_limit",
    "crash": "runtime_error",
    "syntax": "compile_error",
    "memory": "runtime_error",
}


def bundled_samples(every_variant: bool) -> list[tuple[str, str, str]]:
    """All references, plus every variant or the first one of each kind."""
    samples = [(qid, "reference", code) for qid, code in REFERENCES.items()]
    kinds: set[str] = set()
    for qid, variants in VARIANTS.items():
        for name, code in variants.items():
            if every_variant or name not in kinds:
                samples.append((qid, name, code))
                kinds.add(name)
    return samples


@pytest.mark.parametrize("kind", ["local", "docker"])
@pytest.mark.slow
async def test_bundled_references_pass_and_variants_fail_as_documented(
    kind: str, request: pytest.FixtureRequest
) -> None:
    image = request.getfixturevalue("sandbox_image") if kind == "docker" else None
    samples = bundled_samples(every_variant=kind == "local")  # Docker: one variant of each kind
    # slow variants run > 30 s, references < 0.5 s per test: 3 s tells them apart with margin
    async with open_grader(kind, timeout_s=3, image=image) as grader:  # type: ignore[arg-type]
        results = await asyncio.gather(
            *(grader.grade(PROBLEMS[qid], code, index) for index, (qid, _, code) in enumerate(samples))
        )
    got = {(qid, name): result.verdict_name for (qid, name, _), result in zip(samples, results, strict=True)}
    want = {(q, name): "pass" if name == "reference" else EXPECTED[name] for q, name, _ in samples}
    assert got == want
    assert {name for _, name, _ in samples} == {"reference", *EXPECTED}
    assert all(r.sample_index == i for i, r in enumerate(results))
    for result in results:
        assert result.passed == (result.verdict == 1) and result.question_id in PROBLEMS


@pytest.mark.slow
async def test_an_endless_sample_does_not_hold_up_the_others() -> None:
    problem = make_problem([("1 2\n", "3\n")] * 3)
    codes = ["while True:\n    pass"] * 3 + ["print(sum(map(int, input().split())))"] * 6
    async with open_grader("local", timeout_s=1, workers=2) as grader:
        results = await asyncio.wait_for(
            asyncio.gather(*(grader.grade(problem, code, i) for i, code in enumerate(codes))), 60
        )
    assert [r.verdict_name for r in results] == ["time_limit"] * 3 + ["pass"] * 6


async def test_public_and_private_tests_can_be_graded_apart() -> None:
    problem = make_problem([("1 2\n", "3\n"), ("5 5\n", "10\n"), ("0 0\n", "0\n")])
    code = "a, b = map(int, input().split())\nprint(a + b if a != 5 else 0)"
    async with open_grader("local", workers=1) as grader:
        public = await grader.grade(problem, code, tests="public")
        private = await grader.grade(problem, code, tests="private")
        both = await grader.grade(problem, code)
    assert (public.test_results, private.test_results, both.test_results) == ([True], [-2], [True, -2])


def test_workers_default_to_the_cores() -> None:
    assert default_workers() == len(os.sched_getaffinity(0))  # the cores this process may use
    grader = open_grader("local")
    assert getattr(grader, "workers") == default_workers()  # noqa: B009


async def test_grading_outside_the_context_is_refused() -> None:
    with pytest.raises(RuntimeError, match="async with"):
        await open_grader("local").grade(make_problem([("1\n", "1\n")]), "print(1)")


@pytest.mark.slow
async def test_a_stuck_driver_is_an_infra_failure_not_the_samples(tmp_path: Path) -> None:
    # a "python" that never answers stands for a driver stuck beyond repair (the driver keeps each
    # sample's own backstop, so this is never a sample's doing): the batch hits its backstop, each
    # sample is graded again alone, twice, then a known-good canary fails too: infra_failure, listed
    stuck = tmp_path / "stuck-python"
    stuck.write_text("#!/bin/sh\nexec sleep 60\n", encoding="utf-8")
    stuck.chmod(0o755)
    problem = make_problem([("1\n", "1\n")])
    grader = SandboxGrader(
        TempLocalSandbox, python=str(stuck), workers=1, timeout_s=0.1, memory_mb=256, backstop_extra_s=0.3
    )
    async with grader:
        grader.batch_max = 2
        results = await asyncio.wait_for(
            asyncio.gather(*(grader.grade(problem, "print(1)", i) for i in range(2))), 90
        )
    for result in results:
        assert (result.verdict, result.verdict_name, result.passed) == (-5, "infra_failure", False)
        assert len(result.regraded) == 2 and "backstop" in result.regraded[0]
    assert sum("infra_failure" in incident for incident in grader.incidents) == 2


async def test_batches_share_a_problems_tests_and_keep_problems_apart() -> None:
    # same question_id, different tests: each sample is judged on its own problem's tests
    doubles = make_problem([("3\n", "6\n")], question_id="same")
    squares = make_problem([("3\n", "9\n")], question_id="same")
    big = make_problem([("x" * 1_000_000 + "\n", "1000000\n")] * 3, question_id="big")
    samples = [(doubles, "print(int(input()) * 2)"), (squares, "print(int(input()) ** 2)")] * 4
    samples += [(big, "print(len(input()))")] * 6
    grader = SandboxGrader(TempLocalSandbox, python=sys.executable, workers=2, timeout_s=6, memory_mb=1024)
    grader.batch_bytes = 2_500_000  # the big problem's tests (3 MB) fill a batch alone
    async with grader:
        results = await asyncio.gather(*(grader.grade(p, code, i) for i, (p, code) in enumerate(samples)))
    assert all(r.passed for r in results), [r.metadata for r in results if not r.passed]


KILL_THE_RUNNER = """
import os, signal
def parent(pid):
    with open(f"/proc/{pid}/stat") as handle:
        return int(handle.read().rsplit(")", 1)[1].split()[1])
os.kill(parent(parent(os.getppid())), signal.SIGKILL)  # supervisor -> driver -> the sandbox runner
"""


@pytest.mark.parametrize("kind", ["local", "docker"])
async def test_a_sample_cannot_kill_the_sandbox(kind: str, request: pytest.FixtureRequest) -> None:
    # each sample runs under a uid of its own: the runner (and the driver) are out of its reach
    image = request.getfixturevalue("sandbox_image") if kind == "docker" else None
    problem = make_problem([("1 2\n", "3\n")])
    codes = [KILL_THE_RUNNER] + ["print(sum(map(int, input().split())))"] * 3
    async with open_grader(kind, workers=1, image=image) as grader:  # type: ignore[arg-type]
        results = await asyncio.wait_for(
            asyncio.gather(*(grader.grade(problem, code, i) for i, code in enumerate(codes))), 120
        )
        restarts = getattr(grader, "restarts")  # noqa: B009
    assert [r.verdict_name for r in results] == ["runtime_error", "pass", "pass", "pass"]
    assert "PermissionError" in results[0].metadata["error"]
    assert restarts == 0 and not any(r.regraded for r in results)


def test_phases_public_tests_a_few_more_then_the_rest() -> None:
    assert phase_bounds(20, 1) == [1, 5, 20]
    assert phase_bounds(20, 3) == [3, 15, 20]
    assert phase_bounds(4, 1) == [1, 4]
    assert phase_bounds(3, 3) == [3]  # public tests only
    assert phase_bounds(1, 0) == [1]
    assert phase_bounds(0, 0) == [0]


async def sent_per_phase(problem: Problem, code: str) -> tuple[SampleResult, list[tuple[int, int]]]:
    """Grade locally; the (first test, tests) of every phase the sandbox got."""
    sent: list[tuple[int, int]] = []
    async with open_grader("local", workers=1, timeout_s=3) as grader:
        assert isinstance(grader, SandboxGrader)
        attempt = grader._attempt

        async def recording(batch: list[Pending]) -> Any:
            sent.extend((p.start, len(p.job["inputs"])) for p in batch)
            assert all("outputs" not in json.loads(batch_payload([p], 0))["jobs"][0] for p in batch)
            return await attempt(batch)

        grader._attempt = recording  # type: ignore[method-assign]
        result = await grader.grade(problem, code)
    return result, sent


STDIN_TESTS = [(f"{i}\n", f"{i + 1}\n") for i in range(12)]  # public: the first


async def test_a_wrong_sample_stops_at_its_failing_phase() -> None:
    problem = make_problem(STDIN_TESTS)
    # wrong from test 3 on: phase [0, 1) passes, phase [1, 5) fails at test 3; [5, 12) never runs
    code = "n = int(input())\nprint(n + 1 if n < 3 else n)"
    result, sent = await sent_per_phase(problem, code)
    assert sent == [(0, 1), (1, 4)]
    assert result.verdict_name == "wrong_answer" and result.test_results == [True, True, True, -2]
    assert result.metadata["inputs"] == "3\n" and result.metadata["expected"] == "4\n"


async def test_a_passing_sample_runs_every_phase_with_upstreams_results() -> None:
    result, sent = await sent_per_phase(make_problem(STDIN_TESTS), "print(int(input()) + 1)")
    assert sent == [(0, 1), (1, 4), (5, 7)]
    assert result.passed and result.test_results == [True] * 12


async def test_a_crash_in_a_later_phase_marks_every_test() -> None:
    tests = [(json.dumps(i), json.dumps(i)) for i in range(8)]
    problem = make_problem(tests, "f")
    # one instance sees every call from the first (functional phases start again at test 0)
    code = "calls = []\ndef f(x):\n    calls.append(x)\n    if len(calls) > 3:\n        exit()\n    return x"
    result, sent = await sent_per_phase(problem, code)
    assert sent == [(0, 1), (0, 5)]
    assert result.verdict_name == "crash" and result.test_results == [-1] * 8


async def test_a_time_limit_in_a_later_phase_keeps_the_earlier_passes() -> None:
    problem = make_problem(STDIN_TESTS)
    code = "import time\nn = int(input())\nif n == 2:\n    time.sleep(30)\nprint(n + 1)"
    result, sent = await sent_per_phase(problem, code)
    assert sent == [(0, 1), (1, 4)]
    assert result.verdict_name == "time_limit" and result.test_results == [True, True, -3]
