"""An app on a scripted session over a fresh git repository (local sandbox), and its visible text."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Markdown, Static

from tests.chat_helpers import chat_session
from trident.agent.config import ApprovalMode
from trident.agent.session.input_history import InputHistory
from trident.agent.tui.app import TridentApp
from trident.agent.tui.tool_card import ToolCard

SIZE = (110, 36)
AppFactory = Callable[..., TridentApp]


@pytest.fixture
def tmp_path() -> Iterator[Path]:
    """pytest's own, but with a path of the same length on every run: the system prompt names the
    repository's path, so the context estimate on screen (in snapshots) must not follow pytest's
    numbered folders (pytest-9 → pytest-10)."""
    with tempfile.TemporaryDirectory(prefix="trident-tui-") as folder:
        yield Path(folder)


@pytest.fixture
def make_app(tmp_path: Path) -> AppFactory:
    def factory(
        turns: list[dict[str, Any]], mode: ApprovalMode = "ask", files: dict[str, str] | None = None
    ) -> TridentApp:
        session = chat_session(tmp_path, turns, mode=mode, files=files)
        return TridentApp(session, history=InputHistory(), clock=lambda: 0.0)

    return factory


def visible_text(app: TridentApp) -> str:
    """Everything the transcript shows, as plain text (cards with their titles)."""
    parts: list[str] = []
    for widget in app.transcript.query("*"):
        if any(isinstance(above, Markdown) for above in widget.ancestors):
            continue  # the markdown's own blocks: its source says it
        if not widget.display:
            continue  # e.g. the "new output below" marker, when there is none
        if isinstance(widget, ToolCard):
            parts.append(f"[{widget.border_title} {widget.border_subtitle}]")
        elif isinstance(widget, Markdown):
            parts.append(widget.source)
        elif isinstance(widget, Static):
            parts.append(str(widget.content))
    return "\n".join(parts)
