"""A headless run: copy the repo into a workspace, run the agent, verify, write the patch.

The host repository is only read (copied); every edit and command happens in the workspace through
the sandbox. The workspace lives beside the trajectory so a killed run can be resumed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from trident.agent.config import ConfigError, Settings, state_dir
from trident.agent.core.events import (
    Event,
    RunEnd,
    RunResumed,
    RunStart,
    SystemMessage,
    UserMessage,
    Verdict,
    Verification,
)
from trident.agent.core.messages import Backend, BackendError
from trident.agent.core.trajectory import TrajectoryError, TrajectoryWriter, load, resume_point
from trident.agent.headless.verify import judge, run_check
from trident.agent.loop import Agent
from trident.agent.prompt import system_prompt, task_message
from trident.agent.wiring import make_agent, make_backend, make_sandbox
from trident.sandbox.base import SandboxError
from trident.sandbox.workspace import export_diff, record_baseline

# The exit-code contract of `trident run` (documented in docs/run.md, summarised in README.md).
EXIT_SOLVED, EXIT_UNSOLVED, EXIT_USAGE, EXIT_BUDGET, EXIT_SANDBOX, EXIT_BACKEND, EXIT_INTERRUPTED = (
    0,
    1,
    2,
    3,
    4,
    5,
    130,
)
_STATUS_EXIT = {
    "max_steps": EXIT_BUDGET,
    "timeout": EXIT_BUDGET,
    "max_tokens": EXIT_BUDGET,
    "format_errors": EXIT_BUDGET,
    "stuck": EXIT_BUDGET,
    "sandbox_error": EXIT_SANDBOX,
    "backend_error": EXIT_BACKEND,
    "interrupted": EXIT_INTERRUPTED,
}


class RunRequest(BaseModel):
    repo: Path
    task: str
    model: str
    test_command: str | None = None
    trajectory: Path | None = None
    patch_out: Path | None = None
    apply: bool = False


@dataclass
class Outcome:
    exit_code: int
    reason: str
    patch: str = ""
    trajectory: Path | None = None


async def execute(
    request: RunRequest,
    settings: Settings,
    sink: Callable[[Event], None],
    *,
    resume: Path | None = None,
) -> Outcome:
    """Run (or resume) the agent on `request`; feed every event to `sink`; return the verdict."""
    kept: list[Event] = []
    if resume is not None:
        try:
            kept = resume_point(load(resume))
        except TrajectoryError as exc:
            raise ConfigError(str(exc)) from None
        start = next(e for e in kept if isinstance(e, RunStart))
        run_id, workspace = start.run_id, Path(start.workspace)
        trajectory = resume
        if not workspace.is_dir():
            return Outcome(EXIT_SANDBOX, f"the run's workspace {workspace} is gone; it cannot be resumed")
    else:
        run_id = uuid.uuid4().hex[:12]
        workspace = state_dir() / "runs" / run_id / "workspace"
        trajectory = request.trajectory or state_dir() / "runs" / run_id / "trajectory.jsonl"
        if not request.repo.is_dir():
            raise ConfigError(f"--repo {request.repo} is not a directory")
        shutil.copytree(request.repo, workspace, symlinks=True)

    try:
        backend: Backend = make_backend(request.model, settings)
    except BackendError as exc:
        return Outcome(EXIT_BACKEND, str(exc))
    sandbox = make_sandbox(settings, workspace)
    if not sandbox.isolated:
        print(
            "trident: note: the local sandbox does not isolate: commands run as you, on this machine "
            "(use --sandbox docker for a container)",
            file=sys.stderr,
        )
    writer = TrajectoryWriter(trajectory, kept=kept if resume is not None else None)
    agent = make_agent(settings, backend, sandbox, writer, test_command=request.test_command)
    opening: list[Event]
    if resume is not None:
        agent.replay(kept)
        opening = [RunResumed(run_id=run_id, after_seq=len(kept) - 1)]
    else:
        opening = [
            RunStart(
                run_id=run_id,
                model=request.model,
                effort_mode=settings.effort.mode,
                tools=agent.tools.names(),
                workspace=str(workspace),
                settings=_recorded(request, settings),
            ),
            SystemMessage(text=system_prompt()),
            UserMessage(text=task_message(request.task, sandbox.workspace, request.test_command)),
        ]
    baseline = next((e for e in kept if isinstance(e, Verification) and e.phase == "baseline"), None)
    end: RunEnd | None = None
    try:
        if resume is None:
            await record_baseline(sandbox)
            if request.test_command:
                baseline = await run_check(sandbox, request.test_command, "baseline")
                opening.append(baseline)
        async for event in agent.run(opening):
            sink(event)
            if isinstance(event, RunEnd):
                end = event
        assert end is not None
        outcome = await _verdict(end, baseline, agent, sink, request, trajectory)
        verdict = Verdict(
            exit_code=outcome.exit_code,
            solved=outcome.exit_code == 0,
            reason=outcome.reason,
            patch_bytes=len(outcome.patch.encode()),
        )
        sink(agent.emit(verdict))
        if end.status == "finished":
            shutil.rmtree(workspace, ignore_errors=True)  # nothing left to resume
        return outcome
    except SandboxError as exc:
        return Outcome(EXIT_SANDBOX, str(exc), trajectory=trajectory)
    finally:
        writer.close()
        await backend.aclose()
        await sandbox.close()


async def _verdict(
    end: RunEnd,
    baseline: Verification | None,
    agent: Agent,
    sink: Callable[[Event], None],
    request: RunRequest,
    trajectory: Path,
) -> Outcome:
    sandbox = agent.context.sandbox
    patch = await export_diff(sandbox)
    if request.patch_out is not None:
        request.patch_out.parent.mkdir(parents=True, exist_ok=True)
        request.patch_out.write_text(patch, encoding="utf-8")
    if end.status != "finished":
        code = _STATUS_EXIT.get(end.status, EXIT_UNSOLVED)
        return Outcome(code, f"{end.status}: {end.reason}", patch, trajectory)
    if request.test_command:
        final = await run_check(sandbox, request.test_command, "final")
        sink(agent.emit(final))
        solved, reason = judge(baseline, final)
    else:
        solved = bool(patch.strip())
        reason = "finished with a patch" if solved else "finished without changing anything"
    if solved and request.apply and patch.strip():
        applied = subprocess.run(
            ["git", "apply", "--binary", "-"], cwd=request.repo, input=patch.encode(), capture_output=True
        )
        if applied.returncode != 0:
            detail = applied.stderr.decode(errors="replace").strip()
            return Outcome(
                EXIT_SANDBOX,
                f"solved, but the patch did not apply to {request.repo}: {detail}",
                patch,
                trajectory,
            )
        reason += f"; applied to {request.repo}"
    return Outcome(EXIT_SOLVED if solved else EXIT_UNSOLVED, reason, patch, trajectory)


def recorded_run(trajectory: Path) -> tuple[RunRequest, Settings]:
    """The request and settings a trajectory was started with (for `--resume`)."""
    try:
        events = load(trajectory)
    except TrajectoryError as exc:
        raise ConfigError(str(exc)) from None
    start = next((e for e in events if isinstance(e, RunStart)), None)
    if start is None or "request" not in start.settings:
        raise ConfigError(f"{trajectory} has no run start record: it cannot be resumed")
    return (
        RunRequest.model_validate(start.settings["request"]),
        Settings.model_validate(start.settings["settings"]),
    )


def _recorded(request: RunRequest, settings: Settings) -> dict[str, Any]:
    return {"request": request.model_dump(mode="json"), "settings": settings.model_dump(mode="json")}
