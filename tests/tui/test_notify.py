"""A terminal notification (OSC 9 and the bell) when a long turn ends, or a prompt waits, while the
terminal is not focused; none while it is, or for a short turn."""

from __future__ import annotations

from pathlib import Path

from tests.chat_helpers import answer, chat_session, edit_turn
from tests.tui.conftest import SIZE
from tests.tui.test_app import idle, type_line, until
from trident.agent.session.input_history import InputHistory
from trident.agent.tui.app import TridentApp
from trident.agent.tui.approval_screen import ApprovalScreen


def app_with_clock(tmp_path: Path, turns: list[dict[str, object]], step_s: float) -> TridentApp:
    now = [0.0]

    def clock() -> float:  # each reading is `step_s` later: every turn takes a while
        now[0] += step_s
        return now[0]

    session = chat_session(tmp_path, turns, mode="full-auto")
    return TridentApp(session, history=InputHistory(), clock=clock)


async def test_a_long_turn_ending_while_unfocused_notifies(tmp_path: Path) -> None:
    app = app_with_clock(tmp_path, [answer("first"), answer("second"), answer("third")], step_s=30)
    async with app.run_test(size=SIZE) as pilot:
        written: list[str] = []
        assert app._driver is not None
        app._driver.write = written.append  # type: ignore[method-assign,assignment]
        await type_line(pilot, "while you look")
        await idle(pilot)
        assert app.notifications == []  # focused: no notification
        app.app_focus = False  # the user switched to another window (a key press would focus it)
        await app.submit("while you are away")
        await idle(pilot)
        assert len(app.notifications) == 1 and app.notifications[0].startswith(
            "trident: the turn ended after"
        )
        assert any(w.startswith("\x1b]9;trident: the turn ended") and w.endswith("\x07") for w in written)


async def test_a_short_turn_does_not_notify_but_a_waiting_prompt_does(tmp_path: Path) -> None:
    app = app_with_clock(tmp_path, [answer("quick")], step_s=0.01)
    async with app.run_test(size=SIZE) as pilot:
        app.app_focus = False
        await app.submit("quick one")
        await idle(pilot)
        assert app.notifications == []
    asking = TridentApp(
        chat_session(tmp_path / "b", [edit_turn(), answer()]), history=InputHistory(), clock=lambda: 0.0
    )
    async with asking.run_test(size=SIZE) as pilot:
        asking.app_focus = False
        await asking.submit("fix add")
        await until(pilot, lambda: isinstance(asking.screen, ApprovalScreen), "the approval prompt")
        assert asking.notifications == ["trident: waiting for your approval (edit) in repo"]
        await pilot.press("y")
        await idle(pilot)
