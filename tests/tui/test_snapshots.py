"""Snapshots of the main screens (pytest-textual-snapshot; `pytest tests/tui --snapshot-update` rewrites
them under tests/tui/__snapshots__/, then look at them before committing).

Deterministic: fixed terminal size, a fixed clock, recorded token counts, no paths on screen.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from textual.pilot import Pilot

from tests.chat_helpers import edit_turn
from tests.tui.conftest import SIZE, AppFactory
from tests.tui.test_app import ask_approval, idle, type_line
from trident.agent.tui.prompt_input import PromptInput

SnapCompare = Callable[..., bool]
Drive = Callable[[Pilot[None]], Awaitable[None]]

USAGE = {"usage": {"input_tokens": 1830, "output_tokens": 64}}
SESSION: list[dict[str, Any]] = [
    {
        "reasoning": "The user says add is wrong. I should read calc.py before changing anything.",
        "content": "Let me look at `calc.py` first.",
        "tool_calls": [{"name": "read", "arguments": {"path": "calc.py"}}],
        **USAGE,
    },
    {**edit_turn(), **USAGE},
    {
        "content": "Fixed: `add` returned `a - b`; it now returns **`a + b`**.",
        "usage": {"input_tokens": 2100, "output_tokens": 30},
    },
]


def steadily(drive: Drive) -> Drive:
    """`drive`, then no blinking cursor in the picture (it would be there or not depending on the moment)."""

    async def run(pilot: Pilot[None]) -> None:
        await drive(pilot)
        pilot.app.query_one(PromptInput).cursor_blink = False
        await pilot.pause(0.3)

    return run


def finished_turn(message: str) -> Drive:
    async def run(pilot: Pilot[None]) -> None:
        await type_line(pilot, message)
        await idle(pilot)

    return run


async def approval_asked(pilot: Pilot[None]) -> None:
    await ask_approval(pilot, "fix add")


async def help_shown(pilot: Pilot[None]) -> None:
    await type_line(pilot, "/help")


def test_conversation_screen(make_app: AppFactory, snap_compare: SnapCompare) -> None:
    app = make_app(SESSION, mode="full-auto")
    assert snap_compare(
        app, terminal_size=SIZE, run_before=steadily(finished_turn("add() is broken, fix it"))
    )


def test_approval_screen(make_app: AppFactory, snap_compare: SnapCompare) -> None:
    assert snap_compare(make_app(SESSION[1:]), terminal_size=SIZE, run_before=steadily(approval_asked))


def test_failed_edit_raises_effort_screen(make_app: AppFactory, snap_compare: SnapCompare) -> None:
    wrong = {**edit_turn("    return a * b\n", "    return a + b\n"), **USAGE}
    turns = [wrong, {**edit_turn(), **USAGE}, {"content": "Fixed on the second try.", **USAGE}]
    app = make_app(turns, mode="full-auto")
    assert snap_compare(app, terminal_size=SIZE, run_before=steadily(finished_turn("fix add")))


def test_help_screen(make_app: AppFactory, snap_compare: SnapCompare) -> None:
    assert snap_compare(make_app(SESSION), terminal_size=(110, 60), run_before=steadily(help_shown))


async def long_write_asked(pilot: Pilot[None]) -> None:
    await ask_approval(pilot, "write it")


def test_approval_at_80x24_screen(make_app: AppFactory, snap_compare: SnapCompare) -> None:
    """A long call scrolls inside the prompt; its key line and the status bar stay on screen."""
    big = "".join(f"line {i}\n" for i in range(60))
    write = {"tool_calls": [{"name": "write", "arguments": {"path": "big.txt", "content": big}}], **USAGE}
    app = make_app([write])
    assert snap_compare(app, terminal_size=(80, 24), run_before=steadily(long_write_asked))


async def composing(pilot: Pilot[None]) -> None:
    await pilot.press(*"first line", "shift+enter", *"and the second, about @tool")
    await pilot.pause(0.2)


def test_composer_candidates_screen(make_app: AppFactory, snap_compare: SnapCompare) -> None:
    files = {"calc.py": "", "agent/tui/tool_card.py": "", "tools/edit.py": ""}
    app = make_app(SESSION, files=files)
    assert snap_compare(app, terminal_size=(80, 24), run_before=steadily(composing))


async def shell_then_message(pilot: Pilot[None]) -> None:
    await type_line(pilot, "!printf 'calc.py\\ntest_calc.py\\n'; exit 1")
    await idle(pilot)
    await type_line(pilot, "what failed?")
    await idle(pilot)


def test_shell_command_screen(make_app: AppFactory, snap_compare: SnapCompare) -> None:
    """A `!cmd`'s card, then the message that carried its output to the model (not in the bubble)."""
    app = make_app([{"content": "The command exited 1.", **USAGE}])
    assert snap_compare(app, terminal_size=(80, 24), run_before=steadily(shell_then_message))
