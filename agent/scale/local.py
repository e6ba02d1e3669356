"""The local executor: jobs as coroutines in this process, at most `limit` at once (today's pool).

Items are handed on the moment a job emits them, so a killed run keeps everything emitted so far.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from trident.agent.scale.executor import Done, ExecutorKind, Job

LOCAL_NODE = "local"


class LocalExecutor:
    kind: ExecutorKind = "local"

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)

    def nodes(self) -> list[str]:
        return [LOCAL_NODE]

    def node_cpus(self) -> list[int]:
        return [self.limit]

    async def run(
        self,
        jobs: list[Job],
        on_item: Callable[[Done], None],
        on_job_done: Callable[[str, str], None] = lambda key, node: None,
    ) -> None:
        gate = asyncio.Semaphore(self.limit)

        async def one(job: Job) -> None:
            def emit(item: Any) -> None:
                on_item(Done(job.key, item, LOCAL_NODE))

            async with gate:
                await job.fn(job.arg, emit)
            on_job_done(job.key, LOCAL_NODE)

        tasks = [asyncio.ensure_future(one(job)) for job in jobs]
        try:
            await asyncio.gather(*tasks)
        finally:  # the first failure cancels the rest and is raised as itself
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def close(self) -> None:
        return None
