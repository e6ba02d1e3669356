"""The Docker sandbox against a real engine: isolation, limits, persistence, cleanup, diff-out."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from trident.sandbox.base import PathRefused, SandboxError
from trident.sandbox.docker import LABEL, OWNER_LABEL, DockerSandbox, DockerSettings, gc
from trident.sandbox.workspace import export_diff, record_baseline


@pytest.fixture
async def box(sandbox_image: str, tmp_path: Path) -> AsyncIterator[DockerSandbox]:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "hello.py").write_text("print('hello')\n")
    sandbox = DockerSandbox(
        mode="copy", source=tmp_path / "src", settings=DockerSettings(image=sandbox_image)
    )
    await sandbox.start()
    yield sandbox
    await sandbox.close()


async def test_hardening_is_on_by_default(box: DockerSandbox) -> None:
    box.container.reload()
    host = box.container.attrs["HostConfig"]
    assert host["NetworkMode"] == "none" and host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"] and "no-new-privileges" in host["SecurityOpt"]
    # the runner keeps only what it needs to start commands as the user and kill what they leave
    assert sorted(host["CapAdd"]) == ["KILL", "SETGID", "SETUID"]
    caps = await box.exec("grep -E '^Cap(Eff|Prm|Bnd)' /proc/self/status", timeout=10)
    assert caps.output.split() == ["CapPrm:", "0" * 16, "CapEff:", "0" * 16, "CapBnd:", "00000000000000e0"]
    assert host["PidsLimit"] == 512 and host["Memory"] == 2048 * 1024 * 1024 and host["Init"] is True
    assert (await box.exec("id -u", timeout=10)).output.strip() == "1000"
    assert box.isolated and box.container.labels[LABEL] == "1"


async def test_network_is_unreachable(box: DockerSandbox) -> None:
    probe = "import socket; socket.create_connection(('1.1.1.1', 53), timeout=3)"
    result = await box.exec(f'python3 -c "{probe}"', timeout=20)
    assert result.exit_code != 0 and "Network is unreachable" in result.output
    interfaces = await box.exec("tail -n +3 /proc/net/dev | cut -d: -f1", timeout=10)
    assert interfaces.output.split() == ["lo"]


async def test_writes_outside_the_workspace_fail(box: DockerSandbox) -> None:
    with pytest.raises(PathRefused, match="outside the workspace"):
        await box.write_file("../etc/evil", b"x")
    result = await box.exec("touch /etc/evil /usr/evil; echo rc=$?", timeout=10)
    assert "Read-only file system" in result.output and "rc=1" in result.output
    await box.write_file("inside.txt", b"ok")
    assert (await box.exec("cat inside.txt", timeout=10)).output == "ok"


async def test_shell_state_persists_between_commands(box: DockerSandbox) -> None:
    await box.exec("mkdir -p sub && cd sub && export GREETING=hi && f() { echo fn-$1; }", timeout=10)
    result = await box.exec('pwd; echo "$GREETING"; f x', timeout=10)
    assert result.output.split() == ["/workspace/sub", "hi", "fn-x"]
    venv = await box.exec("cd /workspace && python3 -m venv /tmp/v && . /tmp/v/bin/activate", timeout=120)
    assert venv.exit_code == 0, venv.output
    assert (await box.exec("command -v python3", timeout=10)).output.strip() == "/tmp/v/bin/python3"


async def test_infinite_loop_is_killed_at_its_timeout_and_the_shell_stays_usable(box: DockerSandbox) -> None:
    await box.exec("cd /tmp && export KEEP=1", timeout=10)
    result = await box.exec("while :; do :; done", timeout=1)
    assert result.timed_out and result.killed_by == "timeout" and result.duration_s < 5
    after = await box.exec('echo "alive $KEEP $PWD"', timeout=10)
    assert after.exit_code == 0 and after.output.strip() == "alive 1 /tmp"


async def test_output_flood_is_capped(box: DockerSandbox) -> None:
    result = await box.exec("head -c 1000000000 /dev/zero | tr '\\0' x; echo; echo END", timeout=120)
    assert result.exit_code == 0 and result.truncated
    assert result.omitted_bytes > 999_000_000 and len(result.output) < 70_000
    assert result.output.rstrip().endswith("END")


async def test_fork_bomb_is_contained_by_the_pids_limit(sandbox_image: str, tmp_path: Path) -> None:
    settings = DockerSettings(image=sandbox_image, pids_limit=64)
    async with _session(settings, tmp_path) as sandbox:
        result = await sandbox.exec("bomb() { bomb | bomb; }; bomb", timeout=5)
        assert result.timed_out and "fork: retry" in result.output  # forks were refused at the limit
        pids = await sandbox.exec("ls /proc | grep -c '^[0-9]'", timeout=30)
        assert pids.exit_code == 0 and int(pids.output) < 10  # the whole bomb was killed with its group


async def test_memory_bomb_is_killed_and_reported(sandbox_image: str, tmp_path: Path) -> None:
    settings = DockerSettings(image=sandbox_image, memory_mb=128)
    async with _session(settings, tmp_path) as sandbox:
        result = await sandbox.exec("python3 -c 'x = bytearray(1 << 30)'", timeout=60)
        assert result.exit_code == 137 and result.killed_by == "out of memory"
        assert (await sandbox.exec("echo still here", timeout=10)).output.strip() == "still here"


async def test_a_dead_runner_takes_its_container_with_it(box: DockerSandbox) -> None:
    container = box.container
    pid = _runner_host_pid(box)  # commands cannot kill it (another uid): the host does
    running = asyncio.create_task(box.exec("sleep 5", timeout=10))
    await asyncio.sleep(0.5)
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(SandboxError):
        await running
    with pytest.raises(SandboxError):
        await box.exec("true", timeout=5)
    await asyncio.sleep(0.5)
    assert not _exists(container)


async def test_a_frozen_runner_is_killed_by_the_watchdog(box: DockerSandbox) -> None:
    box.request_grace_s = 1.0
    container = box.container
    os.kill(_runner_host_pid(box), signal.SIGSTOP)  # commands cannot do it (another uid)
    with pytest.raises(SandboxError, match="did not answer"):
        await box.exec("sleep 30", timeout=1)
    assert not _exists(container)


def _runner_host_pid(box: DockerSandbox) -> int:
    for row in box.container.top(ps_args="-eo pid,args")["Processes"]:
        if "python3 -u -c" in row[-1] and "docker-init" not in row[-1]:
            return int(row[0])
    raise AssertionError("no runner in the container")


def test_a_crashed_host_leaves_no_container_after_gc(
    sandbox_image: str, docker_client: Any, tmp_path: Path
) -> None:
    script = textwrap.dedent(
        f"""
        import asyncio, os
        from trident.sandbox.docker import DockerSandbox, DockerSettings
        async def main():
            box = DockerSandbox(mode="copy", settings=DockerSettings(image={sandbox_image!r}))
            await box.start()
            print(box.container.id, flush=True)
            os.kill(os.getpid(), 9)
        asyncio.run(main())
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == -9, done.stderr
    container_id = done.stdout.strip()
    owner = docker_client.containers.get(container_id).labels[OWNER_LABEL]
    assert owner.endswith(":" + str(owner.rpartition(":")[2]))
    removed = gc(docker_client)
    assert container_id[:12] in removed
    assert not docker_client.containers.list(all=True, filters={"label": f"{OWNER_LABEL}={owner}"})


DEAD_OWNER = "no-such-host:1"  # the owner label of the test's own stale containers


class RemovesFirstListed:
    """The real client, except that the first container it lists is removed by "another process"
    right after the listing (the interleaving of two trident processes gc-ing at once)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.api = self

    def containers(self, **kwargs: Any) -> list[dict[str, Any]]:
        only_ours = {"label": [LABEL, f"{OWNER_LABEL}={DEAD_OWNER}"]}  # never another session's
        listed: list[dict[str, Any]] = self._client.api.containers(**{**kwargs, "filters": only_ours})
        if listed:
            self._client.api.remove_container(listed[0]["Id"], force=True)
        return listed

    def remove_container(self, container_id: str, **kwargs: Any) -> None:
        self._client.api.remove_container(container_id, **kwargs)


def test_gc_skips_a_container_removed_meanwhile(sandbox_image: str, docker_client: Any) -> None:
    dead_owner = {LABEL: "1", OWNER_LABEL: DEAD_OWNER}
    stale = [docker_client.containers.create(sandbox_image, ["true"], labels=dead_owner) for _ in range(2)]
    removed = gc(RemovesFirstListed(docker_client))
    assert len(removed) == 1 and removed[0] in {c.id[:12] for c in stale}
    assert not docker_client.containers.list(all=True, filters={"label": f"{OWNER_LABEL}={DEAD_OWNER}"})


async def test_diff_out_of_a_copy_in_session_applies_to_the_original(
    sandbox_image: str, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "keep.py").write_text("a = 1\n")
    (repo / "gone.txt").write_text("bye\n")
    (repo / "logo.bin").write_bytes(bytes(range(256)))
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    box = DockerSandbox(mode="copy", source=repo, settings=DockerSettings(image=sandbox_image))
    try:
        await record_baseline(box)
        await box.write_file("keep.py", b"a = 2\n")
        await box.write_file("new/mod.py", b"b = 3\n")
        await box.write_file("logo.bin", bytes(reversed(range(256))))
        await box.exec("rm gone.txt", timeout=10)
        patch = await export_diff(box)
    finally:
        await box.close()
    assert (repo / "keep.py").read_text() == "a = 1\n"  # the original is untouched
    subprocess.run(["git", "apply", "--binary", "-"], cwd=repo, input=patch.encode(), check=True)
    assert (repo / "keep.py").read_text() == "a = 2\n" and (repo / "new" / "mod.py").read_text() == "b = 3\n"
    assert not (repo / "gone.txt").exists() and (repo / "logo.bin").read_bytes() == bytes(
        reversed(range(256))
    )


async def test_bind_mode_shows_edits_on_the_host_live(sandbox_image: str, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("one\n")
    if os.geteuid() == 0:  # a root-owned repository is refused: commands never run as root
        for path in (tmp_path, tmp_path / "a.txt"):
            os.chown(path, 1000, 1000)
    box = DockerSandbox(mode="bind", source=tmp_path, settings=DockerSettings(image=sandbox_image))
    try:
        await box.exec("echo two >> a.txt", timeout=10)
        assert (tmp_path / "a.txt").read_text() == "one\ntwo\n"
        assert (await box.exec("id -u", timeout=10)).output.strip() == str(os.stat(tmp_path).st_uid)
    finally:
        await box.close()


def test_an_unknown_image_is_a_clear_error(docker_client: Any) -> None:
    box = DockerSandbox(mode="copy", settings=DockerSettings(image="trident-no-such-image:0"))
    with pytest.raises(SandboxError, match="not found"):
        asyncio.run(box.start())


class _session:
    def __init__(self, settings: DockerSettings, tmp_path: Path) -> None:
        self.box = DockerSandbox(mode="copy", settings=settings)

    async def __aenter__(self) -> DockerSandbox:
        await self.box.start()
        return self.box

    async def __aexit__(self, *exc: object) -> None:
        await self.box.close()


def _exists(container: Any) -> bool:
    import docker.errors

    try:
        container.reload()
    except docker.errors.NotFound:
        return False
    return True


def _git(repo: Path, *args: str) -> None:
    assert shutil.which("git")
    subprocess.run(["git", *args], cwd=repo, check=True)


async def test_a_warm_pool_hands_out_started_sandboxes_and_cleans_up(
    sandbox_image: str, docker_client: Any, tmp_path: Path
) -> None:
    from trident.sandbox.pool import DockerPool

    (tmp_path / "task.txt").write_text("solve me")
    pool = DockerPool(2, DockerSettings(image=sandbox_image), docker_client)
    await pool.fill()
    box = await pool.acquire(tmp_path)
    try:
        assert (await box.exec("cat task.txt", timeout=10)).output == "solve me"
    finally:
        await box.close()
        await pool.close()
    mine = docker_client.containers.list(all=True, filters={"label": f"{OWNER_LABEL}={box.container_owner}"})
    assert mine == []


def test_the_cli_solves_the_example_in_a_docker_sandbox(sandbox_image: str, tmp_path: Path) -> None:
    from tests.helpers import EXAMPLE

    result = subprocess.run(
        [
            sys.executable, "-m", "trident", "run", "--sandbox", "docker", "--image", sandbox_image,
            "--repo", str(EXAMPLE / "repo"), "--task-file", str(EXAMPLE / "task.md"),
            "--test-cmd", "python3 -m unittest", "--model", f"scripted:{EXAMPLE / 'session.jsonl'}",
            "--patch-out", str(tmp_path / "fix.patch"),
        ],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "+    minutes = (seconds % 3600) // 60" in (tmp_path / "fix.patch").read_text()


async def test_a_cancelled_command_is_killed_inside_the_container(box: DockerSandbox) -> None:
    await box.exec("export KEEP=1", timeout=10)
    running = asyncio.create_task(box.exec("touch started; sleep 300", timeout=600))
    while not await _exists_in(box, "started"):  # file reads do not wait for the running command
        await asyncio.sleep(0.05)
    running.cancel()  # what Esc in the TUI does to a step
    with pytest.raises(asyncio.CancelledError):
        await running
    # bounded: were the command still running, this exec would wait for it
    after = await asyncio.wait_for(box.exec(f'{SLEEPERS}; echo "alive $KEEP"', timeout=10), 60)
    assert "sleep 300" not in after.output and after.output.strip().endswith("alive 1")


SLEEPERS = "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '; echo"


async def _exists_in(box: DockerSandbox, path: str) -> bool:
    try:
        await box.read_file(path)
    except PathRefused:
        return False
    return True


async def test_output_streams_out_of_the_container(box: DockerSandbox) -> None:
    chunks: list[str] = []

    def live(text: str) -> None:
        chunks.append(text)
        if "ready" in text:
            asyncio.get_running_loop().create_task(box.write_file("go", b""))

    command = "echo ready; while [ ! -f go ]; do sleep 0.05; done; echo finished"
    result = await box.exec(command, timeout=60, on_output=live)
    assert result.output == "ready\nfinished\n" and "".join(chunks) == result.output
