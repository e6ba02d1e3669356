"""Per-command cost of the Docker sandbox's persistent runner vs a new `docker exec` per command.

Measured on the same container in the same run: the runner's round trip (one long-lived attach
stream), `docker exec` through the SDK (SWE-bench-style harnesses) and through the CLI
(mini-swe-agent). Also: container start, time to first command cold, and from a warm pool; and
the cost of bind mode's disk cap (`bind_growth_mb`): a bind-mounted sandbox's command with the
cap and without it, on the same folder, in the same run.
Run: python -m benchmarks.sandbox [--commands N]   (needs dockerd; builds the base image if absent)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from trident.sandbox.docker import DockerSandbox, DockerSettings, docker_client
from trident.sandbox.image import ensure_image
from trident.sandbox.pool import DockerPool


def per_call_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


async def main(commands: int, out: Path | None) -> None:
    client = docker_client()
    settings = DockerSettings(image=ensure_image(client))

    cold_started = time.perf_counter()
    box = DockerSandbox(mode="copy", settings=settings, client=client)
    await box.exec("true", timeout=30)
    cold_first = time.perf_counter() - cold_started
    try:
        runner: list[float] = []
        for _ in range(commands):
            t = time.perf_counter()
            await box.exec("true", timeout=30)
            runner.append(time.perf_counter() - t)
        sdk: list[float] = []
        cli: list[float] = []
        for _ in range(max(10, commands // 10)):
            t = time.perf_counter()
            box.container.exec_run(["true"])
            sdk.append(time.perf_counter() - t)
            t = time.perf_counter()
            subprocess.run(["docker", "exec", box.container.id, "true"], check=True)
            cli.append(time.perf_counter() - t)
        start_s = box.start_s
    finally:
        await box.close()

    capped, uncapped = await bind_costs(settings, commands)

    pool = DockerPool(2, settings, client)
    await pool.fill()
    await asyncio.sleep(0.5)
    t = time.perf_counter()
    warm = await pool.acquire()
    await warm.exec("true", timeout=30)
    warm_first = time.perf_counter() - t
    await warm.close()
    await pool.close()

    results = {
        "runner_ms": per_call_ms(runner),
        "docker_exec_sdk_ms": per_call_ms(sdk),
        "docker_exec_cli_ms": per_call_ms(cli),
        "container_start_s": start_s,
        "first_command_cold_s": cold_first,
        "first_command_warm_pool_ms": warm_first * 1000,
        "runner_bind_ms": per_call_ms(uncapped),
        "runner_bind_disk_cap_ms": per_call_ms(capped),
    }
    results["disk_cap_overhead_ratio"] = results["runner_bind_disk_cap_ms"] / results["runner_bind_ms"]
    results["speedup_vs_sdk_exec"] = results["docker_exec_sdk_ms"] / results["runner_ms"]
    results["speedup_vs_cli_exec"] = results["docker_exec_cli_ms"] / results["runner_ms"]
    results["pool_speedup_first_command"] = cold_first * 1000 / results["first_command_warm_pool_ms"]
    table = Table(title="Docker sandbox: per-command and start costs (medians)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in results.items():
        table.add_row(key, f"{value:.2f}")
    Console().print(table)
    print(
        f"ratio: persistent runner is {results['speedup_vs_sdk_exec']:.1f}x faster than docker exec (SDK), "
        f"{results['speedup_vs_cli_exec']:.1f}x faster than `docker exec` (CLI)"
    )
    print(
        f"ratio: a warm pool's first command is {results['pool_speedup_first_command']:.1f}x faster "
        "than a cold start"
    )
    print(
        f"ratio: bind mode's disk cap costs {results['disk_cap_overhead_ratio']:.2f}x per command "
        "(with the cap / without it)"
    )
    if out is not None:
        out.write_text(json.dumps(results, indent=2))


async def bind_costs(settings: DockerSettings, commands: int) -> tuple[list[float], list[float]]:
    """Per-command times in bind mode with the disk cap and without it (0), interleaved rounds."""
    folder = Path(tempfile.mkdtemp(prefix="trident-bench-"))
    for index in range(200):  # a small project: the cap's first walk has something to count
        (folder / f"module{index}.py").write_text("x = 1\n" * 50)
    if os.geteuid() == 0:  # bind mode never runs commands as root: the folder needs an owner
        subprocess.run(["chown", "-R", "1000:1000", str(folder)], check=True)
    boxes = {
        cap: DockerSandbox(
            mode="bind", source=folder, settings=settings.model_copy(update={"bind_growth_mb": cap})
        )
        for cap in (settings.bind_growth_mb, 0)
    }
    times: dict[int, list[float]] = {cap: [] for cap in boxes}
    try:
        for box in boxes.values():
            await box.exec("true", timeout=30)
        for _ in range(commands):
            for cap, box in boxes.items():
                t = time.perf_counter()
                await box.exec("true", timeout=30)
                times[cap].append(time.perf_counter() - t)
    finally:
        for box in boxes.values():
            await box.close()
        shutil.rmtree(folder, ignore_errors=True)
    return times[settings.bind_growth_mb], times[0]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commands", type=int, default=300)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    asyncio.run(main(args.commands, args.json))
