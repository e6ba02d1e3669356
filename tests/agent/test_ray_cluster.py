"""Batches and evals on a Ray cluster of two simulated nodes on this machine (`ray.cluster_utils`):
the same results as the local executor, sandboxes started by the Ray workers on the Docker engine,
and a worker killed mid-run costing nothing (no record lost or doubled).

Needs the `ray` extra: skipped without it, unless TRIDENT_REQUIRE_RAY=1 (CI's Ray phase)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.evals.agent_sessions import wrong_then_right
from tests.evals.toy_problems import ADD, MAXIMUM, PROBLEMS, RIGHT, TWICE, WRONG, fenced, write_dataset
from tests.helpers import EXAMPLE, write_session

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster(sandbox_image: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A head with no CPUs and two one-CPU worker nodes, each declaring one Docker sandbox."""
    try:
        from ray.cluster_utils import Cluster
    except ImportError:
        if os.environ.get("TRIDENT_REQUIRE_RAY") == "1":
            pytest.fail("Ray is required here (pip install -e '.[ray]')")
        pytest.skip("no Ray: pip install -e '.[ray]'")
    home = tmp_path_factory.mktemp("ray-nodes")
    saved = {name: os.environ.get(name) for name in ("XDG_STATE_HOME", "XDG_CONFIG_HOME")}
    os.environ.update({name: str(home / name) for name in saved})  # what the nodes' workers inherit
    try:
        nodes = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False})
        for _ in range(2):
            nodes.add_node(num_cpus=1, resources={"docker": 1})
        nodes.wait_for_nodes()
    finally:
        for name, value in saved.items():
            os.environ.pop(name) if value is None else os.environ.__setitem__(name, value)
    yield nodes
    nodes.shutdown()


def trident(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trident", *args], capture_output=True, text=True, timeout=timeout
    )


def parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def run_watching_sandboxes(cluster: Any, docker_client: Any, *args: str) -> tuple[int, str, set[int], int]:
    """`trident ARGS` (exit code, stderr), watching the trident containers while it runs: the nodes
    (0, 1) whose Ray workers started some, and how many the driver itself started. Containers of
    other processes on this machine are left out."""
    raylets = {
        info.process.pid: number
        for number, node in enumerate(cluster.worker_nodes)
        for info in node.all_processes["raylet"]
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "trident", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    nodes: set[int] = set()
    by_driver: set[str] = set()
    while process.poll() is None:
        for container in docker_client.api.containers(filters={"label": "trident.sandbox"}):
            owner = container["Labels"].get("trident.owner", "")
            pid = int(owner.rsplit(":", 1)[1]) if ":" in owner else 0
            if pid == process.pid:
                by_driver.add(container["Id"])
            with contextlib.suppress(OSError, ValueError):
                if is_ray_worker(pid) and parent(pid) in raylets:
                    nodes.add(raylets[parent(pid)])
        time.sleep(0.05)
    _, stderr = process.communicate()
    return process.returncode, stderr, nodes, len(by_driver)


def is_ray_worker(pid: int) -> bool:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False
    return "default_worker.py" in command or command.startswith("ray::")


# the recorded sessions end where they end: no nudge asks them for a turn they do not hold
RECORDED = ["--sandbox", "docker", "--max-nudges", "0"]


def instances(tmp_path: Path, first_turns: list[dict[str, Any]] | None = None) -> Path:
    """Three example instances: two fixed by the recorded session, one whose model gives up."""
    session = [json.loads(line) for line in (EXAMPLE / "session.jsonl").read_text().splitlines()]
    fixing = write_session(tmp_path / "fixing.jsonl", [*(first_turns or []), *session])
    giving_up = write_session(tmp_path / "giving-up.jsonl", [{"content": "I cannot fix this."}])
    task = (EXAMPLE / "task.md").read_text()
    rows = [
        {"id": name, "repo": str(EXAMPLE / "repo"), "task": task, "test_cmd": "python3 -m unittest",
         "model": f"scripted:{model}"}
        for name, model in (("fix-1", fixing), ("gives-up", giving_up), ("fix-2", fixing))
    ]  # fmt: skip
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return tasks


def batch_results(out: Path) -> dict[str, tuple[int, str]]:
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(records) == len({r["id"] for r in records})  # one record per instance
    return {r["id"]: (r["exit_code"], Path(r["patch"]).read_text()) for r in records}


def local_then_ray(cluster: Any, docker_client: Any, args: list[str]) -> tuple[int, str, set[int], int]:
    """The eval `args` as run "local" by the local executor, then as run "ray" on the cluster,
    watching which nodes start its sandboxes (`run_watching_sandboxes`)."""
    local = trident(*args, "--run", "local")
    assert local.returncode == 0, local.stderr
    return run_watching_sandboxes(
        cluster, docker_client, *args, "--run", "ray", "--executor", "ray", "--ray-address", cluster.address
    )


def test_a_batch_on_two_nodes_matches_the_local_executor_in_docker(
    cluster: Any, docker_client: Any, tmp_path: Path
) -> None:
    tasks = instances(tmp_path)
    local = trident("run", "--tasks", str(tasks), "--out", str(tmp_path / "local"), *RECORDED)
    assert local.returncode == 1, local.stderr  # one instance is not solved
    ray_args = ["--executor", "ray", "--ray-address", cluster.address, *RECORDED]
    code, stderr, nodes, by_driver = run_watching_sandboxes(
        cluster, docker_client, "run", "--tasks", str(tasks), "--out", str(tmp_path / "ray"), *ray_args
    )
    assert code == 1, stderr
    assert batch_results(tmp_path / "ray") == batch_results(tmp_path / "local")
    assert batch_results(tmp_path / "ray")["fix-1"][0] == 0
    summary = json.loads((tmp_path / "ray" / "summary.json").read_text())
    assert summary["executor"]["kind"] == "ray" and len(summary["executor"]["per_node"]) == 2
    assert nodes == {0, 1} and by_driver == 0  # the sandboxes were started by both nodes' workers


def test_an_eval_on_two_nodes_matches_the_local_executor_in_docker(
    cluster: Any, docker_client: Any, tmp_path: Path
) -> None:
    codes = {
        ADD.question_id: [RIGHT[ADD.question_id], "print(0)"],
        TWICE.question_id: [WRONG[TWICE.question_id], RIGHT[TWICE.question_id]],
        MAXIMUM.question_id: [WRONG[MAXIMUM.question_id], "raise ValueError('boom')"],
    }
    given = tmp_path / "given.json"
    given.write_text(json.dumps([{"question_id": q, "code_list": c} for q, c in codes.items()]))
    data = write_dataset(tmp_path / "data" / "toy.jsonl")
    args = ["eval", "--data", str(data), "--generations", str(given), "--sandbox", "docker"]
    args += ["--out", str(tmp_path)]
    code, stderr, nodes, by_driver = local_then_ray(cluster, docker_client, args)
    assert code == 0, stderr

    def grades(run: str) -> dict[tuple[str, int], tuple[str, list[Any]]]:
        lines = (tmp_path / run / "grades.jsonl").read_text().splitlines()
        records = [json.loads(line) for line in lines]
        assert len(records) == 6
        return {
            (r["question_id"], r["sample_index"]): (r["result"]["verdict_name"], r["result"]["test_results"])
            for r in records
        }

    assert grades("ray") == grades("local")
    assert {v for v, _ in grades("ray").values()} >= {"pass", "wrong_answer", "runtime_error"}
    summary = json.loads((tmp_path / "ray" / "summary.json").read_text())
    assert summary["executor"]["kind"] == "ray" and len(summary["executor"]["per_node"]) == 2
    assert nodes == {0, 1} and by_driver == 0  # a grading chunk per node, each in its own container
    again = trident(*args, "--run", "ray", "--executor", "ray", "--ray-address", cluster.address)
    assert again.returncode == 0, again.stderr  # continued: nothing graded twice
    assert len((tmp_path / "ray" / "grades.jsonl").read_text().splitlines()) == 6


def test_an_agentic_eval_on_two_nodes_matches_the_local_executor(
    cluster: Any, docker_client: Any, tmp_path: Path
) -> None:
    model = tmp_path / "model"
    for problem in PROBLEMS:
        qid = problem.question_id
        write_session(model / "codegeneration" / f"{qid}.jsonl", [{"content": fenced(RIGHT[qid])}])
        wrong_then_right(model / "agentic" / f"{qid}.jsonl", WRONG[qid], RIGHT[qid])
    data = write_dataset(tmp_path / "data" / "toy.jsonl")
    args = ["eval", "--data", str(data), "--model", f"scripted:{model}", "--agentic", "--sandbox", "docker"]
    args += ["--out", str(tmp_path)]
    code, stderr, nodes, by_driver = local_then_ray(cluster, docker_client, args)
    assert code == 0, stderr
    assert nodes == {0, 1} and by_driver == 0  # the agents and the grading chunks: all on the nodes

    def runs(run: str) -> dict[str, tuple[str, str, list[str]]]:
        lines = (tmp_path / run / "agentic.jsonl").read_text().splitlines()
        return {r["question_id"]: (r["code"], r["status"], r["step_efforts"]) for r in map(json.loads, lines)}

    assert runs("ray") == runs("local") and len(runs("ray")) == len(PROBLEMS)

    def scores(run: str) -> dict[str, Any]:  # the scores, not how long each took
        scenarios = json.loads((tmp_path / run / "summary.json").read_text())["scenarios"]
        return {
            name: {k: v for k, v in score.items() if k != "latency_s"} for name, score in scenarios.items()
        }

    assert scores("ray") == scores("local")


def test_a_worker_killed_mid_run_loses_and_doubles_nothing(cluster: Any, tmp_path: Path) -> None:
    marker = tmp_path / "blocked.pid"  # the first run to get here records its shell and waits
    block_once = f"if [ ! -e {marker} ]; then echo $$ > {marker}.tmp; mv {marker}.tmp {marker}; sleep 600; fi"
    tasks = instances(tmp_path, [{"tool_calls": [{"name": "bash", "arguments": {"command": block_once}}]}])
    args = [
        "run",
        "--tasks",
        str(tasks),
        "--out",
        str(tmp_path / "out"),
        "--sandbox",
        "local",
        "--max-nudges",
        "0",
    ]
    args += ["--executor", "ray", "--ray-address", cluster.address]
    process = subprocess.Popen(
        [sys.executable, "-m", "trident", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.1)
        assert marker.exists(), process.communicate()[1] if process.poll() is not None else "no marker"
        shell = int(marker.read_text())
        worker = shell
        while worker > 1 and not is_ray_worker(worker):  # up from the shell to its Ray worker
            worker = parent(worker)
        assert is_ray_worker(worker)
        os.kill(worker, signal.SIGKILL)  # the worker dies mid-instance: Ray runs the task again
        os.killpg(os.getpgid(shell), signal.SIGKILL)  # and its orphaned shell with it
        stdout, stderr = process.communicate(timeout=240)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 1, stderr  # gives-up is not solved; both fixes are
    results = batch_results(tmp_path / "out")
    assert {name: code for name, (code, _) in results.items()} == {"fix-1": 0, "gives-up": 1, "fix-2": 0}
    assert json.loads(stdout.strip().splitlines()[-1])["instances"] == 3
    shutil.rmtree(tmp_path / "out")
