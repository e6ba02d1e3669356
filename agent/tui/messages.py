"""Conversation pieces: the user's message, streamed assistant markdown, reasoning, notices."""

from __future__ import annotations

import html
import re

from rich.text import Text
from textual.await_complete import AwaitComplete
from textual.widgets import Collapsible, Markdown, Static

from trident.agent.tui.diff_view import MUTED

ATTACHED = "\n\nAttached files:\n"
FILE_TAG = re.compile(r'<file path="([^"]+)">')


def split_notes(text: str) -> tuple[list[str], str]:
    """A user message as the model got it → (what the session added for the model, what the user typed).

    `ChatSession.send` puts pending notes (e.g. after /undo) before the message as `[note: …]` lines
    and a blank line, then the `!cmd`s run since the last message as `<user-shell>` blocks; they are not
    the user's words, so the bubble does not show them (each becomes a line of its own)."""
    notes: list[str] = []
    head, sep, rest = text.partition("\n\n")
    lines = head.splitlines()
    if sep and lines and all(NOTE.fullmatch(line) for line in lines):
        notes, text = [NOTE.fullmatch(line).group(1) for line in lines], rest  # type: ignore[union-attr]
    while run := SHELL_RUN.match(text):
        command, exit_code, output = html.unescape(run.group(1)), run.group(2), run.group(3)
        notes.append(f"the output of `!{command}` (exit {exit_code}, {len(output.splitlines())} lines)")
        text = text[run.end() :]
    return notes, text


NOTE = re.compile(r"\[note: (.*)\]")
SHELL_RUN = re.compile(r'<user-shell command="([^"]*)" exit="([^"]*)">\n(.*?)\n</user-shell>\n\n', re.S)


class UserBubble(Static):
    DEFAULT_CSS = """
    UserBubble { margin: 1 0 0 0; padding: 0 1; background: $boost; border-left: thick $accent; }
    """

    def __init__(self, text: str) -> None:
        shown, _, files = text.partition(ATTACHED)
        body = Text(shown.strip())
        for path in FILE_TAG.findall(files):
            body.append(f"\n+ {path} attached", style=f"{MUTED} italic")
        super().__init__(body)


class AssistantText(Markdown):
    """Markdown that grows as text streams in (drawn at most 10 times a second, one update at a time);
    once the turn is complete it is drawn again from the turn's whole text, so whatever the
    incremental drawing got wrong (Textual's `append` on a half-written list or table) does not stay."""

    DEFAULT_CSS = """
    AssistantText { margin: 1 0 0 0; padding: 0 1; background: transparent; }
    AssistantText > *:last-child { margin-bottom: 0; }
    AssistantText MarkdownTableContent > .header { color: $text-primary; }
    """

    def __init__(self, text: str = "") -> None:
        super().__init__(text)
        self.streamed = self._shown = text
        self.final: str | None = None  # the complete turn, once it came
        self.rendered_final = False  # drawn from it
        self._drawing: AwaitComplete | None = None

    def on_mount(self) -> None:
        self._timer = self.set_interval(0.1, self._flush)

    def add(self, delta: str) -> None:
        self.streamed += delta

    def _flush(self) -> None:
        if self._drawing is not None and not self._drawing.is_done:
            return  # one update at a time: a second one would start from stale parser state
        if self.final is not None:
            if not self.rendered_final:
                self._drawing = self.update(self.final)
                self._shown, self.rendered_final = self.final, True
            else:
                self._timer.stop()
            return
        if self.streamed == self._shown:
            return
        if self.streamed.startswith(self._shown):
            self._drawing = self.append(self.streamed[len(self._shown) :])
        else:
            self._drawing = self.update(self.streamed)
        self._shown = self.streamed

    def finish(self, content: str) -> None:
        self.streamed = self.final = content
        self.rendered_final = False
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
    Notice.effort { color: $text-primary; text-style: bold; }
    Notice.error { color: $text-error; }
    Notice.good { color: $text-success; }
    """

    def __init__(self, text: str | Text, kind: str = "") -> None:
        super().__init__(text, markup=False, classes=kind)
