"""The eval's work as executor jobs (agent/scale/): grading chunks and agent runs.

A grading chunk opens its own grader (a sandbox on the node it runs on) and emits one `Graded` per
sample as it is judged; an agent job runs one (problem, sample) with its own model backend and
emits its `AgentRun`. Both are idempotent: they write nothing the driver keeps (an agent run's
trajectory under the run's `agentic/` folder is its own, started again or continued on a retry), and
the driver adds each key to its store once.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from trident.agent.config import Settings
from trident.agent.scale.executor import Emit, Job, Resources
from trident.evals.agentic import AgentRun, solve
from trident.evals.backends import ModelSource
from trident.evals.concurrency import run_all
from trident.evals.lcb.grader import SampleResult, open_grader
from trident.evals.lcb.problems import Problem
from trident.evals.store import KeyedRecord

GRADE_CHUNK_MEMORY_MB = 1024  # what a chunk's sandbox typically holds (its hard limit is the grader's)


class Graded(KeyedRecord):
    effort: str
    result: SampleResult


class ToGrade(BaseModel):
    """One sample to grade: the program already built from its code (`Suite.program`)."""

    scenario: str
    question_id: str
    sample_index: int
    effort: str
    source: str


class GradeChunk(BaseModel):
    sandbox: Literal["docker", "local"]
    image: str | None
    timeout_s: float
    workers: int
    problems: dict[str, Problem]  # the problems of this chunk's samples, by id
    samples: list[ToGrade]


async def grade_chunk(chunk: GradeChunk, emit: Emit) -> None:
    """Grade every sample of the chunk in one grader; emit each `Graded` as it is judged."""
    async with open_grader(
        chunk.sandbox, workers=chunk.workers, timeout_s=chunk.timeout_s, image=chunk.image
    ) as grader:

        async def one(item: ToGrade) -> None:
            problem = chunk.problems[item.question_id]
            result = await grader.grade(problem, item.source, item.sample_index, tests="all")  # it queues
            emit(
                Graded(
                    scenario=item.scenario,
                    question_id=item.question_id,
                    sample_index=item.sample_index,
                    effort=item.effort,
                    result=result,
                )
            )

        await run_all(one(item) for item in chunk.samples)


def grade_jobs(chunk: GradeChunk, node_cpus: list[int]) -> list[Job]:
    """The chunk cut into jobs that each fill the smallest node (its CPUs, as many grading workers),
    as many as the nodes hold at once; samples dealt in turn, so every job gets a like mix of
    problems. One node (the local executor): one job, one grader, today's pool."""
    each = max(1, min(node_cpus))
    pieces = max(1, min(sum(node_cpus) // each, len(chunk.samples)))
    jobs: list[Job] = []
    for number in range(pieces):
        samples = chunk.samples[number::pieces]
        wanted = {s.question_id for s in samples}
        part = chunk.model_copy(
            update={
                "samples": samples,
                "problems": {qid: p for qid, p in chunk.problems.items() if qid in wanted},
                "workers": chunk.workers if pieces == 1 else each,
            }
        )
        resources = Resources(
            cpus=float(min(part.workers, each)),
            memory_mb=GRADE_CHUNK_MEMORY_MB,
            docker=chunk.sandbox == "docker",
        )
        jobs.append(Job(key=f"grade-{number}", fn=grade_chunk, arg=part, resources=resources))
    return jobs


class AgentJob(BaseModel):
    problem: Problem
    index: int
    model: str
    settings: Settings
    root: Path  # the run's agentic/ folder: shared storage for a cluster's nodes
    scenario: str


async def agent_run(job: AgentJob, emit: Emit) -> None:
    """One agent run on the node (its own backend), continuing an earlier attempt's trajectory."""
    source = ModelSource(job.model, job.settings)
    started = time.monotonic()
    try:
        run: AgentRun = await solve(job.problem, job.index, source, job.settings, job.root, job.scenario)
    finally:
        await source.close()
    run.duration_s = round(time.monotonic() - started, 3)
    emit(run)


def agent_jobs(
    problems: list[Problem],
    model: str,
    settings: Settings,
    root: Path,
    scenario: str,
    keys: set[tuple[str, str, int]],
    n: int,
) -> list[Job]:
    """A job per (problem, sample) not in `keys` (what the store holds)."""
    return [
        Job(
            key=f"{scenario}:{problem.question_id}.{index}",
            fn=agent_run,
            arg=AgentJob(
                problem=problem, index=index, model=model, settings=settings, root=root, scenario=scenario
            ),
            resources=Resources(
                cpus=1.0, memory_mb=settings.sandbox.memory_mb, docker=settings.sandbox.kind != "local"
            ),
        )
        for problem in problems
        for index in range(n)
        if (scenario, problem.question_id, index) not in keys
    ]
