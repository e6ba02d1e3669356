"""The executors' overhead: the same grading workload through the local executor and through Ray.

Workload: the bundled set's reference solutions, repeated `--repeat` times (2) (and with `--variants`
the failing variants too), graded as `trident eval` grades them (evals/jobs.py: one grader for all
here; on Ray a one-CPU chunk per CPU slot, each its own sandbox). Ray is a local instance on this
machine, started before the clock (a cluster is started once, not per run). The rounds alternate
local and Ray (each first in turn, after an untimed warm-up); the ratio is the median of the
rounds' own ratios (the load of a shared machine moves between rounds; goal <= 1.15x). Also
measured: one empty job's round trip through Ray (what a task costs the driver), what appending a
grade to the store costs the driver (fsync'd), and whether every verdict is the same.
Run: python -m benchmarks.scale [--sandbox docker|local] [--repeat R] [--rounds N] [--variants]
     [--json OUT]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Literal

from trident.agent.scale.executor import Done, Emit, Executor, Job
from trident.agent.scale.local import LocalExecutor
from trident.agent.scale.ray_cluster import RayExecutor
from trident.evals.jobs import GradeChunk, Graded, ToGrade, grade_jobs
from trident.evals.lcb.grader import default_workers
from trident.evals.lcb.problems import bundled_data_dir, load_problems
from trident.evals.store import Store


def workload(
    sandbox: Literal["docker", "local"], repeat: int, variants: bool, workers: int, timeout_s: float
) -> GradeChunk:
    data = bundled_data_dir()
    problems = {p.question_id: p for p in load_problems(data)[0]}
    references: dict[str, str] = json.loads((data / "references.json").read_text(encoding="utf-8"))
    codes = [(qid, code) for qid, code in references.items()] * repeat
    if variants:
        kinds: dict[str, dict[str, str]] = json.loads((data / "variants.json").read_text(encoding="utf-8"))
        codes += [(qid, code) for qid, by_kind in kinds.items() for code in by_kind.values()]
    samples = [
        ToGrade(scenario="bench", question_id=qid, sample_index=index, effort="given", source=code)
        for index, (qid, code) in enumerate(codes)
    ]
    return GradeChunk(
        sandbox=sandbox, image=None, timeout_s=timeout_s, workers=workers, problems=problems, samples=samples
    )


async def grade(executor: Executor, chunk: GradeChunk) -> tuple[float, dict[int, str], dict[str, int]]:
    """Seconds, each sample's verdict, samples per node."""
    verdicts: dict[int, str] = {}
    nodes: dict[str, int] = {}

    def keep(done: Done) -> None:
        graded: Graded = done.item
        verdicts.setdefault(graded.sample_index, graded.result.verdict_name)
        nodes[done.node] = nodes.get(done.node, 0) + 1

    started = time.perf_counter()
    await executor.run(grade_jobs(chunk, executor.node_cpus()), keep)
    return time.perf_counter() - started, verdicts, nodes


async def _nothing(arg: int, emit: Emit) -> None:
    emit(arg)


async def task_round_trip(executor: Executor, jobs: int) -> float:
    """Seconds per empty job, `jobs` of them submitted at once."""
    started = time.perf_counter()
    await executor.run([Job(key=str(i), fn=_nothing, arg=i) for i in range(jobs)], lambda done: None)
    return (time.perf_counter() - started) / jobs


def store_append_ms(records: int = 500) -> float:
    """Milliseconds the driver spends adding one grade to a store (written and fsync'd)."""
    from trident.evals.lcb.grader import SampleResult

    result = SampleResult(
        question_id="q", sample_index=0, passed=True, verdict=1, verdict_name="pass",
        test_results=[True] * 20, metadata={}, duration_s=0.1,
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        store: Store[Graded] = Store(Path(tmp) / "grades.jsonl", Graded)
        started = time.perf_counter()
        for index in range(records):
            store.add(
                Graded(scenario="s", question_id="q", sample_index=index, effort="given", result=result)
            )
        elapsed = time.perf_counter() - started
        store.close()
    return elapsed / records * 1000


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    workers = args.workers or default_workers()
    chunk = workload(args.sandbox, args.repeat, args.variants, workers, args.timeout)
    started = time.perf_counter()
    ray_executor = RayExecutor(None)
    cluster_start = time.perf_counter() - started
    local_executor = LocalExecutor(workers)
    try:
        empty_job = await task_round_trip(ray_executor, 200)
        warm = chunk.model_copy(update={"samples": chunk.samples[: len(chunk.problems)]})
        await grade(ray_executor, warm)  # the workers' first import of trident: once per cluster
        await grade(local_executor, warm)
        times: dict[str, list[float]] = {"local": [], "ray": []}
        verdicts: dict[str, dict[int, str]] = {}
        nodes: dict[str, int] = {}
        order: list[tuple[str, Executor]] = [("local", local_executor), ("ray", ray_executor)]
        for number in range(args.rounds):
            for name, executor in order if number % 2 == 0 else order[::-1]:  # neither always first
                seconds, verdicts[name], per_node = await grade(executor, chunk)
                times[name].append(seconds)
                if name == "ray":
                    nodes = per_node
                rate = len(chunk.samples) / seconds
                print(f"round {number + 1} {name}: {seconds:.2f} s ({rate:.1f} samples/s)")
    finally:
        await ray_executor.close()
    local_s, ray_s = statistics.median(times["local"]), statistics.median(times["ray"])
    # the machine's load changes between rounds: each round's own ratio, then their median
    ratios = [r / loc for loc, r in zip(times["local"], times["ray"], strict=True)]
    differ = sorted(i for i in verdicts["local"] if verdicts["local"][i] != verdicts["ray"].get(i))
    return {
        "samples": len(chunk.samples),
        "sandbox": args.sandbox,
        "workers": workers,
        "rounds": times,
        "local_median_s": round(local_s, 3),
        "ray_median_s": round(ray_s, 3),
        "ratio": round(statistics.median(ratios), 3),
        "round_ratios": [round(r, 3) for r in ratios],
        "samples_per_s_per_node": round(len(chunk.samples) / ray_s, 2),
        "ray_nodes": nodes,
        "ray_cluster_start_s": round(cluster_start, 2),
        "ray_empty_job_ms": round(empty_job * 1000, 2),
        "store_append_ms": round(store_append_ms(), 3),
        "verdicts_differ": differ,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sandbox", choices=["docker", "local"], default="docker")
    parser.add_argument("--workers", type=int, help="grading processes (default: cores)")
    parser.add_argument("--repeat", type=int, default=2, help="the references this many times (default 2)")
    parser.add_argument("--variants", action="store_true", help="also the failing variants (time limits)")
    parser.add_argument("--rounds", type=int, default=5, help="local and Ray alternately (default 5)")
    parser.add_argument("--timeout", type=float, default=6.0, help="per-test limit (default 6 s)")
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the numbers here")
    args = parser.parse_args()
    result = asyncio.run(main_async(args))
    print(json.dumps({k: v for k, v in result.items() if k != "rounds"}, indent=2))
    print(
        f"ratio: Ray took {result['ratio']:.2f}x the local executor's time "
        f"({result['samples']} samples, median of {args.rounds} rounds; goal <= 1.15x)"
    )
    if result["verdicts_differ"]:
        print(f"verdicts differ for samples {result['verdicts_differ']}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
