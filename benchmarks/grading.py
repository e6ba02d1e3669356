"""Grading throughput: trident's grader (a sandbox, a real process per test) vs upstream's approach.

Samples: the bundled set's reference solutions plus its deliberately wrong, slow, crashing, syntax
and memory variants (evals/data/variants.json), the references repeated `--repeat` times. Graded in
the same run, on the same machine, with the same workers and timeout, by
  1. trident's grader (`--sandbox docker`, the default, or `local`),
  1b. with `--one-phase`, trident's grader running every test of a sample at once (no phases),
  2. an in-process `exec` in a forked child per sample (benchmarks/forked_exec.py: upstream's design),
  3. upstream's own evaluator when `--upstream PATH` names a LiveCodeBench checkout.
Prints samples/s for each, the ratio, and every sample whose verdict differs, with both reasons.
With `--hostile`, then the hostile set (benchmarks/hostile_parity.py) once through each grader: its
parity table, not timed.
Run: python -m benchmarks.grading [--sandbox docker|local] [--workers N] [--repeat R] [--labels L,..]
     [--one-phase] [--upstream CHECKOUT] [--hostile] [--json OUT]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from benchmarks.forked_exec import submit_all
from trident.evals.lcb.grader import default_workers, job_for, open_grader
from trident.evals.lcb.problems import Problem, bundled_data_dir, load_problems

CODE_NAMES = {
    1: "pass",
    -1: "global_timeout/crash",
    -2: "wrong_answer",
    -3: "time_limit",
    -4: "runtime/compile",
    -5: "runner_error",
}


class Sample(BaseModel):
    problem: Problem
    label: str  # "reference" or the variant's kind
    code: str


class Verdict(BaseModel):
    code: int
    reason: str


class Run(BaseModel):
    name: str
    seconds: float
    verdicts: list[Verdict]

    @property
    def rate(self) -> float:
        return len(self.verdicts) / self.seconds


def load_samples(repeat: int) -> list[Sample]:
    data = bundled_data_dir()
    problems = {p.question_id: p for p in load_problems(data)[0]}
    references: dict[str, str] = json.loads((data / "references.json").read_text(encoding="utf-8"))
    variants: dict[str, dict[str, str]] = json.loads((data / "variants.json").read_text(encoding="utf-8"))
    samples = [Sample(problem=problems[q], label="reference", code=c) for q, c in references.items()] * repeat
    for qid, kinds in variants.items():
        samples += [Sample(problem=problems[qid], label=kind, code=code) for kind, code in kinds.items()]
    return samples


def verdict_of(results: list[Any], metadata: dict[str, Any]) -> Verdict:
    if results and all(r is True or (not isinstance(r, bool) and r > 0) for r in results):
        return Verdict(code=1, reason="")
    code = int(metadata.get("error_code", min(int(r) for r in results if r is not True)))
    reason = str(metadata.get("error_message", "")) + " " + str(metadata.get("error", ""))
    return Verdict(code=code, reason=reason.strip()[:160])


async def grade_trident(
    samples: list[Sample], kind: str, workers: int, timeout: float, progress: Progress, phased: bool = True
) -> Run:
    label = kind if phased else f"{kind}, one phase"
    task = progress.add_task(f"trident ({label})", total=len(samples))
    grader_cm = open_grader(kind, workers=workers, timeout_s=timeout, phased=phased)  # type: ignore[arg-type]
    async with grader_cm as grader:
        started = time.perf_counter()

        async def one(index: int, sample: Sample) -> Verdict:
            result = await grader.grade(sample.problem, sample.code, index)
            progress.advance(task)
            return verdict_of(result.test_results, result.metadata)

        verdicts = await asyncio.gather(*(one(i, s) for i, s in enumerate(samples)))
        seconds = time.perf_counter() - started
    return Run(name=f"trident grader ({label})", seconds=seconds, verdicts=list(verdicts))


def grade_forked(
    samples: list[Sample],
    workers: int,
    timeout: float,
    progress: Progress | None,
    deadline_s: float | None = None,
) -> Run:
    """Upstream's design over a process pool. With a deadline (the hostile set: a sample can wedge
    the pool by writing into its pipes), what has not finished by then is -5, and at the end the
    pool's workers and everything they started are killed."""
    task = progress.add_task("forked exec (upstream's design)", total=len(samples)) if progress else None
    jobs = [job_for(s.problem, s.code, "all", timeout=timeout) for s in samples]
    started = time.perf_counter()
    hostile = deadline_s is not None
    pool = ProcessPoolExecutor(max_workers=workers, initializer=os.setpgrp if hostile else None)
    futures = submit_all(pool, jobs)
    workers_seen = _worker_pids(pool)
    with contextlib.suppress(TimeoutError):
        for _ in as_completed(futures, timeout=deadline_s):
            if progress is not None and task is not None:
                progress.advance(task)
    outcomes = [_outcome(f) for f in futures]
    if hostile:  # whatever the samples left running (a wedged pool, orphans) goes
        _kill_groups(workers_seen | _worker_pids(pool))
    pool.shutdown(wait=not hostile, cancel_futures=True)
    seconds = time.perf_counter() - started
    return Run(name="forked exec", seconds=seconds, verdicts=[verdict_of(r, m) for r, m in outcomes])


def grade_forked_alone(samples: list[Sample], timeout: float, progress: Progress, deadline_s: float) -> Run:
    """Upstream's design with a fresh one-worker pool per sample: what each sample does to its own
    verdict, without what it does to its neighbours."""
    task = progress.add_task("forked exec, each sample alone", total=len(samples))
    verdicts, seconds = [], 0.0
    for sample in samples:
        run = grade_forked([sample], 1, timeout, None, deadline_s)
        verdicts += run.verdicts
        seconds += run.seconds
        progress.advance(task)
    return Run(name="forked exec, each alone", seconds=seconds, verdicts=verdicts)


def _worker_pids(pool: ProcessPoolExecutor) -> set[int]:
    return {p.pid for p in (getattr(pool, "_processes", None) or {}).values() if p.pid}


def _kill_groups(pids: set[int]) -> None:
    """SIGKILL the process groups of these workers (each its own group: `os.setpgrp` at start), so
    the Manager processes and forked children they left behind go too, and with them the pipe ends
    that would keep the pool's result thread (and the interpreter's exit) waiting."""
    for pid in pids:
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)


def _outcome(future: Future[tuple[list[Any], dict[str, Any]]]) -> tuple[list[Any], dict[str, Any]]:
    """A sample's outcome; a pool a sample broke (it killed its worker) or wedged fails it as -5."""
    if not future.done():
        return [-5], {"error_code": -5, "error_message": "the grading pool stopped answering (wedged)"}
    try:
        return future.result()
    except Exception as exc:
        return [-5], {"error_code": -5, "error_message": f"the grading pool broke: {exc!r}"[:160]}


def grade_upstream(samples: list[Sample], checkout: Path, workers: int, timeout: float) -> Run:
    """LiveCodeBench's own `evaluate_generations` (its tqdm bar shows progress)."""
    sys.path.insert(0, str(checkout))
    from lcb_runner.evaluation.compute_code_generation_metrics import (  # type: ignore[import-not-found]
        evaluate_generations,
    )

    inputs = []
    for sample in samples:
        tests = sample.problem.tests("all")
        spec = {"inputs": [t.input for t in tests], "outputs": [t.output for t in tests]}
        spec["fn_name"] = sample.problem.func_name  # type: ignore[assignment]
        inputs.append({"input_output": json.dumps(spec)})
    started = time.perf_counter()
    results, metadata = evaluate_generations(
        inputs, [[s.code] for s in samples], num_process_evaluate=workers, timeout=int(timeout)
    )
    seconds = time.perf_counter() - started
    verdicts = [verdict_of(list(results[i][0]), dict(metadata[i][0])) for i in range(len(samples))]
    return Run(name="upstream evaluator", seconds=seconds, verdicts=verdicts)


def names(rounds: list[list[Run]]) -> list[str]:
    order = ["trident", "one phase", "forked", "upstream"]
    rank = {w: i for i, w in enumerate(order)}

    def key(name: str) -> int:
        return max(rank[w] for w in order if w in name)

    return sorted((run.name for run in rounds[0]), key=key)


def median_run(runs: list[Run]) -> Run:
    """The round with the median time (its verdicts: they are the same in every round)."""
    ordered = sorted(runs, key=lambda r: r.seconds)
    return ordered[len(ordered) // 2]


def report(console: Console, samples: list[Sample], runs: list[Run]) -> dict[str, Any]:
    ours, *others = runs
    table = Table(title=f"Grading throughput: {len(samples)} samples, same machine, same run")
    for column in ("grader", "seconds", "samples/s", "trident speedup", "verdicts differing"):
        table.add_column(column, justify="left" if column == "grader" else "right")
    summary: dict[str, Any] = {"samples": len(samples), "runs": {}}
    for run in runs:
        differ = [
            i for i, (a, b) in enumerate(zip(ours.verdicts, run.verdicts, strict=True)) if a.code != b.code
        ]
        ratio = ours.rate / run.rate
        table.add_row(run.name, f"{run.seconds:.2f}", f"{run.rate:.2f}", f"{ratio:.2f}x", str(len(differ)))
        summary["runs"][run.name] = {"seconds": run.seconds, "samples_per_s": run.rate, "ratio": ratio}
        summary["runs"][run.name]["disagreements"] = [
            {
                "sample": i,
                "question_id": samples[i].problem.question_id,
                "label": samples[i].label,
                "trident": ours.verdicts[i].model_dump(),
                run.name: run.verdicts[i].model_dump(),
            }
            for i in differ
        ]
    console.print(table)
    for run in others:
        console.print(f"ratio: trident grader is {ours.rate / run.rate:.2f}x the throughput of {run.name}")
        for item in summary["runs"][run.name]["disagreements"]:
            a, b = item["trident"], item[run.name]
            console.print(
                f"  differs on #{item['sample']} {item['question_id']} ({item['label']}): "
                f"trident {CODE_NAMES.get(a['code'], a['code'])} [{a['reason']}] vs "
                f"{run.name} {CODE_NAMES.get(b['code'], b['code'])} [{b['reason']}]"
            )
    return summary


def plot(summary: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(summary["runs"])
    rates = [summary["runs"][n]["samples_per_s"] for n in names]
    figure, axis = plt.subplots(figsize=(7, 3))
    axis.barh(names, rates, color=["#2a7", *["#888"] * (len(names) - 1)])
    axis.set_xlabel("samples / s (higher is better)")
    axis.set_title(f"Grading throughput, {summary['samples']} samples")
    figure.tight_layout()
    figure.savefig(path, dpi=120)


HOSTILE_DEADLINE_S = 120.0  # the hostile set through a baseline: what is not graded by then is -5
ALONE_DEADLINE_S = 30.0  # one hostile sample alone through a baseline


async def hostile(args: argparse.Namespace, workers: int, console: Console) -> dict[str, Any]:
    """The hostile set once through each grader; the baselines run only what is safe on this host."""
    from benchmarks.hostile_parity import NOT_RUN, hostile_cases, parity_table

    cases, problems, codes = hostile_cases()
    samples = [
        Sample(problem=p, label=c.name, code=code) for c, p, code in zip(cases, problems, codes, strict=True)
    ]
    safe = [i for i, case in enumerate(cases) if case.host_safe]
    verdicts: dict[str, list[int]] = {}
    with Progress(console=console) as progress:
        ours = await grade_trident(samples, args.sandbox, workers, args.timeout, progress)
        verdicts[ours.name] = [v.code for v in ours.verdicts]
        baselines: list[Callable[[list[Sample]], Run]] = [
            lambda chosen: grade_forked(chosen, workers, args.timeout, progress, HOSTILE_DEADLINE_S),
            lambda chosen: grade_forked_alone(chosen, args.timeout, progress, ALONE_DEADLINE_S),
        ]
        if args.upstream:
            baselines.append(lambda chosen: grade_upstream(chosen, args.upstream, workers, args.timeout))
        for grade in baselines:
            run = await asyncio.to_thread(grade, [samples[i] for i in safe])
            codes_of = dict(zip(safe, (v.code for v in run.verdicts), strict=True))
            verdicts[run.name] = [codes_of.get(i, NOT_RUN) for i in range(len(samples))]
    return parity_table(console, cases, verdicts, lambda code: CODE_NAMES.get(code, str(code)))


async def main(args: argparse.Namespace) -> None:
    console = Console()
    samples = load_samples(args.repeat)
    if args.labels:
        samples = [s for s in samples if s.label in args.labels.split(",")]
    workers = args.workers or default_workers()
    console.print(f"{len(samples)} samples, {workers} workers, {args.timeout:g} s per test")
    graders: list[Callable[[], Awaitable[Run]]] = [
        lambda: grade_trident(samples, args.sandbox, workers, args.timeout, progress),
        lambda: asyncio.to_thread(grade_forked, samples, workers, args.timeout, progress),
    ]
    if args.one_phase:
        graders.append(lambda: grade_trident(samples, args.sandbox, workers, args.timeout, progress, False))
    if args.upstream:
        graders.append(
            lambda: asyncio.to_thread(grade_upstream, samples, args.upstream, workers, args.timeout)
        )
    rounds: list[list[Run]] = []
    with Progress(console=console) as progress:
        for number in range(args.rounds):  # rotate the order: a busy moment hits each alike
            turn = graders[number % len(graders) :] + graders[: number % len(graders)]
            rounds.append([await grade() for grade in turn])
    runs = [median_run([r for batch in rounds for r in batch if r.name == name]) for name in names(rounds)]
    summary = report(console, samples, runs)
    if args.hostile:
        summary["hostile"] = await hostile(args, workers, console)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2), encoding="utf-8")
        plot(summary, args.json.with_suffix(".png"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sandbox", choices=["docker", "local"], default="docker")
    parser.add_argument("--workers", type=int, default=0, help="default: the number of cores")
    parser.add_argument("--timeout", type=float, default=6.0, help="per-test timeout (s)")
    parser.add_argument("--repeat", type=int, default=10, help="copies of each reference solution")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per grader (the median is kept)")
    parser.add_argument("--labels", help="only these sample kinds, e.g. reference,wrong,crash")
    parser.add_argument(
        "--one-phase",
        action="store_true",
        help="also time trident's grader with every test in one phase (the grading before phases)",
    )
    parser.add_argument("--upstream", type=Path, help="a LiveCodeBench checkout: also time its evaluator")
    parser.add_argument(
        "--hostile", action="store_true", help="then the hostile set's parity table (tests' attacks)"
    )
    parser.add_argument("--json", type=Path, help="write the results here (and a .png plot beside it)")
    arguments = parser.parse_args()
    asyncio.run(main(arguments))
    if arguments.hostile:
        # a forgery can leave a half message in a baseline pool's result pipe, whose reader thread
        # then waits forever and would hold the interpreter's exit: everything is written, go
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
