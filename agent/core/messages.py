"""The backend protocol: a model request in, a stream of deltas and one completion out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from trident.agent.core.events import Effort, RawToolCall, ToolChoice, Usage
from trident.tools.base import ToolSpec


class Message(BaseModel):
    """One chat message as backends see it (OpenAI-style roles)."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["system", "user", "assistant", "tool"]
    content: str = ""
    reasoning: str = ""  # assistant only: kept for the record, not sent back by default
    tool_calls: list[RawToolCall] = Field(default_factory=list)  # assistant only
    tool_call_id: str | None = None  # tool only
    name: str | None = None  # tool only
    summarised_turns: int = 0  # a compaction summary: the model turns it stands for (not sent)


def model_turns(messages: list[Message]) -> int:
    """How many model answers a conversation holds, those folded into compaction summaries included."""
    return sum((m.role == "assistant") + m.summarised_turns for m in messages)


class ModelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    messages: list[Message]
    tools: list[ToolSpec] = Field(default_factory=list)
    reasoning_effort: Effort = "none"
    temperature: float | None = None
    max_tokens: int | None = None
    tool_choice: ToolChoice = "auto"


class ProposedCall(BaseModel):
    """A tool call as a backend returned it: the id may be missing, the arguments malformed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str | None = None
    name: str
    arguments: str | dict[str, Any] | list[Any] | None = None


class TextChunk(BaseModel):
    kind: Literal["text"] = "text"
    text: str


class ReasoningChunk(BaseModel):
    kind: Literal["reasoning"] = "reasoning"
    text: str


class Completion(BaseModel):
    """The whole answer to one request; always the last item of a stream."""

    kind: Literal["completion"] = "completion"
    content: str = ""
    reasoning: str = ""
    tool_calls: list[ProposedCall] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    # "stop", "tool_calls", or "length" (cut at max_tokens or the context: a failing step, not an answer)
    finish_reason: str | None = None
    # The backend parsed the calls itself (structured calls, or token ids): `[TOOL_CALLS]` in `content`
    # is then text the model wrote (a quote, a file it read) and is never run. False only where the
    # backend returns unparsed model text (a server without a tool parser, a scripted `raw` turn).
    calls_parsed: bool = True
    # What the backend did besides answering (an engine restarted after it died): the loop records
    # each as an `Error` event of kind "backend_notice"; the run goes on.
    notices: list[str] = Field(default_factory=list)

    @property
    def truncated(self) -> bool:
        return self.finish_reason == "length"


class Retrying(BaseModel):
    """The request failed in a way worth another try (429, 5xx, no connection), before any answer
    came; the backend waits `delay_s` and asks again: try `attempt` + 1 of `retries` + 1."""

    kind: Literal["retrying"] = "retrying"
    attempt: int  # the retry about to be made, from 1
    retries: int  # how many the backend makes at most
    reason: str
    delay_s: float


Chunk = TextChunk | ReasoningChunk | Retrying | Completion


class BackendError(Exception):
    """The model could not be asked (connection, auth, unknown model, exhausted script...)."""


# How a backend's model writes a tool call: Mistral's own `name[ARGS]{json}` tokens (the embedded
# engine), or structured function calls (an OpenAI-compatible server parses them; scripted sessions).
CallSyntax = Literal["raw", "structured"]


class Backend(Protocol):
    name: str
    call_syntax: CallSyntax  # intake words its corrections in it

    @property
    def max_tokens(self) -> int | None:
        """Output tokens per turn when the request sets none (None: the server's own limit)."""
        ...

    def stream(self, request: ModelRequest) -> AsyncIterator[Chunk]:
        """Yield text/reasoning chunks as they come, then exactly one Completion."""
        ...

    async def context_length(self) -> int | None:
        """The served context in tokens (prompt and answer), None when unknown."""
        ...

    async def aclose(self) -> None: ...
