"""The Ray executor: each job a Ray task with declared resources, on a cluster or a local instance.

`address` (or `RAY_ADDRESS`) joins a running cluster; without one, a local Ray instance is started
with this machine's CPUs and, when a Docker engine answers here, a custom `docker` resource (one
per CPU). On a cluster, start each node that has an engine with `--resources '{"docker": N}'`: a job
that needs a sandbox is only placed where that resource is. Ray itself is the optional extra
`trident-agent[ray]`, imported only here.

A task runs its job on the worker in a fresh event loop and returns what the job emitted, with the
node's id; the caller keeps one record per key. A task whose worker dies is retried by Ray
(`max_retries`) and, the job being idempotent, the retry only costs its time.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
from collections.abc import Callable
from typing import Any

from trident.agent.config import ConfigError
from trident.agent.scale.executor import Done, ExecutorKind, Job, JobFn
from trident.sandbox.base import SandboxError

INSTALL_HINT = "--executor ray needs Ray: pip install 'trident-agent[ray]'"
MAX_RETRIES = 3  # a task whose worker or node died is run again, at most this many times
NODE_ID_CHARS = 8  # a node's short name: the first characters of its Ray node id


class MissingRay(ConfigError):
    """Ray is not installed: exit 2 with the one line saying how to install it."""


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise MissingRay(INSTALL_HINT) from None
    return ray


def _on_worker(fn: JobFn, arg: Any) -> tuple[str, list[Any], BaseException | None]:
    """Runs in a Ray worker: the job in its own event loop; (node, emitted items, its failure)."""
    import ray

    node = str(ray.get_runtime_context().get_node_id())[:NODE_ID_CHARS]
    items: list[Any] = []
    try:
        asyncio.run(fn(arg, items.append))  # type: ignore[arg-type]  # fn returns a coroutine
    except Exception as exc:
        error: BaseException = exc
        try:
            pickle.dumps(exc)
        except Exception:  # an exception that cannot travel is sent as its text
            error = RuntimeError(f"{type(exc).__name__}: {exc}")
        return node, items, error
    return node, items, None


def _docker_answers() -> bool:
    try:
        from trident.sandbox.docker import docker_client

        docker_client().close()
    except Exception:
        return False
    return True


class RayExecutor:
    kind: ExecutorKind = "ray"

    def __init__(self, address: str | None = None) -> None:
        self.ray = import_ray()
        self.address = address or os.environ.get("RAY_ADDRESS") or None
        self._owned = not self.ray.is_initialized()
        if self._owned:
            options: dict[str, Any] = {
                "include_dashboard": False,
                "log_to_driver": False,
                "logging_level": logging.WARNING,
            }
            try:
                if self.address:
                    self.ray.init(address=self.address, **options)
                else:  # a local instance: this machine's CPUs, and its engine as the docker resource
                    cpus = len(os.sched_getaffinity(0))
                    docker = {"docker": float(cpus)} if _docker_answers() else {}
                    self.ray.init(address="local", num_cpus=cpus, resources=docker, **options)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                where = f"join the Ray cluster at {self.address}" if self.address else "start Ray here"
                raise ConfigError(f"cannot {where}: {exc}") from None
        self._remote = self.ray.remote(_on_worker)

    def nodes(self) -> list[str]:
        return sorted(str(node["NodeID"])[:NODE_ID_CHARS] for node in self.ray.nodes() if node.get("Alive"))

    def node_cpus(self) -> list[int]:
        cpus = [int(node["Resources"].get("CPU", 0)) for node in self.ray.nodes() if node.get("Alive")]
        return [count for count in cpus if count > 0] or [1]

    def _submit(self, job: Job) -> Any:
        resources = {"docker": 1.0} if job.resources.docker else {}
        return self._remote.options(
            num_cpus=job.resources.cpus,
            memory=job.resources.memory_mb * (1 << 20) or None,
            resources=resources,
            max_retries=MAX_RETRIES,
            retry_exceptions=False,  # a job's own failure is an answer, not a lost worker
            name=f"trident:{job.key}",
        ).remote(job.fn, job.arg)

    async def run(
        self,
        jobs: list[Job],
        on_item: Callable[[Done], None],
        on_job_done: Callable[[str, str], None] = lambda key, node: None,
    ) -> None:
        if any(job.resources.docker for job in jobs) and not self.ray.cluster_resources().get("docker"):
            raise ConfigError(
                "no Ray node declares a Docker engine: start the nodes that have one with "
                "ray start --resources '{\"docker\": N}' (N sandboxes at once), or use --sandbox local"
            )
        refs = {asyncio.wrap_future(ref.future()): (job, ref) for job in jobs for ref in [self._submit(job)]}
        pending = set(refs)
        try:
            while pending:
                finished, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for future in finished:
                    job, _ = refs[future]
                    try:
                        node, items, error = future.result()
                    except self.ray.exceptions.RayError as exc:  # retries exhausted, cluster lost
                        raise SandboxError(f"{job.key}: the Ray task failed: {exc}") from None
                    for item in items:
                        on_item(Done(job.key, item, node))
                    if error is not None:
                        raise error
                    on_job_done(job.key, node)
        finally:
            for future in pending:
                self.ray.cancel(refs[future][1])
                future.cancel()

    async def close(self) -> None:
        if self._owned and self.ray.is_initialized():
            self.ray.shutdown()
