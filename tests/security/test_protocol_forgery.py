"""Item 1: no process started by a command can forge, read or close the runner's protocol channel.

Each test runs the attack as a command in a real sandbox (Docker, and the local one where it
applies) and then checks that a later failing command (what a failing test run looks like) still
reports its real exit code.
"""

from __future__ import annotations

import asyncio
import json
import shlex

import pytest

from tests.security.conftest import python, separated
from trident.sandbox.base import SandboxError
from trident.sandbox.client import RunnerSession

ATTACK = r"""
import json, os, sys
pid = int(sys.argv[1])
report = {}
forged = []
for n in range(1, 400):  # spray every id the client could be waiting for, with a "passed" answer
    answer = {"id": n, "ok": True, "exit_code": 0, "head": "", "tail": "", "omitted": 0,
              "timed_out": False, "killed_by": None, "duration": 0.0}
    forged.append(json.dumps(answer))
    forged.append("0" * 64 + " " + json.dumps(answer))
payload = ("\n".join(forged) + "\n").encode()

def attempt(name, action):
    try:
        report[name] = "reached: " + str(action())[:100]
    except OSError as exc:
        report[name] = "denied: " + type(exc).__name__

def write(path):
    fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    try:
        return os.write(fd, payload)
    finally:
        os.close(fd)

def read(path):
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        return len(os.read(fd, 1 << 16))
    except BlockingIOError:
        return "opened, nothing pending"
    finally:
        os.close(fd)

for target in sorted({pid, 1}):
    for fd in (0, 1, 2):
        attempt(f"write /proc/{target}/fd/{fd}", lambda p=f"/proc/{target}/fd/{fd}": write(p))
    attempt(f"read /proc/{target}/fd/0", lambda p=f"/proc/{target}/fd/0": read(p))
    attempt(f"list /proc/{target}/fd", lambda p=f"/proc/{target}/fd": os.listdir(p))
    attempt(f"open /proc/{target}/mem", lambda p=f"/proc/{target}/mem": os.close(os.open(p, os.O_RDONLY)))
    attempt(f"read /proc/{target}/environ", lambda p=f"/proc/{target}/environ": open(p, "rb").read().hex())
    attempt(f"read /proc/{target}/cmdline", lambda p=f"/proc/{target}/cmdline": open(p, "rb").read().hex())
secrets = {}
for name in ("environ", "cmdline"):
    try:
        secrets[name] = open(f"/proc/{pid}/{name}", "rb").read().decode("latin-1")
    except OSError:
        secrets[name] = ""
print(json.dumps({"report": report, "secrets": secrets}))
"""


async def later_failure_is_reported(box: RunnerSession) -> None:
    """A later 'test run' that fails must still fail, with its own exit code."""
    result = await box.exec("echo '1 failed'; exit 3", timeout=30)
    assert (result.exit_code, result.output) == (3, "1 failed\n")
    assert (await box.exec("false", timeout=30)).exit_code == 1


async def test_forged_answers_on_the_runner_channel_are_refused(box: RunnerSession) -> None:
    pid = box.info["pid"]
    command = f"{python(box)} -c {shlex.quote(ATTACK)} {pid}"
    try:
        result = await box.exec(command, timeout=60)
    except SandboxError as exc:
        # only where the kernel lets commands reach the channel (a local sandbox run as root):
        # the client saw lines not signed with the session key, and stopped the session
        assert not separated(box) and "protocol violation" in str(exc)
        with pytest.raises(SandboxError, match="protocol violation"):
            await box.exec("exit 0", timeout=10)
        return
    found = json.loads(result.output)
    report = found["report"]
    if separated(box):
        reachable = {
            name: outcome
            for name, outcome in report.items()
            if outcome.startswith("reached") and not name.endswith("cmdline")
        }
        assert reachable == {}, report
    key = box._key.hex()
    assert key not in found["secrets"]["cmdline"] and key not in found["secrets"]["environ"]
    assert key not in result.output
    await later_failure_is_reported(box)


async def test_the_forkserver_status_channel_cannot_be_reached(box: RunnerSession) -> None:
    """The shell that reports exit codes is not dumpable: its fds (the status pipe) are out of reach."""
    attack = (
        'for fd in /proc/$$/fd/*; do { echo 0 > "$fd"; } 2>/dev/null && echo "reached $fd"; done; '
        "ls /proc/$$/fd >/dev/null 2>&1 && echo listed; exit 1"
    )
    result = await box.exec(attack, timeout=30)
    if separated(box):
        assert result.output == "" and result.exit_code == 1
    await later_failure_is_reported(box)


async def test_the_shell_machinery_cannot_be_hijacked_to_fake_exit_codes(box: RunnerSession) -> None:
    """Exit codes come from waitpid, not from text the command's shell prints or a variable it holds."""
    hijack = (
        "declare -rx __trident_rc=0 __trident_status=1; "
        "printf() { builtin printf '__TRIDENT_DONE_0\\n'; }; export -f printf; "
        "trap 'exit 0' EXIT; true"
    )
    assert (await box.exec(hijack, timeout=30)).exit_code == 0
    await later_failure_is_reported(box)


async def test_commands_cannot_stop_or_kill_the_docker_runner(box: RunnerSession) -> None:
    if not box.isolated:
        pytest.skip("the local sandbox shares its uid with commands: they can signal it")
    result = await box.exec(f"kill -STOP {box.info['pid']} $PPID 1; echo rc=$?", timeout=30)
    assert "rc=1" in result.output and "Operation not permitted" in result.output
    result = await box.exec(f"kill -9 {box.info['pid']} $PPID 1; echo rc=$?", timeout=30)
    assert "rc=1" in result.output
    await later_failure_is_reported(box)


async def test_unsigned_answers_end_the_session() -> None:
    """The client side alone: an answer line without the session key's HMAC is a protocol violation."""

    class Feed:
        def __init__(self) -> None:
            self.lines: asyncio.Queue[bytes] = asyncio.Queue()

        async def readline(self) -> bytes:
            return await self.lines.get()

    class Sink:
        def __init__(self, feed: Feed) -> None:
            self.feed = feed

        def write(self, data: bytes) -> None:
            request = json.loads(data if data.startswith(b"{") else data.partition(b" ")[2])
            if "id" in request:  # answer like a runner whose channel a command has reached
                self.feed.lines.put_nowait(json.dumps({"id": request["id"], "ok": True}).encode() + b"\n")

        async def drain(self) -> None:
            pass

    feed = Feed()
    session = RunnerSession(workspace="/", isolated=False)
    with pytest.raises(SandboxError, match="protocol violation"):
        await session.attach(feed, Sink(feed), timeout=5)


async def test_tampering_with_the_shells_files_does_not_fake_later_exit_codes(box: RunnerSession) -> None:
    """The job and command files live where commands can write (the state dir is theirs): the runner
    writes them anew before every command, never through a symlink or fifo left in their place."""
    state = "/tmp/.trident" if box.isolated else box._state.name  # type: ignore[attr-defined]
    tamper = (
        f"cd {state} && echo 'exit 0' > job.sh && rm -f command.sh && mkfifo command.sh && "
        "ln -sf /dev/null job.sh; echo tampered"
    )
    assert (await box.exec(tamper, timeout=30)).output == "tampered\n"
    await later_failure_is_reported(box)
