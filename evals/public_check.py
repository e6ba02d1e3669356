"""A problem's public tests as unittest cases: copied into an agentic workspace as `test_public.py`.

Stdlib only (it runs inside the sandbox with its python3). It reads `public_tests.json` beside it:
`{"func_name": str | null, "timeout_s": float, "tests": [{"input", "output", "testtype"}]}` and runs
`solution.py` once per test in a subprocess. Stdin problems get the input on stdin and their stdout
is compared line by line (stripped; equal, or every token equal as a Decimal), functional problems
call `Solution().<func_name>` (or a top-level function) with one JSON argument per input line and
compare the JSON result. This is the agent's own check; the hidden tests are graded by the grader.

Each run is limited as a judge limits it: `timeout_s` of CPU time (RLIMIT_CPU), so a busy machine
does not fail a fast solution, and WALL_FACTOR times that in wall time, for a program that waits
(the wall-clock backstops of all tests together stay within TOTAL_WALL_S, so the test command ends
before the agent's command timeout and each test reports its own verdict).
"""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import time
import unittest
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PRELUDE = (
    "from typing import *\nfrom collections import *\nfrom functools import *\nfrom itertools import *\n"
    "from heapq import *\nfrom bisect import *\nimport math, re, string, sys, random, heapq, bisect\n"
)
SHOWN = 300
WALL_FACTOR = 10  # wall-clock backstop, in multiples of the CPU time limit (a loaded machine)
TOTAL_WALL_S = 90.0  # and all the tests' backstops share this, below the agent's command timeout (120 s)
STARTED = time.monotonic()


def _cpu_limit(seconds: float) -> Callable[[], None] | None:
    """A preexec_fn capping the child's CPU time (SIGXCPU at the limit), or None without `resource`."""
    try:
        import resource
    except ImportError:  # not POSIX: the wall-clock limit alone applies
        return None
    soft = max(1, math.ceil(seconds))

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (soft, soft + 1))

    return limit


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
        limit = spec["timeout_s"]
        cpu_limit = _cpu_limit(limit)
        left = TOTAL_WALL_S - (time.monotonic() - STARTED)
        wall = max(limit, min(limit * WALL_FACTOR, left)) if cpu_limit is not None else limit
        try:
            done = subprocess.run(
                command,
                input="" if functional else test["input"],
                capture_output=True,
                text=True,
                timeout=wall,
                cwd=HERE,
                preexec_fn=cpu_limit,
            )
        except subprocess.TimeoutExpired:
            self.fail(f"time limit: no answer within {wall:g}s (wall clock)\ninput:\n{_clip(test['input'])}")
        if cpu_limit is not None and done.returncode == -signal.SIGXCPU:
            self.fail(f"time limit: more than {limit:g}s of CPU time\ninput:\n{_clip(test['input'])}")
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
