"""The approval prompt: yes / always this session / no with a reason the model is told.

The call (its summary and diff) scrolls; the key line and the reason box below it always show, and
the status bar under the prompt stays visible.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from trident.agent.core.events import ToolCall
from trident.agent.policies.approval import session_rule
from trident.agent.session.chat import Decision
from trident.agent.session.preview import Preview
from trident.agent.tui.diff_view import call_diff, render_diff
from trident.agent.tui.tool_card import summary
from trident.tools.base import CallKind


class ApprovalScreen(ModalScreen[Decision]):
    DEFAULT_CSS = """
    ApprovalScreen { align: center bottom; background: transparent; }  /* the conversation stays readable */
    ApprovalScreen > Vertical {
        width: 100%; height: auto; border: round $warning; padding: 0 1; margin: 0 0 1 0;
        background: $surface;
    }
    ApprovalScreen #call { height: auto; scrollbar-size-vertical: 1; }
    ApprovalScreen .question { text-style: bold; margin: 1 0 0 0; }
    ApprovalScreen #reason { display: none; }
    ApprovalScreen.reasoning #reason { display: block; }
    """
    BINDINGS = [  # noqa: RUF012
        Binding("y", "answer('yes')", "yes"),
        Binding("a", "answer('always')", "always this session"),
        Binding("n", "ask_reason", "no"),
        Binding("escape", "answer('no')", "no", show=False),
        Binding("up", "scroll_call(-1)", "scroll", show=False),
        Binding("down", "scroll_call(1)", "scroll", show=False),
        Binding("pageup", "scroll_call(-10)", "scroll", show=False),
        Binding("pagedown", "scroll_call(10)", "scroll", show=False),
    ]
    # Rows the prompt needs besides the call: the status bar, borders, the key line and its margin,
    # the reason box, and a few rows of the conversation above.
    RESERVED_ROWS = 12

    def __init__(self, call: ToolCall, kind: CallKind, preview: Preview | None = None) -> None:
        super().__init__()
        self.call, self.kind, self.preview = call, kind, preview or Preview()

    def compose(self) -> ComposeResult:
        verb = {"edit": "edit files", "exec": "run a command", "read": "read"}[self.kind]
        with Vertical() as box:
            box.border_title = f"trident wants to {verb}"
            with VerticalScroll(id="call"):
                yield Static(
                    Text.assemble(
                        (self.call.name, "bold"), "  ", summary(self.call.name, self.call.arguments, 200)
                    )
                )
                if self.call.name == "run_tests":
                    command = self.preview.command
                    yield Static(
                        Text.assemble("runs: ", (command, "bold"))
                        if command
                        else Text("no test command is configured: the call will fail"),
                        id="command",
                    )
                diff = self.preview.diff or call_diff(self.call.name, self.call.arguments)
                if diff:
                    yield Static(render_diff(diff, max_lines=400))
            yield Static(
                Text.assemble(
                    "Allow?  ",
                    ("y", "bold"),
                    " yes   ",
                    ("a", "bold"),
                    f" always {_always(self.call)} this session   ",
                    ("n", "bold"),
                    " no (tell it why)   ",
                    ("Esc", "bold"),
                    " no",
                ),
                classes="question",
            )
            yield Input(placeholder="why not? (Enter sends; the model is told)", id="reason", disabled=True)

    def on_mount(self) -> None:
        self._fit(self.size.height)

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.height)

    def _fit(self, height: int) -> None:
        """The call scrolls within what the screen leaves it; the keys below it never go."""
        self.query_one("#call").styles.max_height = max(height - self.RESERVED_ROWS, 3)

    def action_scroll_call(self, rows: int) -> None:
        self.query_one("#call", VerticalScroll).scroll_relative(y=rows, animate=False)

    def action_answer(self, answer: str) -> None:
        self.dismiss(Decision("yes" if answer == "yes" else "always" if answer == "always" else "no"))

    def action_ask_reason(self) -> None:
        self.add_class("reasoning")
        reason = self.query_one("#reason", Input)
        reason.disabled = False
        reason.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(Decision("no", event.value.strip()))


def _always(call: ToolCall) -> str:
    """What "always" would allow, in words."""
    rule = session_rule(call.name, call.arguments)
    return "this exact command" if rule != call.name else f"`{rule}`"
