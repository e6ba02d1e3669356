"""The TUI driven by Textual's Pilot against scripted sessions: every command and approval path."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from tests.chat_helpers import answer, edit_turn
from tests.tui.conftest import SIZE, AppFactory, visible_text
from trident.agent.config import ApprovalMode
from trident.agent.core.events import Approval, Compaction, ToolResult
from trident.agent.core.messages import Message
from trident.agent.core.trajectory import load
from trident.agent.tui.app import TridentApp
from trident.agent.tui.approval_screen import ApprovalScreen
from trident.agent.tui.prompt_input import PromptInput
from trident.agent.tui.resume_screen import ResumeScreen

FIXED = "def add(a, b):\n    return a + b\n"
BROKEN = "def add(a, b):\n    return a - b\n"


async def type_line(pilot: Pilot[None], text: str) -> None:
    prompt = pilot.app.query_one(PromptInput)
    prompt.value = text  # the cursor goes to the end
    await pilot.press("enter")
    await pilot.pause()


async def until(pilot: Pilot[None], condition: object, what: str, tries: int = 200) -> None:
    for _ in range(tries):
        if callable(condition) and condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what}; screen says:\n{visible_text(pilot.app)}")  # type: ignore[arg-type]


async def ask_approval(pilot: Pilot[None], message: str) -> None:
    """Send `message`; the model's first call is one that asks."""
    await type_line(pilot, message)
    await until(pilot, lambda: isinstance(pilot.app.screen, ApprovalScreen), "the approval prompt")


async def idle(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, TridentApp)
    await until(pilot, lambda: not app.busy, "the turn to end")
    await pilot.pause(0.2)


async def test_a_turn_with_an_approved_edit(make_app: AppFactory) -> None:
    app = make_app([edit_turn(), answer("Fixed `add`.")])
    async with app.run_test(size=SIZE) as pilot:
        await ask_approval(pilot, "fix add in @calc.py")
        await pilot.press("y")
        await idle(pilot)
        assert (app.session.repo / "calc.py").read_text() == FIXED
        text = visible_text(app)
        assert "fix add in @calc.py" in text and "+ calc.py attached" in text
        assert "Fixed `add`." in text and "+    return a + b" in text and "allowed by you" in text
        status = str(app.status_bar.content)
        assert "step 2" in status and "effort none" in status and "ask" in status


async def test_always_this_session_then_no_more_prompts(make_app: AppFactory) -> None:
    second = edit_turn("    return a + b\n", "    return b + a\n")
    app = make_app([edit_turn(), second, answer()])
    async with app.run_test(size=SIZE) as pilot:
        await ask_approval(pilot, "fix add")
        await pilot.press("a")
        await idle(pilot)
        approvals = [e for e in load(app.session.writer.path) if isinstance(e, Approval)]
        assert [a.scope for a in approvals] == ["session"]
        assert (app.session.repo / "calc.py").read_text().endswith("return b + a\n")


def prompt_text(app: TridentApp) -> str:
    assert isinstance(app.screen, ApprovalScreen)
    return "\n".join(str(widget.content) for widget in app.screen.query(Static))


def bash_turn(command: str) -> dict[str, object]:
    return {"tool_calls": [{"name": "bash", "arguments": {"command": command}}]}


async def test_always_for_a_command_allows_that_exact_command_only(make_app: AppFactory) -> None:
    app = make_app([bash_turn("echo one"), bash_turn("echo one"), bash_turn("echo two"), answer()])
    async with app.run_test(size=SIZE) as pilot:
        await ask_approval(pilot, "look around")
        assert "always this exact command this session" in prompt_text(app)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, ApprovalScreen), "the prompt for `echo two`")
        assert "bash  echo two" in prompt_text(app)
        await pilot.press("y")
        await idle(pilot)
        events = load(app.session.writer.path)
        approvals = [e for e in events if isinstance(e, Approval)]
        assert [(a.scope, a.rule) for a in approvals] == [("session", "bash= echo one"), ("once", "")]
        ran = [e.output for e in events if isinstance(e, ToolResult) and e.ok]
        assert len(ran) == 3 and ran[1] == ran[0]  # `echo one` again, unasked


async def test_no_with_a_reason_is_told_to_the_model(make_app: AppFactory) -> None:
    app = make_app([edit_turn(), answer("Understood.")])
    async with app.run_test(size=SIZE) as pilot:
        await ask_approval(pilot, "fix add")
        await pilot.press("n")
        await pilot.press(*"keep it")
        await pilot.press("enter")
        await idle(pilot)
        assert (app.session.repo / "calc.py").read_text() == BROKEN
        denied = next(e for e in load(app.session.writer.path) if isinstance(e, ToolResult))
        assert denied.error_kind == "denied" and "keep it" in denied.output
        assert "denied by you: keep it" in visible_text(app)


async def test_escape_at_the_prompt_says_no(make_app: AppFactory) -> None:
    app = make_app([edit_turn(), answer()])
    async with app.run_test(size=SIZE) as pilot:
        await ask_approval(pilot, "fix add")
        await pilot.press("escape")
        await idle(pilot)
        assert (app.session.repo / "calc.py").read_text() == BROKEN
        assert "denied by you" in visible_text(app)


async def test_escape_cancels_a_running_command_and_the_app_goes_on(make_app: AppFactory) -> None:
    sleep = {"tool_calls": [{"name": "bash", "arguments": {"command": "sleep 300"}}]}
    app = make_app([sleep, answer("Stopped, as you asked.")], mode="full-auto")
    async with app.run_test(size=SIZE) as pilot:
        await type_line(pilot, "wait a while")
        await until(pilot, lambda: "running…" in visible_text(app), "the command to start")
        await pilot.press("escape")
        await idle(pilot)
        assert "interrupted: the step was stopped" in visible_text(app)
        assert "✗ interrupted" in visible_text(app)
        await type_line(pilot, "ok, continue")
        await idle(pilot)
        assert "Stopped, as you asked." in visible_text(app)


async def test_ctrl_c_cancels_the_step_while_the_model_streams(make_app: AppFactory) -> None:
    slow = {"content": " ".join(f"word{i}" for i in range(200)), "delay": 0.02}
    app = make_app([slow])
    async with app.run_test(size=SIZE) as pilot:
        await type_line(pilot, "talk")
        await until(pilot, lambda: "word5" in visible_text(app), "streaming")
        await pilot.press("ctrl+c")
        await idle(pilot)
        assert not app.busy and app.is_running
        last = app.session.agent.state.messages[-1]
        assert last.role == "assistant" and "[interrupted by the user]" in last.content
        await pilot.press(*"abc")
        await pilot.press("ctrl+c")  # nothing runs: it clears the line
        assert app.query_one(PromptInput).value == ""


async def test_shift_tab_and_mode_command_switch_approvals(make_app: AppFactory) -> None:
    app = make_app([answer()])
    async with app.run_test(size=SIZE) as pilot:
        modes = []
        await pilot.press("shift+tab")
        modes.append(app.session.approvals.mode)
        await type_line(pilot, "/mode full-auto")
        modes.append(app.session.approvals.mode)
        assert "full-auto" in str(app.status_bar.content)
        await type_line(pilot, "/mode sometimes")
        modes.append(app.session.approvals.mode)
        assert modes == ["auto-edit", "full-auto", "full-auto"] and "usage: /mode" in visible_text(app)


async def test_help_lists_commands_and_agents_files(make_app: AppFactory, tmp_path: Path) -> None:
    app = make_app([answer()], files={"calc.py": BROKEN, "AGENTS.md": "Use tabs.\n"})
    async with app.run_test(size=SIZE) as pilot:
        await type_line(pilot, "/help")
        text = visible_text(app)
        for name in (
            "/help",
            "/model",
            "/effort",
            "/diff",
            "/undo",
            "/clear",
            "/compact",
            "/resume",
            "/sandbox",
        ):
            assert name in text
        assert (
            str(tmp_path / "repo" / "AGENTS.md") in text
            and "Use tabs." in app.session.agent.state.messages[0].content
        )
        await type_line(pilot, "/nonsense")
        assert "unknown command /nonsense" in visible_text(app)


async def test_effort_command(make_app: AppFactory) -> None:
    app = make_app([answer()])
    async with app.run_test(size=SIZE) as pilot:
        await type_line(pilot, "/effort high")
        assert app.session.agent.policies.effort.current == "high"
        assert "effort high (high)" in str(app.status_bar.content)
        assert "reasoning effort none → high: set to high by the user" in visible_text(app)
        await type_line(pilot, "/effort loud")
        assert "usage: /effort none|high|auto" in visible_text(app)
        await type_line(pilot, "/effort auto")
        assert app.session.agent.policies.effort.mode == "auto"


async def test_model_command(make_app: AppFactory, tmp_path: Path) -> None:
    app = make_app([answer()])
    other = tmp_path / "other.jsonl"
    other.write_text('{"content": "From the other model."}\n')
    async with app.run_test(size=SIZE) as pilot:
        await type_line(pilot, "/model")
        assert f"model: {app.session.model}" in visible_text(app)
        await type_line(pilot, "/model nonsense:spec")
        assert "model unchanged" in visible_text(app)
        await type_line(pilot, f"/model scripted:{other}")
        assert app.session.model == f"scripted:{other}" and "other.jsonl" in str(app.status_bar.content)
        await type_line(pilot, "hello")
        await idle(pilot)
        assert "From the other model." in visible_text(app)


@pytest.mark.slow
async def test_model_switch_waits_until_the_step_ends(make_app: AppFactory, tmp_path: Path) -> None:
    slow = {"content": " ".join(f"word{i}" for i in range(400)), "delay": 0.02}
    app = make_app([slow])
    model = app.session.model
    other = tmp_path / "other.jsonl"
    other.write_text('{"content": "From the other model."}\n')
    async with app.run_test(size=SIZE) as pilot:
        await type_line(pilot, "talk")
        await until(pilot, lambda: "word5" in visible_text(app), "streaming")
        await type_line(pilot, f"/model scripted:{other}")
        assert app.queued == [f"/model scripted:{other}"] and app.session.model == model  # queued
        await type_line(pilot, "/model")  # showing it is fine
        assert f"model: {model}" in visible_text(app)
        await idle(pilot)
        assert "word399" in visible_text(app)  # the stream was not cut
        assert app.session.model == f"scripted:{other}" and not app.queued  # switched once it ended


async def test_diff_and_undo_commands(make_app: AppFactory) -> None:
    app = make_app([edit_turn(), answer()], mode="full-auto")
    async with app.run_test(size=SIZE) as pilot:
        await type_line(pilot, "/diff")
        await until(pilot, lambda: "no changes against HEAD" in visible_text(app), "an empty diff")
        await type_line(pilot, "fix add")
        await idle(pilot)
        await type_line(pilot, "/diff")
        await until(pilot, lambda: "+++ b/calc.py" in visible_text(app), "the diff")
        await type_line(pilot, "/undo")
        await until(pilot, lambda: "undid `edit`" in visible_text(app), "the undo")
        assert (app.session.repo / "calc.py").read_text() == BROKEN
        await type_line(pilot, "/undo")
        await until(pilot, lambda: "nothing to undo" in visible_text(app), "nothing left to undo")


async def test_clear_sandbox_and_quit(make_app: AppFactory) -> None:
    app = make_app([answer("First answer."), answer("Second answer.")])
    async with app.run_test(size=SIZE) as pilot:
        await type_line(pilot, "hello")
        await idle(pilot)
        first_run = app.session.run_id
        await type_line(pilot, "/clear")
        assert app.session.run_id != first_run and "First answer." not in visible_text(app)
        assert [m.role for m in app.session.agent.state.messages] == ["system"]
        await type_line(pilot, "/sandbox")
        assert "sandbox: local, not isolated" in visible_text(app)
        await type_line(pilot, "/quit")
        await pilot.pause()
    assert app.return_code == 0 and not app.is_running


async def test_resume_picks_a_saved_session(make_app: AppFactory) -> None:
    app = make_app([answer("Remember the number 7."), answer("It was 7.")])
    async with app.run_test(size=SIZE) as pilot:
        await type_line(pilot, "remember a number")
        await idle(pilot)
        await type_line(pilot, "/resume")
        assert "no saved session" in visible_text(app)  # only the current one exists
        await type_line(pilot, "/clear")
        await type_line(pilot, "/resume")
        await until(pilot, lambda: isinstance(app.screen, ResumeScreen), "the session list")
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert "remember a number" in visible_text(app) and "Remember the number 7." in visible_text(app)
        await type_line(pilot, "which number?")
        await idle(pilot)
        assert "It was 7." in visible_text(app)


async def resume_newest(pilot: Pilot[None]) -> None:
    """/resume the newest saved session other than the current one."""
    app = pilot.app
    assert isinstance(app, TridentApp)
    await type_line(pilot, "/resume")
    await until(pilot, lambda: isinstance(app.screen, ResumeScreen), "the session list")
    await pilot.press("enter")
    await until(pilot, lambda: "resumed session" in visible_text(app), "the resumed session")


SUMMARY = "The user said first, second and third; each was answered."


async def converse(pilot: Pilot[None], *messages: str) -> list[Message]:
    """Send each message and wait for its turn to end; the history the model holds then."""
    for text in messages:
        await type_line(pilot, text)
        await idle(pilot)
    app = pilot.app
    assert isinstance(app, TridentApp)
    return list(app.session.agent.state.messages)


@pytest.mark.slow
async def test_compact_summarises_and_a_resumed_session_goes_on_from_it(make_app: AppFactory) -> None:
    turns = [answer("One."), answer("Two."), answer("Three."), answer(SUMMARY), answer("Four.")]
    app = make_app(turns)
    app.session.settings.compact.keep_turns = 1
    async with app.run_test(size=SIZE) as pilot:
        before = await converse(pilot, *("first", "second", "third"))
        await type_line(pilot, "/compact")
        await idle(pilot)
        assert "context compacted" in visible_text(app) and SUMMARY in visible_text(app)
        compacted = app.session.agent.state.messages
        assert len(compacted) == 5 < len(before) == 7
        assert [m.content for m in compacted if m.role == "assistant"] == ["Three."]
        assert SUMMARY in compacted[2].content and compacted[2].role == "user"
        await type_line(pilot, "/clear")
        await resume_newest(pilot)
        assert app.session.agent.state.messages == compacted
        assert "context compacted" in visible_text(app) and SUMMARY in visible_text(app)
        await type_line(pilot, "fourth")
        await idle(pilot)
        assert "Four." in visible_text(app)  # the scripted line after the summary: no turn asked twice


async def test_compact_keeps_the_history_when_the_model_fails(make_app: AppFactory) -> None:
    app = make_app([answer("One."), answer("Two.")])  # no line left for a summary
    app.session.settings.compact.keep_turns = 1
    async with app.run_test(size=SIZE) as pilot:
        before = await converse(pilot, *("first", "second"))
        await type_line(pilot, "/compact")
        await idle(pilot)
        assert "context unchanged: the model could not summarise" in visible_text(app)
        assert app.session.agent.state.messages == before
        app.session.settings.compact.keep_turns = 4  # both turns are kept: nothing would go
        await type_line(pilot, "/compact")
        await idle(pilot)
        assert "context unchanged: nothing to compact yet" in visible_text(app)


async def test_escape_cancels_a_compaction(make_app: AppFactory) -> None:
    slow = {"content": "A summary that takes its time to come.", "delay": 0.5}
    app = make_app([answer("One."), answer("Two."), slow])
    app.session.settings.compact.keep_turns = 1
    async with app.run_test(size=SIZE) as pilot:
        before = await converse(pilot, *("first", "second"))
        await type_line(pilot, "/compact")
        assert app.busy
        await pilot.press("escape")
        await idle(pilot)
        assert "compaction cancelled: the context is unchanged" in visible_text(app)
        assert app.session.agent.state.messages == before
        assert not any(isinstance(e, Compaction) for e in load(app.session.writer.path))


async def test_resume_continues_on_the_switched_model(make_app: AppFactory, tmp_path: Path) -> None:
    app = make_app([answer("From the first model.")])
    first = app.session.model
    other = tmp_path / "other.jsonl"
    other.write_text('{"content": "Other, first."}\n{"content": "Other, second."}\n')
    async with app.run_test(size=SIZE) as pilot:
        await type_line(pilot, f"/model scripted:{other}")
        await type_line(pilot, "hello")
        await idle(pilot)
        await type_line(pilot, "/clear")
        await type_line(pilot, f"/model {first}")  # the app is back on the first model
        assert app.session.model == first
        await resume_newest(pilot)
        assert app.session.model == f"scripted:{other}" and "other.jsonl" in str(app.status_bar.content)
        await type_line(pilot, "again")
        await idle(pilot)
        assert "Other, second." in visible_text(app)


@pytest.mark.slow
async def test_path_completion_and_history(make_app: AppFactory) -> None:
    app = make_app([answer()])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"look at @cal")
        await pilot.pause(0.2)
        await pilot.press("tab")
        prompt = app.query_one(PromptInput)
        assert prompt.value == "look at @calc.py"
        await pilot.press("enter")
        await idle(pilot)
        sent = next(m for m in app.session.agent.state.messages if m.content.startswith("look at"))
        assert f'<file path="calc.py">\n{BROKEN}' in sent.content  # attached, read through the sandbox
        await pilot.press(*"/ef")
        await pilot.pause(0.2)
        await pilot.press("tab")
        assert prompt.value == "/effort "
        prompt.value = ""
        await pilot.press("up")
        assert prompt.value == "look at @calc.py"
        await pilot.press("down")
        assert prompt.value == ""
        await asyncio.sleep(0)


async def test_a_running_command_shows_live_output(make_app: AppFactory) -> None:
    handshake = "echo compiling; echo ready; while [ ! -f go ]; do sleep 0.05; done; echo finished"
    call = {"tool_calls": [{"name": "bash", "arguments": {"command": handshake, "timeout_s": 60}}]}
    app = make_app([call, answer("Built.")], mode="full-auto")
    async with app.run_test(size=SIZE) as pilot:
        await type_line(pilot, "build it")
        await until(pilot, lambda: "compiling\nready" in visible_text(app), "live output in the card")
        assert app.busy and "running…" in visible_text(app)
        (app.session.repo / "go").write_text("")
        await idle(pilot)
        assert "exit code 0\ncompiling\nready\nfinished" in visible_text(app) and "Built." in visible_text(
            app
        )


@pytest.mark.parametrize(
    ("mode", "said", "not_said"),
    [
        ("ask", "edits and commands ask first", "without asking"),
        ("auto-edit", "edits run without asking, commands ask first", "edits and commands ask"),
        ("full-auto", "edits and commands run without asking", "ask first"),
    ],
)
async def test_the_start_notice_says_what_the_mode_does(
    make_app: AppFactory, mode: ApprovalMode, said: str, not_said: str
) -> None:
    app = make_app([answer("Hi.")], mode=mode)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = visible_text(app)
        assert "the local sandbox does not isolate" in text
        assert said in text and not_said not in text
