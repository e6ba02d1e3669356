"""One progress bar for a whole run, on any executor: done, solved, failed and running jobs, per-node counts;
and the summary's record of where the work ran (executor, nodes, per-node throughput)."""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class NodeCounts:
    """Items finished per node since the start, and the throughput they make."""

    def __init__(self, kind: str, nodes: list[str], clock: Any = time.monotonic) -> None:
        self.kind = kind
        self.nodes = nodes
        self.clock = clock
        self.started = clock()
        self.done: dict[str, int] = {}

    def add(self, node: str, count: int = 1) -> None:
        self.done[node] = self.done.get(node, 0) + count

    def line(self) -> str:
        return " · ".join(f"{node} {count}" for node, count in sorted(self.done.items()))

    def record(self) -> dict[str, Any]:
        """What the summary says of the executor: its kind, nodes and each node's throughput."""
        elapsed = max(self.clock() - self.started, 1e-9)
        return {
            "kind": self.kind,
            "nodes": self.nodes,
            "per_node": {
                node: {"done": count, "per_s": round(count / elapsed, 3)}
                for node, count in sorted(self.done.items())
            },
            "elapsed_s": round(elapsed, 2),
        }


class RunBar:
    """A rich bar: done of total, failed, running, and the per-node counts (`NodeCounts`)."""

    def __init__(
        self, title: str, total: int, counts: NodeCounts, console: Console | None = None, done: int = 0
    ) -> None:
        self.counts = counts
        self.solved = 0
        self.failed = 0
        self.running = 0
        self.progress = Progress(
            TextColumn(f"[bold]{title}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("{task.fields[note]}"),
            console=console or Console(stderr=True),
        )  # fmt: skip
        self.task = self.progress.add_task(title, total=total, completed=done, note="")

    def __enter__(self) -> RunBar:
        self.progress.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.progress.__exit__(kind, exc, tb)

    def started(self, count: int = 1) -> None:
        self.running += count
        self._show()

    def finished(
        self, node: str, *, solved: bool = False, failed: bool = False, items: int = 1, jobs: int = 1
    ) -> None:
        """`items` finished on `node` (`jobs` of them ended); solved, or failed (not a verdict: an
        error, a budget) when they were."""
        self.counts.add(node, items)
        self.solved += solved
        self.failed += failed
        self.running = max(0, self.running - jobs)
        self.progress.update(self.task, advance=items)
        self._show()

    def _show(self) -> None:
        note = (
            f"{self.solved} solved · {self.failed} failed · {self.running} in flight · {self.counts.line()}"
        )
        self.progress.update(self.task, note=note)
