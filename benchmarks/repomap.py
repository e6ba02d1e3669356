"""Repo map on a large real tree: cold (every file read and parsed) vs warm (mtime cache) vs a new
process (the disk cache).

The tree is the installed site-packages of this project's own dependencies (thousands of .py files),
read through a LocalSandbox rooted there and never written (the cache goes to a temporary
XDG_CACHE_HOME). Prints the number of files and symbols, the times and the ratios.
Run: python -m benchmarks.repomap [--root DIR] [--tokens N] [--repeats N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sysconfig
import tempfile
import time
from collections import OrderedDict
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

import trident.tools.repomap as repomap
from trident.sandbox.local import LocalSandbox
from trident.tools.base import ToolContext
from trident.tools.repomap import CHARS_PER_TOKEN, RepoMapTool, index_for, render_map


async def cold_pass(box: LocalSandbox, tokens: int) -> tuple[float, float, str]:
    """(seconds to read and parse everything, seconds to rank and render, the map)."""
    index = index_for(box)
    with Progress(
        TextColumn("cold pass: parsing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
    ) as progress:
        task = progress.add_task("parse", total=None)
        started = time.perf_counter()
        await index.refresh(box, lambda done, total: progress.update(task, completed=done, total=total))
        indexed = time.perf_counter() - started
    started = time.perf_counter()
    text = render_map(index.entries, index.ranking(), tokens * CHARS_PER_TOKEN)
    return indexed, time.perf_counter() - started, text


async def tool_call(box: LocalSandbox, tokens: int) -> tuple[float, str]:
    started = time.perf_counter()
    result = await RepoMapTool().invoke({"max_tokens": tokens}, ToolContext(sandbox=box))
    return time.perf_counter() - started, result.output


async def main(root: Path, tokens: int, repeats: int) -> None:
    console = Console()
    box = LocalSandbox(root)
    try:
        listed = time.perf_counter()
        all_files = await box.list_files(".")
        list_s = time.perf_counter() - listed
        indexed, ranked, cold_map = await cold_pass(box, tokens)
        cold = indexed + ranked
        entries = index_for(box).entries
        files = len(entries)
        symbols = sum(len(e.symbols) for e in entries.values())
        uses = sum(sum(e.refs.values()) for e in entries.values())

        warm_runs = []
        for _ in range(repeats):
            seconds, warm_map = await tool_call(box, tokens)
            warm_runs.append(seconds)
            assert warm_map == cold_map
        disk_runs = []
        for _ in range(repeats):
            repomap._INDEXES = OrderedDict()  # what a new process has in memory: the disk cache only
            seconds, disk_map = await tool_call(box, tokens)
            disk_runs.append(seconds)
            assert disk_map == cold_map
    finally:
        await box.close()
    warm, disk = statistics.median(warm_runs), statistics.median(disk_runs)

    table = Table(title=f"Repo map of {root} ({tokens} tokens)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("files in the tree (list_files)", f"{len(all_files):,}")
    table.add_row("source files indexed", f"{files:,}")
    table.add_row("symbols (definitions)", f"{symbols:,}")
    table.add_row("identifier uses", f"{uses:,}")
    table.add_row("one list_files call", f"{list_s:.3f} s")
    table.add_row("cold: read + parse every file", f"{indexed:.2f} s")
    table.add_row("cold: rank (PageRank) + render", f"{ranked:.2f} s")
    table.add_row("cold: total", f"{cold:.2f} s")
    table.add_row(f"warm, same process (median of {repeats})", f"{warm:.3f} s")
    table.add_row(f"warm, new process from the disk cache (median of {repeats})", f"{disk:.3f} s")
    console.print(table)
    print(f"ratio (cold / warm, same process): {cold / warm:.1f}x")
    print(f"ratio (cold / warm, new process):  {cold / disk:.1f}x")
    print(f"map: {len(cold_map):,} characters; first lines:")
    print("\n".join(cold_map.splitlines()[:8]))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", type=Path, default=Path(sysconfig.get_paths()["purelib"]))
    parser.add_argument("--tokens", type=int, default=2048)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="trident-bench-cache-") as cache:
        os.environ["XDG_CACHE_HOME"] = cache  # a cold start, and nothing left in the user's cache
        asyncio.run(main(args.root, args.tokens, args.repeats))
