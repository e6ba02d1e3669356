"""`RunnerSession.run`: one program with stdin on a real pipe, concurrent runs, group kill, caps."""

from __future__ import annotations

import asyncio

import pytest

from tests.helpers import COUNT_SLEEPERS, python
from trident.sandbox.base import PathRefused
from trident.sandbox.client import RunnerSession


async def sleeping(box: RunnerSession, seconds: str) -> bool:
    """Whether a `sleep SECONDS` process (a marker value no one else uses) is alive."""
    run = await box.run([python(box), "-c", COUNT_SLEEPERS, seconds], timeout=20)
    return int(run.stdout.split()[0]) > 0


async def test_stdin_is_a_real_pipe_and_streams_are_apart(box: RunnerSession) -> None:
    code = "import os, sys; sys.stdout.write(os.read(0, 100).decode()[::-1]); print('e', file=sys.stderr)"
    run = await box.run([python(box), "-c", code], stdin=b"abc", timeout=20)
    assert (run.exit_code, run.stdout, run.stderr, run.timed_out) == (0, b"cba", b"e\n", False)


async def test_runs_overlap_while_exec_is_sequential(box: RunnerSession) -> None:
    # Each run waits for the other's file: both succeed only if the runner serves them at once.
    def meet(mine: str, theirs: str) -> list[str]:
        wait = f"touch {mine}; for i in $(seq 400); do [ -e {theirs} ] && exit 0; sleep 0.05; done; exit 1"
        return ["bash", "-c", wait]

    runs = await asyncio.gather(box.run(meet("a", "b"), timeout=30), box.run(meet("b", "a"), timeout=30))
    assert [(run.exit_code, run.timed_out) for run in runs] == [(0, False), (0, False)]


@pytest.mark.slow
async def test_timeout_kills_the_whole_group(box: RunnerSession) -> None:
    running = asyncio.create_task(box.run(["bash", "-c", "sleep 31.4159 & echo started; wait"], timeout=8))
    seen = False
    while not seen and not running.done():  # the probe sees it while it runs (however loaded the machine)
        seen = await sleeping(box, "31.4159")
    assert seen
    run = await running
    assert run.timed_out and run.stdout == b"started\n"
    assert not await sleeping(box, "31.4159")


async def test_background_leftovers_are_killed_after_exit(box: RunnerSession) -> None:
    probe = await box.run(["bash", "-c", "sleep 32.718 & echo $!"], timeout=10)
    assert probe.stdout.strip().isdigit() and not probe.timed_out
    await asyncio.sleep(0.2)
    assert not await sleeping(box, "32.718")


async def test_output_is_capped(box: RunnerSession) -> None:
    run = await box.run([python(box), "-c", "print('x' * 300000)"], timeout=20, limit=1000)
    assert len(run.stdout) == 1000 and run.stdout_omitted == 300001 - 1000


async def test_bad_argv_and_paths_are_refused(box: RunnerSession) -> None:
    with pytest.raises(PathRefused):
        await box.run(["true"], timeout=5, cwd="/")
    with pytest.raises(PathRefused):
        await box.run(["true"], timeout=5, env={"BAD NAME": "1"})
