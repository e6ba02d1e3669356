"""The test-output parser on real output: pytest and unittest run here on small temporary projects."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from trident.tools.pytest_summary import FailingTest, TestSummary, parse

PASSING = """
    def test_one():
        assert 1 + 1 == 2

    def test_two():
        assert "a".upper() == "A"

    def test_three():
        pass
"""

FAILING = """
    import pytest

    def test_ok():
        pass

    def test_wrong_sum():
        assert 1 + 1 == 3, "arithmetic is off"

    @pytest.fixture
    def database():
        raise RuntimeError("no database here")

    def test_needs_database(database):
        pass

    @pytest.mark.parametrize("text", ["a - b", "c"])
    def test_param(text):
        assert text == "c"
"""

MARKS = """
    import pytest

    def test_ok():
        pass

    @pytest.mark.skip(reason="not on this platform")
    def test_skipped():
        pass

    @pytest.mark.xfail(reason="known bug")
    def test_expected_failure():
        assert False

    @pytest.mark.xfail(reason="fixed already?")
    def test_unexpected_pass():
        pass

    @pytest.mark.xfail(strict=True)
    def test_strict_unexpected_pass():
        pass
"""

UNITTESTS = """
    import unittest

    class Arithmetic(unittest.TestCase):
        def test_ok(self):
            self.assertEqual(2 + 2, 4)

        def test_wrong(self):
            \"\"\"A docstring line that unittest prints under the header.\"\"\"
            self.assertEqual(2 + 2, 5)

        def test_crash(self):
            {}["missing"]

        @unittest.skip("later")
        def test_skipped(self):
            pass

        @unittest.expectedFailure
        def test_known_bug(self):
            self.assertTrue(False)

        @unittest.expectedFailure
        def test_fixed_bug(self):
            pass
"""


def make_project(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def runner_env() -> dict[str, str]:
    # CI and BUILD_NUMBER make pytest stop cutting summary lines to the terminal width: the tests
    # below produce the output a developer's (non-CI) run gives, wherever they run
    dropped = ("CI", "BUILD_NUMBER")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_") and k not in dropped}
    return {
        **env,
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def run(root: Path, *args: str, timeout: float = 60) -> tuple[int, str]:
    result = subprocess.run(
        [sys.executable, *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=runner_env(),
    )
    return result.returncode, result.stdout + result.stderr


def run_until_killed(root: Path, marker: str, *args: str) -> str:
    """Run until `marker` is printed, then kill the runner, as a timeout does; return what it printed."""
    proc = subprocess.Popen(
        [sys.executable, *args], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=runner_env()
    )
    assert proc.stdout is not None
    data = b""
    deadline = time.monotonic() + 60
    try:
        while marker.encode() not in data and time.monotonic() < deadline:
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                break
            data += chunk
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
    return data.decode()


def run_pytest(root: Path, *args: str) -> tuple[int, str]:
    return run(root, "-m", "pytest", "-p", "no:cacheprovider", *args)


@pytest.mark.parametrize("flags", [["-q"], [], ["-v"]], ids=["quiet", "default", "verbose"])
def test_pytest_all_passing(tmp_path: Path, flags: list[str]) -> None:
    code, output = run_pytest(make_project(tmp_path, {"test_pass.py": PASSING}), *flags)
    assert code == 0
    summary = parse(output)
    assert summary.runner == "pytest" and summary.finished
    assert (summary.passed, summary.failed, summary.errors, summary.total) == (3, 0, 0, 3)
    assert summary.failing == [] and not summary.collection_failed
    assert summary.duration_s is not None and summary.duration_s >= 0
    assert summary.counts_text() == "3 passed"


def test_pytest_failures_errors_and_parametrized_ids(tmp_path: Path) -> None:
    code, output = run_pytest(make_project(tmp_path, {"test_mixed.py": FAILING}), "-q", "-rfE")
    assert code == 1
    summary = parse(output)
    assert (summary.passed, summary.failed, summary.errors) == (2, 2, 1)
    assert summary.counts_text() == "2 failed, 2 passed, 1 error"
    by_id = {f.test_id: f for f in summary.failing}
    assert set(by_id) == {
        "test_mixed.py::test_wrong_sum",
        "test_mixed.py::test_param[a - b]",  # the " - " inside the brackets belongs to the id
        "test_mixed.py::test_needs_database",
    }
    assert by_id["test_mixed.py::test_wrong_sum"].kind == "failed"
    assert by_id["test_mixed.py::test_wrong_sum"].message == "AssertionError: arithmetic is off"
    assert by_id["test_mixed.py::test_needs_database"] == FailingTest(
        test_id="test_mixed.py::test_needs_database", kind="error", message="RuntimeError: no database here"
    )
    assert not summary.collection_failed


def test_pytest_messages_cut_to_the_terminal_width_are_taken_from_the_report(tmp_path: Path) -> None:
    tests = """
        class TestParser:
            def test_long_message(self):
                assert False, "the parser dropped the third field of a quoted record: " + "x" * 40
    """
    _, output = run_pytest(make_project(tmp_path, {"test_long.py": tests}), "-q", "-rf")
    (line,) = [line for line in output.splitlines() if line.startswith("FAILED ")]
    assert line.endswith("...")  # pytest cut the short summary line to the terminal width
    (failure,) = parse(output).failing
    assert failure.test_id == "test_long.py::TestParser::test_long_message"
    assert (
        failure.message
        == "AssertionError: the parser dropped the third field of a quoted record: " + "x" * 40
    )


def test_pytest_collection_error_from_a_syntax_error(tmp_path: Path) -> None:
    files = {"test_good.py": PASSING, "test_broken.py": "def test_x(:\n    pass\n"}
    code, output = run_pytest(make_project(tmp_path, files), "-q")
    assert code == 2
    summary = parse(output)
    assert summary.collection_failed and summary.finished
    assert (summary.errors, summary.passed) == (1, 0)
    (failure,) = summary.failing
    assert failure.test_id == "test_broken.py" and failure.kind == "error"
    assert "SyntaxError" in failure.message


def test_pytest_skips_xfails_and_xpasses(tmp_path: Path) -> None:
    code, output = run_pytest(make_project(tmp_path, {"test_marks.py": MARKS}), "-ra")
    assert code == 1  # the strict xfail that passed is a failure
    summary = parse(output)
    assert (summary.passed, summary.skipped, summary.xfailed, summary.xpassed, summary.failed) == (
        1,
        1,
        1,
        1,
        1,
    )
    (failure,) = summary.failing  # SKIPPED / XFAIL / XPASS lines of `-ra` are not failures
    assert failure.test_id == "test_marks.py::test_strict_unexpected_pass"
    assert "XPASS(strict)" in failure.message


def test_pytest_with_no_tests(tmp_path: Path) -> None:
    code, output = run_pytest(make_project(tmp_path, {"helpers.py": "X = 1\n"}), "-q")
    assert code == 5
    summary = parse(output)
    assert summary.runner == "pytest" and summary.finished and summary.total == 0
    assert summary.counts_text() == "no tests ran"


def test_pytest_colored_output(tmp_path: Path) -> None:
    _, output = run_pytest(make_project(tmp_path, {"test_mixed.py": FAILING}), "--color=yes")
    assert "\x1b[" in output
    summary = parse(output)
    assert (summary.passed, summary.failed, summary.errors) == (2, 2, 1)
    assert len(summary.failing) == 3


def test_pytest_killed_by_a_timeout(tmp_path: Path) -> None:
    slow = """
        import time

        def test_quick():
            pass

        def test_broken():
            assert False

        def test_sleeps():
            time.sleep(60)
    """
    root = make_project(tmp_path, {"test_slow.py": slow})
    marker = "test_slow.py::test_sleeps "
    output = run_until_killed(root, marker, "-m", "pytest", "-v", "-p", "no:cacheprovider")
    assert output.endswith(marker)
    summary = parse(output)
    assert summary.runner == "pytest" and not summary.finished
    assert (summary.passed, summary.failed) == (1, 1)
    assert summary.failing == [FailingTest(test_id="test_slow.py::test_broken", kind="failed")]
    assert summary.running == "test_slow.py::test_sleeps"


def test_unittest_failures_errors_skips_and_expected_failures(tmp_path: Path) -> None:
    code, output = run(make_project(tmp_path, {"test_calc.py": UNITTESTS}), "-m", "unittest", "test_calc")
    assert code == 1
    summary = parse(output)
    assert summary.runner == "unittest" and summary.finished
    assert (summary.passed, summary.failed, summary.errors) == (1, 1, 1)
    assert (summary.skipped, summary.xfailed, summary.xpassed) == (1, 1, 1)
    by_id = {f.test_id: f for f in summary.failing}
    assert by_id["test_calc.Arithmetic.test_wrong"].message == "AssertionError: 4 != 5"
    assert by_id["test_calc.Arithmetic.test_wrong"].kind == "failed"
    assert by_id["test_calc.Arithmetic.test_crash"] == FailingTest(
        test_id="test_calc.Arithmetic.test_crash", kind="error", message="KeyError: 'missing'"
    )
    assert by_id["test_calc.Arithmetic.test_fixed_bug"].message == "unexpected success"
    assert summary.duration_s is not None


def test_unittest_all_passing_verbose(tmp_path: Path) -> None:
    tests = """
        import unittest

        class T(unittest.TestCase):
            def test_a(self):
                pass

            @unittest.skip("no")
            def test_b(self):
                pass
    """
    code, output = run(make_project(tmp_path, {"test_t.py": tests}), "-m", "unittest", "-v")
    assert code == 0
    summary = parse(output)
    assert summary.runner == "unittest" and summary.finished
    assert (summary.passed, summary.skipped, summary.failing) == (1, 1, [])


def test_unittest_import_error_is_a_collection_failure(tmp_path: Path) -> None:
    files = {"test_imports.py": "import no_such_module_here\n"}
    code, output = run(make_project(tmp_path, files), "-m", "unittest", "test_imports")
    assert code == 1
    summary = parse(output)
    assert summary.collection_failed
    (failure,) = summary.failing
    assert failure.test_id == "test_imports" and failure.kind == "error"
    assert failure.message == "ModuleNotFoundError: No module named 'no_such_module_here'"


def test_unknown_output_has_no_counts(tmp_path: Path) -> None:
    _, output = run(tmp_path, "-c", "print('compiling... done'); print('3 warnings')")
    summary = parse(output)
    assert summary == TestSummary()
    assert summary.runner == "unknown" and summary.total == 0
    assert parse("") == TestSummary()


def test_summary_is_not_collected_as_a_test_class() -> None:
    assert TestSummary.__test__ is False
    assert "__test__" not in TestSummary.model_fields
