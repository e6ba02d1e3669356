"""An interactive session: one conversation across many user turns, on top of `trident.agent.loop.Agent`.

Each user message runs the loop until the model answers without a tool call (a `run_end` per
turn); the next message continues on the same state and trajectory. The session adds what a person
at the keyboard needs and a headless run does not: approvals before edits and commands, effort and
model switches, `/undo`, `/compact` (a summary by the model, `session/compact.py`), and a clean stop when a
step is cancelled (the open step is closed in the trajectory, so the conversation stays valid and
resumable). Switches and compactions are events too: `/resume` rebuilds all of it.

No UI here: the TUI (agent/tui/) drives it, and tests drive it directly.
"""

from __future__ import annotations

import asyncio
import html
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from trident.agent.config import ConfigError, Settings, state_dir
from trident.agent.core.events import (
    Approval,
    AssistantTurn,
    CallPreview,
    Compaction,
    EffortChange,
    EffortMode,
    Event,
    ModelChange,
    RunEnd,
    RunStart,
    StepEnd,
    StepStart,
    SystemMessage,
    TextDelta,
    ToolCall,
    ToolResult,
    UserMessage,
)
from trident.agent.core.messages import Backend, BackendError
from trident.agent.core.trajectory import TrajectoryError, TrajectoryWriter, load
from trident.agent.loop import Agent
from trident.agent.policies.approval import ApprovalPolicy, call_kind
from trident.agent.prompt import run_context, system_prompt
from trident.agent.session.agents_md import AgentsFile, find_agents_files, with_agents_files
from trident.agent.session.compact import compact
from trident.agent.session.draft import load_draft, save_draft
from trident.agent.session.export import export_markdown, last_answer
from trident.agent.session.preview import Preview, preview
from trident.agent.session.saved import chat_resume_point, session_model
from trident.agent.session.test_command import detect_test_command
from trident.agent.session.undo import UndoJournal
from trident.agent.wiring import make_agent, make_backend
from trident.sandbox.base import ExecResult, Sandbox
from trident.tools.base import Toolset

SHELL_OUTPUT_LIMIT = 16 * 1024  # of a `!cmd`'s output, as the model is given it (head and tail)
INTERRUPTED = "[interrupted by the user]"
CUT = "[cut short: the model's server failed before the answer was complete]"
Sink = Callable[[Event], None]


@dataclass(frozen=True)
class Decision:
    """The user's answer to an approval prompt."""

    answer: Literal["yes", "always", "no"]
    reason: str = ""


Asker = Callable[[ToolCall], Awaitable[Decision]]


async def _always_yes(call: ToolCall) -> Decision:
    return Decision("yes")


@dataclass
class ChatSession:
    """One conversation. Create with `ChatSession.start` or `ChatSession.resume`."""

    settings: Settings
    repo: Path
    model: str
    sandbox: Sandbox
    backend: Backend
    agent: Agent
    writer: TrajectoryWriter
    approvals: ApprovalPolicy
    agents_files: list[AgentsFile]
    ask: Asker = _always_yes
    journal: UndoJournal = field(default_factory=UndoJournal)
    notes: list[str] = field(default_factory=list)  # told to the model with the next user message
    shell_runs: list[str] = field(default_factory=list)  # `!cmd`s and their output: with the next message
    on_output: Callable[[str, str], None] | None = None  # (call id, text): a command's live output
    previews: dict[str, Preview] = field(default_factory=dict)  # what each call will do (diff, command)
    resumed: list[Event] = field(default_factory=list)  # what `resume` rebuilt the session from
    test_source: Literal["configured", "detected", ""] = ""  # where the test command came from
    last_tests: ToolResult | None = None  # the last test run of the current (or last) turn
    _sink: Sink | None = None
    _running_call: str | None = None
    _step_open: bool = False
    _partial: list[str] = field(default_factory=list)  # text streamed in the open step

    # -- construction ------------------------------------------------------------------------
    @classmethod
    def _build(
        cls,
        settings: Settings,
        repo: Path,
        model: str,
        sandbox: Sandbox,
        approvals: ApprovalPolicy,
        trajectory: Path,
        kept: list[Event] | None,
        backend: Backend | None,
        tools: Toolset | None,
    ) -> ChatSession:
        source: Literal["configured", "detected", ""] = "configured" if settings.test_command else ""
        if not settings.test_command:
            detected = detect_test_command(repo)
            if detected:
                settings, source = settings.model_copy(update={"test_command": detected}), "detected"
        backend = backend or make_backend(model, settings)
        writer = TrajectoryWriter(trajectory, kept=kept)
        agent = make_agent(
            settings, backend, sandbox, writer, test_command=settings.test_command, tools=tools
        )
        session = cls(
            settings=settings,
            repo=repo.resolve(),
            model=model,
            sandbox=sandbox,
            backend=backend,
            agent=agent,
            writer=writer,
            approvals=approvals,
            agents_files=find_agents_files(repo, Path.cwd()),
            test_source=source,
        )
        session.journal.repo = session.repo
        agent.approver = session._approve
        agent.context.on_output = session._live_output
        return session

    @classmethod
    def start(
        cls,
        settings: Settings,
        repo: Path,
        model: str,
        sandbox: Sandbox,
        approvals: ApprovalPolicy,
        *,
        backend: Backend | None = None,
        tools: Toolset | None = None,
        run_id: str | None = None,
    ) -> ChatSession:
        """A new conversation; its run start and system prompt are written at once."""
        run_id = run_id or uuid.uuid4().hex[:12]
        trajectory = state_dir() / "runs" / run_id / "trajectory.jsonl"
        session = cls._build(settings, repo, model, sandbox, approvals, trajectory, None, backend, tools)
        prompt = with_agents_files(system_prompt(), session.agents_files, session.repo)
        prompt += "\n\n" + run_context(sandbox.workspace, settings.test_command)
        for event in (
            RunStart(
                run_id=run_id,
                model=model,
                effort_mode=settings.effort.mode,
                tools=session.agent.tools.names(),
                workspace=sandbox.workspace,
                settings={
                    "chat": True,
                    "repo": str(session.repo),
                    "settings": settings.model_dump(mode="json"),
                },
            ),
            SystemMessage(text=prompt),
        ):
            session.agent.emit(event)
        return session

    @classmethod
    def resume(
        cls,
        trajectory: Path,
        settings: Settings,
        repo: Path,
        model: str,
        sandbox: Sandbox,
        approvals: ApprovalPolicy,
        *,
        backend: Backend | None = None,
        tools: Toolset | None = None,
    ) -> tuple[ChatSession, list[str]]:
        """A saved conversation, continued on the model it was last on; also the user messages of a
        turn cut short (to retype). `model` and `backend` are the caller's: used when the saved
        session was on the same model, or when its own cannot be loaded (then a recorded switch says
        so). The events it was rebuilt from are `session.resumed`."""
        kept, unsent = chat_resume_point(load(trajectory))
        saved = session_model(kept) or model
        fallback: ModelChange | None = None
        if saved != model:
            try:
                backend = make_backend(saved, settings)
            except (ConfigError, BackendError) as exc:
                fallback = ModelChange(previous=saved, model=model, reason=f"{saved} cannot be loaded: {exc}")
        chosen = model if fallback is not None else saved
        session = cls._build(settings, repo, chosen, sandbox, approvals, trajectory, kept, backend, tools)
        try:
            session.agent.replay(kept)
        except TrajectoryError:  # e.g. a compaction that does not fit the history before it
            session.close()
            raise
        session.resumed = kept
        if fallback is not None:
            session.resumed = [*kept, session.agent.emit(fallback)]
        return session, unsent

    # -- a user turn -------------------------------------------------------------------------
    async def send(self, text: str, sink: Sink) -> RunEnd | None:
        """Run one user turn to its end; every event goes to `sink`. Cancelling it closes the step."""
        context = ["\n".join(f"[note: {n}]" for n in self.notes)] if self.notes else []
        text = "\n\n".join([*context, *self.shell_runs, text])
        self.notes.clear()
        self.shell_runs.clear()
        self._sink = sink
        self.last_tests = None
        self._extend_budgets()
        end: RunEnd | None = None
        try:
            async for event in self.agent.run([UserMessage(text=text)]):
                self._see(event)
                if isinstance(event, RunEnd):
                    end = event
            if end is not None and end.status == "backend_error":
                self._close_failed_step()
        except asyncio.CancelledError:
            self._close_interrupted()
            raise
        finally:
            self._sink = None
        return end

    def _extend_budgets(self) -> None:
        """Budgets count per user turn: a long session is not stopped by its earlier turns."""
        limits, base = self.agent.policies.limits, self.settings.limits
        limits.max_steps = self.agent.state.step + base.max_steps
        limits.format_error_streak = 0
        if base.max_tokens is not None:
            limits.max_tokens = limits.tokens + base.max_tokens
        if base.timeout_s is not None:
            limits.timeout_s = limits.elapsed_s() + base.timeout_s

    def _see(self, event: Event) -> None:
        if isinstance(event, StepStart):
            self._step_open, self._partial = True, []
        elif isinstance(event, StepEnd):
            self._step_open = False
        elif isinstance(event, TextDelta):
            self._partial.append(event.text)
        elif isinstance(event, ToolCall):
            self._running_call = event.call_id
        elif isinstance(event, ToolResult):
            self._running_call = None
            self.journal.after_call(event.call_id, event.ok)
            if event.name == "run_tests" and event.error_kind not in ("denied", "interrupted"):
                self.last_tests = event
        if self._sink is not None:
            self._sink(event)

    def tests_failed(self) -> str | None:
        """After a turn: the verdict line of its last test run when that run failed (whatever the
        model's answer says), else None."""
        if self.last_tests is None or self.last_tests.ok:
            return None
        lines = self.last_tests.output.strip().splitlines()
        return lines[0] if lines else "the tests failed"

    def _live_output(self, text: str) -> None:
        if self.on_output is not None and self._running_call is not None:
            self.on_output(self._running_call, text)

    def _close_failed_step(self) -> None:
        """The model's server failed mid-step: a partial answer is kept, marked cut (the model sees it
        so when the conversation goes on); with nothing of an answer, the step just ends, failed."""
        if "".join(self._partial).strip():
            self._close_interrupted(CUT)
        elif self._step_open:
            self._see(self.agent.emit(StepEnd(step=self.agent.state.step + 1, failures=["backend error"])))

    def _close_interrupted(self, marker: str = INTERRUPTED) -> None:
        """Close the open step: a cut answer keeps its text (and `marker`, so the model and the user know it
        is not whole), unfinished calls get an 'interrupted' result."""
        if not self._step_open:
            return
        state = self.agent.state
        if state.pending_turn is None:
            partial = "".join(self._partial).strip()
            self._see(self.agent.emit(AssistantTurn(content=f"{partial}\n{marker}".strip())))
        turn = state.pending_turn
        assert turn is not None
        for call in turn.tool_calls:
            if call.id not in state.done_calls:
                self._see(
                    self.agent.emit(
                        ToolResult(
                            call_id=call.id,
                            name=call.name,
                            output=f"{INTERRUPTED}: the call was stopped or never ran",
                            ok=False,
                            error_kind="interrupted",
                        )
                    )
                )
        self._see(self.agent.emit(StepEnd(step=state.step + 1)))

    async def _approve(self, call: ToolCall) -> Approval | None:
        kind = call_kind(self.agent.tools, call.name, call.arguments)
        if kind != "read":
            found = await preview(call.name, call.arguments, self.sandbox, self.agent.context.test_command)
            if found is not None:  # an event: a resumed session's cards show it too
                self.previews[call.call_id] = found
                shown = CallPreview(
                    call_id=call.call_id, name=call.name, diff=found.diff, command=found.command
                )
                self._see(self.agent.emit(shown))
        if self.approvals.needs_approval(call.name, kind, call.arguments):
            decision = await self.ask(call)
            rule = ""
            if decision.answer == "always":
                rule = self.approvals.allow_for_session(call.name, call.arguments)
            approval = Approval(
                call_id=call.call_id,
                name=call.name,
                allowed=decision.answer != "no",
                scope="session" if decision.answer == "always" else "once",
                rule=rule,
                reason=decision.reason,
            )
        else:
            approval = None
        if approval is None or approval.allowed:
            await self.journal.before_call(call.call_id, call.name, call.arguments, self.agent.context)
        return approval

    # -- commands ----------------------------------------------------------------------------
    async def shell(self, command: str, on_output: Callable[[str], None] | None = None) -> ExecResult:
        """`!cmd`: the user's own command, in the sandbox's shell (the model's: a `cd` stays), without
        asking the model or the user. Its output is shown, and given to the model with the next user
        message (a `<user-shell>` block before it), as Claude Code and Codex do; a cancelled one is not."""
        result = await self.sandbox.exec(
            command,
            timeout=self.agent.context.command_timeout_s,
            limit=SHELL_OUTPUT_LIMIT,
            on_output=on_output,
        )
        output = result.output.rstrip().replace("</user-shell>", "<\\/user-shell>")  # it ends only at its end
        exit_code = result.exit_code if not result.timed_out else "timeout"
        self.shell_runs.append(
            f'<user-shell command="{html.escape(command)}" exit="{exit_code}">\n{output}\n</user-shell>'
        )
        return result

    def set_effort(self, mode: EffortMode) -> EffortChange | None:
        """`/effort`: the user's choice; recorded in the trajectory when the effort changes."""
        change = self.agent.policies.effort.override(mode)
        if change is None:
            return None
        emitted = self.agent.emit(change)
        assert isinstance(emitted, EffortChange)
        return emitted

    async def set_model(self, spec: str) -> ModelChange:
        """`/model SPEC`: the next model turn goes to this backend, recorded for `/resume` (a bad spec
        raises, nothing changes)."""
        backend = make_backend(spec, self.settings)
        change = self.agent.emit(ModelChange(previous=self.model, model=spec))
        assert isinstance(change, ModelChange)
        old, self.backend, self.agent.backend, self.model = self.backend, backend, backend, spec
        await old.aclose()
        return change

    async def compact(self) -> Compaction:
        """`/compact`: the model summarises the conversation, which then holds the system prompt, the
        first task, the summary and the recent turns (`CompactionError`: unchanged)."""
        return await compact(self.agent, self.settings.compact.keep_turns)

    async def undo(self) -> str:
        """`/undo`: trident's last edit or commit in this session; the model is told with the next message."""
        answer = await self.journal.undo(self.agent.context)
        if not answer.startswith("nothing to undo"):
            self.notes.append(f"the user undid your last change ({answer})")
        return answer

    async def diff(self) -> str:
        """`/diff`: the working tree against HEAD, new files included (empty: no change)."""
        script = (
            "git rev-parse --is-inside-work-tree >/dev/null 2>&1 "
            "|| { echo 'not a git repository'; exit 3; }; "
            "git -c core.quotepath=off --no-pager diff --no-color HEAD 2>/dev/null "
            "|| git --no-pager diff --no-color; "
            "git ls-files --others --exclude-standard -z | "
            "xargs -0 -r -n1 git --no-pager diff --no-color --no-index /dev/null 2>/dev/null; true"
        )
        result = await self.sandbox.exec(script, timeout=60, cwd=self.sandbox.workspace, limit=512 * 1024)
        return result.output

    def export(self, path: Path | None = None) -> Path:
        """`/export [PATH]`: the conversation as markdown, written on the host (default: in the
        repository, `trident-<id>.md`; a relative PATH is taken from the repository). OSError: not written."""
        target = path if path is not None else Path(f"trident-{self.run_id}.md")
        target = target if target.is_absolute() else self.repo / target
        target.write_text(
            export_markdown(self.writer.path, f"trident session {self.run_id}"), encoding="utf-8"
        )
        return target

    def save_draft(self, text: str) -> None:
        """What the message box holds unsent, kept beside the trajectory (OSError: not saved)."""
        save_draft(self.writer.path.parent, text)

    def draft(self) -> str:
        """The unsent text saved last (a resumed session puts it back in the message box)."""
        return load_draft(self.writer.path.parent)

    def last_answer(self) -> str | None:
        """`/copy`: the model's last answer with text."""
        return last_answer(load(self.writer.path))

    @property
    def run_id(self) -> str:
        return self.agent.state.run_id

    def close(self) -> None:
        """Close the trajectory. The sandbox and backend belong to the caller (a new session reuses them)."""
        self.writer.close()
