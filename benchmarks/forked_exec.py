"""The baseline for benchmarks/grading.py: upstream LiveCodeBench's way of grading, re-implemented.

Per sample a `multiprocessing.Manager()` and a forked `Process` whose child `exec`s the solution in
its own interpreter: stdin programs wrapped into a function with a mocked `sys.stdin` and a captured
`sys.stdout`, functional ones called in-process; `signal` timers per test; the parent joins with the
global backstop. Samples spread over a `ProcessPoolExecutor`. The comparison rules are the grader's
own (`evals/lcb/driver.py`), so any difference in verdicts comes from execution, not from the rules.
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

from evals.lcb.driver import INT_DIGITS, PRELUDE, compare_stdout, truncate


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
        return [-4], {"error_code": -4, "error_message": f"Error during testing: {exc}"}
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
            results.append(-3)
            return results, {"error_code": -3, "error_message": "Time Limit Exceeded", **details}
        except Exception as exc:
            results.append(-4)
            return results, {
                "error": repr(exc),
                "error_code": -4,
                "error_message": "Runtime Error",
                **details,
            }
        finally:
            _timer(0)
            sys.stdin, sys.stdout = real_stdin, real_stdout
        if not functional:
            message = compare_stdout(captured.getvalue(), expected)
            ok = message is None
        if not ok:
            results.append(-2)
            return results, {"error_code": -2, "error_message": "Wrong Answer", **details}
        results.append(True)
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
        process.join((float(job["timeout"]) + 1) * len(job["inputs"]) + 5)
        if process.is_alive():
            process.kill()
            process.join()
        if not results:
            return [-1] * len(job["inputs"]), {"error_code": -1, "error_message": "global timeout or crash"}
        return list(results[0]), dict(metadata[0])


def submit_all(
    pool: ProcessPoolExecutor, jobs: list[dict[str, Any]]
) -> list[Future[tuple[list[Any], dict[str, Any]]]]:
    return [pool.submit(check_correctness, job) for job in jobs]
