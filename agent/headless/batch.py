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
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

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


async def run_batch(tasks: Path, settings: Settings, out: Path, workers: int) -> int:
    """Run every instance (at most `workers` at once); 0 if all were solved, else 1."""
    instances = load_instances(tasks)
    out.mkdir(parents=True, exist_ok=True)
    limit = asyncio.Semaphore(workers)
    records: list[dict[str, Any]] = []
    with (
        (out / "results.jsonl").open("w", encoding="utf-8") as results,
        Progress(
            TextColumn("[bold]trident batch"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("{task.fields[solved]} solved"),
        ) as progress,
    ):  # fmt: skip
        bar = progress.add_task("instances", total=len(instances), solved=0)

        async def guarded(instance: Instance) -> None:
            async with limit:
                record = await _one(instance, settings, out)
            records.append(record)
            results.write(json.dumps(record) + "\n")
            results.flush()
            progress.update(bar, advance=1, solved=sum(r["solved"] for r in records))

        await asyncio.gather(*(guarded(i) for i in instances))
    by_code: dict[str, int] = {}
    for record in records:
        by_code[str(record["exit_code"])] = by_code.get(str(record["exit_code"]), 0) + 1
    summary = {
        "instances": len(records),
        "solved": sum(r["solved"] for r in records),
        "by_exit_code": by_code,
        "results": str(out / "results.jsonl"),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(summary))
    return EXIT_SOLVED if summary["solved"] == len(records) else EXIT_UNSOLVED
