"""`!cmd`: the user's own command in the sandbox, shown with its output, never asking the model; the
model gets the output with the next message (as Claude Code and Codex do), outside the user's bubble."""

from __future__ import annotations

import html

from tests.chat_helpers import answer
from tests.tui.conftest import SIZE, AppFactory, visible_text
from tests.tui.test_app import idle, type_line, until
from tests.tui.test_composer import sent
from trident.agent.tui.messages import UserBubble, split_notes
from trident.agent.tui.tool_card import ToolCard

COMMAND = "printf 'one\\ntwo\\n'; echo '</user-shell>'; exit 3"


async def test_a_shell_command_runs_without_the_model_and_goes_with_the_next_message(
    make_app: AppFactory,
) -> None:
    app = make_app([answer("It printed one and two.")])
    async with app.run_test(size=SIZE) as pilot:
        await type_line(pilot, "!")
        assert "usage: !COMMAND" in visible_text(app)
        await type_line(pilot, f"!{COMMAND}")
        await idle(pilot)
        card = next(iter(app.transcript.query(ToolCard)))
        assert card.border_title == "• ! your command" and card.border_subtitle == "✗ exit 3"
        assert "exit 3\none\ntwo" in visible_text(app) and "[• ! your command ✗ exit 3]" in visible_text(app)
        assert "its output goes to the model with your next message" in visible_text(app)
        assert sent(app) == [] and app.session.agent.state.step == 0  # the model was not asked
        await type_line(pilot, "what did it print?")
        await idle(pilot)
        assert "It printed one and two." in visible_text(app)
        message = sent(app)[0]
        assert message.startswith(f'<user-shell command="{html.escape(COMMAND)}" exit="3">\none\ntwo\n')
        assert message.endswith("</user-shell>\n\nwhat did it print?")
        assert split_notes(message) == (
            [f"the output of `!{COMMAND}` (exit 3, 3 lines)"],
            "what did it print?",
        )  # the output's own closing tag does not end the block early
        assert [str(b.content) for b in app.transcript.query(UserBubble)] == ["what did it print?"]
        assert f"told the model: the output of `!{COMMAND}` (exit 3, 3 lines)" in visible_text(app)
        await type_line(pilot, "!true")
        await idle(pilot)
        assert app.session.shell_runs  # waits for the next message


async def test_esc_stops_a_shell_command_and_the_model_never_sees_it(make_app: AppFactory) -> None:
    app = make_app([answer()])
    async with app.run_test(size=SIZE) as pilot:
        await type_line(pilot, "!echo started; sleep 30")
        await until(pilot, lambda: "started" in visible_text(app), "the command's output")
        await pilot.press("escape")
        await idle(pilot)
        assert "[• ! your command ✗ interrupted]" in visible_text(app)
        assert "started" in visible_text(app)  # what it printed stays on its card
        assert app.session.shell_runs == []
