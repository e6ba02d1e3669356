"""/copy and Ctrl+C on a selection put text on the clipboard (OSC 52, and the system's where there is
one); /export writes the conversation as markdown."""

from __future__ import annotations

import base64
from collections.abc import Callable

from textual.selection import Selection
from textual.widgets.text_area import Selection as TextSelection

from tests.chat_helpers import answer, edit_turn
from tests.tui.conftest import SIZE, AppFactory, visible_text
from tests.tui.test_app import idle, type_line
from trident.agent.tui.clipboard import copy_command, copy_to_system
from trident.agent.tui.messages import UserBubble
from trident.agent.tui.prompt_input import PromptInput


async def test_copy_and_export(make_app: AppFactory) -> None:
    app = make_app([edit_turn(), answer("Fixed `add`: it returns a + b.")], mode="full-auto")
    async with app.run_test(size=SIZE) as pilot:
        await type_line(pilot, "/copy")
        assert "no answer to copy yet" in visible_text(app)
        await type_line(pilot, "fix add")
        await idle(pilot)
        written: list[str] = []
        assert app._driver is not None
        app._driver.write = written.append  # type: ignore[method-assign,assignment]
        await type_line(pilot, "/copy")
        assert app.clipboard == "Fixed `add`: it returns a + b."
        osc = base64.b64encode(app.clipboard.encode()).decode()
        assert f"\x1b]52;c;{osc}\a" in written
        assert "copied the last answer (30 characters)" in visible_text(app)
        await type_line(pilot, "/export notes/chat.md")
        assert "not exported" in visible_text(app)  # its directory does not exist
        await type_line(pilot, "/export")
        path = app.session.repo / f"trident-{app.session.run_id}.md"
        assert f"conversation written to {path}" in visible_text(app)
        text = path.read_text()
        assert text.startswith(f"# trident session {app.session.run_id}\n")
        assert "## You\n\nfix add" in text and "## trident\n\nFixed `add`: it returns a + b." in text
        assert "**tool `edit`**" in text and '"old_text": "    return a - b\\n"' in text
        assert "result (ok):" in text and "Edited calc.py" in text


async def test_ctrl_c_copies_a_selection_and_otherwise_keeps_its_meaning(make_app: AppFactory) -> None:
    app = make_app([answer("The answer is forty-two.")], mode="full-auto")
    async with app.run_test(size=SIZE) as pilot:
        await type_line(pilot, "what is it")
        await idle(pilot)
        app.copier = None  # this machine's clipboard command stays out of the test: OSC 52 only
        written: list[str] = []
        assert app._driver is not None
        app._driver.write = written.append  # type: ignore[method-assign,assignment]
        bubble = app.transcript.query_one(UserBubble)
        app.screen.selections = {bubble: Selection(None, None)}  # the whole message, as a mouse drag would
        await pilot.press("ctrl+c")
        assert app.clipboard == "what is it"
        assert f"\x1b]52;c;{base64.b64encode(b'what is it').decode()}\a" in written
        assert not app.screen.selections  # copied: the selection goes
        prompt = app.query_one(PromptInput)
        prompt.value = "a draft to keep"
        prompt.selection = TextSelection((0, 2), (0, 7))
        await pilot.press("ctrl+c")
        assert app.clipboard == "draft" and prompt.text == "a draft to keep"  # copied, not cleared
        prompt.selection = TextSelection.cursor((0, 0))
        await pilot.press("ctrl+c")  # no selection: Ctrl+C keeps its meaning (the draft is cleared)
        assert prompt.text == "" and app.clipboard == "draft"
        await pilot.press("up")
        assert prompt.text == "a draft to keep"


def test_the_system_clipboard_command_by_platform() -> None:
    def everything(name: str) -> str | None:
        return f"/usr/bin/{name}"

    def only(*names: str) -> Callable[[str], str | None]:
        return lambda name: f"/usr/bin/{name}" if name in names else None

    assert copy_command("darwin", {}, everything) == ["pbcopy"]
    assert copy_command("linux", {}, everything) is None  # no display (SSH, a container): OSC 52 only
    assert copy_command("linux", {"WAYLAND_DISPLAY": "wayland-0"}, everything) == ["wl-copy"]
    assert copy_command("linux", {"DISPLAY": ":0"}, only("xsel")) == ["xsel", "--clipboard", "--input"]
    assert copy_command("linux", {"DISPLAY": ":0"}, only()) is None
    assert copy_command("linux", {"WSL_DISTRO_NAME": "Debian"}, everything) == ["clip.exe"]
    assert copy_to_system("x", None) is False
    assert copy_to_system("x", ["false"]) is False
    assert copy_to_system("x", ["cat"]) is True
