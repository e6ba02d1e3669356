"""`run_tests`: run the project's test command (or a given one) and report a structured verdict.

The output starts with one verdict line (PASSED / FAILED / ERROR / TIMED OUT, with the counts the
runner reported), then the failing tests, then the tail of the raw output (the end of a test run is
where the summary and the last failure are). `ok` is exit code 0.

pytest lists failing tests only in its short test summary (`-r`). Its default, `fE`, prints them,
but a project can turn that off (`addopts = -rN`). So a command that is one plain pytest invocation
(`pytest ...`, `python -m pytest ...`, `uv run pytest ...`, with no shell operators, no `--` and no
`-r` of its own) gets ` -ra` appended: `-r` is not cumulative (the last one wins, command line after
`addopts`), and `a` (`sxXEf`) is a superset of the default and the most common project setting, so
appending it adds the failure lines without hiding anything a project usually asks for. Anything
else (pipelines, `make test`, `tox`, scripts) runs exactly as given and is parsed as it comes.
"""

from __future__ import annotations

import re
import shlex

from pydantic import Field

from trident.sandbox.base import ExecResult
from trident.tools.base import Tool, ToolArgs, ToolContext, ToolError, ToolOutput
from trident.tools.pytest_summary import TestSummary, parse

REPORT_FLAG = "-ra"
FAILING_SHOWN = 30
TAIL_LINES = 80
TAIL_CHARS = 8000
LINE_CHARS = 400
OUTPUT_LIMIT = 1024 * 1024  # what the parser sees (head and tail kept); the model sees only the tail

_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_OPERATOR_CHARS = frozenset("();<>|&")
_NOT_FOUND = {126: "the command could not be executed", 127: "command not found"}


class RunTestsArgs(ToolArgs):
    command: str | None = Field(
        None,
        description=(
            "Test command to run instead of the project's own, e.g. to run one file or one test. "
            "Leave it out to run the project's test command."
        ),
        examples=["python -m pytest -q tests/test_parser.py::test_empty_input"],
    )


def with_report_flag(command: str) -> str:
    """`command` with ` -ra` appended when it is one plain pytest invocation without `-r` (see above)."""
    try:
        lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = ""
        tokens = list(lexer)
    except ValueError:  # unbalanced quotes, a trailing backslash: leave it to the shell
        return command
    if not tokens or any(_is_shell_syntax(token) for token in tokens):
        return command
    start = _pytest_index(tokens)
    if start is None:
        return command
    for token in tokens[start:]:
        if token == "--" or token.startswith("--report-chars"):
            return command
        if token.startswith("-") and not token.startswith("--") and "r" in token:
            return command  # `-rN`, `-ra`, or flags combined with r (`-qra`): the caller chose
    return f"{command.rstrip()} {REPORT_FLAG}"


def _is_shell_syntax(token: str) -> bool:
    operator = all(char in _OPERATOR_CHARS for char in token)
    return bool(token) and (operator or token.startswith("#") or "`" in token or "$(" in token)


def _pytest_index(tokens: list[str]) -> int | None:
    """Index just past `pytest` / `py.test` / `-m pytest` in a simple command, or None."""
    for index, token in enumerate(tokens):
        if _ASSIGNMENT.match(token):
            continue  # `VAR=value` (a value may be a path ending in pytest)
        if token.rsplit("/", 1)[-1] in ("pytest", "py.test"):
            return index + 1
        if token == "-m" and tokens[index + 1 : index + 2] == ["pytest"]:
            return index + 2
    return None


def verdict(result: ExecResult, summary: TestSummary, timeout_s: float) -> str:
    """The first line of the output: PASSED / FAILED / ERROR / TIMED OUT with counts and duration."""
    if result.timed_out:
        partial = f" ({summary.counts_text()} reported before the kill)" if summary.total else ""
        running = f"; still running: {summary.running}" if summary.running else ""
        return f"TIMED OUT: killed after {timeout_s:g}s{partial}{running}"
    seconds = summary.duration_s if summary.duration_s is not None else result.duration_s
    counts = f"{summary.counts_text()} in {seconds:.2f}s" if summary.finished else ""
    code = f"(exit code {result.exit_code})"
    if result.exit_code == 0:
        return f"PASSED: {counts or 'exit code 0'}"
    if result.killed_by and not summary.finished:
        return f"ERROR: the test run was killed ({result.killed_by}) {code}"
    if summary.collection_failed:
        found = counts or "no summary"
        return f"ERROR: tests could not be collected (import or syntax error): {found} {code}"
    if summary.runner == "unknown":
        if result.exit_code in _NOT_FOUND:
            return f"ERROR: {_NOT_FOUND[result.exit_code]} {code}"
        return f"FAILED {code}; the output is not pytest's or unittest's, so there are no counts"
    if not summary.finished:
        return f"ERROR: the test run ended without a summary {code}"
    if summary.total == 0:
        return f"ERROR: no tests ran {code}"
    if summary.failed + summary.errors + summary.xpassed == 0:
        return f"FAILED: {counts} {code}; no test failed, see the output for what did"
    return f"FAILED: {counts} {code}"


def failing_section(summary: TestSummary) -> str:
    if not summary.failing:
        return ""
    lines = [f"failing ({len(summary.failing)}):"]
    for failure in summary.failing[:FAILING_SHOWN]:
        label = "FAILED" if failure.kind == "failed" else "ERROR"
        message = f" - {failure.message}" if failure.message else ""
        lines.append(f"  {label} {failure.test_id}{message}")
    if len(summary.failing) > FAILING_SHOWN:
        lines.append(f"  [... {len(summary.failing) - FAILING_SHOWN} more]")
    return "\n".join(lines)


def output_tail(output: str, command: str, result: ExecResult) -> str:
    """The last TAIL_LINES lines (each clipped), at most TAIL_CHARS characters, under a header."""
    lines = output.rstrip().splitlines()
    if not lines:
        return f"--- `{command}` printed nothing ---"
    shown = [line if len(line) <= LINE_CHARS else line[:LINE_CHARS] + "[...]" for line in lines[-TAIL_LINES:]]
    while len(shown) > 1 and sum(len(line) + 1 for line in shown) > TAIL_CHARS:
        shown.pop(0)
    scope = f"last {len(shown)} of {len(lines)} lines" if len(shown) < len(lines) else "output"
    clipped = " (the sandbox kept only the start and end)" if result.truncated else ""
    return f"--- {scope} of `{command}`{clipped} ---\n" + "\n".join(shown)


class RunTestsTool(Tool[RunTestsArgs]):
    name = "run_tests"
    args_model = RunTestsArgs

    async def run(self, args: RunTestsArgs, ctx: ToolContext) -> ToolOutput:
        given = (args.command or "").strip() or (ctx.test_command or "").strip()
        if not given:
            raise ToolError("no test command is configured for this project; pass `command`")
        command = with_report_flag(given)
        result = await ctx.sandbox.exec(
            command,
            timeout=ctx.command_timeout_s,
            cwd=".",  # the workspace root, whatever `cd` the model's shell made
            env={"PYTHONUNBUFFERED": "1"},  # a killed run still shows how far it got
            limit=OUTPUT_LIMIT,
            on_output=ctx.on_output,
        )
        summary = parse(result.output)
        parts = [
            verdict(result, summary, ctx.command_timeout_s),
            failing_section(summary),
            output_tail(result.output, command, result),
        ]
        ok = result.exit_code == 0 and not result.timed_out
        return ToolOutput("\n".join(part for part in parts if part), ok=ok)
