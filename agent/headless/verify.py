"""Verification of a headless run by trident itself: the model's claim is not enough.

The test command runs in the sandbox before the agent starts (baseline) and after it finishes
(final). Solved means: the final run passes (exit code 0), and, SWE-bench style, nothing that
passed before regressed: when the runner's counts are known (pytest, unittest), the number of
passing tests may not drop and no test may disappear (an agent deleting tests does not "fix" them).
"""

from __future__ import annotations

from typing import Literal

from trident.agent.core.events import Verification
from trident.sandbox.base import Sandbox
from trident.tools.pytest_summary import parse

TEST_TIMEOUT_S = 3600.0


async def run_check(
    sandbox: Sandbox, command: str, phase: Literal["baseline", "final"], timeout: float = TEST_TIMEOUT_S
) -> Verification:
    result = await sandbox.exec(command, timeout=timeout, cwd=".", limit=1024 * 1024)
    summary = parse(result.output)
    return Verification(
        phase=phase,
        command=command,
        exit_code=result.exit_code,
        timed_out=result.timed_out,
        runner=summary.runner,
        passed=summary.passed,
        failed=summary.failed,
        errors=summary.errors,
        total=summary.total,
        failing=[f.test_id for f in summary.failing][:50],
    )


def judge(baseline: Verification | None, final: Verification) -> tuple[bool, str]:
    """(solved, reason) from the final check and the baseline, if there was one."""
    if final.timed_out:
        return False, "the tests timed out after the change"
    if final.exit_code != 0:
        shown = ", ".join(final.failing[:5])
        return False, f"tests still fail (exit code {final.exit_code}{': ' + shown if shown else ''})"
    if baseline is not None and baseline.runner != "unknown" and final.runner == baseline.runner:
        if final.passed < baseline.passed:
            return False, f"tests regressed: {baseline.passed} passed before the change, {final.passed} after"
        if final.total < baseline.total:
            return False, f"tests disappeared: {baseline.total} ran before the change, {final.total} after"
    return True, "tests pass after the change"
