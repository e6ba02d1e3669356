"""Baseline and diff-out: the patch is everything since the baseline, commits the agent made included."""

from __future__ import annotations

import subprocess
from pathlib import Path

from trident.sandbox.local import LocalSandbox
from trident.sandbox.workspace import export_diff, record_baseline


async def test_the_patch_keeps_the_agents_own_commits_and_applies_to_the_original(tmp_path: Path) -> None:
    original = tmp_path / "original"
    original.mkdir()
    (original / "a.txt").write_text("one\n")
    work = tmp_path / "work"
    subprocess.run(["cp", "-r", str(original), str(work)], check=True)
    box = LocalSandbox(work)
    try:
        await record_baseline(box)
        await box.write_file("a.txt", b"two\n")
        committed = await box.exec(
            "git -c user.name=a -c user.email=a@a commit -qam 'agent commit' && git checkout -qb other",
            timeout=30,
        )
        assert committed.exit_code == 0, committed.output
        await box.write_file("b.txt", b"new\n")
        patch = await export_diff(box)
    finally:
        await box.close()
    subprocess.run(["git", "init", "-q"], cwd=original, check=True)
    subprocess.run(["git", "apply", "-"], cwd=original, input=patch.encode(), check=True)
    assert (original / "a.txt").read_text() == "two\n" and (original / "b.txt").read_text() == "new\n"
