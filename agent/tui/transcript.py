"""The conversation view: folds the session's events into widgets (live, or replayed on /resume)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from trident.agent.core.events import (
    Approval,
    AssistantTurn,
    BackendRetry,
    CallPreview,
    Compaction,
    EffortChange,
    Error,
    Event,
    ModelChange,
    ReasoningDelta,
    RunEnd,
    StepStart,
    TextDelta,
    ToolCall,
    ToolResult,
    UserMessage,
)
from trident.agent.tui.messages import AssistantText, Notice, ReasoningBlock, UserBubble, split_notes
from trident.agent.tui.tool_card import ToolCard

ERRORS = {"backend_error": "the model's server failed", "sandbox_error": "the sandbox failed"}


class NewOutputBelow(Static):
    """Shown at the bottom of the view when output arrives while the user has scrolled up."""

    DEFAULT_CSS = """
    NewOutputBelow {
        dock: bottom; width: auto; height: 1; margin: 0 0 0 2; padding: 0 1;
        background: $panel; color: $text-accent; text-style: bold; display: none;
    }
    NewOutputBelow.shown { display: block; }
    """

    def __init__(self) -> None:
        super().__init__("↓ new output below · Ctrl+End (or a click) follows it", id="new-output")

    def on_click(self) -> None:
        parent = self.parent
        if isinstance(parent, Transcript):
            parent.follow()


class Transcript(VerticalScroll):
    """Follows the newest output (Textual's anchor) until the user scrolls up; then new output shows
    a marker instead, until they scroll back to the end (or Ctrl+End)."""

    DEFAULT_CSS = """
    Transcript { height: 1fr; padding: 0 1; scrollbar-size-vertical: 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._text: AssistantText | None = None
        self._reasoning: ReasoningBlock | None = None
        self.cards: dict[str, ToolCard] = {}
        self.marker = NewOutputBelow()
        self._retry: Notice | None = None  # the step's "retrying (n/N)" line, updated in place
        self._retried: BackendRetry | None = None  # the last retry, until the answer comes
        self._stopped = False  # an error of this turn was shown: its run end does not say it again

    def compose(self) -> ComposeResult:
        yield self.marker

    def on_mount(self) -> None:
        self.anchor()  # stay at the bottom as content comes, until the user scrolls up

    @property
    def scrolled_up(self) -> bool:
        return self._anchor_released and self.scroll_y < self.max_scroll_y

    def follow(self) -> None:
        self.anchor()
        self.marker.remove_class("shown")

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if new_value >= self.max_scroll_y:
            self.marker.remove_class("shown")

    def watch_virtual_size(self) -> None:
        """The content grew (a new widget, streamed text, output lines)."""
        if self.scrolled_up:
            self.marker.add_class("shown")

    def add(self, widget: Widget) -> None:
        self.mount(widget)

    def notice(self, text: str | Text, kind: str = "") -> None:
        self.add(Notice(text, kind))

    def clear(self) -> None:
        self.remove_children([child for child in self.children if child is not self.marker])
        self._text, self._reasoning, self.cards = None, None, {}

    def show(self, event: Event) -> None:
        if self._retried is not None and isinstance(event, ReasoningDelta | TextDelta | AssistantTurn):
            self._answered_after_retry(self._retried)
        if isinstance(event, UserMessage):
            notes, said = split_notes(event.text)
            self.add(UserBubble(said))
            for note in notes:
                self.notice(f"told the model: {note}")
            self._stopped = False
            self.follow()  # a new turn: follow it again
        elif isinstance(event, StepStart):
            self._text, self._reasoning, self._retry = None, None, None
        elif isinstance(event, BackendRetry):
            self._show_retry(event)
        elif isinstance(event, ReasoningDelta):
            if self._reasoning is None:
                self._reasoning = ReasoningBlock()
                self.add(self._reasoning)
            self._reasoning.add(event.text)
        elif isinstance(event, TextDelta):
            if self._text is None:
                self._text = AssistantText()
                self.add(self._text)
            self._text.add(event.text)
        elif isinstance(event, AssistantTurn):
            self._finish_turn(event)
        elif isinstance(event, ToolCall):
            self.cards[event.call_id] = ToolCard.for_call(event)
            self.add(self.cards[event.call_id])
        elif isinstance(event, CallPreview) and event.call_id in self.cards:
            self.cards[event.call_id].set_preview(event)
        elif isinstance(event, Approval) and event.call_id in self.cards:
            self.cards[event.call_id].set_approval(event)
        elif isinstance(event, ToolResult):
            card = self.cards.get(event.call_id)
            if card is None:  # rejected at intake: there was no accepted call to show
                card = self.cards[event.call_id] = ToolCard(event.call_id, event.name, None)
                self.add(card)
            card.set_result(event)
        elif isinstance(event, EffortChange):
            self.notice(f"reasoning effort {event.previous} → {event.effort}: {event.reason}", "effort")
        elif isinstance(event, ModelChange):
            why = f": {event.reason}" if event.reason else " (from the next step)"
            self.notice(f"model {event.previous} → {event.model}{why}", "effort")
        elif isinstance(event, Compaction):
            self.notice(
                f"context compacted (~{event.tokens_before} → ~{event.tokens_after} tokens): "
                "the model goes on from this summary and the recent turns",
                "good",
            )
            self.add(AssistantText(event.summary))
        elif isinstance(event, Error):
            self._stopped = True
            self.notice(f"✗ {ERRORS.get(event.kind, event.kind)}: {event.message}", "error")
        elif (
            isinstance(event, RunEnd)
            and event.status not in ("finished", "interrupted")
            and not self._stopped
        ):
            self.notice(f"stopped ({event.status}): {event.reason}", "error")

    def _show_retry(self, retry: BackendRetry) -> None:
        self._retried = retry
        text = f"{retry.reason}: retrying ({retry.attempt}/{retry.retries}) in {retry.delay_s:.1f}s…"
        if self._retry is None:
            self._retry = Notice(text, "error")
            self.add(self._retry)
        else:
            self._retry.update(text)

    def _answered_after_retry(self, retry: BackendRetry) -> None:
        self._retried = None
        if self._retry is not None:
            self._retry.update(f"{retry.reason}; it answered on retry {retry.attempt}/{retry.retries}")
            self._retry.remove_class("error")

    def _finish_turn(self, turn: AssistantTurn) -> None:
        if turn.reasoning:
            if self._reasoning is None:
                self._reasoning = ReasoningBlock(turn.reasoning, collapsed=True)
                self.add(self._reasoning)
            self._reasoning.finish(turn.reasoning)
        elif self._reasoning is not None:
            self._reasoning.finish("")
        if turn.content.strip():
            if self._text is None:
                self._text = AssistantText(turn.content)
                self.add(self._text)
            else:
                self._text.finish(turn.content)
        self._text, self._reasoning = None, None
