"""Item 4: no hang, whatever a command does to its own fds; the host watchdog enforces deadlines."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.security.conftest import freeze, runner_host_pid
from trident.sandbox.base import SandboxError
from trident.sandbox.client import RunnerSession
from trident.sandbox.docker import DockerSandbox
from trident.sandbox.local import LocalSandbox

REDIRECTIONS = [
    "exec >/dev/null 2>&1",
    "exec 1>&- 2>&-",
    "exec 0<&- 1>&- 2>&-",
    "exec 1>&- 2>&- 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-",
    "exec >/tmp/trident-elsewhere.txt 2>&1",
]


@pytest.mark.parametrize("redirect", REDIRECTIONS)
async def test_a_command_that_redirects_its_fds_ends_at_its_exit(box: RunnerSession, redirect: str) -> None:
    await box.exec("export KEEP=1; cd /tmp", timeout=10)
    result = await asyncio.wait_for(box.exec(f"echo before; {redirect}; echo after; exit 4", timeout=10), 30)
    assert result.exit_code == 4 and result.output.startswith("before\n") and "after" not in result.output
    after = await box.exec('echo "alive $KEEP $PWD"', timeout=10)
    assert after.output == "alive 1 /tmp\n"


@pytest.mark.parametrize("redirect", REDIRECTIONS)
async def test_a_command_that_redirects_its_fds_ends_at_its_timeout(
    box: RunnerSession, redirect: str
) -> None:
    await box.exec("export KEEP=1", timeout=10)
    started = time.monotonic()
    result = await asyncio.wait_for(box.exec(f"{redirect}; sleep 300", timeout=1), 30)
    assert result.timed_out and result.killed_by == "timeout" and time.monotonic() - started < 10
    assert (await box.exec('echo "alive $KEEP"', timeout=10)).output == "alive 1\n"


async def test_an_unanswered_request_ends_the_session_at_its_deadline(box: RunnerSession) -> None:
    """The runner is frozen from outside (commands cannot do it in Docker): no answer, so the
    watchdog stops the session at the request's deadline, without waiting for any liveness ping."""
    box.request_grace_s = 1.0
    freeze(runner_host_pid(box))
    started = time.monotonic()
    with pytest.raises(SandboxError, match="did not answer exec within its deadline"):
        await box.exec("true", timeout=1)
    assert time.monotonic() - started < 10
    with pytest.raises(SandboxError):
        await box.exec("true", timeout=1)
    if isinstance(box, DockerSandbox):
        assert box.container is None  # removed
    else:
        assert isinstance(box, LocalSandbox) and box._proc is not None
        assert box._proc.returncode is not None  # killed


async def test_a_command_cancelled_before_it_started_does_not_run_on(box: RunnerSession) -> None:
    """The interrupt can reach the runner before the command it cancels has started (the request and
    the interrupt are served by two threads): it still stops that command (found by SIGINT on a
    loaded machine: `trident run` then waited for the cancelled command to end)."""
    await box.exec("true", timeout=10)
    for _ in range(10):
        running = asyncio.create_task(box.exec("sleep 300", timeout=600))
        await asyncio.sleep(0)  # the request is written; the command may or may not have started
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
        # bounded: were the cancelled command still running, this one would wait for it
        after = await asyncio.wait_for(box.exec("echo served", timeout=10), 60)
        assert after.output.strip() == "served"
