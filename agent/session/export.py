"""`/export` and `/copy`: the conversation as markdown, and the last answer, from the trajectory.

Everything the transcript showed is in the session's events (a compaction's summary included, and
what it replaced), so the export is read from the trajectory file, not from what the model holds now.
"""

from __future__ import annotations

import json
from pathlib import Path

from trident.agent.core.events import AssistantTurn, Compaction, Event, ToolCall, ToolResult, UserMessage
from trident.agent.core.trajectory import load

OUTPUT_CHARS = 4000  # of each tool result


def _fence(text: str, lang: str = "") -> str:
    ticks = "```"
    while ticks in text:
        ticks += "`"
    return f"{ticks}{lang}\n{text.rstrip()}\n{ticks}"


def to_markdown(events: list[Event], title: str) -> str:
    parts = [f"# {title}"]
    for event in events:
        if isinstance(event, UserMessage):
            parts.append(f"## You\n\n{event.text.strip()}")
        elif isinstance(event, AssistantTurn) and event.content.strip():
            parts.append(f"## trident\n\n{event.content.strip()}")
        elif isinstance(event, ToolCall):
            arguments = json.dumps(event.arguments, indent=2, ensure_ascii=False)
            parts.append(f"**tool `{event.name}`**\n\n{_fence(arguments, 'json')}")
        elif isinstance(event, ToolResult):
            output = event.output
            if len(output) > OUTPUT_CHARS:
                output = output[:OUTPUT_CHARS] + f"\n[... {len(event.output) - OUTPUT_CHARS} more characters]"
            state = "ok" if event.ok else f"failed: {event.error_kind or 'error'}"
            parts.append(f"result ({state}):\n\n{_fence(output)}")
        elif isinstance(event, Compaction):
            parts.append(f"*context compacted; the model's summary:*\n\n{event.summary.strip()}")
    return "\n\n".join(parts) + "\n"


def export_markdown(trajectory: Path, title: str) -> str:
    return to_markdown(load(trajectory), title)


def last_answer(events: list[Event]) -> str | None:
    """The text of the model's last answer that had any."""
    for event in reversed(events):
        if isinstance(event, AssistantTurn) and event.content.strip():
            return event.content.strip()
    return None
