"""Human-readable progress of a run, on stderr (the JSONL event stream owns stdout)."""

from __future__ import annotations

import json

from rich.console import Console
from rich.markup import escape

from trident.agent.core.events import (
    AssistantTurn,
    BackendRetry,
    Correction,
    EffortChange,
    Event,
    RunEnd,
    RunResumed,
    RunStart,
    StepStart,
    ToolCall,
    ToolResult,
)


def _first_line(text: str, limit: int = 120) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[:limit] + "…"


def summary(text: str, limit: int = 160) -> str:
    """An answer in one line: its first line that is not a fence (marked when it is code), and how
    many more lines there are. "```json" alone says nothing; the line after it does."""
    lines = [line.strip() for line in text.strip().splitlines()]
    fenced, first, rest = False, "", 0
    for line in lines:
        if line.startswith("```"):
            fenced = not fenced
        elif line and not first:
            first = f"[code] {line}" if fenced else line.lstrip("#*- ").strip() or line
        elif line:
            rest += 1
    first = first if len(first) <= limit else first[:limit] + "…"
    return first + (f" (+{rest} more line{'s' * (rest != 1)})" if rest else "")


class Progress:
    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True, highlight=False, soft_wrap=True)

    def show(self, event: Event) -> None:
        c = self.console
        if isinstance(event, RunStart):
            c.print(
                f"[bold]trident[/] run {event.run_id} · model {escape(event.model)} "
                f"· effort {event.effort_mode}"
            )
        elif isinstance(event, RunResumed):
            c.print(f"[bold]resumed[/] run {event.run_id} after event {event.after_seq}")
        elif isinstance(event, StepStart):
            colour = "magenta" if event.effort == "high" else "cyan"
            c.print(f"[{colour}]step {event.step} · effort {event.effort}[/]")
        elif isinstance(event, AssistantTurn):
            if event.reasoning:
                c.print(f"  [dim]thought for {len(event.reasoning)} chars[/]")
            if event.content.strip():
                c.print(f"  {escape(summary(event.content))}")
        elif isinstance(event, ToolCall):
            args = json.dumps(event.arguments, ensure_ascii=False)
            c.print(f"  → {event.name} {escape(args if len(args) < 100 else args[:100] + '…')}")
        elif isinstance(event, ToolResult):
            mark = "[green]✓[/]" if event.ok else "[red]✗[/]"
            c.print(f"    {mark} {escape(_first_line(event.output))}")
        elif isinstance(event, BackendRetry):
            c.print(
                f"  [yellow]{escape(event.reason)}: retrying ({event.attempt}/{event.retries}) "
                f"in {event.delay_s:.1f}s[/]"
            )
        elif isinstance(event, Correction):
            label = "format error" if event.kind == "text_call" else "nudge"
            c.print(f"  [yellow]{label}[/]: {escape(event.failure)}")
        elif isinstance(event, EffortChange):
            c.print(f"  [bold magenta]effort {event.previous} → {event.effort}[/]: {escape(event.reason)}")
        elif isinstance(event, RunEnd):
            c.print(
                f"[bold]run ended[/]: {event.status} ({escape(event.reason)}) · {event.steps} steps · "
                f"{event.input_tokens}+{event.output_tokens} tokens · {event.duration_s:.1f}s"
            )
