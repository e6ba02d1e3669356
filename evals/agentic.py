"""Agentic mode: the agent gets the problem and a sandbox, runs the public tests itself, and its final
`solution.py` is graded on the hidden tests (with the public ones, as upstream grades plain samples,
so the two modes compare).

Per (problem, sample) a workspace under `<run>/agentic/<question_id>.<sample>/` holds `PROBLEM.md`
(the statement), `solution.py` (the starter code, or a stdin/stdout stub), `public_tests.json` and
`test_public.py` (`evals/public_check.py`; both protected from the file tools). The test command runs
the public tests, so the effort policy raises `reasoning_effort` when they fail; every step's effort
and every change is recorded.
A backend or sandbox failure stops the eval (exit 5 / 4); a run that ends on a budget (steps, time,
tokens, stuck) is graded as it stands. The next `trident eval` of the same run continues an
interrupted or failed agent run from its trajectory (the workspace is the sandbox's bind mount, so
it holds the files as the agent left them), as `trident run --resume` does.
"""

from __future__ import annotations

import json
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from trident.agent.config import Settings
from trident.agent.core.events import (
    EffortChange,
    Event,
    RunEnd,
    RunResumed,
    RunStart,
    StepStart,
    SystemMessage,
    UserMessage,
)
from trident.agent.core.messages import BackendError
from trident.agent.core.trajectory import TrajectoryError, TrajectoryWriter, load, resume_point
from trident.agent.prompt import system_prompt, task_message
from trident.agent.wiring import make_agent, make_sandbox
from trident.evals.backends import ModelSource
from trident.evals.lcb.problems import Problem
from trident.evals.store import KeyedRecord, Store, fill
from trident.sandbox.base import SandboxError
from trident.sandbox.client import RunnerSession

TEST_COMMAND = "python3 -m unittest -v test_public"
PROTECTED = ("test_public.py", "public_tests.json")  # the file tools refuse them: the check stays the check
PUBLIC_CHECK = (Path(__file__).parent / "public_check.py").read_text(encoding="utf-8")  # test_public.py
STDIN_STUB = "# Read the input from stdin and write the answer to stdout.\n"
PUBLIC_TEST_TIMEOUT_S = 6.0
CONTINUED = ("backend_error", "sandbox_error", "interrupted")  # ends the next eval goes on from
TASK = """\
Solve the programming problem in PROBLEM.md: write the program in `solution.py`.
{format_note}
`run_tests` runs the public examples (`{test_command}`). They are only examples: hidden tests with
other inputs, larger ones included, grade `solution.py` when you finish, so write a correct and
efficient solution, not one fitted to the examples. When the public tests pass, answer with a short
summary and no tool call.
"""


class EffortStep(BaseModel):
    step: int
    previous: str
    effort: str
    reason: str


class AgentRun(KeyedRecord):
    """One agentic sample: the final code and how the run went."""

    effort: str  # the highest reasoning_effort any step ran at: none | high
    code: str
    status: str  # the RunEnd status (finished, max_steps, timeout, ...)
    reason: str
    steps: int
    step_efforts: list[str]  # the effort of each step, in order
    effort_changes: list[EffortStep]
    input_tokens: int = 0
    output_tokens: int = 0
    duration_s: float = 0.0
    trajectory: str


def problem_markdown(problem: Problem) -> str:
    return f"# {problem.question_title}\n\n{problem.question_content.strip()}\n"


def workspace_files(problem: Problem) -> dict[str, str]:
    """The files an agent starts from."""
    tests = {
        "func_name": problem.func_name,
        "timeout_s": PUBLIC_TEST_TIMEOUT_S,
        "tests": [test.model_dump() for test in problem.public_tests],
    }
    starter = problem.starter_code.rstrip() + "\n        pass\n" if problem.starter_code else STDIN_STUB
    return {
        "PROBLEM.md": problem_markdown(problem),
        "solution.py": starter,
        "public_tests.json": json.dumps(tests, indent=1) + "\n",
        "test_public.py": PUBLIC_CHECK,
    }


def task_text(problem: Problem) -> str:
    if problem.starter_code:
        note = f"Complete the starter code in `solution.py` (keep the signature of `{problem.func_name}`)."
    else:
        note = "`solution.py` reads the input from stdin and writes the answer to stdout."
    return TASK.format(format_note=note, test_command=TEST_COMMAND)


def _summarize(
    events: list[Event], scenario: str, problem: Problem, index: int, code: str, trajectory: Path
) -> AgentRun:
    end = next(e for e in reversed(events) if isinstance(e, RunEnd))
    efforts = [e.effort for e in events if isinstance(e, StepStart)]
    step = 0
    changes: list[EffortStep] = []
    for event in events:
        if isinstance(event, StepStart):
            step = event.step
        elif isinstance(event, EffortChange):
            changes.append(
                EffortStep(step=step, previous=event.previous, effort=event.effort, reason=event.reason)
            )
    return AgentRun(
        scenario=scenario,
        question_id=problem.question_id,
        sample_index=index,
        effort="high" if "high" in efforts else "none",
        code=code,
        status=end.status,
        reason=end.reason,
        steps=end.steps,
        step_efforts=efforts,
        effort_changes=changes,
        input_tokens=end.input_tokens,
        output_tokens=end.output_tokens,
        duration_s=round(end.duration_s, 3),
        trajectory=str(trajectory),
    )


def earlier_attempt(trajectory: Path, workspace: Path) -> list[Event]:
    """What an earlier attempt recorded, to go on from: all of it when it ended on its own (it is
    graded as it stands), the resumable prefix when it was interrupted or stopped by a backend or
    sandbox failure, and nothing when there is no usable attempt (the sample starts afresh)."""
    if not (trajectory.is_file() and workspace.is_dir()):
        return []
    try:
        events = load(trajectory)
        end = next((e for e in reversed(events) if isinstance(e, RunEnd)), None)
        if end is not None and end.status not in CONTINUED:
            return events
        kept = resume_point(events)
    except TrajectoryError:
        return []
    return kept if any(isinstance(e, RunStart) for e in kept) else []


async def solve(
    problem: Problem, index: int, source: ModelSource, settings: Settings, root: Path, scenario: str
) -> AgentRun:
    """One agent run under `root`, going on from an earlier attempt's; raises on backend or sandbox
    failure."""
    base = root / f"{problem.question_id}.{index}"
    workspace, trajectory = base / "workspace", base / "trajectory.jsonl"
    recorded = earlier_attempt(trajectory, workspace)
    ended = bool(recorded) and isinstance(recorded[-1], RunEnd)  # it ended before a crash: keep it
    if not recorded:
        shutil.rmtree(base, ignore_errors=True)
        for name, text in workspace_files(problem).items():
            (workspace / name).parent.mkdir(parents=True, exist_ok=True)
            (workspace / name).write_text(text, encoding="utf-8")
    sandbox = make_sandbox(settings, workspace, network=False)  # an eval's agent never has network
    try:
        if ended:
            events = recorded
        else:
            events = await _run_agent(problem, index, source, settings, scenario, sandbox, base, recorded)
        final = (await sandbox.read_files(["solution.py"]))["solution.py"]  # None: the agent deleted it
        code = (final or b"").decode("utf-8", errors="replace")
    finally:
        await sandbox.close()
    end = events[-1]
    assert isinstance(end, RunEnd)
    if end.status == "backend_error":
        raise BackendError(f"{problem.question_id} sample {index}: {end.reason}")
    if end.status == "sandbox_error":
        raise SandboxError(f"{problem.question_id} sample {index}: {end.reason}")
    return _summarize(events, scenario, problem, index, code, trajectory)


async def _run_agent(
    problem: Problem,
    index: int,
    source: ModelSource,
    settings: Settings,
    scenario: str,
    sandbox: RunnerSession,
    base: Path,
    recorded: list[Event],
) -> list[Event]:
    """The agent's run in `sandbox` on `base`/workspace (new, or continuing `recorded`): all of its
    events, recorded in `base`/trajectory.jsonl."""
    backend = source.backend(scenario, problem.question_id, index)
    writer = TrajectoryWriter(base / "trajectory.jsonl", kept=recorded or None)
    agent = make_agent(
        settings,
        backend,
        sandbox,
        writer,
        test_command=TEST_COMMAND,
        protected_paths=PROTECTED,
        headless=True,
    )
    opening: list[Event]
    if recorded:
        agent.replay(recorded)
        start = next(e for e in recorded if isinstance(e, RunStart))
        opening = [RunResumed(run_id=start.run_id, after_seq=len(recorded) - 1)]
    else:
        opening = [
            RunStart(
                run_id=uuid.uuid4().hex[:12],
                model=source.spec,
                effort_mode=settings.effort.mode,
                tools=agent.tools.names(),
                workspace=str(base / "workspace"),
                settings={"question_id": problem.question_id, "sample_index": index},
            ),
            SystemMessage(text=system_prompt()),
            UserMessage(text=task_message(task_text(problem), sandbox.workspace, TEST_COMMAND)),
        ]
    try:
        return [*recorded, *[event async for event in agent.run(opening)]]
    finally:
        writer.close()  # the backend is the source's (shared, closed with it)


async def solve_all(
    problems: list[Problem],
    source: ModelSource,
    settings: Settings,
    store: Store[AgentRun],
    *,
    root: Path,
    scenario: str,
    n: int,
    concurrency: int,
    on_done: Callable[[AgentRun], None] = lambda run: None,
) -> None:
    """An agent run per (problem, sample) the store lacks, at most `concurrency` at once."""

    async def sample(problem: Problem, index: int) -> AgentRun:
        started = time.monotonic()
        run = await solve(problem, index, source, settings, root, scenario)
        run.duration_s = round(time.monotonic() - started, 3)
        return run

    await fill(
        store, problems, scenario=scenario, n=n, concurrency=concurrency, sample=sample, on_done=on_done
    )
