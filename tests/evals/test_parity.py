"""Parity with LiveCodeBench's grading rules (lcb_runner/evaluation/testing_util.py), case by case.

Each case cites the upstream rule that decides it. Where upstream's harness is unsound (its mocked
stdin, its function wrapping of stdin programs, its global-timeout bookkeeping) the case says what
we do instead and why; see docs/grading.md.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from tests.evals.lcb_cases import make_problem
from trident.evals.lcb.driver import compare_stdout
from trident.evals.lcb.grader import SampleResult, open_grader

# -- the stdout comparison (grade_stdio): (output, expected, accepted, rule) -------------------
COMPARISONS = [
    ("3\n\n\n", "3", True, "whole output strip()ped before splitting"),
    ("  1 2  \n", "1 2\n", True, "each line strip()ped"),
    ("3\r\n4\r\n", "3\n4\n", True, "split on \\n, then strip() removes \\r"),
    ("1\n2", "1 2", False, "line counts must match ('mismatched output length')"),
    ("1\n\n2", "1\n2", False, "an inner blank line is a line"),
    ("1.0", "1.00", True, "tokens compared as Decimal when the line differs"),
    ("1e2", "100", True, "Decimal('1e2') == Decimal('100')"),
    ("-0", "0", True, "Decimal('-0') == Decimal('0')"),
    ("1  2", "1 2", True, "whitespace-split tokens, so inner spacing is free for numbers"),
    ("a  b", "a b", False, "non-numeric tokens: the line must match exactly"),
    ("0.3333333", "0.33333333", False, "no epsilon: Decimal equality only"),
    ("Yes", "YES", False, "case matters"),
    ("Yes 1", "Yes 1.0", False, "every token must parse as Decimal for the numeric rule"),
    ("", "0", False, "empty output is one empty line: [] != [Decimal(0)]"),
    ("", "", True, "empty vs empty"),
    ("NaN", "NaN", True, "identical lines pass before any Decimal"),
    ("NaN", "nan", False, "Decimal NaN never equals NaN"),
    ("inf", "Infinity", True, "Decimal('inf') == Decimal('Infinity')"),
    ("1_000", "1000", True, "Decimal accepts underscores (Python >= 3.6)"),
]


@pytest.mark.parametrize(("output", "expected", "accepted", "rule"), COMPARISONS)
def test_stdout_comparison(output: str, expected: str, accepted: bool, rule: str) -> None:
    verdict = compare_stdout(output, expected)
    assert (verdict is None) == accepted, rule
    if not accepted:
        assert verdict is not None and verdict.startswith("Wrong answer")


def test_wrong_answer_messages_are_upstreams() -> None:
    assert compare_stdout("1\n2", "1") == "Wrong answer: mismatched output length"
    assert compare_stdout("5", "6") == "Wrong answer at output_line_idx=0: 5 != 6"


# -- whole samples through the grader -----------------------------------------------------------
SUM = [("1 2\n", "3\n"), ("2 5\n", "7\n"), ("10 20\n", "30\n")]
PAIR = [("[1, 2]\n3", "[2, 3]"), ("[5]\n1", "[5, 1]")]


@dataclass
class Case:
    name: str
    code: str
    verdict: str
    results: list[bool | int]
    rule: str
    func_name: str | None = None
    tests: list[tuple[str, str]] | None = None
    docker: bool = False  # also run in the Docker sandbox


CASES = [
    Case(
        "input",
        "a, b = map(int, input().split())\nprint(a + b)",
        "pass",
        [True] * 3,
        "plain stdin",
        docker=True,
    ),
    Case(
        "stdin.buffer",
        "import sys\na, b = map(int, sys.stdin.buffer.read().split())\nprint(a + b)",
        "pass",
        [True] * 3,
        "a real pipe: sys.stdin.buffer reads bytes (broken in mocked ports)",
        docker=True,
    ),
    Case(
        "os.read",
        "import os\na, b = map(int, os.read(0, 1 << 16).split())\nprint(a + b)",
        "pass",
        [True] * 3,
        "fd 0 is the input (upstream's mock cannot serve os.read)",
        docker=True,
    ),
    Case(
        "open(0)",
        "a, b = map(int, open(0).read().split())\nprint(a + b)",
        "pass",
        [True] * 3,
        "upstream mocks open",
    ),
    Case(
        "readline",
        "import sys\na, b = map(int, sys.stdin.readline().split())\nprint(a + b)",
        "pass",
        [True] * 3,
        "sys.stdin.readline",
    ),
    Case(
        "exit() after output",
        "a, b = map(int, input().split())\nprint(a + b)\nexit(1)\nprint('never')",
        "pass",
        [True] * 3,
        "call_method swallows SystemExit: the output so far counts, the code does not",
        docker=True,
    ),
    Case(
        "__main__ guard",
        "def main():\n    a, b = map(int, input().split())\n    print(a + b)\n"
        "if __name__ == '__main__':\n    main()",
        "pass",
        [True] * 3,
        "clean_if_name: a __main__ guard runs",
    ),
    Case(
        "prelude gcd",
        "a, b = map(int, input().split())\nprint(gcd(a, b) * 0 + a + b)",
        "pass",
        [True] * 3,
        "upstream's import_string (from math import *) precedes every solution",
    ),
    Case(
        "prelude deque",
        "q = deque(map(int, input().split()))\nprint(q.popleft() + q.pop())",
        "pass",
        [True] * 3,
        "from collections import * in upstream's import_string",
    ),
    Case(
        "stderr ignored",
        "import sys\na, b = map(int, input().split())\nprint('debug', file=sys.stderr)\nprint(a + b)",
        "pass",
        [True] * 3,
        "only stdout is captured",
    ),
    Case(
        "module-level global",
        "total = 0\ndef add(x):\n    global total\n    total += x\n"
        "for v in input().split():\n    add(int(v))\nprint(total)",
        "pass",
        [True] * 3,
        "divergence: upstream wraps stdin code in a function, so `global total` raises NameError there; "
        "a judge (and we) run it as a module",
    ),
    Case(
        "wrong answer stops",
        "print(3)",
        "wrong_answer",
        [True, -2],
        "stop at the first failing test",
        docker=True,
    ),
    Case("wrong first", "print(0)", "wrong_answer", [-2], "stop at the first failing test"),
    Case(
        "runtime error",
        "a, b = map(int, input().split())\nprint(a + b)\nif a == 2: raise ValueError('boom')",
        "runtime_error",
        [True, -4],
        "an exception is -4 'Runtime Error'",
        docker=True,
    ),
    Case(
        "syntax error",
        "def f(:\n    pass",
        "compile_error",
        [-4],
        "compile_code raises inside run_test's try: [-4], 'Error during testing: ...'",
        docker=True,
    ),
    Case(
        "time limit",
        "while True:\n    pass",
        "time_limit",
        [-3],
        "per-test alarm: -3 'Time Limit Exceeded'",
        docker=True,
    ),
    Case(
        "memory",
        "x = bytearray(8 << 30)\nprint(len(x))",
        "runtime_error",
        [-4],
        "over the address-space limit: MemoryError, a runtime error "
        "(upstream claims a 4 GB limit it never sets)",
        docker=True,
    ),
    Case(
        "output flood",
        "while True:\n    print('x' * 1000)",
        "time_limit",
        [-3],
        "an endless printer runs into the per-test timeout; its output is capped, not buffered",
        docker=True,
    ),
    Case(
        "output flood that ends",
        "import sys\nsys.stdout.write('x' * (8 << 20))",
        "wrong_answer",
        [-2],
        "stdout past 4x the longest expected output + 1 MiB is cut and counted, never held whole",
        docker=True,
    ),
    Case(
        "10^4-digit int",
        "print(10 ** 9999)",
        "wrong_answer",
        [-2],
        "upstream's evaluator raises the int/str digit limit to 50000: printing works (and is wrong here)",
    ),
    Case(
        "10^5-digit int",
        "print(10 ** 99999)",
        "runtime_error",
        [-4],
        "beyond 50000 digits str(int) raises ValueError",
    ),
    Case(
        "big input",
        "import sys\nprint(len(sys.stdin.buffer.read()))",
        "pass",
        [True],
        "inputs beyond a pipe's buffer arrive whole",
        tests=[("x" * 3_000_000, "3000000")],
    ),
    Case(
        "input never read",
        "print(3000000)",
        "pass",
        [True],
        "a program that ignores a big input does not block",
        tests=[("x" * 3_000_000, "3000000")],
    ),
    # functional (grade_call_based)
    Case(
        "Solution method",
        "class Solution:\n    def f(self, a, b):\n        return a[1:] + [b] if len(a) > 1 else a + [b]",
        "pass",
        [True, True],
        "Solution().method with JSON args per line",
        func_name="f",
        tests=PAIR,
        docker=True,
    ),
    Case(
        "plain function",
        "def f(a, b):\n    return a[-1:] + [b]",
        "pass",
        [True, True],
        "no `class Solution`: the module's function",
        func_name="f",
        tests=PAIR,
    ),
    Case(
        "tuple result",
        "def f(a, b):\n    return (a[-1], b)",
        "pass",
        [True, True],
        "a returned tuple becomes a list",
        func_name="f",
        tests=PAIR,
    ),
    Case(
        "nested tuple",
        "def f(a, b):\n    return [(a[-1], b)]",
        "wrong_answer",
        [-2],
        "only the top-level tuple is converted",
        func_name="f",
        tests=[("[1]\n2", "[[1, 2]]")],
    ),
    Case(
        "int vs float",
        "def f(a, b):\n    return float(a[0] + b)",
        "pass",
        [True],
        "== compares 3.0 == 3",
        func_name="f",
        tests=[("[1]\n2", "3")],
    ),
    Case(
        "no tolerance",
        "def f(a, b):\n    return 0.1 + 0.2",
        "wrong_answer",
        [-2],
        "no float tolerance: 0.30000000000000004 != 0.3",
        func_name="f",
        tests=[("[1]\n2", "0.3")],
    ),
    Case(
        "missing method",
        "class Solution:\n    def g(self):\n        return 1",
        "compile_error",
        [-4],
        "get_function returns None; unpacking it fails in run_test",
        func_name="f",
        tests=PAIR,
    ),
    Case(
        "shared instance",
        "class Solution:\n    def __init__(self):\n        self.calls = 0\n"
        "    def f(self, a, b):\n        self.calls += 1\n        return self.calls",
        "pass",
        [True, True],
        "one Solution() for all tests",
        func_name="f",
        tests=[("[1]\n2", "1"), ("[1]\n2", "2")],
    ),
    Case(
        "functional runtime error",
        "def f(a, b):\n    return a[10]",
        "runtime_error",
        [-4],
        "IndexError: -4",
        func_name="f",
        tests=PAIR,
        docker=True,
    ),
    Case(
        "functional time limit",
        "def f(a, b):\n    while True:\n        pass",
        "time_limit",
        [-3],
        "per-test alarm",
        func_name="f",
        tests=PAIR,
    ),
    Case(
        "functional exit",
        "def f(a, b):\n    exit()",
        "crash",
        [-1, -1],
        "SystemExit escapes run_test: the child dies without a result, all tests -1 (check_correctness)",
        func_name="f",
        tests=PAIR,
    ),
    Case(
        "top-level error",
        "raise RuntimeError('at import')\ndef f(a, b):\n    return 1",
        "compile_error",
        [-4],
        "compile_code execs the module: 'Error during testing: at import'",
        func_name="f",
        tests=PAIR,
    ),
]


async def grade_all(kind: str, cases: list[Case], image: str | None = None) -> dict[str, SampleResult]:
    async with open_grader(kind, timeout_s=1.5, workers=2, memory_mb=1024, image=image) as grader:  # type: ignore[arg-type]
        problems = [make_problem(case.tests or SUM, case.func_name) for case in cases]
        results = await asyncio.gather(
            *(grader.grade(p, c.code) for p, c in zip(problems, cases, strict=True))
        )
    return {case.name: result for case, result in zip(cases, results, strict=True)}


def mismatches(cases: list[Case], results: dict[str, SampleResult]) -> list[str]:
    wrong = []
    for case in cases:
        got = results[case.name]
        if (got.verdict_name, got.test_results) != (case.verdict, case.results):
            wrong.append(
                f"{case.name}: got {got.verdict_name} {got.test_results} {got.metadata}; rule: {case.rule}"
            )
    return wrong


@pytest.mark.slow
async def test_verdicts_local() -> None:
    results = await grade_all("local", CASES)
    assert mismatches(CASES, results) == []
    assert results["syntax error"].metadata["error_message"].startswith("Error during testing: ")
    assert results["missing method"].metadata["error_message"] == (
        "Error during testing: cannot unpack non-iterable NoneType object"
    )
    assert results["time limit"].metadata["error_message"] == "Time Limit Exceeded"
    assert results["memory"].metadata["error"] == "MemoryError()"
    wrong = results["wrong answer stops"].metadata
    assert (wrong["inputs"], wrong["output"], wrong["expected"]) == ("2 5\n", "3\n", "7\n")
    assert results["wrong answer stops"].verdict == -2 and results["time limit"].verdict == -3
    assert results["syntax error"].verdict == -4 and results["functional exit"].verdict == -1
    flood = results["output flood that ends"].metadata
    assert flood["error_message"].startswith("Wrong answer: output over") and len(flood["output"]) < 400


async def test_verdicts_docker(sandbox_image: str) -> None:
    cases = [case for case in CASES if case.docker]
    results = await grade_all("docker", cases, image=sandbox_image)
    assert mismatches(cases, results) == []


LEAK = """
import gc, sys
prefix = "SECRET" + chr(45)  # built at run time: not a constant the search would find
roots = list(gc.get_objects()) + [m.__dict__ for m in list(sys.modules.values()) if hasattr(m, "__dict__")]
frame = sys._getframe()
while frame is not None:
    roots.append(frame.f_locals)
    frame = frame.f_back
found, seen, layer = "none", set(), roots
for depth in range(6):
    nxt = []
    for obj in layer:
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, str):
            if obj.startswith(prefix) and obj != prefix:
                found = obj.strip()
        elif isinstance(obj, dict):
            nxt.extend(obj.values())
        elif isinstance(obj, list | tuple | set):
            nxt.extend(obj)
    layer = nxt
print(found)
"""


async def test_a_solution_cannot_find_the_expected_output_in_its_memory() -> None:
    problem = make_problem([("1\n", "SECRET-1\n"), ("2\n", "SECRET-2\n")])
    async with open_grader("local", workers=1) as grader:
        results = await asyncio.gather(*(grader.grade(problem, LEAK, i) for i in range(3)))
    for result in results:
        assert result.verdict_name == "wrong_answer" and result.metadata["output"] == "none\n"
