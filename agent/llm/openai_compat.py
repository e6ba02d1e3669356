"""`openai:MODEL@BASE_URL`: any OpenAI-compatible endpoint (vllm serve, llama.cpp, Mistral API).

Streams text, reasoning and tool-call deltas; sends `reasoning_effort` as a top-level request
field; leaves raw `[TOOL_CALLS]` text in the content for intake to parse; splits `[THINK]` markers
out of the content when a server did not. A request that fails before any answer came (429, 5xx,
408/409, no connection, a timeout) is asked again with backoff (honouring Retry-After), each retry
a `Retrying` chunk the loop records and the TUI shows; other failures, and a stream that breaks off
mid-answer, become a `BackendError` that says what happened and what to check.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, cast

import httpx2
import openai
from openai.types.chat import ChatCompletionChunk, ChatCompletionMessageParam

from trident.agent.core.events import Usage
from trident.agent.core.messages import (
    BackendError,
    CallSyntax,
    Chunk,
    Completion,
    Message,
    ModelRequest,
    ProposedCall,
    ReasoningChunk,
    Retrying,
    TextChunk,
)
from trident.agent.llm.think import ThinkSplitter

RETRY_STATUSES = frozenset({408, 409, 429})  # and every 5xx
FIRST_DELAY_S, MAX_DELAY_S = 0.5, 8.0  # backoff: doubling from the first, jitter up to -25%
MAX_RETRY_AFTER_S = 60.0  # a server asking for a longer wait is not retried


def openai_tools(request: ModelRequest, *, strict: bool = False) -> list[dict[str, Any]]:
    """The request's tools as OpenAI `tools` entries (`strict` marks them for grammar-forced arguments)."""
    tools: list[dict[str, Any]] = []
    for tool in request.tools:
        function: dict[str, Any] = tool.model_dump()
        if strict:
            function["strict"] = True
        tools.append({"type": "function", "function": function})
    return tools


def to_openai_messages(messages: list[Message]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for m in messages:
        if m.role == "assistant" and not m.content and not m.tool_calls:
            continue  # a turn cut before it said anything (only reasoning): nothing to send back
        if m.role == "assistant":
            item: dict[str, Any] = {"role": "assistant", "content": m.content or None}
            if m.tool_calls:
                item["tool_calls"] = [
                    {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                    for c in m.tool_calls
                ]
            out.append(item)
        elif m.role == "tool":
            out.append({"role": "tool", "tool_call_id": m.tool_call_id, "name": m.name, "content": m.content})
        else:
            out.append({"role": m.role, "content": m.content})
    return out


@dataclass
class _CallBuffer:
    id: str | None = None
    name: str = ""
    arguments: list[str] = field(default_factory=list)


@dataclass
class _Accumulator:
    """Turns streamed chunks into text/reasoning chunks now and one Completion at the end."""

    splitter: ThinkSplitter = field(default_factory=ThinkSplitter)
    reasoning: list[str] = field(default_factory=list)
    calls: dict[int, _CallBuffer] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)
    finish: str | None = None

    def take(self, chunk: ChatCompletionChunk) -> list[Chunk]:
        out: list[Chunk] = []
        if chunk.usage is not None:
            self.usage = Usage(
                input_tokens=chunk.usage.prompt_tokens, output_tokens=chunk.usage.completion_tokens
            )
        for choice in chunk.choices:
            self.finish = choice.finish_reason or self.finish
            delta = choice.delta
            extra = delta.model_extra or {}
            thought = extra.get("reasoning_content") or extra.get("reasoning")
            if isinstance(thought, str) and thought:
                self.reasoning.append(thought)
                out.append(ReasoningChunk(text=thought))
            for text, is_reasoning in _content_parts(delta.content):
                if is_reasoning:
                    self.reasoning.append(text)
                    out.append(ReasoningChunk(text=text))
                else:
                    out.extend(self.splitter.feed(text))
            for position, call in enumerate(delta.tool_calls or []):
                buffer = self.calls.setdefault(
                    call.index if call.index is not None else position, _CallBuffer()
                )
                buffer.id = call.id or buffer.id
                if call.function is not None:
                    name = call.function.name or ""
                    if name != buffer.name:  # some servers repeat the whole name in every delta
                        buffer.name += name
                    buffer.arguments.append(call.function.arguments or "")
        return out

    def completion(self) -> Completion:
        return Completion(
            content=self.splitter.text,
            reasoning="".join(self.reasoning) + self.splitter.reasoning,
            tool_calls=[
                ProposedCall(id=b.id, name=b.name, arguments="".join(b.arguments))
                for _, b in sorted(self.calls.items())
            ],
            usage=self.usage,
            finish_reason=self.finish,
            # a server without a tool parser leaves `[TOOL_CALLS]` in the text for intake to parse
            calls_parsed=bool(self.calls),
        )


class EndpointUnavailable(BackendError):
    """The server failed before answering in a way worth another try (no connection, a timeout,
    429, 5xx), and this backend's retries are spent: another replica may answer."""


class OpenAIBackend:
    call_syntax: CallSyntax = "structured"  # the server parses calls into `tool_calls`

    def __init__(
        self,
        model: str,
        base_url: str,
        api_key: str,
        *,
        max_retries: int = 4,
        timeout_s: float = 600.0,
        stream_usage: bool = True,
        extra_body: dict[str, Any] | None = None,
        max_tokens: int | None = None,
        context_length: int | None = None,
        tool_choice_required: bool = True,
    ) -> None:
        self.model, self.base_url = model, base_url
        self._tool_choice_required = tool_choice_required
        self.max_retries = max_retries  # ours (so each is seen): the client itself never retries
        self.max_tokens = max_tokens  # sent when the request sets none: a server's default may be unlimited
        self._context_length = context_length
        self._asked_context = context_length is not None
        self._extra_body = dict(extra_body or {})  # server-specific request fields, sent as-is
        self.name = f"openai:{model}@{base_url}"
        self._stream_usage = stream_usage
        self._client = openai.AsyncOpenAI(
            api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout_s
        )

    async def stream(self, request: ModelRequest) -> AsyncIterator[Chunk]:
        body: dict[str, Any] = {"reasoning_effort": request.reasoning_effort, **self._extra_body}
        if self._stream_usage:
            body["stream_options"] = {"include_usage": True}
        if request.temperature is not None:
            body["temperature"] = request.temperature
        max_tokens = request.max_tokens or self.max_tokens
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        if request.tools:
            body["tools"] = openai_tools(request)
            if request.tool_choice == "required" and self._tool_choice_required:
                body["tool_choice"] = "required"
        messages = cast("list[ChatCompletionMessageParam]", to_openai_messages(request.messages))
        for attempt in range(self.max_retries + 1):
            accumulator, streaming, answered = _Accumulator(), False, 0
            try:
                response = await self._client.chat.completions.create(
                    model=self.model, messages=messages, stream=True, extra_body=body
                )
                streaming = True
                async with response:  # closes the connection even when the consumer stops early
                    async for chunk in response:
                        for piece in accumulator.take(chunk):
                            answered += (
                                len(piece.text) if isinstance(piece, TextChunk | ReasoningChunk) else 0
                            )
                            yield piece
                break
            except (openai.APIError, httpx2.HTTPError) as exc:
                delay = None if answered else retry_delay(exc, attempt)
                if delay is None:  # an answer was already passed on: it cannot be asked for again
                    raise BackendError(self._explain(exc, streaming, answered)) from None
                if attempt == self.max_retries:  # worth another try, elsewhere (agent/llm/replicas.py)
                    raise EndpointUnavailable(self._explain(exc, streaming, answered)) from None
                retry = Retrying(
                    attempt=attempt + 1, retries=self.max_retries, reason=_reason(exc), delay_s=delay
                )
            yield retry
            await asyncio.sleep(retry.delay_s)
        for piece in accumulator.splitter.flush():
            yield piece
        yield accumulator.completion()

    async def context_length(self) -> int | None:
        """The configured context, else what the server reports once in /v1/models (vLLM's
        `max_model_len`, llama.cpp's `meta.n_ctx`, for this model or the one model served); None
        where it says nothing."""
        if not self._asked_context:
            self._asked_context = True
            try:
                models = await self._client.with_options(timeout=10.0, max_retries=0).models.list()
            except openai.APIError:
                return None
            for entry in models.data:
                extra = entry.model_extra or {}
                meta = extra.get("meta")
                reported = extra.get("max_model_len", meta.get("n_ctx") if isinstance(meta, dict) else None)
                ours = entry.id == self.model or len(models.data) == 1
                if ours and isinstance(reported, int) and reported > 0:
                    self._context_length = reported
        return self._context_length

    def _explain(
        self, exc: openai.APIError | httpx2.HTTPError, streaming: bool = False, answered: int = 0
    ) -> str:
        where = f"{self.base_url} (model {self.model!r})"
        if streaming and isinstance(exc, httpx2.HTTPError | openai.APIConnectionError):  # 200, then it broke
            cause = exc.__cause__ or exc
            return (
                f"the answer's stream from {where} broke off after {answered} characters "
                f"({type(cause).__name__}: {_short(str(cause), 120) or 'connection closed'}); "
                "the server closed the connection or stopped"
            )
        if isinstance(exc, httpx2.HTTPError):
            return f"{where} failed: {type(exc).__name__}: {_short(str(exc))}"
        if isinstance(exc, openai.APITimeoutError):
            return f"request to {where} timed out"
        if isinstance(exc, openai.APIConnectionError):
            return f"cannot connect to {where}: {exc.__cause__ or exc}"
        if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
            return f"{where} refused the API key ({exc.status_code}); set OPENAI_API_KEY or MISTRAL_API_KEY"
        if isinstance(exc, openai.NotFoundError):
            return f"{where} answered 404: check the model name and that the base URL ends in /v1"
        if isinstance(exc, openai.RateLimitError):
            return f"{where} kept answering 429 (rate limited) after {self.max_retries} retries"
        if isinstance(exc, openai.APIStatusError):
            return f"{where} answered {exc.status_code}: {_short(exc.message)}"
        return f"{where} failed: {_short(str(exc))}"

    async def aclose(self) -> None:
        await self._client.close()


def retry_delay(exc: openai.APIError | httpx2.HTTPError, attempt: int) -> float | None:
    """How long to wait before asking again after `exc` on try `attempt` (from 0); None: not worth it.

    Retried: no connection, a timeout, 408, 409, 429, 5xx (a server's `x-should-retry` decides where
    it says). The wait is the server's Retry-After (up to a minute), else a jittered doubling."""
    if isinstance(exc, openai.APIStatusError):
        headers = exc.response.headers
        should = headers.get("x-should-retry")
        if should == "false" or (
            should != "true" and exc.status_code not in RETRY_STATUSES and exc.status_code < 500
        ):
            return None
        for header, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
            try:
                asked = float(headers.get(header, "")) / scale
            except ValueError:
                continue
            return asked if 0 <= asked <= MAX_RETRY_AFTER_S else None
    elif not isinstance(exc, openai.APIConnectionError | httpx2.TransportError):
        return None  # e.g. an error event inside the stream: the server answered, and said no
    return min(FIRST_DELAY_S * 2.0**attempt, MAX_DELAY_S) * (1 - 0.25 * random.random())


def _reason(exc: openai.APIError | httpx2.HTTPError) -> str:
    """A retried failure in a few words."""
    if isinstance(exc, openai.APIStatusError):
        said = exc.message.removeprefix(f"Error code: {exc.status_code} - ")
        return f"the server answered {exc.status_code} ({_short(said, 60)})"
    if isinstance(exc, openai.APITimeoutError | httpx2.TimeoutException):
        return "the request timed out"
    return f"cannot connect ({_short(str(exc.__cause__ or exc), 60)})"


def _content_parts(content: Any) -> list[tuple[str, bool]]:
    """(text, is_reasoning) pieces of a delta's content: a string, or Mistral's list of chunks."""
    if content is None:
        return []
    if isinstance(content, str):
        return [(content, False)] if content else []
    parts: list[tuple[str, bool]] = []
    for item in content if isinstance(content, list) else []:
        if not isinstance(item, dict):
            continue
        if item.get("type") == "text" and isinstance(item.get("text"), str):
            parts.append((item["text"], False))
        elif item.get("type") == "thinking":
            for sub in item.get("thinking") or []:
                if isinstance(sub, dict) and isinstance(sub.get("text"), str):
                    parts.append((sub["text"], True))
    return parts


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."
