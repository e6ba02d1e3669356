"""What a headless run's per-step checkpoint costs (Docker copy mode: sandbox/checkpoint.py).

After each step trident pulls what changed in the container's tmpfs workspace into the run's host
copy (the runner walks the workspace, `.git` included; changed files are read and applied on the
host, crash-safe). Measured in one run, alternating, on one container per repository: (a) a trivial
command (`true`), the baseline; (b) a pull when nothing changed (the walk alone); (c) a pull after a
command that edits one file; and once, the first pull after `git init && git add -A && git commit`
(what a run's first checkpoint pulls: every object of the baseline commit). Repositories: the bundled
example, and a generated one of `--files` small files.
Run: python -m benchmarks.checkpoint [--reps N] [--files N] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from trident.sandbox import checkpoint
from trident.sandbox.docker import DockerSandbox, DockerSettings, docker_client
from trident.sandbox.image import ensure_image
from trident.sandbox.workspace import record_baseline

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "timefmt" / "repo"


def generated(root: Path, files: int) -> Path:
    for i in range(files):
        path = root / f"pkg{i % 40}" / f"mod{i}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"def f{i}(x):\n    return x + {i}\n" * 20)
    return root


async def measure(name: str, source: Path, image: str, reps: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="trident-bench-checkpoint-") as tmp:
        run = Path(tmp)
        workspace = run / "workspace"
        shutil.copytree(source, workspace)
        box = DockerSandbox(mode="copy", source=workspace, settings=DockerSettings(image=image))
        trivial: list[float] = []
        unchanged: list[float] = []
        edited: list[float] = []
        try:
            await box.start()
            await checkpoint.start(box)
            await record_baseline(box)
            started = time.perf_counter()
            first = await checkpoint.pull(box, run, workspace, seq=0)
            first_s = time.perf_counter() - started
            target = sorted(workspace.rglob("*.py"))[0]
            rel = target.relative_to(workspace).as_posix()
            for i in range(reps):
                started = time.perf_counter()
                await box.exec("true", timeout=30)
                trivial.append(time.perf_counter() - started)
                started = time.perf_counter()
                await checkpoint.pull(box, run, workspace, seq=1 + 2 * i)
                unchanged.append(time.perf_counter() - started)
                await box.exec(f"echo '# {i}' >> {rel}", timeout=30)
                started = time.perf_counter()
                pulled = await checkpoint.pull(box, run, workspace, seq=2 + 2 * i)
                edited.append(time.perf_counter() - started)
                assert [e.path for e in pulled.changed] == [rel], pulled
            assert target.read_text().endswith(f"# {reps - 1}\n")
            files = sum(1 for p in workspace.rglob("*") if p.is_file())
        finally:
            await box.close()
    base = statistics.median(trivial)
    return {
        "repo": name,
        "files_with_git": files,
        "first_pull_files": len(first.changed),
        "first_pull_s": round(first_s, 4),
        "trivial_command_s": round(base, 5),
        "pull_unchanged_s": round(statistics.median(unchanged), 5),
        "pull_one_edit_s": round(statistics.median(edited), 5),
        "ratio_unchanged": round(statistics.median(unchanged) / base, 2),
        "ratio_one_edit": round(statistics.median(edited) / base, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    image = ensure_image(docker_client())
    rows = [asyncio.run(measure("examples/timefmt", EXAMPLE, image, args.reps))]
    with tempfile.TemporaryDirectory(prefix="trident-bench-repo-") as tmp:
        repo = generated(Path(tmp), args.files)
        rows.append(asyncio.run(measure(f"generated ({args.files} files)", repo, image, args.reps)))
    table = Table(title=f"checkpoint pull per step (median of {args.reps}, same run)")
    for column in ("repository", "trivial command", "pull, no change", "pull, one edit", "first pull"):
        table.add_column(column, justify="right")
    for r in rows:
        table.add_row(
            r["repo"],
            f"{r['trivial_command_s'] * 1000:.1f} ms",
            f"{r['pull_unchanged_s'] * 1000:.1f} ms ({r['ratio_unchanged']:.1f}x)",
            f"{r['pull_one_edit_s'] * 1000:.1f} ms ({r['ratio_one_edit']:.1f}x)",
            f"{r['first_pull_s'] * 1000:.0f} ms ({r['first_pull_files']} paths)",
        )
    Console().print(table)
    for r in rows:
        print(
            f"ratio: {r['repo']}: a pull after a one-file edit costs {r['ratio_one_edit']:.1f}x "
            f"a trivial command ({r['pull_one_edit_s'] * 1000:.1f} ms)"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
