"""The Docker sandbox: one hardened container per session, the runner as its main process.

The host talks to the runner over the container's attach stream (no published port, no network):
one long-lived connection for every command, file and ping. The container has no network (unless
the user opts in), cannot gain privileges, has pid, memory and CPU limits and a read-only root with
tmpfs /tmp. Commands run as a non-root user with no capability; the runner (and the container's
init) run as root with only CAP_SETUID, CAP_SETGID (to start commands as that user) and CAP_KILL
(to kill what they leave), so no command can signal, trace or reach them or their stdio (the attach
stream). Every container carries labels, so the ones of a crashed run are found and removed (`gc`,
also run at each start).

Workspace modes: `copy` (the repository is streamed into a tmpfs /workspace; the host is untouched
until the user applies the diff) for headless and eval runs; `bind` (the repository is mounted, the
user sees edits live) for the interactive agent.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from trident.sandbox.base import SandboxError
from trident.sandbox.client import RUNNER_SOURCE, RunnerSession

WORKSPACE = "/workspace"
LABEL = "trident.sandbox"
OWNER_LABEL = "trident.owner"
STREAM_LIMIT = 256 * 1024 * 1024
RUNNER_CAPS = ("SETUID", "SETGID", "KILL")  # the runner's only capabilities; commands get none
ROOT_OWNED = (
    "{path} belongs to root, and the Docker sandbox runs commands as the owner of a mounted "
    "repository: trident never runs them as root. Give the repository to your user "
    "(chown -R USER {path}) and run trident as that user, or use `trident run` (a copy)."
)


class DockerSettings(BaseModel):
    image: str | None = None  # None: the offline-built base image (sandbox/image.py)
    network: bool = False  # opt-in: Docker's default network; never needed by trident itself
    memory_mb: int = Field(2048, ge=64)
    cpus: float = Field(2.0, gt=0)
    pids_limit: int = Field(512, ge=16)
    workspace_mb: int = Field(2048, ge=16, description="tmpfs size of /workspace in copy mode")
    max_file_mb: int = Field(
        1024, ge=1, description="bind mode: no process in the sandbox writes a file larger (RLIMIT_FSIZE)"
    )
    bind_growth_mb: int = Field(
        2048, ge=0, description="bind mode: how much all files together may grow in a session (0: no cap)"
    )
    tmp_mb: int = Field(512, ge=16)


def _building(line: str) -> None:
    """Progress of the image's first, offline build: on stderr (stdout may carry --json events)."""
    print(f"trident: sandbox image, first use (built offline): {line}", file=sys.stderr, flush=True)


def docker_client() -> Any:
    import docker
    import docker.errors

    try:
        client = docker.from_env(max_pool_size=32)
        client.ping()
    except docker.errors.DockerException as exc:
        raise SandboxError(f"Docker is not reachable (is dockerd running?): {exc}") from None
    return client


def owner_label() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class FrameReader:
    """Lines of the runner's stdout out of Docker's multiplexed attach stream (8-byte frame headers)."""

    def __init__(self, raw: asyncio.StreamReader) -> None:
        self._raw = raw
        self._buffer = bytearray()
        self.stderr = bytearray()  # the last few KB the runner wrote to stderr, for diagnostics

    async def _frame(self) -> bool:
        try:
            header = await self._raw.readexactly(8)
            payload = await self._raw.readexactly(int.from_bytes(header[4:8], "big"))
        except asyncio.IncompleteReadError:
            return False
        if header[0] == 2:
            self.stderr = (self.stderr + payload)[-8192:]
        else:
            self._buffer += payload
        return True

    async def readline(self) -> bytes:
        while b"\n" not in self._buffer:
            if not await self._frame():
                line = bytes(self._buffer)
                self._buffer.clear()
                return line
        index = self._buffer.index(b"\n") + 1
        line = bytes(self._buffer[:index])
        del self._buffer[:index]
        return line


class DockerSandbox(RunnerSession):
    def __init__(
        self,
        *,
        mode: Literal["copy", "bind"] = "copy",
        source: Path | None = None,
        settings: DockerSettings | None = None,
        client: Any = None,
        scratch: bool = False,
    ) -> None:
        """`scratch`: in bind mode, `source` is a directory trident made for this run (a headless
        run's copy), not the user's repository: its `.git` stays writable (the run commits its
        baseline there), and if it is root-owned it is given to the sandbox's user (uid 1000)."""
        super().__init__(workspace=WORKSPACE, isolated=True)
        self.scratch = scratch
        if mode == "bind" and source is None:
            raise SandboxError("a bind-mounted sandbox needs the host directory to mount")
        self.mode, self.source = mode, source.resolve() if source else None
        self.settings = settings or DockerSettings()
        self._client = client
        self.container: Any = None
        self._socket: Any = None
        self.start_s = 0.0
        self.container_owner = owner_label()
        self.command_uid = 1000
        # set in bind mode when the repository's git directory is mounted read-only: trident's own
        # git actions (tools/git.py) then run on the host, hardened (sandbox/hostgit.py)
        self.host_git_repo: Path | None = None
        self._made_git_dir: Path | None = None

    # -- lifecycle ----------------------------------------------------------------------------
    async def _connect(self) -> None:
        started = time.monotonic()
        self._client = self._client or await asyncio.to_thread(docker_client)
        await asyncio.to_thread(gc, self._client)
        image = self.settings.image
        if image is None:
            from trident.sandbox.image import ensure_image

            image = await asyncio.to_thread(ensure_image, self._client, _building)
        raw = await asyncio.to_thread(self._create_and_attach, image)
        reader, writer = await asyncio.open_connection(sock=raw, limit=STREAM_LIMIT)
        self._frames = FrameReader(reader)
        await self.attach(self._frames, writer)
        self.start_s = time.monotonic() - started
        if self.mode == "copy" and self.source is not None:
            await self.copy_in(self.source)

    def _create_and_attach(self, image: str) -> socket.socket:
        import docker.errors
        from docker.types import Mount, Ulimit

        uid, gid = 1000, 1000
        if self.mode == "bind" and self.source is not None:
            info = os.stat(self.source)
            uid, gid = info.st_uid, info.st_gid
        # bind mode runs commands as the checkout's owner, so files keep the right owner on the host;
        # never as root: a root-owned checkout is refused (ROOT_OWNED)
        if self.mode == "bind" and uid == 0 and self.scratch and self.source is not None:
            uid = gid = 1000
            _give(self.source, uid, gid)
        elif self.mode == "bind" and uid == 0:
            raise SandboxError(ROOT_OWNED.format(path=self.source))
        self.command_uid = uid
        s = self.settings
        tmpfs = {"/tmp": f"rw,exec,nosuid,size={s.tmp_mb}m"}
        mounts = []
        ulimits = []
        if self.mode == "copy":
            inodes = s.workspace_mb * 256  # one per 4 KiB page: empty files cannot flood the host's inodes
            tmpfs[WORKSPACE] = (
                f"rw,exec,nosuid,size={s.workspace_mb}m,nr_inodes={inodes},uid={uid},gid={gid},mode=0755"
            )
        else:
            assert self.source is not None
            mounts.append(Mount(target=WORKSPACE, source=str(self.source), type="bind"))
            if not self.scratch:
                mounts += self._git_mounts(self.source, tmpfs)
            cap = s.max_file_mb * 1024 * 1024
            ulimits.append(Ulimit(name="fsize", soft=cap, hard=cap))
        command = ["python3", "-u", "-c", RUNNER_SOURCE, "--root", WORKSPACE, "--state", "/tmp/.trident"]
        if self.mode == "bind" and s.bind_growth_mb:
            command += ["--disk-cap", str(s.bind_growth_mb * 1024 * 1024)]
        caps: list[str] = []
        if uid != 0:
            command += ["--user", f"{uid}:{gid}"]
            caps = list(RUNNER_CAPS)
        try:
            self.container = self._client.containers.create(
                image,
                command=command,
                stdin_open=True,
                tty=False,
                detach=True,
                init=True,
                network_mode="bridge" if s.network else "none",
                read_only=True,
                tmpfs=tmpfs,
                mounts=mounts,
                ulimits=ulimits,
                cap_drop=["ALL"],
                cap_add=caps,
                security_opt=["no-new-privileges"],
                pids_limit=s.pids_limit,
                mem_limit=f"{s.memory_mb}m",
                memswap_limit=f"{s.memory_mb}m",
                nano_cpus=int(s.cpus * 1e9),
                user="0:0",
                environment={"HOME": "/tmp", "PYTHONDONTWRITEBYTECODE": "1", "LANG": "C.UTF-8"},
                working_dir=WORKSPACE,
                labels={LABEL: "1", OWNER_LABEL: self.container_owner, "trident.mode": self.mode},
            )
            self._socket = self.container.attach_socket(
                params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
            )
            self.container.start()
        except docker.errors.ImageNotFound:
            self._remove()
            raise SandboxError(
                f"image {image!r} not found (no registry here: `trident sandbox build`)"
            ) from None
        except docker.errors.DockerException as exc:
            self._remove()
            raise SandboxError(f"could not start the sandbox container: {exc}") from None
        raw: socket.socket = getattr(self._socket, "_sock", self._socket)
        return raw

    def _git_mounts(self, source: Path, tmpfs: dict[str, str]) -> list[Any]:
        """The repository's `.git` (a directory, or the file of a linked work tree) read-only.

        The agent then cannot plant `core.fsmonitor`, a hook or a `gitdir:` redirection that git on
        the host would follow; trident's own git actions run on the host instead (`host_git_repo`,
        `tools/git.py`), hardened. A folder that is not a repository gets an empty read-only `.git`
        for the session (so `git init` in the sandbox cannot make one), removed at close if empty."""
        from docker.types import Mount

        git = source / ".git"
        if git.is_symlink():
            raise SandboxError(f"{git} is a symlink; trident will not mount this repository (bind mode)")
        if git.exists():
            self.host_git_repo = source
            return [Mount(target=f"{WORKSPACE}/.git", source=str(git), type="bind", read_only=True)]
        self._made_git_dir = git
        tmpfs[f"{WORKSPACE}/.git"] = "ro,size=4k,mode=0555"
        return []

    def _remove(self) -> None:
        if self.container is not None:
            with contextlib.suppress(Exception):
                self.container.remove(force=True)
            self.container = None

    async def _on_dead(self) -> None:
        await asyncio.to_thread(self._remove)

    async def close(self) -> None:
        await super().close()
        await asyncio.to_thread(self._remove)
        if self._made_git_dir is not None:  # the mount point Docker made for the empty .git
            with contextlib.suppress(OSError):
                self._made_git_dir.rmdir()
            self._made_git_dir = None

    def diagnostics(self) -> str:
        frames = getattr(self, "_frames", None)
        return bytes(frames.stderr).decode("utf-8", "replace") if frames is not None else ""


def _give(root: Path, uid: int, gid: int) -> None:
    """chown -R (without following symlinks) a scratch copy to the sandbox's user."""
    try:
        os.lchown(root, uid, gid)
        for dirpath, dirnames, filenames in os.walk(root):
            for name in (*dirnames, *filenames):
                os.lchown(os.path.join(dirpath, name), uid, gid)
    except OSError as exc:
        raise SandboxError(f"{root} belongs to root and could not be given to uid {uid}: {exc}") from None


def gc(client: Any, *, everything: bool = False) -> list[str]:
    """Remove sandbox containers whose owner process is gone (or all of them); return their ids.

    It reads the list endpoint's summaries (no inspect per container), and a container another
    process removes meanwhile is simply skipped: trident processes gc concurrently.
    """
    import docker.errors

    removed: list[str] = []
    host = socket.gethostname()
    for summary in client.api.containers(all=True, filters={"label": LABEL}):
        owner = (summary.get("Labels") or {}).get(OWNER_LABEL, "")
        state = summary.get("State", "")
        owner_host, _, pid = owner.rpartition(":")
        alive = owner_host == host and pid.isdigit() and _pid_alive(int(pid))
        if everything or not alive or state in ("exited", "dead", "created"):
            if not everything and alive and state == "created":
                continue  # another live session is still starting it
            with contextlib.suppress(docker.errors.APIError):  # NotFound: removed meanwhile
                client.api.remove_container(summary["Id"], force=True)
                removed.append(summary["Id"][:12])
    return removed


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
