"""The composer: a multi-line message box with input history, `@path` and `/command` candidate lists,
and long pastes folded.

Enter sends; Shift+Enter, Alt+Enter, Ctrl+J (or `\\` then Enter) insert a newline. Up/Down walk the
input history from the first/last line, and move in the candidate list while it is open (Tab or
Enter takes the highlighted candidate, Esc closes it). A paste keeps every line; one of more than
`FOLD_LINES` lines or `FOLD_CHARS` characters shows as a `[pasted text #N: L lines]` token and is sent
whole.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from textual import events
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import OptionList, Static, TextArea
from textual.widgets.option_list import Option

from trident.agent.session import mentions
from trident.agent.session.input_history import InputHistory
from trident.agent.tui import commands

MAX_CANDIDATES = 8
FOLD_LINES, FOLD_CHARS = 12, 2000
NEWLINE_KEYS = {"shift+enter", "alt+enter", "ctrl+j", "shift+\r", "alt+\r"}
PASTED = re.compile(r"\[pasted text #(\d+): \d+ lines\]")


def fuzzy_score(query: str, path: str) -> float | None:
    """How well `query` matches `path` (higher is better), None when its letters are not all in it in order.

    A file name starting with the query beats a path starting with it, which beats the query inside the
    name, inside the path, then its letters in order (fewer gaps, earlier, shorter paths first)."""
    q, p = query.lower(), path.lower()
    name = p.rsplit("/", 1)[-1]
    length = len(p) / 1000
    if name.startswith(q):
        return 5 - length
    if p.startswith(q):
        return 4 - length
    if q in name:
        return 3 - length
    if q in p:
        return 2 - length
    position, gaps, last = 0, 0, -1
    for char in q:
        found = p.find(char, position)
        if found < 0:
            return None
        gaps += found != last + 1
        last, position = found, found + 1
    return 1 - gaps / (len(q) + 1) - length


def fuzzy_paths(query: str, files: list[str], limit: int = MAX_CANDIDATES) -> list[str]:
    scored = [(score, path) for path in files if (score := fuzzy_score(query, path)) is not None]
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [path for _, path in scored[:limit]]


@dataclass(frozen=True)
class Candidates:
    """What the word at the cursor could become: `start`..`end` (columns on the cursor's row) is replaced."""

    kind: str  # "command" or "path"
    row: int
    start: int
    end: int
    items: list[tuple[str, str]]  # (replacement, label)


class CandidateList(OptionList):
    """The candidates, above the composer; never focused (the composer keeps the keys)."""

    DEFAULT_CSS = """
    CandidateList {
        height: auto; max-height: 10; margin: 0 1; border: none; padding: 0 1;
        background: $surface; display: none;
    }
    CandidateList.shown { display: block; }
    """
    can_focus = False


class QueuedView(Static):
    """Messages typed while a step runs, sent when it ends."""

    DEFAULT_CSS = """
    QueuedView { height: auto; max-height: 5; margin: 0 1; padding: 0 1; color: $text-muted; display: none; }
    QueuedView.shown { display: block; }
    """

    def show_queue(self, queued: list[str]) -> None:
        lines = []
        for text in queued:
            first = text.strip().splitlines()[0] if text.strip() else ""
            more = len(text.strip().splitlines()) - 1
            shown = first if len(first) <= 70 else first[:69] + "…"
            lines.append(f"queued: {shown}" + (f" (+{more} lines)" if more else ""))
        if queued:
            lines.append(
                "sent when the step ends · ↑ on an empty line takes the last one back to edit or drop"
            )
        self.update("\n".join(lines))
        self.set_class(bool(queued), "shown")


class PromptInput(TextArea):
    """The message box (`id="prompt"`)."""

    DEFAULT_CSS = """
    PromptInput { height: auto; max-height: 12; min-height: 3; padding: 0 1; }
    PromptInput .text-area--placeholder { color: $text-muted; }
    PromptInput .text-area--cursor-line { background: transparent; }
    """
    BINDINGS = [  # noqa: RUF012 (Textual's own declaration style)
        Binding("up", "up", "previous input", show=False),
        Binding("down", "down", "next input", show=False),
        Binding("tab", "accept_candidate", "complete", show=False),
        Binding("escape", "close_candidates", "close the list", show=False),
    ]

    class Submitted(Message):
        """Enter: the message, pastes expanded."""

        def __init__(self, prompt: PromptInput, value: str) -> None:
            super().__init__()
            self.input, self.value = prompt, value

    def __init__(self, history: InputHistory, repo: Path) -> None:
        super().__init__(
            id="prompt",
            soft_wrap=True,
            tab_behavior="focus",
            show_line_numbers=False,
            highlight_cursor_line=False,
            placeholder="Ask trident…  (/help for commands · @path attaches a file · Shift+Enter: new line)",
        )
        self.input_history = history  # (TextArea's own `history` is its undo stack)
        self.repo = repo
        self._files: list[str] | None = None
        self.pastes: dict[int, str] = {}
        self.candidates: Candidates | None = None
        self._candidates_for = ""  # the text the candidates were found for
        self.candidate_list = CandidateList()
        self._dismissed: tuple[int, int, str] | None = None  # the word Esc closed the list on
        self._set_by_program: str | None = None  # text put here by history/queue: no list for it
        self.take_queued: Callable[[], str | None] | None = None  # the app's queue (Up on an empty line)

    # -- the text ----------------------------------------------------------------------------
    @property
    def value(self) -> str:
        """The text as shown (pastes folded)."""
        return self.text

    @value.setter
    def value(self, text: str) -> None:
        self._set_by_program = text
        self.load_text(text)
        self.move_cursor(self.document.end)
        self._hide_candidates()

    def message(self) -> str:
        """The text to send: folded pastes expanded."""
        return PASTED.sub(lambda m: self.pastes.get(int(m.group(1)), m.group(0)), self.text)

    def files(self) -> list[str]:
        if self._files is None:
            self._files = mentions.repo_files(self.repo)
        return self._files

    async def _on_paste(self, event: events.Paste) -> None:
        text = event.text.replace("\r\n", "\n").replace("\r", "\n")
        lines = text.count("\n") + 1
        if lines > FOLD_LINES or len(text) > FOLD_CHARS:
            event.prevent_default()
            event.stop()
            number = len(self.pastes) + 1
            self.pastes[number] = text
            self.insert(f"[pasted text #{number}: {lines} lines]")
            return
        if text != event.text:
            event.prevent_default()
            event.stop()
            self.insert(text)
        # else TextArea's own handler (called after this one) inserts it as it is

    async def _on_key(self, event: events.Key) -> None:
        if event.key in NEWLINE_KEYS:
            event.stop()
            event.prevent_default()
            self.insert("\n")
            return
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self._catch_up()
            if self.candidates is not None:
                self.action_accept_candidate()
                return
            row, column = self.cursor_location
            if column > 0 and self.document[row][column - 1] == "\\":  # `\` Enter: a newline anywhere
                self.replace("\n", (row, column - 1), (row, column))
                return
            self.post_message(self.Submitted(self, self.message()))
            return
        await super()._on_key(event)

    def clear_message(self) -> None:
        self.value = ""
        self.pastes.clear()

    # -- history and the list ------------------------------------------------------------------
    def _on_first_line(self) -> bool:
        nav, where = self.navigator, self.cursor_location
        return nav.is_first_document_line(where) and nav.is_first_wrapped_line(where)

    def _on_last_line(self) -> bool:
        nav, where = self.navigator, self.cursor_location
        return nav.is_last_document_line(where) and nav.is_last_wrapped_line(where)

    def action_up(self) -> None:
        if self.candidates is not None:
            self.candidate_list.action_cursor_up()
        elif not self.text and self.take_queued is not None and (queued := self.take_queued()) is not None:
            self.value = queued
        elif self._on_first_line():
            self._recall(self.input_history.previous())
        else:
            self.action_cursor_up()

    def action_down(self) -> None:
        if self.candidates is not None:
            self.candidate_list.action_cursor_down()
        elif self._on_last_line():
            self._recall(self.input_history.next())
        else:
            self.action_cursor_down()

    def _recall(self, text: str | None) -> None:
        if text is not None:
            self.value = text

    def action_close_candidates(self) -> None:
        if self.candidates is None:
            raise SkipAction()  # the app's Esc: cancel a running step
        row, column = self.cursor_location
        self._dismissed = (row, self.candidates.start, self.document[row][self.candidates.start : column])
        self._hide_candidates()

    def _catch_up(self) -> None:
        """The list for the text as it is now: keys typed fast come before the change messages of
        the keys before them (Enter after `/quit` found the list of `/qui` and made `/quitt`)."""
        if self.candidates is not None and self.text != self._candidates_for:
            self.refresh_candidates()

    def action_accept_candidate(self) -> None:
        self._catch_up()
        found = self.candidates
        if found is None:
            self.screen.focus_next()  # Tab with nothing to take: the conversation (typing comes back)
            return
        index = self.candidate_list.highlighted or 0
        replacement = found.items[index][0]
        self.replace(replacement, (found.row, found.start), (found.row, found.end))
        self._hide_candidates()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_accept_candidate()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if self._set_by_program is not None and self.text == self._set_by_program:
            return
        self._set_by_program = None
        self.refresh_candidates()

    def on_text_area_selection_changed(self, event: TextArea.SelectionChanged) -> None:
        if self._set_by_program is None or self.text != self._set_by_program:
            self.refresh_candidates()

    def find_candidates(self) -> Candidates | None:
        row, column = self.cursor_location
        line = self.document[row]
        if row == 0 and self.document.line_count == 1 and line.startswith("/") and " " not in line:
            names = commands.matching(line)
            if not names or [f"/{names[0].name}"] == [line]:
                return None
            items = [
                (f"/{c.name} " if _takes_argument(c) else f"/{c.name}", f"{c.usage}  {c.help}") for c in names
            ]
            return Candidates("command", 0, 0, len(line), items)
        start = line.rfind(" ", 0, column) + 1
        end = len(line) if " " not in line[column:] else line.index(" ", column)
        word = line[start:end]
        if not word.startswith("@") or len(word) < 2:
            return None
        paths = fuzzy_paths(word[1:], self.files())
        if not paths or paths[0] == word[1:]:
            return None
        return Candidates("path", row, start, end, [(f"@{p}", p) for p in paths])

    def refresh_candidates(self) -> None:
        found = self.find_candidates()
        if found is not None and self._dismissed is not None:
            row, column = self.cursor_location
            if self._dismissed == (row, found.start, self.document[row][found.start : column]):
                found = None
        if found is None:
            self._hide_candidates()
            return
        self._dismissed = None
        self.candidates, self._candidates_for = found, self.text
        self.candidate_list.set_options(Option(label) for _, label in found.items)
        self.candidate_list.highlighted = 0
        self.candidate_list.add_class("shown")

    def _hide_candidates(self) -> None:
        self.candidates = None
        self.candidate_list.remove_class("shown")


def _takes_argument(command: commands.Command) -> bool:
    return " " in command.usage


class Composer(Vertical):
    """The queued messages, the candidate list and the message box, docked above the status bar."""

    DEFAULT_CSS = """
    Composer { dock: bottom; height: auto; margin: 0 0 1 0; }
    """

    def __init__(self, history: InputHistory, repo: Path) -> None:
        super().__init__(id="composer")
        self.prompt = PromptInput(history, repo)
        self.queued = QueuedView()

    def compose(self) -> ComposeResult:
        yield self.queued
        yield self.prompt.candidate_list
        yield self.prompt
