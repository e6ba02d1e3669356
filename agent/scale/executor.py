"""The executor protocol: jobs in, the items each job emits streamed back, keyed by the job.

A job is a top-level async function (importable by name, so Ray can ship it) and one argument. It
emits the records it produces through `emit`; the caller adds them to its store. A job must be
idempotent: it writes nothing the caller keeps, so a job run twice (a Ray task retried after its
worker died) costs time, never a doubled or lost record; the caller keeps one record per key.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

ExecutorKind = Literal["local", "ray"]
Emit = Callable[[Any], None]
JobFn = Callable[[Any, Emit], Awaitable[None]]


class Resources(BaseModel):
    """What one job holds while it runs (Ray schedules by it; the local executor by `limit`)."""

    cpus: float = Field(1.0, gt=0)
    memory_mb: int = Field(512, ge=0)
    docker: bool = False  # needs a node with a Docker engine (the custom `docker` resource)


@dataclass
class Job:
    key: str  # unique in one `run`: names the job in progress and errors
    fn: JobFn
    arg: Any
    resources: Resources = field(default_factory=Resources)


@dataclass
class Done:
    """One item a job emitted, and the node it ran on."""

    key: str
    item: Any
    node: str


class Executor(Protocol):
    kind: ExecutorKind

    def nodes(self) -> list[str]:
        """The nodes jobs may run on (their short names, as `Done.node` gives them)."""
        ...

    def node_cpus(self) -> list[int]:
        """The CPUs of each node that has some (the local executor: its limit, as one node)."""
        ...

    async def run(
        self,
        jobs: list[Job],
        on_item: Callable[[Done], None],
        on_job_done: Callable[[str, str], None] = lambda key, node: None,
    ) -> None:
        """Run every job; each emitted item is given to `on_item` (in this process, as it arrives),
        each finished job to `on_job_done(key, node)`. The first failure cancels the rest and is
        raised as itself."""
        ...

    async def close(self) -> None: ...
