"""Input history across sessions: one JSON string per line in the state directory."""

from __future__ import annotations

import json
from pathlib import Path

from trident.agent.config import state_dir

MAX_ENTRIES = 1000


def history_path() -> Path:
    return state_dir() / "history.jsonl"


class InputHistory:
    """Entries oldest first; `previous`/`next` walk them like a shell (Up/Down)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or history_path()
        self.entries: list[str] = self._load()
        self._cursor = len(self.entries)

    def _load(self) -> list[str]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        entries: list[str] = []
        for line in lines[-MAX_ENTRIES:]:
            try:
                value = json.loads(line)
            except ValueError:
                continue  # a line cut by a crash or edited by hand: skip it, keep the rest
            if isinstance(value, str):
                entries.append(value)
        return entries

    def add(self, text: str) -> None:
        text = text.strip()
        self._cursor = len(self.entries)
        if not text or (self.entries and self.entries[-1] == text):
            return
        self.entries.append(text)
        self._cursor = len(self.entries)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(text, ensure_ascii=False) + "\n")

    def previous(self) -> str | None:
        if self._cursor == 0:
            return None
        self._cursor -= 1
        return self.entries[self._cursor]

    def next(self) -> str | None:
        """The newer entry, or "" past the newest (an empty input line again); None when already there."""
        if self._cursor >= len(self.entries):
            return None
        self._cursor += 1
        return self.entries[self._cursor] if self._cursor < len(self.entries) else ""
