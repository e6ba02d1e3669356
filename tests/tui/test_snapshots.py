"""Snapshots of the main screens (SVG under tests/tui/__snapshots__; TRIDENT_SNAPSHOT_UPDATE=1 updates).

Deterministic: fixed terminal size, a fixed clock, recorded token counts, no paths on screen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from agent.tui.prompt_input import PromptInput
from tests.chat_helpers import edit_turn
from tests.tui.conftest import SIZE, AppFactory
from tests.tui.snapshots import assert_snapshot, screenshot
from tests.tui.test_app import ask_approval, idle, type_line

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


async def steady(pilot: Pilot[None]) -> None:
    """No blinking cursor in the picture: it would be there or not depending on the moment."""
    pilot.app.query_one(PromptInput).cursor_blink = False
    await pilot.pause(0.3)


async def test_conversation_screen(make_app: AppFactory, tmp_path: Path) -> None:
    async def run(pilot: Pilot[None]) -> None:
        await type_line(pilot, "add() is broken, fix it")
        await idle(pilot)
        await steady(pilot)

    svg = await screenshot(make_app(SESSION, mode="full-auto"), SIZE, run)
    assert_snapshot("conversation", svg, tmp_path)


async def test_approval_screen(make_app: AppFactory, tmp_path: Path) -> None:
    async def run(pilot: Pilot[None]) -> None:
        await ask_approval(pilot, "fix add")
        await steady(pilot)

    assert_snapshot("approval", await screenshot(make_app(SESSION[1:]), SIZE, run), tmp_path)


async def test_failed_edit_raises_effort_screen(make_app: AppFactory, tmp_path: Path) -> None:
    wrong = {**edit_turn("    return a * b\n", "    return a + b\n"), **USAGE}
    turns = [wrong, {**edit_turn(), **USAGE}, {"content": "Fixed on the second try.", **USAGE}]

    async def run(pilot: Pilot[None]) -> None:
        await type_line(pilot, "fix add")
        await idle(pilot)
        await steady(pilot)

    assert_snapshot("effort_raised", await screenshot(make_app(turns, mode="full-auto"), SIZE, run), tmp_path)


async def test_help_screen(make_app: AppFactory, tmp_path: Path) -> None:
    async def run(pilot: Pilot[None]) -> None:
        await type_line(pilot, "/help")
        await steady(pilot)

    assert_snapshot("help", await screenshot(make_app(SESSION), (110, 60), run), tmp_path)
