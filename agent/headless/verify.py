"""Verification of a headless run by trident itself: the model's claim is not enough.

The test command runs before the agent starts (baseline) and after it finishes (final), each time
in a fresh sandbox (a new container, or a new local runner process: clean environment, no process
of the agent alive, nothing the agent's shell defined) over a fresh directory: trident's own
baseline (sandbox/workspace.py, kept on the host beside the workspace), plus, for the final run,
the patch and nothing else. What the agent left in its workspace beyond the patch (its `.git`,
ignored files, a shadowing `python3`) and in its sandbox (PATH, shell functions, daemons) is not
there. Baseline and final are measured the same way, so a difference between them is the patch's.
Solved means: the final run passes (exit code 0), and, SWE-bench style, nothing that
passed before regressed: when the runner's counts are known (pytest, unittest), the number of
passing tests may not drop and no test may disappear (an agent deleting tests does not "fix" them).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from pathlib import Path
from typing import Literal

from trident.agent.config import Settings
from trident.agent.core.events import Verification
from trident.agent.wiring import make_sandbox
from trident.sandbox.base import Sandbox
from trident.sandbox.workspace import clean_copy
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


async def verify_fresh(
    settings: Settings,
    store: Path,
    patch: str,
    command: str,
    phase: Literal["baseline", "final"],
    scratch: Path,
    timeout: float = TEST_TIMEOUT_S,
) -> Verification:
    """`command` on the baseline in `store` with `patch` applied, in a fresh sandbox of the run's kind.

    `scratch` is a directory of trident's (outside any sandbox); the copy is made and removed in it.
    """
    copy = scratch / f"{phase}-copy"
    shutil.rmtree(copy, ignore_errors=True)  # a run killed during its verification left it
    await asyncio.to_thread(clean_copy, store, copy, patch)
    box = make_sandbox(settings, copy, mode="copy")  # Docker: nothing it writes reaches the host
    try:
        return await run_check(box, command, phase, timeout)
    finally:
        await box.close()
        await asyncio.to_thread(shutil.rmtree, copy, True)
        with contextlib.suppress(OSError):
            scratch.rmdir()


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
