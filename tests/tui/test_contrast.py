"""Every text colour on trident's screens is readable: WCAG AA (4.5:1) against its background, in the
default theme, computed from the colours the app actually draws (its CSS and styles, after Textual's
own colour processing: dim, alpha, ANSI colours mapped to the theme)."""

from __future__ import annotations

from rich.color import Color
from rich.segment import Segment
from textual import events
from textual.pilot import Pilot

from tests.chat_helpers import answer, edit_turn
from tests.tui.conftest import AppFactory, visible_text
from tests.tui.test_app import idle, type_line, until
from trident.agent.tui.app import TridentApp
from trident.agent.tui.approval_screen import ApprovalScreen
from trident.agent.tui.messages import ReasoningBlock
from trident.agent.tui.prompt_input import PromptInput

AA = 4.5
DRAWING_FIRST, DRAWING_LAST = "\u2500", "\u259f"  # box drawing and block elements
SIZE = (120, 60)


def luminance(color: Color) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = color.get_truecolor()
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(foreground: Color, background: Color) -> float:
    lighter, darker = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def unreadable(app: TridentApp) -> list[str]:
    """Each run of text on the screen whose colour is below AA against its background."""
    found: list[str] = []
    for row, strip in enumerate(app.screen._compositor.render_strips()):
        for segment in strip:
            assert isinstance(segment, Segment)
            text, style = segment.text, segment.style
            if (
                not text.strip()
                or style is None
                or all(DRAWING_FIRST <= c <= DRAWING_LAST for c in text.strip())
            ):
                continue  # blank, or lines and blocks (borders, rules, scrollbars): not text
            fg, bg = style.color, style.bgcolor
            if fg is None or bg is None:
                found.append(f"row {row} {text.strip()!r}: no explicit colour {fg} on {bg}")
                continue
            if style.reverse:
                fg, bg = bg, fg
            ratio = contrast(fg, bg)
            if ratio < AA:
                found.append(
                    f"row {row} {text.strip()[:40]!r}: {ratio:.2f}:1, {fg.get_truecolor().hex} on "
                    f"{bg.get_truecolor().hex}"
                )
    return found


async def settle(pilot: Pilot[None]) -> None:
    pilot.app.query_one(PromptInput).cursor_blink = False
    await pilot.pause(0.3)


def test_the_contrast_formula() -> None:
    """The old effort notice, rgb(0,69,120) on #121212, is under 2:1 (WCAG AA wants 4.5:1)."""
    assert round(contrast(Color.parse("#ffffff"), Color.parse("#000000")), 1) == 21.0
    assert contrast(Color.parse("rgb(0,69,120)"), Color.parse("#121212")) < 2.3


def assert_readable(app: TridentApp, where: str) -> None:
    found = unreadable(app)
    assert not found, f"{where}: text below {AA}:1\n" + "\n".join(found[:30])


def denied_then_effort() -> list[dict[str, object]]:
    wrong = edit_turn("    return a * b\n", "    return a + b\n")  # fails: effort goes up
    run = {"tool_calls": [{"name": "bash", "arguments": {"command": "seq 1 30"}}]}
    return [
        {"reasoning": "Let me think about `add`.", **wrong},
        run,
        edit_turn(),
        answer("Fixed: `add` now returns **a + b**.\n\n| before | after |\n|---|---|\n| `a - b` | `a + b` |"),
    ]


async def test_the_conversation_screens_are_readable(make_app: AppFactory) -> None:
    app = make_app(denied_then_effort(), mode="auto-edit")
    async with app.run_test(size=SIZE) as pilot:
        await type_line(pilot, "fix add")
        await until(pilot, lambda: isinstance(app.screen, ApprovalScreen), "the prompt for the command")
        await settle(pilot)
        assert_readable(app, "the approval prompt")
        await pilot.press("y")
        await idle(pilot)
        for kind in ("", "effort", "error", "good"):
            app.transcript.notice(f"a {kind or 'plain'} notice", kind)
        await type_line(pilot, "/effort")
        await pilot.press("ctrl+o")  # the long output unfolded
        for block in app.transcript.query(ReasoningBlock):
            block.collapsed = False
        await settle(pilot)
        assert "reasoning effort none → high" in visible_text(app)
        assert_readable(app, "the conversation")


async def test_help_and_the_composer_are_readable(make_app: AppFactory) -> None:
    app = make_app([answer()], files={"calc.py": "", "tests/test_calc.py": ""})
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert_readable(app, "the start (placeholder)")
        await type_line(pilot, "/help")
        prompt = app.query_one(PromptInput)
        await pilot.press(*"see @calc")
        await settle(pilot)
        assert prompt.candidates is not None
        assert_readable(app, "/help and the candidate list")
        app.queued.append("a queued message")
        app._show_queue()
        app.transcript.marker.add_class("shown")
        app.post_message(events.Paste("x\n" * 40))
        await settle(pilot)
        assert_readable(app, "the queue, the marker and a folded paste")
        for used in (80, 95):  # the context's fill in yellow, then red
            app.context_length, app.context_used = 100, used
            app.refresh_status()
            await settle(pilot)
            assert f"/100 {used}%" in str(app.status_bar.content)
            assert_readable(app, f"the status bar, the context {used}% full")
