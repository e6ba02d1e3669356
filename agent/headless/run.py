"""A headless run: copy the repo into a workspace, run the agent, verify, write the patch.

The host repository is only read (copied); every edit and command happens in the workspace through
the sandbox. The workspace lives in the run's directory so a killed run can be resumed. In Docker
the agent works on the container's own size-capped tmpfs copy of it (no host directory is mounted),
and trident pulls what changed back after each step (sandbox/checkpoint.py); `--resume` starts a
fresh container from the last pull, the trajectory cut back to the event it covers.

The verdict is computed where the agent never was: trident records the repository as copied in its
own store beside the workspace (never mounted into a sandbox), takes the patch with its own git on
the host once the agent's sandbox is gone, and runs the tests in fresh sandboxes over clean copies
(agent/headless/verify.py). `--apply` writes only a patch that stays inside the repository and
leaves its `.git` and `.trident.toml` alone (sandbox/workspace.py `unsafe_changes`).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from trident.agent.config import ConfigError, Settings, state_dir
from trident.agent.core.events import (
    Error,
    Event,
    RunEnd,
    RunResumed,
    RunStart,
    StepEnd,
    StepStart,
    SystemMessage,
    ToolCall,
    UserMessage,
    Verdict,
    Verification,
)
from trident.agent.core.messages import Backend, BackendError
from trident.agent.core.trajectory import TrajectoryError, TrajectoryWriter, load, resume_point
from trident.agent.headless.verify import judge, verify_fresh
from trident.agent.loop import Agent
from trident.agent.prompt import system_prompt, task_message
from trident.agent.wiring import make_agent, make_backend, make_sandbox, resolve_sandbox_kind
from trident.sandbox import checkpoint, hostgit
from trident.sandbox.base import SandboxError
from trident.sandbox.client import RunnerSession
from trident.sandbox.workspace import record_baseline, snapshot_baseline, unsafe_changes, workspace_diff

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
    """Run (or resume) the agent on `request`; feed every event to `sink`; return the verdict.

    The run's directory (`state_dir()/runs/<run id>`) holds the workspace (the agent's copy of the
    repository), `baseline.git` (trident's own record of the repository as copied: never mounted
    into a sandbox) and, by default, the trajectory. The workspace and store are kept only while the
    run can be resumed: from its first recorded event until it finishes.
    """
    kept: list[Event] = []
    rerun: list[str] = []
    if resume is not None:
        try:
            recorded = load(resume)
            resume_point(recorded)  # a finished or empty run is refused before anything is touched
        except TrajectoryError as exc:
            raise ConfigError(str(exc)) from None
        start = next(e for e in recorded if isinstance(e, RunStart))
        run_id, workspace = start.run_id, Path(start.workspace)
        trajectory = resume
        if not workspace.is_dir() or not (workspace.parent / STORE).is_dir():
            return Outcome(EXIT_SANDBOX, f"the run's workspace {workspace} is gone; it cannot be resumed")
        try:
            mark = await asyncio.to_thread(checkpoint.recover, workspace.parent, workspace)
            kept = resume_point(_covered(recorded, mark))
        except (SandboxError, TrajectoryError) as exc:
            return Outcome(EXIT_SANDBOX, f"the run's workspace cannot be resumed: {exc}")
        rerun = _rerun_calls(recorded, kept)
    else:
        if not request.repo.is_dir():
            raise ConfigError(f"--repo {request.repo} is not a directory")
        run_id = uuid.uuid4().hex[:12]
        workspace = state_dir() / "runs" / run_id / "workspace"
        trajectory = request.trajectory or workspace.parent / "trajectory.jsonl"
        _claim(trajectory)
    store, scratch = workspace.parent / STORE, workspace.parent / "verify"
    resumable = resume is not None  # the trajectory holds the run's start: it can be resumed
    finished = False
    backend: Backend | None = None
    sandbox: RunnerSession | None = None
    writer: TrajectoryWriter | None = None
    try:
        settings = resolve_sandbox_kind(settings)  # said once, and refused before anything is copied
        if resume is None:
            await asyncio.to_thread(_copy_repo, request.repo, workspace, store)
        try:
            backend = make_backend(request.model, settings)
        except BackendError as exc:
            return Outcome(EXIT_BACKEND, str(exc))
        # Docker: a size-capped tmpfs copy, pulled back to `workspace` after each step (checkpoint)
        sandbox = make_sandbox(settings, workspace, mode="copy")
        pulling = checkpoint.pulls(sandbox)
        if pulling:
            await sandbox.start()
            await checkpoint.start(sandbox)
        writer = TrajectoryWriter(trajectory, kept=kept if resume is not None else None)
        agent = make_agent(
            settings, backend, sandbox, writer, test_command=request.test_command, headless=True
        )
        opening: list[Event]
        if resume is not None:
            agent.replay(kept)
            opening = [RunResumed(run_id=run_id, after_seq=len(kept) - 1, rerun_calls=rerun)]
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
        if resume is None:
            # the agent's own git view (its `git status` starts clean); trident's is `store`
            await record_baseline(sandbox)
            if pulling:
                await _pull(sandbox, workspace, -1, agent, sink)
            if request.test_command:
                baseline = await verify_fresh(settings, store, "", request.test_command, "baseline", scratch)
                opening.append(baseline)
        async for event in agent.run(opening):
            resumable = True
            if pulling and (isinstance(event, StepEnd) or _pull_at_end(event)):
                await _pull(sandbox, workspace, event.seq, agent, sink)
            sink(event)
            if isinstance(event, RunEnd):
                end = event
        assert end is not None
        # the agent's sandbox ends before anything is judged: none of its processes is left to
        # touch the workspace while the diff is taken, and none can reach the verification
        await sandbox.close()
        outcome = await _verdict(end, baseline, agent, sink, request, trajectory, workspace, settings)
        verdict = Verdict(
            exit_code=outcome.exit_code,
            solved=outcome.exit_code == 0,
            reason=outcome.reason,
            patch_bytes=len(outcome.patch.encode("utf-8", "surrogateescape")),
        )
        sink(agent.emit(verdict))
        finished = end.status == "finished"
        return outcome
    except SandboxError as exc:
        return Outcome(EXIT_SANDBOX, str(exc), trajectory=trajectory if resumable else None)
    finally:
        if writer is not None:
            writer.close()
        if backend is not None:
            await backend.aclose()
        if sandbox is not None:
            await sandbox.close()
        if not resumable and resume is None:
            _unclaim(trajectory)
        if finished or not resumable:  # nothing left to resume: no workspace copy left behind
            for path in (workspace, store, scratch):
                shutil.rmtree(path, ignore_errors=True)
            checkpoint.forget(workspace.parent)
            with contextlib.suppress(OSError):
                workspace.parent.rmdir()  # unless it holds the trajectory


STORE = "baseline.git"


async def _pull(
    sandbox: RunnerSession, workspace: Path, seq: int, agent: Agent, sink: Callable[[Event], None]
) -> None:
    """The checkpoint after a step; a pull past its bounds is an `error` event, then ends the run."""
    try:
        await checkpoint.pull(sandbox, workspace.parent, workspace, seq=seq)
    except checkpoint.CheckpointError as exc:
        sink(agent.emit(Error(kind="checkpoint", message=str(exc))))
        raise


def _claim(trajectory: Path) -> None:
    """Create the trajectory file, new: an existing one (another run's) is never appended to."""
    try:
        trajectory.parent.mkdir(parents=True, exist_ok=True)
        with trajectory.open("x", encoding="utf-8"):
            pass
    except FileExistsError:
        raise ConfigError(
            f"--trajectory-out {trajectory} already exists (continue that run with --resume {trajectory}, "
            "or choose another file)"
        ) from None
    except OSError as exc:
        raise ConfigError(f"--trajectory-out {trajectory}: {exc.strerror or exc}") from None


def _unclaim(trajectory: Path) -> None:
    """Remove the trajectory file of a run that never started (nothing was written to it)."""
    with contextlib.suppress(OSError):
        if trajectory.stat().st_size == 0:
            trajectory.unlink()


def _copy_repo(repo: Path, workspace: Path, store: Path) -> None:
    shutil.copytree(repo, workspace, symlinks=True)
    snapshot_baseline(workspace, store)


def _covered(recorded: list[Event], mark: int | None) -> list[Event]:
    """The events whose effects the workspace holds: all of them (bind mode, no checkpoint), or up to
    the checkpoint's `mark` (copy mode); the opening before the first step changes no file."""
    if mark is None:
        return recorded
    first_step = next((i for i, e in enumerate(recorded) if isinstance(e, StepStart)), len(recorded))
    return [e for i, e in enumerate(recorded) if i < first_step or e.seq <= mark]


def _pull_at_end(event: Event) -> bool:
    """A run's end is pulled (its last changes feed the verdict) unless the sandbox is what failed."""
    return isinstance(event, RunEnd) and event.status != "sandbox_error"


def _rerun_calls(recorded: list[Event], kept: list[Event]) -> list[str]:
    """Calls that started (their `tool_call` was recorded) but are dropped from the resume point."""
    dropped = [e.call_id for e in recorded[len(kept) :] if isinstance(e, ToolCall)]
    return list(dict.fromkeys(dropped))


async def _verdict(
    end: RunEnd,
    baseline: Verification | None,
    agent: Agent,
    sink: Callable[[Event], None],
    request: RunRequest,
    trajectory: Path,
    workspace: Path,
    settings: Settings,
) -> Outcome:
    store = workspace.parent / STORE
    patch = await asyncio.to_thread(workspace_diff, workspace, store)  # on the host, with trident's git
    if request.patch_out is not None:
        request.patch_out.parent.mkdir(parents=True, exist_ok=True)
        request.patch_out.write_text(patch, encoding="utf-8", errors="surrogateescape")
    if end.status != "finished":
        code = _STATUS_EXIT.get(end.status, EXIT_UNSOLVED)
        return Outcome(code, f"{end.status}: {end.reason}", patch, trajectory)
    if request.test_command:
        final = await verify_fresh(
            settings, store, patch, request.test_command, "final", workspace.parent / "verify"
        )
        sink(agent.emit(final))
        solved, reason = judge(baseline, final)
    else:
        solved = bool(patch.strip())
        reason = "finished with a patch" if solved else "finished without changing anything"
    if solved and request.apply and patch.strip():
        refused = unsafe_changes(patch)
        if refused:
            return Outcome(
                EXIT_UNSOLVED,
                f"{reason}, but --apply refused the patch: {'; '.join(refused)}; {request.repo} is untouched",
                patch,
                trajectory,
            )
        applied = hostgit.run(
            ["apply", "--binary", "-"], request.repo, input=patch.encode("utf-8", "surrogateescape")
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
