"""`scripted:FILE`: replays recorded model turns from a JSONL file, one line per model call.

Each line is either `{"content": str?, "reasoning": str?, "tool_calls": [{"name": str,
"arguments": object | string, "id": str?}]?, "usage": {...}?}` or `{"raw": str}` (raw model text,
e.g. with `[TOOL_CALLS]`), either with an optional `finish_reason` ("stop", "tool_calls", or
"length": the turn was cut at max_tokens; default "tool_calls" when the turn has calls, else "stop")
and optional `notices` (strings the backend reports besides the answer, e.g. an engine restart).
Only `raw` text is parsed for calls; `content` is what the model wrote, `[TOOL_CALLS]` included.
Turn i answers a conversation holding i model turns (assistant messages, and the turns a compaction
summary stands for), so a resumed or compacted run picks up at the right line. Asking for more
turns than recorded is an error.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from trident.agent.core.events import Usage
from trident.agent.core.jsonl import JsonlError, read_records
from trident.agent.core.messages import (
    BackendError,
    CallSyntax,
    Chunk,
    Completion,
    ModelRequest,
    ProposedCall,
    model_turns,
)
from trident.agent.llm.think import ThinkSplitter


class ScriptedCall(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    arguments: dict[str, Any] | str
    id: str | None = None


class ScriptedTurn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content: str | None = None
    reasoning: str | None = None
    tool_calls: list[ScriptedCall] | None = None
    raw: str | None = None
    usage: Usage | None = None
    finish_reason: Literal["stop", "tool_calls", "length"] | None = Field(
        None, description="default: tool_calls when the turn has calls, else stop; length: cut at max_tokens"
    )
    delay: float = Field(0.0, ge=0, le=60, description="Seconds between streamed pieces (demos, interrupts).")
    comment: str | None = Field(None, description="Ignored: a note for readers of the session file.")
    notices: list[str] = Field(
        default_factory=list, description="What the backend reports besides the answer (an engine restart)."
    )


def load_script(path: str | Path) -> list[ScriptedTurn]:
    path = Path(path)
    try:
        records = read_records(path, ScriptedTurn)
    except JsonlError as exc:
        raise BackendError(f"invalid scripted session: {exc}") from None
    for number, turn in records:
        if turn.raw is not None and (turn.content or turn.reasoning or turn.tool_calls):
            raise BackendError(f"{path}:{number}: a turn is either `raw` or content/reasoning/tool_calls")
    return [turn for _, turn in records]


def _pieces(text: str) -> list[str]:
    """Cut text into word-sized pieces, as a streaming server would send it."""
    return re.findall(r"\S+\s*|\s+", text)


class ScriptedBackend:
    call_syntax: CallSyntax = "structured"  # recorded turns hold calls as structured data

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.turns = load_script(self.path)
        self.name = f"scripted:{self.path}"
        self.max_tokens: int | None = None

    async def context_length(self) -> int | None:
        return None

    async def stream(self, request: ModelRequest) -> AsyncIterator[Chunk]:
        index = model_turns(request.messages)
        if index >= len(self.turns):
            raise BackendError(
                f"scripted session {self.path} has {len(self.turns)} turns; the model was asked for turn "
                f"{index + 1}"
            )
        turn = self.turns[index]
        splitter = ThinkSplitter()
        if turn.raw is not None:
            text = turn.raw
        else:  # a structured turn: reasoning first, as a thinking model streams it
            text = f"[THINK]{turn.reasoning}[/THINK]" if turn.reasoning else ""
            text += turn.content or ""
        for piece in _pieces(text):
            if turn.delay:
                await asyncio.sleep(turn.delay)
            for chunk in splitter.feed(piece):
                yield chunk
        for chunk in splitter.flush():
            yield chunk
        calls = [ProposedCall(id=c.id, name=c.name, arguments=c.arguments) for c in turn.tool_calls or []]
        usage = turn.usage or _estimate_usage(request, splitter.text + splitter.reasoning, calls)
        yield Completion(
            content=splitter.text,
            reasoning=splitter.reasoning,
            tool_calls=calls,
            usage=usage,
            finish_reason=turn.finish_reason or ("tool_calls" if calls else "stop"),
            calls_parsed=turn.raw is None,
            notices=turn.notices,
        )

    async def aclose(self) -> None:
        return None


def _estimate_usage(request: ModelRequest, output: str, calls: list[ProposedCall]) -> Usage:
    prompt_chars = sum(len(m.content) for m in request.messages) + len(
        json.dumps([t.parameters for t in request.tools])
    )
    out_chars = len(output) + sum(len(json.dumps(c.arguments)) for c in calls)
    return Usage(input_tokens=prompt_chars // 4, output_tokens=max(1, out_chars // 4))
