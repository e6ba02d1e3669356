"""Problems built in tests, and a grader per sandbox kind (the Docker one on the real engine)."""

from __future__ import annotations

from datetime import datetime

from trident.evals.lcb.problems import Problem
from trident.evals.lcb.problems import TestCase as Case


def make_problem(
    tests: list[tuple[str, str]],
    func_name: str | None = None,
    *,
    question_id: str = "q1",
    contest_date: datetime = datetime(2023, 8, 1),
) -> Problem:
    kind = "functional" if func_name else "stdin"
    return Problem(
        question_id=question_id,
        question_title=question_id,
        question_content="a test problem",
        platform="leetcode" if func_name else "atcoder",
        contest_id="c1",
        contest_date=contest_date,
        starter_code="",
        difficulty="easy",
        public_tests=[Case(input=i, output=o, testtype=kind) for i, o in tests[:1]],
        private_tests=[Case(input=i, output=o, testtype=kind) for i, o in tests[1:]],
        func_name=func_name,
        metadata={"func_name": func_name} if func_name else {},
    )
