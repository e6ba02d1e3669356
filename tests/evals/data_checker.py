"""A minimal checker for the bundled set, independent of the harness under test (evals/lcb).

It decodes rows as upstream does (with an unpickler that admits only plain values and a `str`
result) and runs a solution as a real subprocess with stdin piped, judged by upstream's rules:
stdin output compared line by line after strip(), equal line counts, a line passing if equal or if
all its tokens are equal as Decimal; functional results compared as JSON with `==`.
"""

from __future__ import annotations

import base64
import io
import json
import pickle
import resource
import subprocess
import sys
import tempfile
import zlib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

MEMORY_LIMIT = 4 * 1024**3

# Runs Solution().<name>(*args) for one test (arguments one JSON value per line on stdin).
FUNCTIONAL_DRIVER = """
import json, sys
path, name = sys.argv[1], sys.argv[2]
namespace = {"__name__": "solution"}
exec(compile(open(path).read(), path, "exec"), namespace)
args = [json.loads(line) for line in sys.stdin.read().split("\\n")]
result = getattr(namespace["Solution"](), name)(*args)
sys.stdout.write(json.dumps(list(result) if isinstance(result, tuple) else result))
"""


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refused global {module}.{name}")


def decode_tests(field: str) -> list[dict[str, str]]:
    """Upstream's two encodings of a test list: plain JSON, or base64(zlib(pickle(JSON string)))."""
    try:
        tests: list[dict[str, str]] = json.loads(field)
        return tests
    except json.JSONDecodeError:
        pass
    text = _PlainUnpickler(io.BytesIO(zlib.decompress(base64.b64decode(field)))).load()
    if not isinstance(text, str):
        raise TypeError(f"the pickle holds {type(text).__name__}, not str")
    decoded: list[dict[str, str]] = json.loads(text)
    return decoded


def load_rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def stdout_matches(output: str, expected: str) -> bool:
    got = [line.strip() for line in output.strip().split("\n")]
    want = [line.strip() for line in expected.strip().split("\n")]
    return len(got) == len(want) and all(map(_line_matches, got, want))


def _line_matches(got: str, want: str) -> bool:
    if got == want:
        return True
    try:
        return [Decimal(t) for t in got.split()] == [Decimal(t) for t in want.split()]
    except InvalidOperation:
        return False


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


@dataclass
class Verdict:
    name: str  # pass | wrong_answer | time_limit | runtime_error | compile_error
    test_index: int  # the first failing test (-1 on pass)
    detail: str = ""


def judge(code: str, tests: list[dict[str, str]], func_name: str | None, timeout_s: float) -> Verdict:
    """Run `code` on `tests` in order, stopping at the first failure, as upstream does."""
    try:
        compile(code, "solution.py", "exec")
    except SyntaxError as exc:
        return Verdict("compile_error", 0, str(exc))
    with tempfile.TemporaryDirectory(prefix="trident-check-") as tmp:
        source = Path(tmp) / "solution.py"
        source.write_text(code, encoding="utf-8")
        argv = [sys.executable, str(source)]
        if func_name is not None:
            driver = Path(tmp) / "driver.py"
            driver.write_text(FUNCTIONAL_DRIVER, encoding="utf-8")
            argv = [sys.executable, str(driver), str(source), func_name]
        for index, test in enumerate(tests):
            try:
                done = subprocess.run(
                    argv,
                    input=test["input"],
                    capture_output=True,
                    text=True,
                    timeout=timeout_s,
                    preexec_fn=_limit_memory,
                    cwd=tmp,
                )
            except subprocess.TimeoutExpired:
                return Verdict("time_limit", index)
            if done.returncode != 0:
                return Verdict("runtime_error", index, done.stderr[-500:])
            if func_name is not None:
                passed = json.loads(done.stdout) == json.loads(test["output"])
            else:
                passed = stdout_matches(done.stdout, test["output"])
            if not passed:
                return Verdict(
                    "wrong_answer", index, f"got {done.stdout[:200]!r}, want {test['output'][:200]!r}"
                )
    return Verdict("pass", -1)
