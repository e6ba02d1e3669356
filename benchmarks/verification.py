"""What the fresh-sandbox verification adds to a headless run, per verification.

`trident run` checks the final patch in a fresh sandbox over a clean copy (trident's baseline plus
the patch: agent/headless/verify.py `verify_fresh`) instead of in the agent's own, already running
sandbox. Both are measured in the same run, alternating, on the bundled example (examples/timefmt,
`python3 -m unittest`): (a) the test command in the existing, warm sandbox over the workspace (what
trident did before), (b) `verify_fresh`: clean copy from the store, patch applied with the host's
git, a new sandbox (container or local runner) started, the tests, the sandbox closed and the copy
removed. The copy alone is timed too. A run with --test-cmd pays (b) - (a) twice (baseline and
final).
Run: python -m benchmarks.verification [--reps N] [--kinds docker,local] [--json FILE]
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
from typing import Any, Literal

from rich.console import Console
from rich.table import Table

from trident.agent.config import SandboxConfig, Settings
from trident.agent.headless.verify import run_check, verify_fresh
from trident.agent.wiring import make_sandbox
from trident.sandbox.workspace import clean_copy, snapshot_baseline, workspace_diff

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "timefmt" / "repo"
COMMAND = "python3 -m unittest"


async def measure(kind: Literal["docker", "local"], image: str | None, reps: int) -> dict[str, Any]:
    settings = Settings(sandbox=SandboxConfig(kind=kind, image=image))
    with tempfile.TemporaryDirectory(prefix="trident-bench-verify-") as tmp:
        root = Path(tmp)
        workspace, store = root / "workspace", root / "baseline.git"
        shutil.copytree(EXAMPLE, workspace)
        snapshot_baseline(workspace, store)
        source = workspace / "timefmt.py"
        source.write_text(
            source.read_text().replace("minutes = seconds % 60", "minutes = (seconds % 3600) // 60")
        )
        patch = workspace_diff(workspace, store)
        agent_box = make_sandbox(settings, workspace)  # the agent's sandbox, started and warm
        await agent_box.start()
        existing: list[float] = []
        fresh: list[float] = []
        copy: list[float] = []
        try:
            await run_check(agent_box, COMMAND, "final")  # warm-up, both ways
            await verify_fresh(settings, store, patch, COMMAND, "final", root / "verify")
            for i in range(reps):
                started = time.perf_counter()
                a = await run_check(agent_box, COMMAND, "final")
                existing.append(time.perf_counter() - started)
                started = time.perf_counter()
                b = await verify_fresh(settings, store, patch, COMMAND, "final", root / "verify")
                fresh.append(time.perf_counter() - started)
                assert a.exit_code == b.exit_code == 0 and a.passed == b.passed == 5, (a, b)
                started = time.perf_counter()
                clean_copy(store, root / f"copy-{i}", patch)
                copy.append(time.perf_counter() - started)
        finally:
            await agent_box.close()
    a_s, b_s = statistics.median(existing), statistics.median(fresh)
    return {
        "kind": kind,
        "reps": reps,
        "existing_sandbox_s": round(a_s, 4),
        "fresh_sandbox_s": round(b_s, 4),
        "clean_copy_s": round(statistics.median(copy), 4),
        "added_per_verification_s": round(b_s - a_s, 4),
        "ratio": round(b_s / a_s, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--kinds", default="docker,local")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = []
    for kind in args.kinds.split(","):
        image = None
        if kind == "docker":
            from trident.sandbox.docker import docker_client
            from trident.sandbox.image import ensure_image

            image = ensure_image(docker_client())
        rows.append(asyncio.run(measure(kind, image, args.reps)))
    table = Table(title=f"verification of one patch (median of {args.reps}, same run)")
    for column in ("sandbox", "existing sandbox", "fresh sandbox", "of which clean copy", "added", "ratio"):
        table.add_column(column, justify="right")
    for r in rows:
        table.add_row(
            r["kind"],
            f"{r['existing_sandbox_s'] * 1000:.0f} ms",
            f"{r['fresh_sandbox_s'] * 1000:.0f} ms",
            f"{r['clean_copy_s'] * 1000:.0f} ms",
            f"{r['added_per_verification_s'] * 1000:+.0f} ms",
            f"{r['ratio']:.2f}x",
        )
    Console().print(table)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
