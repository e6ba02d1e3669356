"""The full-screen app: a transcript, the message line and the status bar, around one `ChatSession`.

The agent loop runs in a Textual worker, so the UI stays live while a step (a test suite in the
sandbox, a slow model) runs; Esc or Ctrl+C cancels that worker's step, and the app stays. What is
typed meanwhile is queued and sent when the turn ends (a cancelled turn puts it back in the composer).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.timer import Timer
from textual.worker import Worker, WorkerCancelled, WorkerFailed, WorkerState

from trident.agent.config import MODES, ConfigError
from trident.agent.core.events import (
    AssistantTurn,
    Compaction,
    EffortMode,
    Event,
    ReasoningDelta,
    StepEnd,
    StepStart,
    TextDelta,
    ToolCall,
    ToolResult,
)
from trident.agent.core.messages import BackendError
from trident.agent.core.trajectory import TrajectoryError
from trident.agent.history import CompactionError
from trident.agent.policies.approval import call_kind
from trident.agent.policies.masking import estimate_tokens
from trident.agent.session import mentions
from trident.agent.session.chat import INTERRUPTED, ChatSession, Decision
from trident.agent.session.input_history import InputHistory
from trident.agent.session.saved import resumable
from trident.agent.tui import clipboard, commands
from trident.agent.tui.approval_screen import ApprovalScreen
from trident.agent.tui.diff_view import render_diff
from trident.agent.tui.messages import AssistantText
from trident.agent.tui.prompt_input import Composer, PromptInput
from trident.agent.tui.resume_screen import ResumeScreen
from trident.agent.tui.status_bar import Status, StatusBar
from trident.agent.tui.todo_panel import TodoPanel
from trident.agent.tui.tool_card import ToolCard
from trident.agent.tui.transcript import Transcript
from trident.sandbox.base import SandboxError

EFFORTS: tuple[EffortMode, ...] = ("none", "high", "auto")
BUSY_REFUSED = {"diff", "undo", "clear", "resume", "compact"}  # queued until the step ends
CHARS_PER_TOKEN = 4  # the status bar's estimate of output tokens while a turn streams
DRAFT_SAVE_S = 0.3  # after the last keystroke, the message box's text is saved (a crash keeps it)
LONG_TURN_S = 10.0  # a turn this long ends with a terminal notification when the terminal is not focused
HANGUP_SIGNALS = (signal.SIGHUP, signal.SIGTERM)
HANGUP_EXIT = 129
HANGUP_GRACE_S = 3.0  # for the orderly stop (the step closed in the trajectory) before the sandbox goes


def sandbox_label(kind: str, network: bool) -> str:
    if kind == "docker":
        return "docker, network on" if network else "docker, no network"
    return "local, not isolated"


# What the approval mode means, as the start notice says it.
ASKS = {
    "ask": "edits and commands ask first",
    "auto-edit": "edits run without asking, commands ask first",
    "full-auto": "full-auto: edits and commands run without asking, /mode ask to review each one",
}


class TridentApp(App[None]):
    TITLE = "trident"
    CSS = """
    Screen { layout: vertical; }
    #prompt { border: round $accent 60%; background: $background; }
    #prompt:focus { border: round $accent; }
    """
    BINDINGS = [  # noqa: RUF012
        Binding("escape", "interrupt", "cancel step", show=False),
        Binding("ctrl+c", "interrupt_or_clear", "cancel step", show=False, priority=True),
        Binding("pageup", "scroll_transcript(-1)", "scroll up", show=False, priority=True),
        Binding("pagedown", "scroll_transcript(1)", "scroll down", show=False, priority=True),
        Binding("ctrl+end", "follow", "newest output", show=False, priority=True),
        Binding("ctrl+home", "scroll_home", "oldest output", show=False, priority=True),
        Binding("ctrl+o", "toggle_output", "unfold output", show=False, priority=True),
        Binding("shift+tab", "cycle_mode", "approval mode", show=False, priority=True),
        Binding("ctrl+q", "quit", "quit", show=False, priority=True),
    ]

    def __init__(
        self,
        session: ChatSession,
        *,
        history: InputHistory | None = None,
        clock: Callable[[], float] = time.monotonic,
        unsent: str = "",
        pick_session: bool = False,
    ) -> None:
        super().__init__()
        self.pick_session = pick_session  # `trident chat --resume` without an id: the picker at start
        self.history = history or InputHistory()
        self.clock = clock
        self.started = clock()
        self.unsent = unsent
        self.turn: Worker[None] | None = None
        self._draft_timer: Timer | None = None
        self.queued: list[str] = []  # typed while a step runs: sent when it ends
        self.notifications: list[str] = []  # sent to the terminal (bell and OSC 9) while not focused
        self.current_step: int | None = None  # the step that is running
        self.streamed_chars = 0  # of the model turn streaming now (the status bar's token estimate)
        self.context_used = 0  # the conversation's tokens, as the model counted its last turn, else estimated
        self.context_length: int | None = None  # the model's context window, once the backend said
        self._closing = False
        self._released = False
        self._hangup_task: asyncio.Task[None] | None = None
        self.copier = clipboard.copy_command(sys.platform, os.environ)  # besides OSC 52, where there is one
        self.transcript = Transcript()
        self.todo = TodoPanel()
        self.status_bar = StatusBar()
        self._adopt(session)

    def _adopt(self, session: ChatSession) -> None:
        """Make `session` the app's: its approvals and live output come here."""
        self.session = session
        session.ask, session.on_output = self._ask, self._on_output

    # -- layout ------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield self.transcript
        yield self.todo
        yield Composer(self.history, self.session.repo)
        yield self.status_bar

    @property
    def prompt(self) -> PromptInput:
        return self.query_one(PromptInput)

    async def on_mount(self) -> None:
        if self.session.resumed:  # `--continue` / `--resume ID`: the saved conversation first
            self._show_resumed(self.session)
        self._welcome()
        if self.pick_session:
            await self.cmd_resume("")
        prompt = self.prompt
        prompt.take_queued = self.take_queued
        prompt.value = self._unsent(self.unsent, self.session)
        prompt.focus()
        self.refresh_status()
        self.set_interval(1.0, self.refresh_status)
        self.learn_context_length()
        loop = asyncio.get_running_loop()
        for signum in HANGUP_SIGNALS:  # the terminal closed, or a kill: stop and clean up at once
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signum, self._hang_up)

    def _hang_up(self) -> None:
        if not self._closing:
            self._hangup_task = asyncio.get_running_loop().create_task(self._shut_down_then_exit())

    async def _shut_down_then_exit(self) -> None:
        """SIGHUP/SIGTERM: the running command is stopped and the sandbox (its container) removed
        before anything is drawn again (the terminal may be gone), then the process ends. Textual's
        own exit restores a terminal that may no longer exist (it was seen spinning for an hour on
        a closed tty), so a hang-up ends the process outright once the app had its chance."""
        try:
            await asyncio.wait_for(self.release(), timeout=HANGUP_GRACE_S)
        except Exception:  # the orderly release did not finish in time: the sandbox goes anyway
            with contextlib.suppress(Exception):
                await self.session.sandbox.close()
        ender = threading.Timer(HANGUP_GRACE_S, os._exit, args=(HANGUP_EXIT,))
        ender.daemon = True
        ender.start()
        self.exit(return_code=HANGUP_EXIT)

    async def on_unmount(self) -> None:
        await self.release()

    async def release(self) -> None:
        """The app owns the session's resources: the trajectory, the model backend, the sandbox.
        Released once (on exit, or at once on a hang-up)."""
        self._closing = True
        if self._released:
            return
        self._released = True
        if self.turn is not None and self.turn.is_running:  # its step is closed in the trajectory first
            self.turn.cancel()
            with contextlib.suppress(WorkerCancelled, WorkerFailed):
                await self.turn.wait()
        self.save_draft()
        self.session.close()
        try:
            await self.session.sandbox.close()
        finally:
            await self.session.backend.aclose()

    def _welcome(self) -> None:
        s = self.session
        lines = Text.assemble(
            ("trident", "bold"),
            f" in {s.repo.name}/ · {len(s.agents_files)} AGENTS.md file(s)"
            " · /help for commands, keys and modes",
        )
        self.transcript.notice(lines)
        command = s.agent.context.test_command
        if command:
            how = "detected from the repository's layout" if s.test_source == "detected" else "configured"
            self.transcript.notice(f"tests: {command} ({how}; --test-cmd sets another)")
        else:
            self.transcript.notice("no test command found (--test-cmd CMD sets one)")
        if (
            s.approvals.mode == "full-auto"
            and s.settings.sandbox.kind == "docker"
            and not s.settings.sandbox.network
        ):
            self.transcript.notice(
                "full-auto: the Docker sandbox has no network, so edits and commands run without asking "
                "(/mode ask to review each one)",
                "good",
            )
        elif not s.sandbox.isolated:
            self.transcript.notice(
                "the local sandbox does not isolate: commands run as you on this machine; "
                f"{ASKS[s.approvals.mode]} (--sandbox docker for a container)"
            )

    @property
    def busy(self) -> bool:
        return self.turn is not None and self.turn.is_running

    def status(self) -> Status:
        s = self.session
        state, effort = s.agent.state, s.agent.policies.effort
        return Status(
            model=s.model,
            sandbox=sandbox_label(s.settings.sandbox.kind, s.settings.sandbox.network),
            mode=s.approvals.mode,
            effort=effort.current,
            effort_mode=effort.mode,
            step=self.current_step if self.current_step is not None else state.step,
            tokens_in=state.input_tokens,
            tokens_out=state.output_tokens,
            streaming_out=-(-self.streamed_chars // CHARS_PER_TOKEN),
            context_used=self.context_used or estimate_tokens(state.messages),  # before a turn: estimated
            context_length=self.context_length,
            elapsed_s=self.clock() - self.started,
            busy=self.busy,
        )

    def refresh_status(self) -> None:
        self.status_bar.show(self.status())

    def learn_context_length(self) -> None:
        """The model's context window, from its backend (a server may be asked: not on the UI's time)."""

        async def ask() -> None:
            backend = self.session.backend
            with contextlib.suppress(BackendError):
                length = await backend.context_length()
                if backend is self.session.backend:
                    self.context_length = length
                    self.refresh_status()

        self.run_worker(ask(), group="context", exclusive=True)

    def count_context(self, event: Event) -> None:
        """The context the conversation fills: a model turn's own count (what it read and wrote), else
        the estimate; a compaction's size after it."""
        if isinstance(event, AssistantTurn):
            usage = event.usage.input_tokens + event.usage.output_tokens
            self.context_used = usage or estimate_tokens(self.session.agent.state.messages)
        elif isinstance(event, Compaction):
            self.context_used = event.tokens_after

    # -- input -------------------------------------------------------------------------------
    async def on_prompt_input_submitted(self, event: PromptInput.Submitted) -> None:
        text = event.value.strip()
        if not text:
            return
        event.input.clear_message()
        self.save_draft()  # at once: a crash now must not bring a sent message back as a draft
        self.history.add(text)
        await self.submit(text)

    async def submit(self, text: str) -> None:
        """A message, a command or a `!cmd`, as if typed now: while a step runs, a message (or a
        command that must wait, or a `!cmd`) is queued."""
        if text.startswith("!"):
            if not text[1:].strip():
                self.transcript.notice("usage: !COMMAND runs it in the sandbox; the model sees its output")
            elif self.busy:
                self.queued.append(text)
                self._show_queue()
            else:
                self.run_shell(text[1:].strip())
            return
        try:
            parsed = commands.parse(text)
        except commands.CommandError as exc:
            self.transcript.notice(str(exc), "error")
            return
        if self.busy and (parsed is None or _waits(*parsed)):
            self.queued.append(text)
            self._show_queue()
        elif parsed is not None:
            await self.run_command(*parsed)
        else:
            self.send(text)

    def _show_queue(self) -> None:
        self.query_one(Composer).queued.show_queue(self.queued)
        self.on_text_area_changed()

    def on_text_area_changed(self, event: object = None) -> None:
        """The message box changed: its text is saved (a moment later, once typing pauses)."""
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._draft_timer = self.set_timer(DRAFT_SAVE_S, self.save_draft)

    def save_draft(self) -> None:
        """The unsent text (queued messages, then the box's), beside the session's trajectory."""
        try:
            text = "\n\n".join([*self.queued, self.prompt.message()])
        except NoMatches:  # the screen is gone already: what was saved last stays
            return
        with contextlib.suppress(OSError):
            self.session.save_draft(text)

    def _unsent(self, cut: str, session: ChatSession) -> str:
        """What goes back in the box of a resumed session: the messages a crash cut, then its draft."""
        draft = session.draft() if session.resumed else ""
        if draft.strip():
            self.transcript.notice("the text you had not sent is back in the message box")
        return "\n\n".join(part for part in (cut, draft) if part.strip())

    def take_queued(self) -> str | None:
        """Up on an empty composer: the last queued message comes back to be edited (or dropped)."""
        if not self.queued:
            return None
        text = self.queued.pop()
        self._show_queue()
        return text

    async def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self.turn or self._closing:
            return
        if event.state == WorkerState.CANCELLED and self.queued:
            draft = self.prompt.message().strip()
            self.prompt.value = "\n\n".join([*self.queued, *([draft] if draft else [])])
            self.queued.clear()
            self._show_queue()
            self.transcript.notice("the queued message is back in the composer: Enter sends it")
        elif event.state in (WorkerState.SUCCESS, WorkerState.ERROR):
            while self.queued and not self.busy:
                text = self.queued.pop(0)
                self._show_queue()
                await self.submit(text)

    def send(self, text: str) -> None:
        self.turn = self.run_worker(self._turn(text), group="turn", exclusive=True)
        self.refresh_status()

    def run_shell(self, command: str) -> None:
        """`!cmd`: shown as a card with its live output; Esc stops it like a step."""
        card = ToolCard(f"shell-{len(self.transcript.cards)}", "shell", {"command": command})
        card.border_title = "• ! your command"
        self.transcript.cards[card.call_id] = card
        self.transcript.add(card)
        self.turn = self.run_worker(self._shell(command, card), group="turn", exclusive=True)
        self.refresh_status()

    async def _shell(self, command: str, card: ToolCard) -> None:
        def ended(output: str, ok: bool, kind: str | None = None) -> ToolResult:
            return ToolResult(call_id=card.call_id, name="shell", output=output, ok=ok, error_kind=kind)

        try:
            result = await self.session.shell(command, card.add_live_output)
        except asyncio.CancelledError:
            card.set_result(ended(f"{INTERRUPTED}: the command was stopped", False, "interrupted"))
            raise
        except SandboxError as exc:
            self.transcript.notice(f"sandbox error: {exc}", "error")
            return
        finally:
            self.call_later(self.refresh_status)
        status = "timeout" if result.timed_out else f"exit {result.exit_code}"
        ok = result.exit_code == 0 and not result.timed_out
        card.set_result(ended(f"{status}\n{result.output}".rstrip(), ok, None if ok else status))
        self.transcript.notice("its output goes to the model with your next message")

    def notify_terminal(self, message: str) -> None:
        """A desktop notification where the terminal turns OSC 9 into one (iTerm2, kitty, WezTerm,
        Windows Terminal...), and the bell (tmux and the rest flag the window)."""
        self.notifications.append(message)
        driver = self._driver
        if driver is not None:
            clean = "".join(ch for ch in message if ch.isprintable())[:200]
            driver.write(f"\x1b]9;{clean}\x07\x07")

    def _turn_ended(self, started: float, how: str) -> None:
        seconds = self.clock() - started
        if seconds >= LONG_TURN_S and not self.app_focus:
            self.notify_terminal(f"trident: {how} after {seconds:.0f}s in {self.session.repo.name}")

    async def _turn(self, text: str) -> None:
        started, how = self.clock(), "the turn ended"
        try:
            message, _ = await mentions.attach(text, self.session.sandbox)  # @path files, read in the sandbox
            await self.session.send(message, self._on_event)
            failed = self.session.tests_failed()
            if failed is not None:
                self.transcript.notice(f"✗ the last test run of this turn did not pass: {failed}", "error")
                how = "the turn ended, tests failing"
        except asyncio.CancelledError:
            how = "the step was cancelled"
            if self.transcript.is_attached and not self._closing:
                self.transcript.notice("interrupted: the step was stopped; the conversation goes on", "error")
            raise
        except SandboxError as exc:
            how = "the turn stopped on a sandbox error"
            self.transcript.notice(f"sandbox error: {exc}", "error")
        finally:
            if not self._closing:
                self._turn_ended(started, how)
            self.current_step, self.streamed_chars = None, 0
            self.call_later(self.refresh_status)

    def _on_event(self, event: Event) -> None:
        if isinstance(event, StepStart):
            self.current_step, self.streamed_chars = event.step, 0
        elif isinstance(event, (TextDelta, ReasoningDelta)):
            self.streamed_chars += len(event.text)
        elif isinstance(event, AssistantTurn):
            self.streamed_chars = 0  # its usage is counted now
        elif isinstance(event, StepEnd):
            self.current_step = None
        self.count_context(event)
        self.transcript.show(event)
        self.todo.see(event)
        self.refresh_status()

    def _on_output(self, call_id: str, text: str) -> None:
        card = self.transcript.cards.get(call_id)
        if card is not None:
            card.add_live_output(text)

    async def _ask(self, call: ToolCall) -> Decision:
        answered: asyncio.Future[Decision] = asyncio.get_running_loop().create_future()

        def done(decision: Decision | None) -> None:
            if not answered.done():
                answered.set_result(decision or Decision("no"))

        kind = call_kind(self.session.agent.tools, call.name, call.arguments)
        if not self.app_focus:
            self.notify_terminal(
                f"trident: waiting for your approval ({call.name}) in {self.session.repo.name}"
            )
        screen = ApprovalScreen(call, kind, self.session.previews.get(call.call_id))
        self.push_screen(screen, callback=done)
        try:
            return await answered
        except asyncio.CancelledError:
            if screen.is_current:
                screen.dismiss(None)
            raise

    # -- keys --------------------------------------------------------------------------------
    def action_interrupt(self) -> None:
        """Esc: cancel the running step. It never touches the composer (the candidate list closes
        before this is reached)."""
        if self.busy and self.turn is not None:
            self.turn.cancel()
        else:
            self.notify("nothing is running · Ctrl+Q or /quit leaves", timeout=3)

    def action_interrupt_or_clear(self) -> None:
        """Ctrl+C: copy the selection when there is one (in the conversation, or in the message box);
        else cancel the running step; with nothing running, clear the message (into the input
        history, so Up brings it back)."""
        prompt = self.prompt
        selected = self.screen.get_selected_text() or (prompt.selected_text if prompt.has_focus else "")
        if selected:
            self.screen.clear_selection()
            self.notify(f"copied {len(selected)} characters ({self.copy_text(selected)})", timeout=3)
        elif self.busy:
            self.action_interrupt()
        elif prompt.text.strip():
            self.history.add(prompt.message())
            prompt.clear_message()
        else:
            self.notify("nothing is running · Ctrl+Q or /quit leaves", timeout=3)

    def action_scroll_transcript(self, direction: int) -> None:
        if direction < 0:
            self.transcript.scroll_page_up()
        else:
            self.transcript.scroll_page_down()

    def action_follow(self) -> None:
        self.transcript.follow()

    def action_scroll_home(self) -> None:
        self.transcript.scroll_home(animate=False)  # a user scroll: the view stops following

    def on_key(self, event: events.Key) -> None:
        """Typing while the focus is elsewhere (Tab moved it to the conversation): the keys go to
        the message box, and the focus with them."""
        prompt = self.prompt
        main = self.screen is self.screen_stack[0]
        if event.is_printable and event.character and main and not prompt.has_focus:
            event.stop()
            prompt.focus()
            prompt.insert(event.character)

    def copy_text(self, text: str) -> str:
        """`text` to the clipboard: OSC 52 (the terminal copies it, over SSH too, when it allows it)
        and the system's copy command where there is one; says where it went."""
        self.copy_to_clipboard(text)
        if clipboard.copy_to_system(text, self.copier):
            return "system clipboard"
        return "OSC 52: the terminal must allow it; in tmux, set-clipboard on"

    def action_toggle_output(self) -> None:
        """Ctrl+O: unfold (or fold) the newest long tool output."""
        card = next((c for c in reversed(self.transcript.cards.values()) if c.expandable), None)
        if card is None:
            self.notify("no long tool output to unfold", timeout=3)
        else:
            card.toggle()

    def action_cycle_mode(self) -> None:
        mode = self.session.approvals.cycle()
        self.transcript.notice(f"approval mode: {mode}")
        self.refresh_status()

    # -- slash commands ----------------------------------------------------------------------
    async def run_command(self, command: commands.Command, arg: str) -> None:
        if self.busy and command.name in BUSY_REFUSED:
            self.transcript.notice(f"/{command.name} waits until the step ends (Esc cancels it)", "error")
            return
        handler = getattr(self, f"cmd_{command.name}")
        await handler(arg)
        self.refresh_status()

    async def cmd_help(self, arg: str) -> None:
        files = [str(f.path) for f in self.session.agents_files]
        self.transcript.add(AssistantText(commands.help_text(files, self.session.approvals.mode)))

    async def cmd_model(self, arg: str) -> None:
        if not arg:
            self.transcript.notice(f"model: {self.session.model}  (/model SPEC switches)")
            return
        if self.busy:  # the running step streams from the current backend: it is closed on a switch
            self.transcript.notice("/model SPEC waits until the step ends (Esc cancels it)", "error")
            return
        try:
            change = await self.session.set_model(arg)
        except (BackendError, ConfigError) as exc:
            self.transcript.notice(f"model unchanged: {exc}", "error")
            return
        self.transcript.show(change)
        self.learn_context_length()

    async def cmd_effort(self, arg: str) -> None:
        effort = self.session.agent.policies.effort
        if not arg:
            self.transcript.notice(
                f"reasoning effort: {effort.current} (mode {effort.mode}; /effort none|high|auto sets it)",
                "effort",
            )
            return
        if arg not in EFFORTS:
            self.transcript.notice("usage: /effort none|high|auto", "error")
            return
        change = self.session.set_effort(arg)
        if change is not None:
            self.transcript.show(change)
        else:
            self.transcript.notice(f"reasoning effort mode {arg}; effort stays {effort.current}", "effort")

    async def cmd_mode(self, arg: str) -> None:
        if not arg:
            mode = self.session.approvals.mode
            self.transcript.notice(
                f"approval mode: {mode} ({ASKS[mode]}; /mode ask|auto-edit|full-auto sets it)"
            )
            return
        if arg not in MODES:
            self.transcript.notice("usage: /mode ask|auto-edit|full-auto", "error")
            return
        self.session.approvals.mode = arg
        self.transcript.notice(f"approval mode: {arg}")

    async def cmd_diff(self, arg: str) -> None:
        diff = await self.session.diff()
        if not diff.strip():
            self.transcript.notice("no changes against HEAD")
        else:
            self.transcript.notice(render_diff(diff, max_lines=400))

    async def cmd_undo(self, arg: str) -> None:
        self.transcript.notice(await self.session.undo())

    async def cmd_clear(self, arg: str) -> None:
        old = self.session
        self._adopt(
            ChatSession.start(
                old.settings, old.repo, old.model, old.sandbox, old.approvals, backend=old.backend
            )
        )
        old.close()
        self.transcript.clear()
        self.todo.set_items([])
        self.started, self.context_used = self.clock(), 0
        self._welcome()
        self.transcript.notice("a new conversation; the previous one is saved (/resume)")

    async def cmd_compact(self, arg: str) -> None:
        self.transcript.notice("compacting: the model summarises the conversation… (Esc cancels)")
        self.turn = self.run_worker(self._compact(), group="turn", exclusive=True)
        self.refresh_status()

    async def _compact(self) -> None:
        try:
            compaction = await self.session.compact()
            self.count_context(compaction)
            self.transcript.show(compaction)
        except CompactionError as exc:
            self.transcript.notice(f"context unchanged: {exc}", "error")
        except asyncio.CancelledError:
            if self.transcript.is_attached and not self._closing:
                self.transcript.notice("compaction cancelled: the context is unchanged", "error")
            raise
        finally:
            self.call_later(self.refresh_status)

    async def cmd_resume(self, arg: str) -> None:
        found = [s for s in resumable(self.session.repo) if s.run_id != self.session.run_id]
        if not found:
            self.transcript.notice("no saved session of this repository to resume")
            return
        self.push_screen(ResumeScreen(found), callback=self._resume)

    async def _resume(self, path: Path | None) -> None:
        if path is None:
            return
        old = self.session
        try:
            session, unsent = ChatSession.resume(
                path, old.settings, old.repo, old.model, old.sandbox, old.approvals, backend=old.backend
            )
        except TrajectoryError as exc:
            self.transcript.notice(f"cannot resume: {exc}", "error")
            return
        old.close()
        if session.backend is not old.backend:  # the saved session continues on its own model
            await old.backend.aclose()
        self._adopt(session)
        self.transcript.clear()
        self.todo.set_items([])
        self.context_used = 0
        self._show_resumed(session)
        self.learn_context_length()
        self.prompt.value = self._unsent("\n".join(unsent), session)
        if unsent:
            self.transcript.notice("the last message was cut short by a crash: it is back in the input line")
        self.refresh_status()

    def _show_resumed(self, session: ChatSession) -> None:
        for event in session.resumed:
            self.count_context(event)
            self.transcript.show(event)
            self.todo.see(event)
        self.transcript.notice(f"resumed session {session.run_id} on {session.model}", "good")

    async def cmd_copy(self, arg: str) -> None:
        text = self.session.last_answer()
        if text is None:
            self.transcript.notice("no answer to copy yet")
            return
        where = self.copy_text(text)
        self.transcript.notice(f"copied the last answer ({len(text)} characters) to the clipboard ({where})")

    async def cmd_export(self, arg: str) -> None:
        try:
            path = self.session.export(Path(arg).expanduser() if arg else None)
        except OSError as exc:
            self.transcript.notice(f"not exported: {exc}", "error")
            return
        self.transcript.notice(f"conversation written to {path}", "good")

    async def cmd_sandbox(self, arg: str) -> None:
        s = self.session
        box = s.settings.sandbox
        image = f" · image {box.image or 'trident base (offline)'}" if box.kind == "docker" else ""
        isolation = "isolated" if s.sandbox.isolated else "NOT isolated: commands run as you on this machine"
        self.transcript.notice(
            f"sandbox: {sandbox_label(box.kind, box.network)}{image} · {isolation}"
            f" · workspace {s.sandbox.workspace}"
        )

    async def cmd_quit(self, arg: str) -> None:
        self.exit()


def _waits(command: commands.Command, arg: str) -> bool:
    """Whether a command typed while a step runs waits for its end (a model switch does; showing the
    model does not)."""
    return command.name in BUSY_REFUSED or (command.name == "model" and bool(arg))
