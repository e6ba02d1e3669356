"""Review before a call runs: edit diffs with real line numbers and context, the exact test command."""

from __future__ import annotations

from typing import Any

from textual.widgets import Static

from tests.chat_helpers import answer
from tests.tui.conftest import SIZE, AppFactory, visible_text
from tests.tui.test_app import ask_approval, idle, resume_newest, type_line
from trident.agent.core.events import CallPreview
from trident.agent.core.trajectory import load
from trident.agent.tui.approval_screen import ApprovalScreen

LONG = {"calc.py": "".join(f"line{i} = {i}\n" for i in range(1, 21))}


def edit(old: str, new: str) -> dict[str, Any]:
    return {
        "tool_calls": [{"name": "edit", "arguments": {"path": "calc.py", "old_text": old, "new_text": new}}]
    }


def screen_text(screen: ApprovalScreen) -> str:
    return "\n".join(str(w.content) for w in screen.query(Static))


async def test_the_approval_prompt_and_card_show_real_line_numbers_and_context(make_app: AppFactory) -> None:
    app = make_app([edit("line10 = 10\n", "line10 = 100\n"), answer()], files=LONG)
    async with app.run_test(size=SIZE) as pilot:
        await ask_approval(pilot, "change line 10")
        assert isinstance(app.screen, ApprovalScreen)
        shown = screen_text(app.screen)
        assert "@@ -7,7 +7,7 @@" in shown and "@@ -1 +1 @@" not in shown
        assert " line7 = 7" in shown and "-line10 = 10" in shown and "+line10 = 100" in shown
        assert " line13 = 13" in shown and "line14" not in shown  # 3 lines of context each side
        await pilot.press("y")
        await idle(pilot)
        card = visible_text(app)
        assert "@@ -7,7 +7,7 @@" in card and " line9 = 9" in card


async def test_a_full_auto_card_and_a_write_show_the_diff_against_the_file(make_app: AppFactory) -> None:
    overwrite = {
        "tool_calls": [
            {
                "name": "write",
                "arguments": {"path": "calc.py", "content": LONG["calc.py"].replace("= 19", "= nineteen")},
            }
        ]
    }
    app = make_app([overwrite, answer()], mode="full-auto", files=LONG)
    async with app.run_test(size=SIZE) as pilot:
        pilot.app.query_one("PromptInput").value = "rename 19"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await idle(pilot)
        text = visible_text(app)
        assert "@@ -16,5 +16,5 @@" in text and "+line19 = nineteen" in text and " line20 = 20" in text


async def test_the_run_tests_prompt_shows_the_exact_command(make_app: AppFactory) -> None:
    tests = {"tool_calls": [{"name": "run_tests", "arguments": {}}]}
    narrowed = {"tool_calls": [{"name": "run_tests", "arguments": {"command": "pytest -q tests/test_a.py"}}]}
    app = make_app([tests, narrowed, answer()], files={"calc.py": "x = 1\n", "pytest.ini": "[pytest]\n"})
    async with app.run_test(size=SIZE) as pilot:
        await ask_approval(pilot, "run the tests")
        assert isinstance(app.screen, ApprovalScreen)
        command = app.session.agent.context.test_command
        assert command
        assert f"runs: {command} -ra" in screen_text(app.screen)
        await pilot.press("n")
        await pilot.press("enter")
        await pilot.pause(0.3)
        for _ in range(100):
            if isinstance(app.screen, ApprovalScreen) and "test_a.py" in screen_text(app.screen):
                break
            await pilot.pause(0.05)
        assert "runs: pytest -q tests/test_a.py -ra" in screen_text(app.screen)
        await pilot.press("escape")
        await idle(pilot)


async def test_failed_tests_are_said_plainly_whatever_the_model_claims(make_app: AppFactory) -> None:
    files = {
        "calc.py": "def add(a, b):\n    return a - b\n",
        "test_calc.py": "from calc import add\n\ndef test_add():\n    assert add(1, 2) == 3\n",
    }
    run = {"tool_calls": [{"name": "run_tests", "arguments": {}}]}
    app = make_app([run, answer("All tests pass now!")], mode="full-auto", files=files)
    async with app.run_test(size=SIZE) as pilot:
        assert "tests: python -m pytest -q (detected from the repository's layout" in visible_text(app)
        pilot.app.query_one("PromptInput").value = "run the tests"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await idle(pilot)
        text = visible_text(app)
        assert "All tests pass now!" in text
        assert "✗ the last test run of this turn did not pass: FAILED: 1 failed" in text
        assert text.rindex("did not pass") > text.rindex("All tests pass now!")  # after the answer


async def test_a_resumed_session_shows_the_diffs_its_cards_had(make_app: AppFactory) -> None:
    app = make_app(
        [edit("line10 = 10\n", "line10 = 100\n"), answer("Changed.")], mode="full-auto", files=LONG
    )
    async with app.run_test(size=SIZE) as pilot:
        await type_line(pilot, "change line 10")
        await idle(pilot)
        live = visible_text(app)
        assert "@@ -7,7 +7,7 @@" in live
        previews = [e for e in load(app.session.writer.path) if isinstance(e, CallPreview)]
        assert [p.name for p in previews] == ["edit"]  # the diff is in the trajectory
        await type_line(pilot, "/clear")
        await resume_newest(pilot)
        replayed = visible_text(app)
        assert "@@ -7,7 +7,7 @@" in replayed and " line13 = 13" in replayed and "@@ -1 +1 @@" not in replayed
        card = live[live.index("[• edit") : live.index("Changed.")]
        assert card in replayed  # the same card
