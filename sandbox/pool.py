"""A warm pool of started Docker sandboxes, so a new session's first command costs one round trip.

Container starts queue at a few per second on a small host; an eval harness or a server taking many
short sessions keeps `size` containers started (runner answering, empty tmpfs workspace) and hands
them out, refilling in the background.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from trident.sandbox.docker import DockerSandbox, DockerSettings


class DockerPool:
    def __init__(self, size: int, settings: DockerSettings, client: Any = None) -> None:
        self.size, self.settings, self._client = size, settings, client
        self._ready: asyncio.Queue[DockerSandbox] = asyncio.Queue()
        self._starting: set[asyncio.Task[None]] = set()

    async def _start_one(self) -> None:
        box = DockerSandbox(mode="copy", settings=self.settings, client=self._client)
        await box.start()
        self._client = self._client or box._client
        await self._ready.put(box)

    def _refill(self) -> None:
        while self._ready.qsize() + len(self._starting) < self.size:
            task = asyncio.create_task(self._start_one())
            self._starting.add(task)
            task.add_done_callback(self._starting.discard)

    async def fill(self) -> None:
        """Start containers until `size` are ready."""
        self._refill()
        await asyncio.gather(*self._starting)

    async def acquire(self, source: Path | None = None) -> DockerSandbox:
        """A started sandbox (its workspace filled from `source`); the pool refills behind it."""
        if self._ready.empty() and not self._starting:
            self._refill()
        box = await self._ready.get()
        self._refill()
        if source is not None:
            await box.copy_in(source)
        return box

    async def close(self) -> None:
        # starts in flight are awaited, not cancelled: a cancelled start could leave its container behind
        await asyncio.gather(*self._starting, return_exceptions=True)
        while not self._ready.empty():
            await self._ready.get_nowait().close()
