"""`run_tests` end to end: real pytest and unittest runs in a local sandbox, and the -r rewrite."""

from __future__ import annotations

import shlex
import sys
import textwrap
from pathlib import Path

import pytest

from trident.sandbox.base import ExecResult
from trident.sandbox.local import LocalSandbox
from trident.tools.base import ToolContext, ToolOutput
from trident.tools.pytest_summary import parse
from trident.tools.run_tests import RunTestsArgs, RunTestsTool, verdict, with_report_flag

PYTHON = shlex.quote(sys.executable)
# No third-party plugins in the inner runs: faster, and the output is pytest's own.
PYTEST = f"PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 {PYTHON} -m pytest -p no:cacheprovider"

PASSING = """
    def test_one():
        assert True

    def test_two():
        assert [1, 2] == [1, 2]
"""

FAILING = """
    def test_fine():
        pass

    def test_parse_empty():
        assert "".split(",") == [], "empty input should give no fields"
"""


def workspace(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return root


async def run_tests(
    root: Path, test_command: str | None = None, timeout: float = 60, **arguments: str
) -> ToolOutput:
    sandbox = LocalSandbox(root)
    ctx = ToolContext(sandbox=sandbox, test_command=test_command, command_timeout_s=timeout)
    try:
        return await RunTestsTool().invoke(dict(arguments), ctx)
    finally:
        await sandbox.close()


async def test_passing_run(tmp_path: Path) -> None:
    result = await run_tests(workspace(tmp_path, {"test_ok.py": PASSING}), f"{PYTEST} -q")
    assert result.ok
    first = result.output.splitlines()[0]
    assert first.startswith("PASSED: 2 passed in ") and first.endswith("s")
    assert "failing" not in result.output
    assert f"--- output of `{PYTEST} -q -ra` ---" in result.output


async def test_failing_run_lists_the_failures_first(tmp_path: Path) -> None:
    result = await run_tests(workspace(tmp_path, {"test_parse.py": FAILING}), f"{PYTEST} -q")
    assert not result.ok
    lines = result.output.splitlines()
    assert lines[0].startswith("FAILED: 1 failed, 1 passed in ") and lines[0].endswith("(exit code 1)")
    assert lines[1] == "failing (1):"
    assert (
        lines[2]
        == "  FAILED test_parse.py::test_parse_empty - AssertionError: empty input should give no fields"
    )
    assert lines[3].startswith("--- ")
    assert lines[-1].startswith("1 failed, 1 passed in ")  # the raw output's own last line ends it


async def test_project_that_turns_off_the_short_summary_still_gets_failures(tmp_path: Path) -> None:
    files = {"test_parse.py": FAILING, "pytest.ini": "[pytest]\naddopts = -rN\n"}
    result = await run_tests(workspace(tmp_path, files), f"{PYTEST} -q")
    assert "  FAILED test_parse.py::test_parse_empty - AssertionError" in result.output
    # ... and a command that chooses its own -r is run as given
    result = await run_tests(workspace(tmp_path, files), f"{PYTEST} -q -rN")
    assert result.output.startswith("FAILED: 1 failed, 1 passed") and "failing" not in result.output


async def test_collection_error_is_an_error(tmp_path: Path) -> None:
    files = {"test_ok.py": PASSING, "test_broken.py": "def test_x(:\n    pass\n"}
    result = await run_tests(workspace(tmp_path, files), f"{PYTEST} -q")
    assert not result.ok
    lines = result.output.splitlines()
    assert lines[0].startswith("ERROR: tests could not be collected (import or syntax error): 1 error in ")
    assert lines[0].endswith("(exit code 2)")
    assert lines[2].startswith("  ERROR test_broken.py - ") and "SyntaxError" in lines[2]


async def test_no_tests_is_an_error(tmp_path: Path) -> None:
    result = await run_tests(workspace(tmp_path, {"util.py": "X = 1\n"}), f"{PYTEST} -q")
    assert not result.ok
    assert result.output.splitlines()[0] == "ERROR: no tests ran (exit code 5)"


@pytest.mark.slow
async def test_timeout_kills_the_run_and_says_where_it_was(tmp_path: Path) -> None:
    slow = """
        import time

        def test_quick():
            pass

        def test_sleeps():
            time.sleep(60)
    """
    root = workspace(tmp_path, {"test_slow.py": slow})
    result = await run_tests(root, f"{PYTEST} -v", timeout=3)
    assert not result.ok
    assert result.output.splitlines()[0] == (
        "TIMED OUT: killed after 3s (1 passed reported before the kill); "
        "still running: test_slow.py::test_sleeps"
    )
    assert "test_slow.py::test_quick PASSED" in result.output


async def test_unittest_command(tmp_path: Path) -> None:
    tests = """
        import unittest

        class T(unittest.TestCase):
            def test_good(self):
                pass

            def test_bad(self):
                self.assertEqual("a", "b")
    """
    root = workspace(tmp_path, {"test_u.py": tests})
    result = await run_tests(root, f"{PYTHON} -m unittest")
    assert not result.ok
    lines = result.output.splitlines()
    assert lines[0].startswith("FAILED: 1 failed, 1 passed in ") and lines[0].endswith("(exit code 1)")
    assert lines[2] == "  FAILED test_u.T.test_bad - AssertionError: 'a' != 'b'"
    assert f"of `{PYTHON} -m unittest`" in result.output  # not a pytest command: unchanged


async def test_command_argument_overrides_the_project_command(tmp_path: Path) -> None:
    root = workspace(tmp_path, {"test_ok.py": PASSING, "test_parse.py": FAILING})
    result = await run_tests(root, f"{PYTEST} -q", command=f"{PYTEST} -q test_ok.py")
    assert result.ok and result.output.startswith("PASSED: 2 passed")


async def test_unknown_runners_go_by_the_exit_code(tmp_path: Path) -> None:
    root = workspace(tmp_path, {})
    passed = await run_tests(root, "echo building; echo all good")
    assert passed.ok and passed.output.splitlines()[0] == "PASSED: exit code 0"
    failed = await run_tests(root, "echo broken; exit 3")
    assert not failed.ok
    assert failed.output.splitlines()[0] == (
        "FAILED (exit code 3); the output is not pytest's or unittest's, so there are no counts"
    )
    missing = await run_tests(root, "no-such-test-runner-here --all")
    assert missing.output.splitlines()[0] == "ERROR: command not found (exit code 127)"


async def test_without_any_command_the_model_is_told(tmp_path: Path) -> None:
    result = await run_tests(workspace(tmp_path, {}))
    assert not result.ok
    assert result.output == "Error: no test command is configured for this project; pass `command`"


async def test_long_output_keeps_its_end(tmp_path: Path) -> None:
    root = workspace(tmp_path, {})
    result = await run_tests(root, "for i in $(seq 1 500); do echo line $i; done; exit 1")
    tail = result.output.split("\n", 1)[1]
    assert tail.startswith("--- last 80 of 500 lines of `")
    assert tail.endswith("line 500") and "line 421\n" in tail and "line 420\n" not in tail


def test_a_run_killed_by_the_sandbox_says_so() -> None:
    result = ExecResult(exit_code=-9, output="test_x.py::test_big ", killed_by="out of memory")
    assert (
        verdict(result, parse(result.output), 60)
        == "ERROR: the test run was killed (out of memory) (exit code -9)"
    )


def test_schema_is_one_optional_string() -> None:
    schema = RunTestsTool.spec().parameters
    assert list(schema["properties"]) == ["command"] and "required" not in schema
    assert RunTestsArgs.model_validate({}).command is None


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("pytest", "pytest -ra"),
        ("pytest -q tests", "pytest -q tests -ra"),
        ("python -m pytest -x", "python -m pytest -x -ra"),
        ("uv run pytest", "uv run pytest -ra"),
        ("PYTHONPATH=src .venv/bin/pytest -q", "PYTHONPATH=src .venv/bin/pytest -q -ra"),
        ("pytest -k 'parse or load'", "pytest -k 'parse or load' -ra"),
        ("pytest -k 'a|b'", "pytest -k 'a|b' -ra"),
        # the command already chose what to report
        ("pytest -rN", "pytest -rN"),
        ("pytest -qra", "pytest -qra"),
        ("pytest --report-chars=fE", "pytest --report-chars=fE"),
        # not a single plain pytest invocation: run exactly as given
        ("cd sub && pytest", "cd sub && pytest"),
        ("pytest | tee log.txt", "pytest | tee log.txt"),
        ("pytest > out.txt", "pytest > out.txt"),
        ("pytest; echo done", "pytest; echo done"),
        ("pytest -q  # quick", "pytest -q  # quick"),
        ("pytest $(cat selected.txt)", "pytest $(cat selected.txt)"),
        ("pytest -- -weird-file.py", "pytest -- -weird-file.py"),
        ("pytest 'unbalanced", "pytest 'unbalanced"),
        ("make test", "make test"),
        ("tox -e py311", "tox -e py311"),
        ("python -m unittest", "python -m unittest"),
        ("RUNNER=/opt/pytest make check", "RUNNER=/opt/pytest make check"),
    ],
)
def test_report_flag_is_added_only_when_safe(command: str, expected: str) -> None:
    assert with_report_flag(command) == expected
