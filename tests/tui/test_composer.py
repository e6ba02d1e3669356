"""The composer: multi-line messages, pastes, queued messages, Esc, candidate lists, commands' values."""

from __future__ import annotations

from textual import events

from tests.chat_helpers import answer
from tests.tui.conftest import SIZE, AppFactory, visible_text
from tests.tui.test_app import idle, type_line, until
from trident.agent.config import load_settings
from trident.agent.core.events import UserMessage
from trident.agent.core.trajectory import load
from trident.agent.policies.approval import ApprovalPolicy
from trident.agent.session.chat import ChatSession
from trident.agent.session.input_history import InputHistory
from trident.agent.tui.app import TridentApp
from trident.agent.tui.prompt_input import FOLD_LINES, PromptInput, QueuedView, fuzzy_paths
from trident.sandbox.local import LocalSandbox

FILES = {
    "calc.py": "def add(a, b):\n    return a - b\n",
    "agent/tui/tool_card.py": "",
    "agent/tui/transcript.py": "",
    "tools/edit.py": "",
}
WAIT_FOR_GO = "echo started; while [ ! -f go ]; do sleep 0.05; done; echo done"


def sent(app: TridentApp) -> list[str]:
    """The user messages the model was sent, in order."""
    return [e.text for e in load(app.session.writer.path) if isinstance(e, UserMessage)]


def listed(prompt: PromptInput) -> list[str]:
    """The candidates the list shows (what each would put in the message)."""
    return [item[0] for item in prompt.candidates.items] if prompt.candidates is not None else []


def waiting_command() -> dict[str, object]:
    """A step that runs until the test creates `go` in the repository."""
    return {"tool_calls": [{"name": "bash", "arguments": {"command": WAIT_FOR_GO, "timeout_s": 60}}]}


async def test_newline_keys_and_enter_sends_every_line(make_app: AppFactory) -> None:
    app = make_app([answer("Got three lines.")])
    async with app.run_test(size=SIZE) as pilot:
        prompt = app.query_one(PromptInput)
        await pilot.press("o", "n", "e", "shift+enter", "t", "w", "o", "ctrl+j", "3", "alt+enter", "4")
        await pilot.press(*"\\", "enter", "5")  # `\` then Enter: a newline in any terminal
        assert prompt.text == "one\ntwo\n3\n4\n5" and not app.busy
        await pilot.press("enter")
        await idle(pilot)
        assert sent(app) == ["one\ntwo\n3\n4\n5"] and prompt.text == ""
        assert "one\ntwo\n3\n4\n5" in visible_text(app) and "Got three lines." in visible_text(app)


async def test_a_paste_keeps_every_line_and_a_long_one_is_folded_and_sent_whole(make_app: AppFactory) -> None:
    app = make_app([answer("Read it.")])
    async with app.run_test(size=SIZE) as pilot:
        prompt = app.query_one(PromptInput)
        app.post_message(events.Paste("first line\nsecond line\r\nthird line"))
        await pilot.pause()
        assert prompt.text == "first line\nsecond line\nthird line"
        prompt.value = ""
        app.post_message(events.Paste("one\ntwo"))
        await pilot.pause()
        assert prompt.text == "one\ntwo"  # once
        prompt.value = "look: "
        log = "\n".join(f"log line {i}" for i in range(FOLD_LINES * 5))
        app.post_message(events.Paste(log))
        await pilot.pause()
        assert prompt.text == f"look: [pasted text #1: {FOLD_LINES * 5} lines]"
        await pilot.press("enter")
        await idle(pilot)
        assert sent(app) == [f"look: {log}"]


async def test_history_keys_move_within_a_multi_line_draft_first(make_app: AppFactory) -> None:
    app = make_app([answer()])
    app.history.add("an older message")
    async with app.run_test(size=SIZE) as pilot:
        prompt = app.query_one(PromptInput)
        await pilot.press(*"top", "ctrl+j", *"bottom")
        await pilot.press("up")
        assert prompt.text == "top\nbottom" and prompt.cursor_location[0] == 0  # moved up a line
        await pilot.press("up")
        assert prompt.text == "an older message"  # from the first line: the history
        await pilot.press("down")
        assert prompt.text == ""


async def test_a_message_typed_while_a_step_runs_is_queued_and_sent_after(make_app: AppFactory) -> None:
    app = make_app([waiting_command(), answer("First done."), answer("Second done.")], mode="full-auto")
    async with app.run_test(size=SIZE) as pilot:
        await type_line(pilot, "first")
        await until(pilot, lambda: "started" in visible_text(app), "the command to run")
        await type_line(pilot, "second, draft")
        prompt = app.query_one(PromptInput)
        assert app.queued == ["second, draft"] and prompt.text == ""  # kept, not rejected
        assert "queued: second, draft" in str(app.query_one(QueuedView).content)
        await pilot.press("up")  # an empty line: the queued message comes back to be edited
        assert prompt.text == "second, draft" and app.queued == []
        prompt.value = "second"
        await pilot.press("enter")
        assert app.queued == ["second"]
        (app.session.repo / "go").write_text("")
        await until(pilot, lambda: "Second done." in visible_text(app), "the queued message's answer")
        await idle(pilot)
        assert sent(app) == ["first", "second"] and not app.queued
        assert not app.query_one(QueuedView).display


async def test_a_queued_message_can_be_dropped(make_app: AppFactory) -> None:
    app = make_app([waiting_command(), answer("First done.")], mode="full-auto")
    async with app.run_test(size=SIZE) as pilot:
        await type_line(pilot, "first")
        await until(pilot, lambda: "started" in visible_text(app), "the command to run")
        await type_line(pilot, "never mind this")
        await pilot.press("up")
        app.query_one(PromptInput).value = ""  # taken back and cleared: not sent
        (app.session.repo / "go").write_text("")
        await idle(pilot)
        assert sent(app) == ["first"]


async def test_esc_cancels_the_step_and_never_erases_the_draft(make_app: AppFactory) -> None:
    app = make_app([waiting_command(), answer("Stopped.")], mode="full-auto")
    async with app.run_test(size=SIZE) as pilot:
        prompt = app.query_one(PromptInput)
        await pilot.press(*"half typed")
        await pilot.press("escape")  # nothing runs: the draft stays
        assert prompt.text == "half typed"
        prompt.value = ""
        await type_line(pilot, "first")
        await until(pilot, lambda: "started" in visible_text(app), "the command to run")
        await type_line(pilot, "queued one")
        await pilot.press(*"a draft")
        await pilot.press("escape")  # cancels the step; the queued message comes back, the draft stays
        await idle(pilot)
        assert "✗ interrupted" in visible_text(app)
        assert prompt.text == "queued one\n\na draft" and not app.queued and sent(app) == ["first"]


async def test_path_candidates_are_a_fuzzy_list(make_app: AppFactory) -> None:
    app = make_app([answer()], files=FILES)
    async with app.run_test(size=SIZE) as pilot:
        prompt = app.query_one(PromptInput)
        await pilot.press(*"see @tool_c")
        await pilot.pause()
        assert listed(prompt)[0] == "@agent/tui/tool_card.py"
        assert prompt.candidate_list.display and prompt.text == "see @tool_c"  # no ghost text
        await pilot.press("tab")
        assert prompt.text == "see @agent/tui/tool_card.py" and prompt.candidates is None
        prompt.value = ""
        await pilot.press(*"@tui")
        await pilot.pause()
        assert listed(prompt)[:2] == [
            "@agent/tui/tool_card.py",
            "@agent/tui/transcript.py",
        ]
        await pilot.press("down", "enter")  # the arrow picks, Enter takes it (and does not send)
        assert prompt.text == "@agent/tui/transcript.py" and not app.busy
        await pilot.press(*" and @edt")
        await pilot.pause()
        assert listed(prompt)[0] == "@tools/edit.py"
        await pilot.press("escape")  # closes the list; the draft stays
        assert prompt.candidates is None and prompt.text == "@agent/tui/transcript.py and @edt"


def test_fuzzy_order() -> None:
    files = ["agent/tui/tool_card.py", "tests/test_tool_calls.py", "tools/card.py", "docs/tui.md"]
    assert fuzzy_paths("tool_c", files)[:2] == ["agent/tui/tool_card.py", "tests/test_tool_calls.py"]
    assert fuzzy_paths("tcard", files) == ["tools/card.py", "agent/tui/tool_card.py"]  # fewer gaps first
    assert fuzzy_paths("zzz", files) == []


async def test_command_candidates_list_every_match(make_app: AppFactory) -> None:
    app = make_app([answer()])
    async with app.run_test(size=SIZE) as pilot:
        prompt = app.query_one(PromptInput)
        await pilot.press("/", "c")
        await pilot.pause()
        assert listed(prompt) == ["/clear", "/compact", "/copy"]
        await pilot.press("down", "tab")
        assert prompt.text == "/compact"
        prompt.value = ""
        await pilot.press("/", "m")
        await pilot.pause()
        assert listed(prompt) == ["/model ", "/mode "]


async def test_effort_and_mode_without_an_argument_show_the_value(make_app: AppFactory) -> None:
    app = make_app([answer()], mode="auto-edit")
    async with app.run_test(size=SIZE) as pilot:
        await type_line(pilot, "/effort")
        assert "reasoning effort: none (mode auto" in visible_text(app)
        await type_line(pilot, "/mode")
        assert "approval mode: auto-edit (edits run without asking, commands ask first" in visible_text(app)
        assert "usage:" not in visible_text(app)


async def test_tab_moves_the_focus_and_typing_brings_it_back(make_app: AppFactory) -> None:
    app = make_app([answer("\n\n".join(f"paragraph {i}" for i in range(60)))], mode="full-auto")
    async with app.run_test(size=SIZE) as pilot:
        prompt = app.query_one(PromptInput)
        await type_line(pilot, "a long answer")
        await idle(pilot)
        prompt.value = "draft"
        await pilot.press("tab")  # no candidate to take: the focus moves on, the draft stays
        view = app.transcript
        assert app.focused is view and prompt.text == "draft"
        await pilot.press("tab")  # round the focus chain, back to the message box
        assert prompt.has_focus
        await pilot.press("tab")
        assert app.focused is view
        bottom = view.scroll_y
        await pilot.press("up", "up")  # the keys act on what has the focus: the conversation scrolls
        assert view.scroll_y < bottom and prompt.text == "draft"
        await pilot.press(*" more")  # typing goes back to the message box, every key of it
        assert prompt.has_focus and prompt.text == "draft more"
        await pilot.press("ctrl+home")
        assert view.scroll_y == 0 and prompt.has_focus
        await pilot.press("ctrl+end")
        await pilot.pause(0.1)
        assert view.scroll_y == view.max_scroll_y


async def test_a_draft_and_queued_messages_survive_a_crash(make_app: AppFactory) -> None:
    app = make_app([waiting_command(), answer("First done."), answer("Later.")], mode="full-auto")
    async with app.run_test(size=SIZE) as pilot:
        await type_line(pilot, "first")
        await until(pilot, lambda: "started" in visible_text(app), "the command to run")
        await type_line(pilot, "queued behind it")
        await pilot.press(*"half a thought")
        saved = app.session.writer.path.parent / "draft.txt"
        expected = "queued behind it\n\nhalf a thought"
        await until(pilot, lambda: saved.exists() and saved.read_text() == expected, "the draft on disk")
        # what a crash now leaves: the trajectory and the draft beside it
        trajectory, repo = app.session.writer.path, app.session.repo
        (repo / "go").write_text("")
    resumed, unsent = ChatSession.resume(
        trajectory, load_settings(repo), repo, app.session.model, LocalSandbox(repo), ApprovalPolicy("ask")
    )
    again = TridentApp(resumed, history=InputHistory(), clock=lambda: 0.0, unsent="\n".join(unsent))
    async with again.run_test(size=SIZE) as pilot:
        prompt = again.query_one(PromptInput)
        assert prompt.text.endswith("half a thought") and "queued behind it" in prompt.text
        assert "the text you had not sent is back in the message box" in visible_text(again)
        prompt.clear_message()
        await type_line(pilot, "sent now")
        assert not (resumed.writer.path.parent / "draft.txt").exists()  # sent: no draft left to restore


async def test_enter_right_after_the_last_letter_of_a_command_sends_it(make_app: AppFactory) -> None:
    """Keys typed fast reach the composer before the change messages of the keys before them: Enter
    then took the list made for `/qui` and completed `/quit` into `/quitt` (seen in a real terminal)."""
    app = make_app([answer()])
    async with app.run_test(size=SIZE) as pilot:
        prompt = app.query_one(PromptInput)
        await pilot.press(*"/sandbo")
        await pilot.pause()
        assert listed(prompt) == ["/sandbox"]
        prompt.post_message(events.Key("x", "x"))  # both queued before the composer sees the first
        prompt.post_message(events.Key("enter", "\r"))
        await pilot.pause()
        assert prompt.text == ""  # sent as typed, not completed again
        await until(pilot, lambda: "sandbox: local" in visible_text(app), "the command to answer")
