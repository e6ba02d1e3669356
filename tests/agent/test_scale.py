"""The executor room without Ray: the local executor's contract, and `--executor ray` with no Ray."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import EXAMPLE
from trident.agent.scale.executor import Done, Emit, Job
from trident.agent.scale.local import LocalExecutor
from trident.agent.scale.progress import NodeCounts


async def _emit_twice(arg: int, emit: Emit) -> None:
    emit(arg)
    await asyncio.sleep(0)
    emit(arg * 10)


async def _fails(arg: int, emit: Emit) -> None:
    emit(arg)
    raise ValueError(f"job {arg} failed")


async def test_local_executor_streams_every_item_of_every_job() -> None:
    seen: list[Done] = []
    finished: list[str] = []
    jobs = [Job(key=str(i), fn=_emit_twice, arg=i) for i in range(5)]
    await LocalExecutor(2).run(jobs, seen.append, lambda key, node: finished.append(key))
    assert sorted(d.item for d in seen) == [0, 0, 1, 2, 3, 4, 10, 20, 30, 40]
    assert {d.node for d in seen} == {"local"} and sorted(finished) == ["0", "1", "2", "3", "4"]


async def test_local_executor_raises_the_first_failure_as_itself_and_keeps_what_came_before() -> None:
    seen: list[Any] = []
    with pytest.raises(ValueError, match="job 7 failed"):
        await LocalExecutor(1).run([Job(key="x", fn=_fails, arg=7)], lambda d: seen.append(d.item))
    assert seen == [7]


def test_node_counts_record_the_throughput_per_node() -> None:
    ticks = iter([0.0, 4.0])
    counts = NodeCounts("ray", ["a", "b"], clock=lambda: next(ticks))
    for node in ("a", "a", "b"):
        counts.add(node)
    assert counts.line() == "a 2 · b 1"
    assert counts.record() == {
        "kind": "ray",
        "nodes": ["a", "b"],
        "per_node": {"a": {"done": 2, "per_s": 0.5}, "b": {"done": 1, "per_s": 0.25}},
        "elapsed_s": 4.0,
    }


@pytest.mark.parametrize("command", [["run", "--tasks", "tasks.jsonl"], ["eval", "--generations", "g.json"]])
def test_executor_ray_without_ray_says_how_to_install_it(tmp_path: Path, command: list[str]) -> None:
    (tmp_path / "tasks.jsonl").write_text('{"id": "a", "repo": ".", "task": "t"}\n')
    (tmp_path / "g.json").write_text('[{"question_id": "x", "code_list": ["pass"]}]')
    hide_ray = (
        "import sys; sys.modules['ray'] = None; from trident.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", hide_ray, *command, "--executor", "ray", "--sandbox", "local"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        "trident: --executor ray needs Ray: pip install 'trident-agent[ray]'"
    )


def test_a_batch_continued_keeps_what_finished_and_runs_the_rest_once(tmp_path: Path) -> None:
    task = (EXAMPLE / "task.md").read_text()
    rows = [
        {"id": name, "repo": str(EXAMPLE / "repo"), "task": task, "test_cmd": "python3 -m unittest",
         "model": f"scripted:{EXAMPLE / 'session.jsonl'}"}
        for name in ("first", "second")
    ]  # fmt: skip
    (tmp_path / "tasks.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    command = [sys.executable, "-m", "trident", "run", "--tasks", "tasks.jsonl", "--sandbox", "local"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    results = tmp_path / "trident-results" / "results.jsonl"
    first = next(line for line in results.read_text().splitlines() if '"first"' in line)
    results.write_text(first + '\n{"id": "second", "exit_co')  # killed while writing the second
    command.append("--continue")
    again = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert again.returncode == 0, again.stderr
    lines = results.read_text().splitlines()
    assert lines[0] == first and len(lines) == 2  # first kept as it was; second run again, once
    assert json.loads(lines[1])["id"] == "second" and json.loads(lines[1])["exit_code"] == 0
    assert json.loads(again.stdout.strip().splitlines()[-1])["instances"] == 2


def test_an_untrusted_repository_cannot_send_the_work_to_a_cluster(tmp_path: Path) -> None:
    from trident.agent.config import load_settings

    (tmp_path / ".trident.toml").write_text('[scale]\nexecutor = "ray"\nray_address = "203.0.113.9:6379"\n')
    warnings: list[str] = []
    settings = load_settings(tmp_path, warn=warnings.append)
    assert (settings.scale.executor, settings.scale.ray_address) == ("local", None)
    assert "scale.executor" in warnings[0] and "scale.ray_address" in warnings[0]
