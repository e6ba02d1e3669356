"""What `/undo` of shell commands costs per `bash` call: a workspace snapshot before each command.

In the same run, on a generated workspace of N files: the median time of a small command alone (the
baseline), and of a snapshot followed by the same command (what an interactive session does), plus
the first snapshot of the workspace (every file hashed once). Prints the ratio.
Run: python -m benchmarks.snapshots [--files N] [--sandbox local|docker] [--repeats R]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from agent.snapshots import Snapshots
from sandbox.client import RunnerSession
from sandbox.docker import DockerSandbox, DockerSettings, docker_client
from sandbox.image import ensure_image
from sandbox.local import LocalSandbox

COMMAND = "echo $((RANDOM % 7)) > changed.txt"


def make_workspace(root: Path, files: int) -> None:
    for index in range(files):
        path = root / f"pkg{index % 50}" / f"module_{index}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"VALUE = {index}\n" + "# filler line of a source file\n" * 100)


async def median_s(box: RunnerSession, repeats: int, snapshots: Snapshots | None) -> float:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        if snapshots is not None:
            await snapshots.take(box)
        await box.exec(COMMAND, timeout=60)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


async def main(files: int, kind: str, repeats: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_workspace(root, files)
        box: RunnerSession
        if kind == "local":
            box = LocalSandbox(root)
        else:
            settings = DockerSettings(image=ensure_image(docker_client()))
            box = DockerSandbox(mode="bind", source=root, settings=settings)
        try:
            await box.start()
            snapshots = Snapshots()
            started = time.perf_counter()
            await snapshots.take(box)
            first = time.perf_counter() - started
            alone = await median_s(box, repeats, None)
            with_snapshot = await median_s(box, repeats, snapshots)
        finally:
            await box.close()
    print(f"workspace: {files} files, {kind} sandbox")
    print(f"first snapshot (every file hashed):  {first * 1000:8.1f} ms")
    print(f"command alone (median):              {alone * 1000:8.1f} ms")
    print(f"snapshot + command (median):         {with_snapshot * 1000:8.1f} ms")
    print(f"ratio (snapshot + command / command alone): {with_snapshot / alone:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--sandbox", choices=["local", "docker"], default="local")
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    asyncio.run(main(args.files, args.sandbox, args.repeats))
