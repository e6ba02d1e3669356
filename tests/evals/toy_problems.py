"""Small LiveCodeBench-format problems for the harness tests (independent of the bundled set)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from trident.evals.lcb.problems import Problem, TestCase, problem_row


def _stdin(pairs: list[tuple[str, str]]) -> list[TestCase]:
    return [TestCase(input=i, output=o, testtype="stdin") for i, o in pairs]


def _functional(pairs: list[tuple[str, str]]) -> list[TestCase]:
    return [TestCase(input=i, output=o, testtype="functional") for i, o in pairs]


ADD = Problem(
    question_id="abc001_a",
    question_title="Add",
    question_content="Read two integers A and B and print A+B.",
    platform="atcoder",
    contest_id="abc001",
    contest_date=datetime(2023, 6, 1),
    starter_code="",
    difficulty="easy",
    public_tests=_stdin([("1 2\n", "3\n")]),
    private_tests=_stdin([("10 20\n", "30\n"), ("-5 5\n", "0\n")]),
    func_name=None,
    metadata={},
)
TWICE = Problem(
    question_id="3001",
    question_title="Twice",
    question_content="Return twice the sum of nums.",
    platform="leetcode",
    contest_id="weekly-contest-380",
    contest_date=datetime(2024, 1, 14),
    starter_code="class Solution:\n    def twice(self, nums: List[int]) -> int:\n        ",
    difficulty="medium",
    public_tests=_functional([("[1, 2]", "6")]),
    private_tests=_functional([("[]", "0"), ("[5]", "10")]),
    func_name="twice",
    metadata={"func_name": "twice"},
)
MAXIMUM = Problem(
    question_id="1900_C",
    question_title="Maximum",
    question_content="Read N, then N integers on one line; print the largest.",
    platform="codeforces",
    contest_id="1900",
    contest_date=datetime(2024, 11, 20),
    starter_code="",
    difficulty="hard",
    public_tests=_stdin([("3\n1 5 2\n", "5\n")]),
    private_tests=_stdin([("1\n-7\n", "-7\n"), ("4\n3 3 9 0\n", "9\n")]),
    func_name=None,
    metadata={},
)
PROBLEMS = [ADD, TWICE, MAXIMUM]

RIGHT = {
    ADD.question_id: "a, b = map(int, input().split())\nprint(a + b)",
    TWICE.question_id: TWICE.starter_code + "return 2 * sum(nums)",
    MAXIMUM.question_id: "input()\nprint(max(map(int, input().split())))",
}
WRONG = {
    ADD.question_id: "a, b = map(int, input().split())\nprint(a - b)",
    TWICE.question_id: TWICE.starter_code + "return sum(nums)",
    MAXIMUM.question_id: "input()\nprint(max(map(int, input().split()))",  # a syntax error
}


def fenced(code: str, reasoning: str = "") -> str:
    """A model answer: optional reasoning, prose, then the code in a fenced block."""
    think = f"[THINK]{reasoning}[/THINK]" if reasoning else ""
    return f"{think}Here is the program.\n```python\n{code}\n```\n"


def write_dataset(path: Path, problems: list[Problem] = PROBLEMS) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(problem_row(p)) + "\n" for p in problems), encoding="utf-8")
    return path
