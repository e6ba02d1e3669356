"""Workspace snapshots for `/undo` of shell commands, in both sandboxes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agent.snapshots import Snapshots
from sandbox.client import RunnerSession
from sandbox.docker import DockerSandbox, DockerSettings
from sandbox.local import LocalSandbox


@pytest.fixture(params=["local", "docker"])
async def box(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[RunnerSession]:
    workspace = tmp_path / "ws"
    (workspace / "sub").mkdir(parents=True)
    (workspace / "keep.txt").write_text("one\n")
    (workspace / "sub" / "gone.txt").write_text("two\n")
    (workspace / ".gitignore").write_text("*.log\n")
    (workspace / "node_modules").mkdir()
    (workspace / "node_modules" / "dep.js").write_text("v1\n")
    sandbox: RunnerSession
    if request.param == "local":
        sandbox = LocalSandbox(workspace)
    else:
        image = request.getfixturevalue("sandbox_image")
        sandbox = DockerSandbox(mode="bind", source=workspace, settings=DockerSettings(image=image))
    await sandbox.start()
    yield sandbox
    await sandbox.close()


async def files(box: RunnerSession) -> dict[str, bytes]:
    listed = [f.path for f in await box.list_files(".")]
    found = await box.read_files(listed)
    return {path: data for path, data in found.items() if data is not None}


async def test_restore_undoes_what_a_command_changed_and_nothing_else(box: RunnerSession) -> None:
    snapshots = Snapshots()
    before = await files(box)
    tree = await snapshots.take(box)
    change = (
        "echo changed > keep.txt; rm sub/gone.txt; mkdir -p new && echo x > new/made.txt; "
        "echo noise > run.log; echo v2 > node_modules/dep.js; cd sub; export LEFT=1"
    )
    assert (await box.exec(change, timeout=30)).exit_code == 0
    changed = await snapshots.restore(box, tree)
    assert sorted(changed) == ["keep.txt", "new/made.txt", "sub/gone.txt"]
    assert await files(box) == {**before, "run.log": b"noise\n"}  # ignored by the project: not restored
    assert await box.read_file("node_modules/dep.js") == b"v2\n"  # skipped directories are left alone
    state = await box.exec('pwd; echo "[$LEFT] [$GIT_DIR]"; type -t git', timeout=30)
    assert state.output.split() == [f"{box.workspace}/sub", "[1]", "[]", "file"]  # the shell's own state


async def test_an_unchanged_workspace_gives_the_same_tree(box: RunnerSession) -> None:
    snapshots = Snapshots()
    tree = await snapshots.take(box)
    await box.exec("ls > /dev/null; cat keep.txt", timeout=30)
    assert await snapshots.take(box) == tree
    assert await snapshots.restore(box, tree) == []
