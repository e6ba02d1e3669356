"""The baseline for benchmarks/grading.py: upstream LiveCodeBench's way of grading, re-implemented.

Per sample a `multiprocessing.Manager()` and a forked `Process` whose child `exec`s the solution in
its own interpreter: stdin programs wrapped into a function with a mocked `sys.stdin` and a captured
`sys.stdout`, functional ones called in-process; `signal` timers per test; the parent joins with the
global backstop. Samples spread over a `ProcessPoolExecutor`. The comparison rules, the verdicts'
metadata and the backstop are the grader's own (`evals/lcb/driver.py`, `evals/lcb/judge.py`,
`evals/lcb/grader.py`), so any difference in verdicts comes from execution, not from the rules.
No memory limit and no isolation, as upstream.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import multiprocessing
import signal
import sys
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from trident.evals.lcb.driver import (
    GLOBAL,
    INT_DIGITS,
    PASS,
    PRELUDE,
    RUNTIME,
    TIME,
    WRONG,
    compare_stdout,
    truncate,
)
from trident.evals.lcb.grader import global_timeout_s
from trident.evals.lcb.judge import runtime_error, testing_error, time_limit, wrong_answer


class Timeout(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise Timeout


class MockStdin(io.StringIO):
    """Upstream's mock: a StringIO with a `buffer` whose read() returns all input as bytes."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._bytes = io.BytesIO(text.encode("utf-8"))

    @property
    def buffer(self) -> io.BytesIO:
        return self._bytes


def wrap_stdin_program(code: str) -> str:
    """Upstream's treatment: drop a final `if __name__ == '__main__':`, hoist imports, wrap the rest."""
    tree = ast.parse(code)
    body = tree.body
    if (
        body
        and isinstance(body[-1], ast.If)
        and ast.unparse(body[-1].test).strip() == "__name__ == '__main__'"
    ):
        body = body[:-1] + body[-1].body
    imports = [s for s in body if isinstance(s, ast.Import | ast.ImportFrom)]
    rest = [s for s in body if not isinstance(s, ast.Import | ast.ImportFrom)] or [ast.Pass()]
    function = ast.FunctionDef(
        name="wrapped_function",
        args=ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]),
        body=rest,
        decorator_list=[],
        returns=None,
        lineno=1,
    )
    module = ast.Module(body=[*imports, function], type_ignores=[])
    return PRELUDE + "\n" + ast.unparse(ast.fix_missing_locations(module))


def _timer(seconds: float) -> None:
    signal.setitimer(signal.ITIMER_REAL, seconds)


def run_tests(job: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    """Grade in this process (the forked child), as upstream's run_test does."""
    signal.signal(signal.SIGALRM, _alarm)
    sys.set_int_max_str_digits(INT_DIGITS)  # as upstream's evaluator module does at import
    timeout = float(job["timeout"])
    functional = bool(job["fn_name"])
    try:
        _timer(timeout)
        try:
            scope: dict[str, Any] = {"__name__": "tmp_sol"}
            source = PRELUDE + "\n\n" + job["code"] if functional else wrap_stdin_program(job["code"])
            exec(source, scope)
            if functional:
                owner = scope["Solution"]() if "class Solution" in job["code"] else None
                method = scope.get(job["fn_name"]) if owner is None else getattr(owner, job["fn_name"], None)
            else:
                method = scope["wrapped_function"]
            if method is None:
                raise TypeError("cannot unpack non-iterable NoneType object")
        finally:
            _timer(0)
    except Exception as exc:
        return [RUNTIME], testing_error(str(exc))
    results: list[Any] = []
    for text, expected in zip(job["inputs"], job["outputs"], strict=False):
        details = {"inputs": truncate(text), "expected": truncate(expected)}
        real_stdin, real_stdout = sys.stdin, sys.stdout
        captured = io.StringIO()
        try:
            _timer(timeout)
            if functional:
                prediction = method(*[json.loads(line) for line in text.split("\n")])
                if isinstance(prediction, tuple):
                    prediction = list(prediction)
                ok = bool(prediction == json.loads(expected))
            else:
                sys.stdin, sys.stdout = MockStdin(text), captured
                with contextlib.suppress(SystemExit):
                    method()
        except Timeout:
            results.append(TIME)
            return results, time_limit(details)
        except Exception as exc:
            results.append(RUNTIME)
            return results, runtime_error(repr(exc), details)
        finally:
            _timer(0)
            sys.stdin, sys.stdout = real_stdin, real_stdout
        if functional:
            message = None if ok else "Wrong Answer"
        else:
            prediction = captured.getvalue()
            message = compare_stdout(prediction, expected)
        if message is not None:
            results.append(WRONG)
            return results, wrong_answer(truncate(prediction), details, message)
        results.append(PASS)
    return results, {}


def _child(job: dict[str, Any], results: Any, metadata: Any) -> None:
    outcome, meta = run_tests(job)
    results.append(outcome)
    metadata.append(meta)


def check_correctness(job: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    """One sample: a Manager for the answer, a forked Process, a join with the global backstop."""
    context = multiprocessing.get_context("fork")
    with context.Manager() as manager:
        results, metadata = manager.list(), manager.list()
        process = context.Process(target=_child, args=(job, results, metadata))
        process.start()
        process.join(global_timeout_s(float(job["timeout"]), len(job["inputs"])))
        if process.is_alive():
            process.kill()
            process.join()
        if not results:
            return [GLOBAL] * len(job["inputs"]), {
                "error_code": -1,
                "error_message": "global timeout or crash",
            }
        return list(results[0]), dict(metadata[0])


def submit_all(
    pool: ProcessPoolExecutor, jobs: list[dict[str, Any]]
) -> list[Future[tuple[list[Any], dict[str, Any]]]]:
    return [pool.submit(check_correctness, job) for job in jobs]
