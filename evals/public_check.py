"""A problem's public tests as unittest cases: copied into an agentic workspace as `test_public.py`.

Stdlib only (it runs inside the sandbox with its python3). It reads `public_tests.json` beside it:
`{"func_name": str | null, "timeout_s": float, "tests": [{"input", "output", "testtype"}]}` and runs
`solution.py` once per test in a subprocess: stdin problems get the input on stdin and their stdout
is compared line by line (stripped; equal, or every token equal as a Decimal), functional problems
call `Solution().<func_name>` (or a top-level function) with one JSON argument per input line and
compare the JSON result. This is the agent's own check; the hidden tests are graded by the grader.
"""

from __future__ import annotations

import json
import subprocess
import sys
import unittest
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PRELUDE = (
    "from typing import *\nfrom collections import *\nfrom functools import *\nfrom itertools import *\n"
    "from heapq import *\nfrom bisect import *\nimport math, re, string, sys, random, heapq, bisect\n"
)
SHOWN = 300


def _spec() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads((HERE / "public_tests.json").read_text(encoding="utf-8"))
    return spec


def same_line(got: str, expected: str) -> bool:
    if got == expected:
        return True
    got_tokens, expected_tokens = got.split(), expected.split()
    if len(got_tokens) != len(expected_tokens):
        return False
    try:
        return all(Decimal(a) == Decimal(b) for a, b in zip(got_tokens, expected_tokens))  # noqa: B905 (3.8)
    except InvalidOperation:
        return False


def same_output(got: str, expected: str) -> bool:
    got_lines = [line.strip() for line in got.strip().split("\n")]
    expected_lines = [line.strip() for line in expected.strip().split("\n")]
    return len(got_lines) == len(expected_lines) and all(map(same_line, got_lines, expected_lines))


def call(index: int) -> None:
    """Child mode: call the solution's function with test `index`'s arguments, print the JSON result."""
    spec = _spec()
    namespace: dict[str, Any] = {"__name__": "solution"}
    exec(PRELUDE + (HERE / "solution.py").read_text(encoding="utf-8"), namespace)
    name = spec["func_name"]
    target = getattr(namespace["Solution"](), name) if "Solution" in namespace else namespace[name]
    lines = spec["tests"][index]["input"].split("\n")
    result = target(*[json.loads(line) for line in lines if line.strip()])
    print(json.dumps(result))


def _clip(text: str) -> str:
    return text if len(text) <= SHOWN else text[:SHOWN] + f"... [{len(text) - SHOWN} more characters]"


class PublicTests(unittest.TestCase):
    def check(self, index: int) -> None:
        spec = _spec()
        test = spec["tests"][index]
        functional = test["testtype"] == "functional"
        command = [sys.executable, str(HERE / "test_public.py"), "--call", str(index)]
        if not functional:
            command = [sys.executable, str(HERE / "solution.py")]
        try:
            done = subprocess.run(
                command,
                input="" if functional else test["input"],
                capture_output=True,
                text=True,
                timeout=spec["timeout_s"],
                cwd=HERE,
            )
        except subprocess.TimeoutExpired:
            self.fail(f"time limit: no answer within {spec['timeout_s']}s\ninput:\n{_clip(test['input'])}")
        if done.returncode != 0:
            self.fail(f"runtime error (exit code {done.returncode}):\n{_clip(done.stderr[-2000:])}")
        if functional:
            try:
                passed = json.loads(done.stdout.strip().split("\n")[-1]) == json.loads(test["output"])
            except ValueError:
                passed = False
        else:
            passed = same_output(done.stdout, test["output"])
        if not passed:
            self.fail(
                f"wrong answer\ninput:\n{_clip(test['input'])}\nexpected:\n{_clip(test['output'])}\n"
                f"got:\n{_clip(done.stdout)}"
            )


def _add_tests() -> None:
    if not (HERE / "public_tests.json").exists():  # imported as evals.public_check, not in a workspace
        return
    for index in range(len(_spec()["tests"])):

        def test(self: PublicTests, index: int = index) -> None:
            self.check(index)

        setattr(PublicTests, f"test_public_{index + 1}", test)


if __name__ == "__main__" and sys.argv[1:2] == ["--call"]:
    call(int(sys.argv[2]))
else:
    _add_tests()
    if __name__ == "__main__":
        unittest.main()
