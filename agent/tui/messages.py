"""Conversation pieces: the user's message, streamed assistant markdown, reasoning, notices."""

from __future__ import annotations

import re

from rich.text import Text
from textual.widgets import Collapsible, Markdown, Static

ATTACHED = "\n\nAttached files:\n"
FILE_TAG = re.compile(r'<file path="([^"]+)">')


class UserBubble(Static):
    DEFAULT_CSS = """
    UserBubble { margin: 1 0 0 0; padding: 0 1; background: $boost; border-left: thick $accent; }
    """

    def __init__(self, text: str) -> None:
        shown, _, files = text.partition(ATTACHED)
        body = Text(shown.strip())
        for path in FILE_TAG.findall(files):
            body.append(f"\n+ {path} attached", style="dim")
        super().__init__(body)


class AssistantText(Markdown):
    """Markdown that grows as text streams in (drawn at most 10 times a second); the complete turn
    replaces it at the end."""

    DEFAULT_CSS = """
    AssistantText { margin: 1 0 0 0; padding: 0 1; background: transparent; }
    AssistantText > *:last-child { margin-bottom: 0; }
    """

    def __init__(self, text: str = "") -> None:
        super().__init__(text)
        self.streamed = self._shown = text

    def on_mount(self) -> None:
        self.set_interval(0.1, self._flush)

    def add(self, delta: str) -> None:
        self.streamed += delta

    def _flush(self) -> None:
        if self.streamed == self._shown:
            return
        if self.streamed.startswith(self._shown):
            self.append(self.streamed[len(self._shown) :])
        else:
            self.update(self.streamed)
        self._shown = self.streamed

    def finish(self, content: str) -> None:
        self.streamed = content
        if self.is_mounted:
            self._flush()


class ReasoningBlock(Collapsible):
    """The model's reasoning: dimmed, open while it streams, collapsed once the turn is complete."""

    DEFAULT_CSS = """
    ReasoningBlock { margin: 1 0 0 0; padding: 0; border: none; background: transparent; }
    ReasoningBlock > Contents { padding: 0 0 0 2; }
    ReasoningBlock Static { color: $text-muted; text-style: italic; }
    """

    def __init__(self, text: str = "", collapsed: bool = False) -> None:
        self.text = text
        self._body = Static(text, markup=False)
        super().__init__(self._body, title=self._heading(), collapsed=collapsed)

    def _heading(self) -> str:
        return f"thinking ({len(self.text)} chars)"

    def add(self, delta: str) -> None:
        self.text += delta
        self._body.update(self.text)
        self.title = self._heading()

    def finish(self, text: str) -> None:
        if text and text != self.text:
            self.text = text
            self._body.update(text)
        self.title = self._heading()
        self.collapsed = True


class Notice(Static):
    """One line about the session itself: effort changes and why, interruptions, command answers."""

    DEFAULT_CSS = """
    Notice { margin: 1 0 0 0; padding: 0 1; color: $text-muted; }
    Notice.effort { color: $secondary; }
    Notice.error { color: $error; }
    Notice.good { color: $success; }
    """

    def __init__(self, text: str | Text, kind: str = "") -> None:
        super().__init__(text, markup=False, classes=kind)
