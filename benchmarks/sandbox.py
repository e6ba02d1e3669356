"""Per-command cost of the Docker sandbox's persistent runner vs a new `docker exec` per command.

Measured on the same container in the same run: the runner's round trip (one long-lived attach
stream), `docker exec` through the SDK (SWE-bench-style harnesses) and through the CLI
(mini-swe-agent). Also: container start, time to first command cold, and from a warm pool.
Run: python -m benchmarks.sandbox [--commands N]   (needs dockerd; builds the base image if absent)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
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
    }
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
    if out is not None:
        out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commands", type=int, default=300)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    asyncio.run(main(args.commands, args.json))
