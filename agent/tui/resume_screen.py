"""/resume: pick one of this repository's saved sessions."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from trident.agent.session.saved import SessionInfo


class ResumeScreen(ModalScreen[Path | None]):
    DEFAULT_CSS = """
    ResumeScreen { align: center middle; }
    ResumeScreen > Vertical {
        width: 90%; height: auto; max-height: 80%; border: round $accent; padding: 0 1; background: $surface;
    }
    ResumeScreen OptionList { height: auto; max-height: 20; }
    """
    BINDINGS = [Binding("escape", "cancel", "cancel")]  # noqa: RUF012

    def __init__(self, sessions: list[SessionInfo]) -> None:
        super().__init__()
        self.sessions = sessions

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "resume a session"
            yield Static("Enter continues the highlighted session, Esc goes back.", classes="hint")
            yield OptionList(*(Option(info.label(), id=str(i)) for i, info in enumerate(self.sessions)))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.sessions[int(event.option.id or 0)].path)

    def action_cancel(self) -> None:
        self.dismiss(None)
