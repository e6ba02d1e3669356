"""A copy-mode workspace's checkpoint on the host: what the container's /workspace held at one step.

A headless run's sandbox holds the only live copy of the agent's work: a size-capped tmpfs in a
container the host never mounts anything writable into. After each step trident pulls what changed
(the runner's `changes`: new, changed and deleted paths, by inode, size, mtime and ctime) into the
run's host copy, which is what `--resume` starts a fresh container from and what the verdict's diff
is taken on once the container is gone.

Crash-safe: the changed contents are downloaded into `pending/` first, then `pending/commit.json`
is written (an atomic rename): from then on the pull is redone on recovery until it is applied
whole, and `checkpoint.json` records the trajectory `seq` it covers. So the host copy is always the
workspace as it was after one recorded event, never a mix of two.

The content is hostile: paths come from the runner's own walk, but names, kinds, modes and link
targets were chosen by commands. Nothing is written through a symbolic link (every parent on the
host must be a real directory; links are made as links, never followed), modes keep only the
permission bits (plus the owner's read and write), and the pull is bounded before anything is
downloaded: the workspace's files, each counted at its full length (a sparse file is written whole
on the host) and once however many hard links it has (they stay links on the host), must add up to
no more than the container's workspace size (`workspace_mb`), no path may be longer than
MAX_PATH_BYTES nor a folder deeper than MAX_DEPTH, and one pull lists at most MAX_LISTING bytes
(the answer is held in memory). Past a bound the pull fails with a `CheckpointError` naming it
(the run ends with exit 4 and an `error` event), and the host's disk gets nothing of it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import stat
from collections import Counter
from pathlib import Path, PurePosixPath
from typing import Literal

from pydantic import BaseModel, Field

from trident.sandbox.base import PathRefused, Sandbox, SandboxError
from trident.sandbox.client import RunnerSession
from trident.sandbox.docker import DockerSandbox, DockerSettings

PENDING, COMMIT, MARK = "pending", "commit.json", "checkpoint.json"
CHUNK = 8 * 1024 * 1024  # the most one answer carries (a big file comes in pieces)
BATCH_FILES = 256
TIMEOUT_S = 600.0
MAX_PATH_BYTES = 1024  # a workspace-relative path (the host's own prefix and PATH_MAX leave room)
MAX_DEPTH = 64  # folders
MAX_LISTING = 64 * 1024 * 1024  # what one `changes` answer may list (paths and link targets)


class CheckpointError(SandboxError):
    """The workspace could not be pulled to the host (infrastructure: exit code 4)."""


class Entry(BaseModel):
    path: str
    kind: Literal["d", "f", "l"]
    mode: int
    size: int = 0
    link: str = ""
    data: str = ""  # the downloaded content's name in pending/data (files; shared by hard links)


class Pull(BaseModel):
    seq: int
    changed: list[Entry] = Field(default_factory=list)
    deleted: list[str] = Field(default_factory=list)
    unreadable: list[str] = Field(
        default_factory=list
    )  # files the commands made unreadable: left as they were


def pulls(sandbox: Sandbox) -> bool:
    """Whether `sandbox` works on a copy of its own (Docker copy mode) that must be pulled to the host."""
    return isinstance(sandbox, DockerSandbox) and sandbox.mode == "copy"


async def start(sandbox: RunnerSession) -> None:
    """Record the workspace as copied in: the first pull sends only what changed after this."""
    await sandbox.call("changes", reset=True, timeout=TIMEOUT_S)


def max_bytes(sandbox: RunnerSession) -> int:
    """The most the host copy may hold: what the container's workspace can (its tmpfs size)."""
    settings = sandbox.settings if isinstance(sandbox, DockerSandbox) else DockerSettings()
    return settings.workspace_mb * 1024 * 1024


async def pull(sandbox: RunnerSession, run_dir: Path, workspace: Path, seq: int) -> Pull:
    """Bring the host copy `workspace` up to the sandbox's, and record that it covers event `seq`."""
    answer = await sandbox.call(
        "changes",
        timeout=TIMEOUT_S,
        max_bytes=max_bytes(sandbox),
        max_path=MAX_PATH_BYTES,
        max_depth=MAX_DEPTH,
        max_listing=MAX_LISTING,
    )
    if answer.get("refused"):
        raise CheckpointError(
            f"the workspace was not copied to the host: {answer['refused']} (a checkpoint copies at most "
            f"workspace_mb, paths of {MAX_PATH_BYTES} bytes and {MAX_DEPTH} folders deep)"
        )
    if not answer["changed"] and not answer["deleted"]:  # the host copy is the sandbox's already
        await asyncio.to_thread(_atomic_write, run_dir / MARK, json.dumps({"seq": seq}))
        return Pull(seq=seq)
    pending = run_dir / PENDING
    await asyncio.to_thread(shutil.rmtree, pending, True)  # an uncommitted pull of a killed run
    (pending / "data").mkdir(parents=True)
    record = Pull(seq=seq, deleted=[_checked(p) for p in answer["deleted"]])
    small: list[Entry] = []
    first: dict[int, Entry] = {}  # inode -> the name its content is downloaded under
    for number, (path, kind, mode, size, link, inode) in enumerate(answer["changed"]):
        entry = Entry(path=_checked(path), kind=kind, mode=mode, size=size, link=link, data=str(number))
        if kind == "f" and inode in first:  # another name of a file in this pull: linked, not copied
            entry.data = first[inode].data
            record.changed.append(entry)
            continue
        if kind == "f" and inode:
            first[inode] = entry
        if kind == "f" and size > CHUNK:
            if not await _download_big(sandbox, entry, pending / "data"):
                record.unreadable.append(entry.path)
                continue
        elif kind == "f":
            small.append(entry)
        record.changed.append(entry)
    record.unreadable += await _download_small(sandbox, small, pending / "data")
    dropped = set(record.unreadable)
    dropped_data = {e.data for e in record.changed if e.path in dropped and e.kind == "f"}
    record.changed = [e for e in record.changed if e.path not in dropped and e.data not in dropped_data]
    await asyncio.to_thread(_commit, record, run_dir, workspace)
    return record


def recover(run_dir: Path, workspace: Path) -> int | None:
    """Finish a pull a killed run committed but did not apply; the `seq` the host copy covers (None:
    no checkpoint, the workspace is not a pulled copy)."""
    commit = run_dir / PENDING / COMMIT
    if commit.is_file():
        _apply(Pull.model_validate(json.loads(commit.read_bytes())), run_dir, workspace)
    shutil.rmtree(run_dir / PENDING, ignore_errors=True)
    try:
        return int(json.loads((run_dir / MARK).read_text())["seq"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{run_dir / MARK} cannot be read: {exc}") from None


def forget(run_dir: Path) -> None:
    """Remove the checkpoint's own files (the run is over)."""
    shutil.rmtree(run_dir / PENDING, ignore_errors=True)
    (run_dir / MARK).unlink(missing_ok=True)


async def _download_small(sandbox: RunnerSession, entries: list[Entry], folder: Path) -> list[str]:
    unreadable: list[str] = []
    batch: list[Entry] = []
    for index, entry in enumerate(entries):
        batch.append(entry)
        size = sum(e.size for e in batch)
        last = index == len(entries) - 1
        if last or len(batch) >= BATCH_FILES or size + entries[index + 1].size > CHUNK:
            answer = await sandbox.call(
                "read_many", paths=[e.path for e in batch], limit=CHUNK, timeout=TIMEOUT_S
            )
            for e in batch:
                data = answer["files"].get(e.path)
                if data is None:
                    unreadable.append(e.path)
                else:
                    (folder / e.data).write_bytes(base64.b64decode(data))
            batch = []
    return unreadable


async def _download_big(sandbox: RunnerSession, entry: Entry, folder: Path) -> bool:
    with (folder / entry.data).open("wb") as out:
        offset = 0
        while True:
            try:
                answer = await sandbox.call(
                    "read", path=entry.path, offset=offset, limit=CHUNK, timeout=TIMEOUT_S
                )
            except PathRefused:  # made unreadable, or gone, by a command
                return False
            data = base64.b64decode(answer["data"])
            out.write(data)
            offset += len(data)
            if len(data) < CHUNK:
                return True


def _checked(path: str) -> str:
    """A workspace-relative path, as the runner walks them: no absolute path, `..`, `.` or NUL, and
    within the bounds (the runner refuses longer or deeper ones already)."""
    parts = PurePosixPath(path).parts
    if not parts or path.startswith("/") or "\x00" in path or any(p in ("..", ".") for p in parts):
        raise CheckpointError(f"the sandbox listed an impossible path {path!r}")
    if len(os.fsencode(path)) > MAX_PATH_BYTES or len(parts) > MAX_DEPTH + 1:
        raise CheckpointError(f"the sandbox listed a path past the checkpoint's bounds: {path[:80]!r}...")
    return path


def _commit(record: Pull, run_dir: Path, workspace: Path) -> None:
    # json.dumps escapes the lone surrogates of names that are not UTF-8 (pydantic's JSON refuses them)
    _atomic_write(run_dir / PENDING / COMMIT, json.dumps(record.model_dump()))
    _apply(record, run_dir, workspace)


def _apply(record: Pull, run_dir: Path, workspace: Path) -> None:
    """Apply a committed pull (again, after a crash: every operation is idempotent)."""
    data = run_dir / PENDING / "data"
    shared = Counter(e.data for e in record.changed if e.kind == "f")
    for rel in sorted(record.deleted, key=lambda p: -p.count("/")):  # children before their folder
        target = _target(workspace, rel, missing_ok=True)
        if target is not None:
            _remove(target)
    for entry in record.changed:
        target = _target(workspace, entry.path)
        assert target is not None
        if entry.kind == "d":
            if not _is_real_dir(target):
                _remove(target)
                target.mkdir()
            os.chmod(target, (entry.mode & 0o777) | 0o700)
        elif entry.kind == "f":
            source = data / entry.data
            if source.is_file():  # else already moved into place by the interrupted attempt
                os.chmod(source, (entry.mode & 0o777) | 0o600)
                if _is_real_dir(target):
                    shutil.rmtree(target)
                if shared[entry.data] > 1:  # hard links in the sandbox: one file on the host too
                    shared[entry.data] -= 1
                    _remove(target)  # a link at `target` is removed, never followed
                    os.link(source, target)
                else:
                    os.replace(source, target)  # a link at `target` is replaced, never followed
        else:
            _remove(target)
            os.symlink(entry.link, target)
    _atomic_write(run_dir / MARK, json.dumps({"seq": record.seq}))
    shutil.rmtree(run_dir / PENDING, ignore_errors=True)


def _target(workspace: Path, rel: str, *, missing_ok: bool = False) -> Path | None:
    """`workspace/rel`, every parent of it a real directory on the host (never a link)."""
    current = workspace
    for part in PurePosixPath(rel).parts[:-1]:
        current = current / part
        if not _is_real_dir(current):
            if missing_ok and not os.path.lexists(current):
                return None
            raise CheckpointError(f"cannot pull {rel!r}: {current} is not a directory on the host")
    return current / PurePosixPath(rel).name


def _is_real_dir(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False


def _remove(path: Path) -> None:
    if _is_real_dir(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        path.unlink()


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
