"""Batch runs: `trident run --tasks FILE.jsonl --workers N`, SWE-bench-like instances in parallel.

Each line of the tasks file is an instance: `{"id", "repo", "commit"?, "task", "test_cmd"?,
"model"?}`. Every instance gets its own checkout (a clone of `repo` at `commit`; the original is
only read), its own sandbox, trajectory and patch, and is verified like a single run (fresh
sandboxes over clean copies, the patch taken on the host: agent/headless/run.py); the results
are one JSON record per instance in `OUT/results.jsonl` (in completion order) and a summary in
`OUT/summary.json`.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from trident.agent.config import ConfigError, Settings, resolve_model
from trident.agent.core.jsonl import JsonlError, read_records
from trident.agent.headless.run import (
    EXIT_SANDBOX,
    EXIT_SOLVED,
    EXIT_UNSOLVED,
    EXIT_USAGE,
    RunRequest,
    execute,
)
from trident.agent.scale.executor import Done, Emit, Executor, Job, Resources
from trident.agent.scale.local import LocalExecutor
from trident.agent.scale.progress import NodeCounts, RunBar
from trident.sandbox import hostgit


class Instance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9._-]+$")
    repo: Path
    commit: str | None = None
    task: str
    test_cmd: str | None = None
    model: str | None = None


def load_instances(path: Path) -> list[Instance]:
    try:
        instances = [instance for _, instance in read_records(path, Instance)]
    except JsonlError as exc:
        raise ConfigError(f"--tasks {exc}") from None
    for instance in instances:
        if not instance.repo.is_absolute():
            instance.repo = (path.parent / instance.repo).resolve()
    ids = [i.id for i in instances]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"{path}: instance ids must be unique")
    if not instances:
        raise ConfigError(f"{path}: no instances")
    return instances


def _checkout(instance: Instance, into: Path) -> Path:
    """A private copy of the instance's repo at its commit (a clone: the original is only read)."""
    if instance.commit is None:
        shutil.copytree(instance.repo, into, symlinks=True)
        return into
    steps = (
        (
            ["clone", "-q", "--no-hardlinks", "--no-checkout", "--", str(instance.repo), str(into)],
            into.parent,
        ),
        (["checkout", "-q", "--detach", instance.commit], into),
    )
    for args, cwd in steps:  # hardened: the instance's repository is someone else's
        done = hostgit.run(args, cwd, config=["protocol.file.allow=always"])
        if done.returncode != 0:
            detail = done.stderr.decode("utf-8", "replace").strip()
            raise RuntimeError(f"git {args[0]} failed: {detail}")
    return into


async def _one(instance: Instance, settings: Settings, out: Path) -> dict[str, Any]:
    started = time.monotonic()
    record: dict[str, Any] = {"id": instance.id}
    with tempfile.TemporaryDirectory(prefix=f"trident-{instance.id}-") as tmp:
        try:
            repo = await asyncio.to_thread(_checkout, instance, Path(tmp) / "repo")
        except (RuntimeError, OSError) as exc:
            return {**record, "exit_code": EXIT_SANDBOX, "solved": False, "reason": f"checkout: {exc}"}
        # OUT is the batch's: an earlier batch's trajectory of this instance is replaced, never
        # appended to (the run creates its trajectory file new)
        (out / f"{instance.id}.trajectory.jsonl").unlink(missing_ok=True)
        request = RunRequest(
            repo=repo,
            task=instance.task,
            model=instance.model or resolve_model(settings),
            test_command=instance.test_cmd,
            trajectory=out / f"{instance.id}.trajectory.jsonl",
            patch_out=out / f"{instance.id}.patch",
        )
        try:
            outcome = await execute(request, settings, lambda event: None)
        except ConfigError as exc:
            return {**record, "exit_code": EXIT_USAGE, "solved": False, "reason": str(exc)}
    return {
        **record,
        "exit_code": outcome.exit_code,
        "solved": outcome.exit_code == EXIT_SOLVED,
        "reason": outcome.reason,
        "patch": str(request.patch_out),
        "trajectory": str(request.trajectory),
        "duration_s": round(time.monotonic() - started, 3),
    }


class InstanceJob(BaseModel):
    """One instance as an executor job: with `out` None (a Ray worker, maybe another machine) its
    files are written in a private folder and travel back in the record (`FILES`)."""

    instance: Instance
    settings: Settings
    out: Path | None


FILES = "_files"  # the record's key holding {file name: text} from a remote worker


async def run_instance(job: InstanceJob, emit: Emit) -> None:
    """The executor job of one instance (idempotent: a run again starts from a fresh clone)."""
    if job.out is not None:
        emit(await _one(job.instance, job.settings, job.out))
        return
    with tempfile.TemporaryDirectory(prefix=f"trident-out-{job.instance.id}-") as tmp:
        record = await _one(job.instance, job.settings, Path(tmp))
        files = {}
        for name in (f"{job.instance.id}.trajectory.jsonl", f"{job.instance.id}.patch"):
            if (Path(tmp) / name).is_file():
                files[name] = (Path(tmp) / name).read_text(encoding="utf-8", errors="replace")
        emit({**record, FILES: files})


def _land(record: dict[str, Any], out: Path) -> dict[str, Any]:
    """A remote record's files written into OUT, its paths made OUT's."""
    files: dict[str, str] = record.pop(FILES, None) or {}
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
    for field, name in (("trajectory", ".trajectory.jsonl"), ("patch", ".patch")):
        if field in record:
            record[field] = str(out / f"{record['id']}{name}")
    return record


def _resources(settings: Settings) -> Resources:
    return Resources(
        cpus=min(settings.sandbox.cpus, 1.0),
        memory_mb=settings.sandbox.memory_mb,
        docker=settings.sandbox.kind != "local",
    )


def finished_records(results: Path, ids: set[str]) -> dict[str, dict[str, Any]]:
    """`--continue`: the records of `ids` an earlier batch into OUT finished (a last line cut short
    by a kill is dropped); the file is rewritten to hold just them."""
    kept: dict[str, dict[str, Any]] = {}
    if results.exists():
        for line in results.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue  # cut short by a kill: that instance runs again
            if isinstance(record, dict) and record.get("id") in ids:
                kept[record["id"]] = record
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text("".join(json.dumps(r) + "\n" for r in kept.values()), encoding="utf-8")
    return kept


async def run_batch(
    tasks: Path,
    settings: Settings,
    out: Path,
    workers: int,
    executor: Executor | None = None,
    *,
    keep_finished: bool = False,
) -> int:
    """Run every instance (at most `workers` at once here, or as a Ray cluster places them); 0 if
    all were solved, else 1. `keep_finished` (`--continue`): the instances an earlier batch into
    OUT finished are kept, not run again. The summary records the executor, its nodes and their
    throughput."""
    instances = load_instances(tasks)
    out.mkdir(parents=True, exist_ok=True)
    executor = executor or LocalExecutor(workers)
    remote = executor.kind != "local"
    records: dict[str, dict[str, Any]] = (
        finished_records(out / "results.jsonl", {i.id for i in instances}) if keep_finished else {}
    )
    instances_to_run = [instance for instance in instances if instance.id not in records]
    for instance in instances_to_run:  # OUT is the batch's: an earlier batch's files are replaced
        (out / f"{instance.id}.trajectory.jsonl").unlink(missing_ok=True)
    jobs = [
        Job(
            key=instance.id,
            fn=run_instance,
            arg=InstanceJob(instance=instance, settings=settings, out=None if remote else out),
            resources=_resources(settings),
        )
        for instance in instances_to_run
    ]
    counts = NodeCounts(executor.kind, executor.nodes())
    with (
        (out / "results.jsonl").open("a" if keep_finished else "w", encoding="utf-8") as results,
        RunBar("trident batch", len(instances), counts, done=len(records)) as bar,
    ):
        bar.started(len(jobs))

        def keep(done: Done) -> None:
            record = _land(dict(done.item), out)
            if record["id"] in records:  # a retried task's second answer: one record per instance
                return
            record["node"] = done.node
            records[record["id"]] = record
            results.write(json.dumps(record) + "\n")
            results.flush()
            bar.finished(done.node, solved=record["solved"], failed=record["exit_code"] not in (0, 1))

        await executor.run(jobs, keep)
    by_code: dict[str, int] = {}
    for record in records.values():
        by_code[str(record["exit_code"])] = by_code.get(str(record["exit_code"]), 0) + 1
    summary = {
        "instances": len(records),
        "solved": sum(r["solved"] for r in records.values()),
        "by_exit_code": by_code,
        "results": str(out / "results.jsonl"),
        "executor": counts.record(),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(summary))
    return EXIT_SOLVED if summary["solved"] == len(records) else EXIT_UNSOLVED
