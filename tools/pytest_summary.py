"""Test-runner output -> a structured summary: counts, failing tests, duration, collection failure.

Pure functions over the text a test command printed. pytest is recognised by its final summary line
(`=== 2 failed, 3 passed in 0.41s ===`, or without the `=` under `-q`) and its short test summary
(`FAILED path::test - message`, `ERROR path - message`, printed for `-r fE`, pytest's default);
unittest by `Ran N tests in Xs` and the `OK` / `FAILED (failures=2, errors=1)` line after it.
Anything else is `runner="unknown"`: the caller has only the exit code to go on.

When the output stops before a final summary (a killed run), the counts come from pytest's verbose
result lines (`path::test PASSED`) if there are any, and `running` names the test that was started
last and never reported.
"""

from __future__ import annotations

import re
from typing import ClassVar, Literal

from pydantic import BaseModel, Field

Runner = Literal["pytest", "unittest", "unknown"]
FailureKind = Literal["failed", "error"]

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_COUNT = r"\d+ [a-z][a-z ]*?"
_PYTEST_FINAL = re.compile(
    rf"^=*\s*(?P<counts>{_COUNT}(?:, {_COUNT})*|no tests ran)"
    r" in (?P<secs>\d+(?:\.\d+)?)s(?: \([0-9:.]+\))?\s*=*$"
)
_PYTEST_SECTION = re.compile(r"^=+ short test summary info =+$")
_PYTEST_COLLECTION = re.compile(r"^!+ Interrupted: \d+ errors? during collection !+$|^_+ ERROR collecting ")
_PYTEST_SECTION_TITLE = re.compile(r"^_{3,} (?:ERROR at (?:setup|teardown) of )?(?P<title>.+?) _{3,}$")
_PYTEST_VERBOSE = re.compile(
    r"^(?P<id>\S+::\S.*?) (?P<outcome>PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)(?: .*)?$"
)
_PYTEST_STARTED = re.compile(r"^(?P<id>\S+::\S+)\s*$")
_PYTEST_HEADER = re.compile(r"^=+ test session starts =+$")
_UNITTEST_RAN = re.compile(r"^Ran (?P<n>\d+) tests? in (?P<secs>\d+(?:\.\d+)?)s$")
_UNITTEST_RESULT = re.compile(r"^(?P<verdict>OK|FAILED|NO TESTS RAN)(?: \((?P<details>[^)]*)\))?$")
_UNITTEST_HEADER = re.compile(
    r"^(?P<kind>FAIL|ERROR|UNEXPECTED SUCCESS): (?P<name>\S+) \((?P<where>[^)]*)\)$"
)
_SEPARATOR = re.compile(r"^(?:={20,}|-{20,})$")

# pytest's words in the final summary line -> our fields ("error" and "errors" are both used).
_PYTEST_WORDS = {
    "passed": "passed",
    "failed": "failed",
    "error": "errors",
    "errors": "errors",
    "skipped": "skipped",
    "xfailed": "xfailed",
    "xpassed": "xpassed",
}
_VERBOSE_WORDS = {
    "PASSED": "passed",
    "FAILED": "failed",
    "ERROR": "errors",
    "SKIPPED": "skipped",
    "XFAIL": "xfailed",
    "XPASS": "xpassed",
}
_UNITTEST_WORDS = {
    "failures": "failed",
    "errors": "errors",
    "skipped": "skipped",
    "expected failures": "xfailed",
    "unexpected successes": "xpassed",
}
_SHORT_SUMMARY_KINDS: tuple[tuple[str, FailureKind], ...] = (("FAILED ", "failed"), ("ERROR ", "error"))
MESSAGE_CHARS = 200


class FailingTest(BaseModel):
    test_id: str = Field(description="pytest node id (path::test[param]) or unittest id (module.Class.test)")
    kind: FailureKind
    message: str = ""


class TestSummary(BaseModel):
    """What a test run reported; all counts are 0 when the runner was not recognised."""

    __test__: ClassVar[bool] = False  # a model, not a pytest test class

    runner: Runner = "unknown"
    finished: bool = False  # the runner's final summary line was found
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    xfailed: int = 0
    xpassed: int = 0
    duration_s: float | None = None
    collection_failed: bool = False
    failing: list[FailingTest] = Field(default_factory=list)
    running: str | None = None  # pytest -v: the test started last and never reported (a killed run)

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.errors + self.skipped + self.xfailed + self.xpassed

    def counts_text(self) -> str:
        """`2 failed, 3 passed, 1 error` in pytest's order; `no tests ran` when all are zero."""
        parts = [
            f"{self.failed} failed" if self.failed else "",
            f"{self.passed} passed" if self.passed else "",
            f"{self.skipped} skipped" if self.skipped else "",
            f"{self.xfailed} xfailed" if self.xfailed else "",
            f"{self.xpassed} xpassed" if self.xpassed else "",
            f"{self.errors} error{'s' if self.errors > 1 else ''}" if self.errors else "",
        ]
        return ", ".join(p for p in parts if p) or "no tests ran"


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def parse(text: str) -> TestSummary:
    """Summarise a test command's output: pytest, then unittest, else an `unknown` summary."""
    lines = strip_ansi(text).replace("\r\n", "\n").replace("\r", "\n").splitlines()
    return parse_pytest(lines) or parse_unittest(lines) or TestSummary()


def parse_pytest(lines: list[str]) -> TestSummary | None:
    final = _last_match(_PYTEST_FINAL, lines)
    started = any(_PYTEST_HEADER.match(line) for line in lines)
    if final is None and not started:
        return None
    summary = TestSummary(runner="pytest")
    summary.collection_failed = any(_PYTEST_COLLECTION.match(line) for line in lines)
    summary.failing = _with_section_messages(_pytest_short_summary(lines), lines)
    if final is not None:
        match = final[1]
        summary.finished = True
        summary.duration_s = float(match["secs"])
        if match["counts"] != "no tests ran":
            for part in match["counts"].split(", "):
                number, word = part.split(" ", 1)
                field = _PYTEST_WORDS.get(word)
                if field is not None:
                    setattr(summary, field, getattr(summary, field) + int(number))
    else:
        _pytest_from_verbose(lines, summary)
    return summary


def _pytest_short_summary(lines: list[str]) -> list[FailingTest]:
    """`FAILED id - message` and `ERROR id - message` lines of the (last) short test summary section."""
    starts = [i for i, line in enumerate(lines) if _PYTEST_SECTION.match(line)]
    if not starts:
        return []
    failing: list[FailingTest] = []
    for line in lines[starts[-1] + 1 :]:
        if _PYTEST_FINAL.match(line) or line.startswith("!!!") or line.startswith("==="):
            break
        for prefix, kind in _SHORT_SUMMARY_KINDS:
            if line.startswith(prefix):
                test_id, message = _split_node_id(line[len(prefix) :])
                if test_id:
                    failing.append(FailingTest(test_id=test_id, kind=kind, message=_clip(message)))
    return failing


def _with_section_messages(failing: list[FailingTest], lines: list[str]) -> list[FailingTest]:
    """Fill in messages the short summary left out or cut to the terminal width (`...`).

    The message comes from the `E   ` lines of the test's section in the failures/errors report,
    `___ test_name ___` (class tests: `Class.test_name`): the first one (the exception; assertion
    details follow it), or for `___ ERROR collecting path ___` the last one (the frames of the
    import come first).
    """
    messages: dict[str, str] = {}
    first_lines: dict[str, str] = {}  # sections without `E` lines: pytest 8's `[XPASS(strict)] reason`
    current: str | None = None
    for line in lines:
        title = _PYTEST_SECTION_TITLE.match(line)
        if title is not None:
            current = title["title"]
        elif line.startswith("===") or line.startswith("!!!"):
            current = None
        elif current is not None and line.startswith("E   "):
            keep_first = current in messages and not current.startswith("ERROR collecting ")
            messages[current] = messages[current] if keep_first else line[1:].strip()
        elif current is not None and line.strip() and current not in first_lines:
            first_lines[current] = line.strip()
    out: list[FailingTest] = []
    for failure in failing:
        if not failure.message or failure.message.endswith("..."):
            section = _section_title(failure.test_id)
            message = messages.get(section) or (first_lines.get(section) if not failure.message else None)
            if message:
                failure = failure.model_copy(update={"message": _clip(message)})
        out.append(failure)
    return out


def _section_title(test_id: str) -> str:
    """The title pytest gives a test's section: `a.py::C::test_x[p]` -> `C.test_x[p]`; a path: collecting."""
    parts = test_id.split("::")
    if len(parts) == 1:
        return f"ERROR collecting {test_id}"
    return ".".join(parts[1:])


def _split_node_id(rest: str) -> tuple[str, str]:
    """`path::test[a - b] - message` -> (`path::test[a - b]`, `message`); spaces in [] are the id's."""
    depth = 0
    for index, char in enumerate(rest):
        if char == "[":
            depth += 1
        elif char == "]":
            depth = max(0, depth - 1)
        elif char == " " and depth == 0:
            message = rest[index + 1 :]
            return rest[:index], message[2:].strip() if message.startswith("- ") else message.strip()
    return rest.strip(), ""


def _pytest_from_verbose(lines: list[str], summary: TestSummary) -> None:
    """No final line (killed run): count `path::test OUTCOME` lines; name the test left unreported."""
    failing: list[FailingTest] = []
    for line in lines:
        match = _PYTEST_VERBOSE.match(line)
        if match is None:
            continue
        field = _VERBOSE_WORDS[match["outcome"]]
        setattr(summary, field, getattr(summary, field) + 1)
        if match["outcome"] in ("FAILED", "ERROR"):
            kind: FailureKind = "failed" if match["outcome"] == "FAILED" else "error"
            failing.append(FailingTest(test_id=match["id"], kind=kind))
    if not summary.failing:
        summary.failing = failing
    tail = [line for line in lines if line.strip()]
    if tail:
        started = _PYTEST_STARTED.match(tail[-1])
        if started is not None:
            summary.running = started["id"]


def parse_unittest(lines: list[str]) -> TestSummary | None:
    ran = _last_match(_UNITTEST_RAN, lines)
    if ran is None:
        return None
    index, match = ran
    summary = TestSummary(runner="unittest", duration_s=float(match["secs"]))
    result = next((m for line in lines[index + 1 :] if (m := _UNITTEST_RESULT.match(line))), None)
    if result is not None:
        summary.finished = True
        for item in (result["details"] or "").split(", "):
            name, _, number = item.partition("=")
            field = _UNITTEST_WORDS.get(name.strip())
            if field is not None and number.strip().isdigit():
                setattr(summary, field, int(number))
    not_passed = summary.failed + summary.errors + summary.skipped + summary.xfailed + summary.xpassed
    summary.passed = max(0, int(match["n"]) - not_passed)
    for header in range(index):
        found = _unittest_failure(lines, header)
        if found is not None:
            failure, import_failed = found
            summary.failing.append(failure)
            summary.collection_failed |= import_failed
    return summary


def _unittest_failure(lines: list[str], index: int) -> tuple[FailingTest, bool] | None:
    """The failure whose `FAIL: name (where)` header is at `index`, and whether a module failed to load."""
    match = _UNITTEST_HEADER.match(lines[index])
    if match is None:
        return None
    name, where = match["name"], match["where"]
    # Python 3.11+ prints the full id in the parentheses; older versions print module.Class only.
    test_id = where if where.endswith(f".{name}") else f"{where}.{name}"
    import_failed = where.startswith("unittest.loader._FailedTest")
    if import_failed:
        test_id = name  # the module (or package) `name` could not be imported
    if match["kind"] == "UNEXPECTED SUCCESS":
        return FailingTest(test_id=test_id, kind="failed", message="unexpected success"), False
    # header, an optional docstring line, a dashed separator, the traceback, then the next separator
    position = index + 1
    while position < len(lines) and not _SEPARATOR.match(lines[position]):
        position += 1
    body: list[str] = []
    for line in lines[position + 1 :]:
        if _SEPARATOR.match(line):
            break
        body.append(line)
    kind: FailureKind = "failed" if match["kind"] == "FAIL" else "error"
    return FailingTest(test_id=test_id, kind=kind, message=_clip(_exception_line(body))), import_failed


def _exception_line(body: list[str]) -> str:
    """The exception of the last traceback in `body` (the first unindented line after its frames)."""
    starts = [i for i, line in enumerate(body) if line.startswith("Traceback (most recent call last)")]
    after = body[starts[-1] + 1 :] if starts else body
    found = next((line for line in after if line.strip() and not line[0].isspace()), None)
    return (found or next((line for line in body if line.strip()), "")).strip()


def _last_match(pattern: re.Pattern[str], lines: list[str]) -> tuple[int, re.Match[str]] | None:
    for index in range(len(lines) - 1, -1, -1):
        match = pattern.match(lines[index])
        if match is not None:
            return index, match
    return None


def _clip(text: str, limit: int = MESSAGE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
