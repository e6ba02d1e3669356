"""The message line: Up/Down walk the input history, Tab/→ accept an @path or /command completion."""

from __future__ import annotations

from pathlib import Path

from textual.binding import Binding
from textual.suggester import Suggester
from textual.widgets import Input

from trident.agent.session import mentions
from trident.agent.session.input_history import InputHistory
from trident.agent.tui import commands


class PathAndCommandSuggester(Suggester):
    """Completes the last word when it is `@path`, or the whole line when it is a `/command`."""

    def __init__(self, repo: Path) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.repo = repo
        self._files: list[str] | None = None

    def files(self) -> list[str]:
        if self._files is None:
            self._files = mentions.repo_files(self.repo)
        return self._files

    async def get_suggestion(self, value: str) -> str | None:
        command = commands.complete(value)
        if command is not None:
            return command if command.rstrip() != value.rstrip() else None
        head, _, word = value.rpartition(" ")
        if not word.startswith("@") or len(word) < 2:
            return None
        path = mentions.complete(word[1:], self.files())
        if path is None or path == word[1:]:
            return None
        return f"{head} @{path}" if head else f"@{path}"


class PromptInput(Input):
    BINDINGS = [  # noqa: RUF012 (Textual's own declaration style)
        Binding("up", "history_previous", "previous input", show=False),
        Binding("down", "history_next", "next input", show=False),
        Binding("tab", "accept_completion", "complete", show=False),
    ]

    def __init__(self, history: InputHistory, repo: Path) -> None:
        super().__init__(
            placeholder="Ask trident…  (/help for commands, @path attaches a file)",
            suggester=PathAndCommandSuggester(repo),
            id="prompt",
        )
        self.history = history

    def _set(self, text: str | None) -> None:
        if text is not None:
            self.value = text
            self.cursor_position = len(text)

    def action_history_previous(self) -> None:
        self._set(self.history.previous())

    def action_history_next(self) -> None:
        self._set(self.history.next())

    def action_accept_completion(self) -> None:
        if self._suggestion:
            self.value = self._suggestion
            self.cursor_position = len(self.value)
