"""The runner never blocks on a fifo nor reads a device: its file reads take regular files only.

A command leaves a fifo (or a link to one) where a source file is expected. Every reader of the
workspace goes through the runner's `read`/`read_many` (the read tool after its own probe, but also
@-mentions, the repository map, checkpoints): before, a fifo with no writer blocked that read, and
the session with it. Now it is refused at once with a clear error, in both sandboxes.
"""

from __future__ import annotations

import pytest

from trident.sandbox.base import PathRefused
from trident.sandbox.client import RunnerSession
from trident.tools.base import ToolContext
from trident.tools.read import ReadTool


async def test_a_fifo_is_refused_not_waited_on(box: RunnerSession) -> None:
    made = await box.exec(
        "mkfifo trap.py && ln -s trap.py link.py && echo 'x = 1' > ok.py && echo made", timeout=30
    )
    assert "made" in made.output, made.output

    for path in ("trap.py", "link.py"):  # the runner itself, whatever asked it
        with pytest.raises(PathRefused, match="is a fifo, not a regular file"):
            await box.read_file(path)
    found = await box.read_files(["trap.py", "link.py", "ok.py"])
    assert found == {"trap.py": None, "link.py": None, "ok.py": b"x = 1\n"}

    out = await ReadTool().invoke({"path": "trap.py"}, ToolContext(sandbox=box))
    assert not out.ok and "not a regular file" in out.output

    after = await box.exec("cat ok.py", timeout=30)  # the session is still whole
    assert after.exit_code == 0 and after.output == "x = 1\n"


async def test_a_device_is_not_read(box: RunnerSession) -> None:
    """/dev/zero has no end: a link to it inside the workspace is refused (outside the workspace)."""
    await box.exec("ln -s /dev/zero zero.txt", timeout=30)
    with pytest.raises(PathRefused):
        await box.read_file("zero.txt")
