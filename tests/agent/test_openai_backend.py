"""`OpenAIBackend` against a real local HTTP server that speaks chat-completions server-sent events.

The server is stdlib only: a `ThreadingHTTPServer` on 127.0.0.1 (port 0) in a background thread,
fed a queue of scripted replies (an SSE stream of chunk dicts, or an HTTP error), recording the
JSON body of every request it receives. Nothing in the openai client is mocked.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import collect, end_of, make_agent, results
from trident.agent.core.events import Effort, RawToolCall, ToolChoice, Usage
from trident.agent.core.messages import (
    BackendError,
    Chunk,
    Completion,
    Message,
    ModelRequest,
    ProposedCall,
    ReasoningChunk,
    Retrying,
    TextChunk,
)
from trident.agent.llm.openai_compat import OpenAIBackend
from trident.tools.base import ToolSpec

MODEL = "mistral-small-test"
FAST_RETRY = {"retry-after-ms": "10"}  # the openai client honours it, so retries take 10 ms, not ~1 s


# --- the server -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stream:
    """A 200 answer: each chunk sent as `data: {json}`, then `data: [DONE]` (`cut`: instead, the
    connection is closed in the middle of the answer, as a crashing server or a dropped link does)."""

    chunks: list[dict[str, Any]]
    cut: bool = False


@dataclass(frozen=True)
class Failure:
    """An error answer with a JSON body."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


Reply = Stream | Failure

NOTHING_SCRIPTED = Failure(400, {"error": {"message": "test server: no scripted reply left"}})


class FakeOpenAIServer:
    """Answers POST /v1/chat/completions from a queue of scripted replies; records request bodies."""

    def __init__(self) -> None:
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.models: list[dict[str, Any]] | None = None  # GET /v1/models answers these; None: 404
        self._httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.fake = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.01,), daemon=True)

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._replies.extend(replies)

    def record(self, path: str, body: dict[str, Any]) -> Reply:
        with self._lock:
            self.paths.append(path)
            self.requests.append(body)
            return self._replies.popleft() if self._replies else NOTHING_SCRIPTED

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


class _HTTPServer(ThreadingHTTPServer):
    fake: FakeOpenAIServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked streams, like vllm/uvicorn
    server: _HTTPServer

    def do_GET(self) -> None:
        models = self.server.fake.models
        if self.path != "/v1/models" or models is None:
            self._send_failure(Failure(404, {"error": {"message": "not found"}}))
            return
        payload = json.dumps({"object": "list", "data": models}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        reply = self.server.fake.record(self.path, json.loads(raw))
        if isinstance(reply, Failure):
            self._send_failure(reply)
        else:
            self._send_stream(reply)

    def _send_failure(self, reply: Failure) -> None:
        payload = json.dumps(reply.body).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()

    def _send_stream(self, reply: Stream) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for item in reply.chunks:
            self._write_chunk(f"data: {json.dumps(item)}\n\n".encode())
        if reply.cut:
            self.close_connection = True
            return
        self._write_chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def log_message(self, format: str, *args: Any) -> None:
        pass


# --- building scripted streams -------------------------------------------------------------------


def chunk(delta: dict[str, Any] | None = None, finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta or {}, "finish_reason": finish}],
    }


def usage_chunk(prompt_tokens: int, completion_tokens: int) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": MODEL,
        "choices": [],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def call_delta(
    index: int, *, id: str | None = None, name: str | None = None, args: str = ""
) -> dict[str, Any]:
    call: dict[str, Any] = {"index": index, "function": {"arguments": args}}
    if id is not None:
        call["id"], call["type"] = id, "function"
    if name is not None:
        call["function"]["name"] = name
    return {"tool_calls": [call]}


def text_stream(*pieces: str, finish: str = "stop") -> Stream:
    return Stream(
        [
            chunk({"role": "assistant", "content": ""}),
            *(chunk({"content": piece}) for piece in pieces),
            chunk({}, finish),
            usage_chunk(10, 5),
        ]
    )


def backend_for(server: FakeOpenAIServer, max_retries: int = 0) -> OpenAIBackend:
    return OpenAIBackend(MODEL, server.base_url, "test-key", max_retries=max_retries, timeout_s=10)


def request(effort: Effort = "none") -> ModelRequest:
    return ModelRequest(
        messages=[Message(role="system", content="sys"), Message(role="user", content="hi")],
        reasoning_effort=effort,
    )


async def stream_all(backend: OpenAIBackend, req: ModelRequest | None = None) -> list[Chunk]:
    try:
        return [item async for item in backend.stream(req or request())]
    finally:
        await backend.aclose()


async def error_of(backend: OpenAIBackend) -> str:
    with pytest.raises(BackendError) as info:
        await stream_all(backend)
    return str(info.value)


def completion_of(items: list[Chunk]) -> Completion:
    *_, last = items
    assert isinstance(last, Completion)
    assert not any(isinstance(item, Completion) for item in items[:-1])
    return last


def texts(items: list[Chunk]) -> str:
    return "".join(item.text for item in items if isinstance(item, TextChunk))


def thoughts(items: list[Chunk]) -> str:
    return "".join(item.text for item in items if isinstance(item, ReasoningChunk))


# --- streaming ------------------------------------------------------------------------------------


async def test_text_reasoning_and_a_tool_call_stream_in_order(server: FakeOpenAIServer) -> None:
    server.script(
        Stream(
            [
                chunk({"role": "assistant", "content": ""}),
                chunk({"reasoning_content": "The user wants"}),
                chunk({"reasoning_content": " a file read."}),
                chunk({"content": "Let me "}),
                chunk({"content": "read "}),
                chunk({"content": "it."}),
                chunk(call_delta(0, id="abcDEF123", name="read")),
                chunk(call_delta(0, args='{"pa')),
                chunk(call_delta(0, args='th": "hel')),
                chunk(call_delta(0, args='lo.py"}')),
                chunk({}, "tool_calls"),
                usage_chunk(123, 45),
            ]
        )
    )
    items = await stream_all(backend_for(server))
    assert items[:-1] == [
        ReasoningChunk(text="The user wants"),
        ReasoningChunk(text=" a file read."),
        TextChunk(text="Let me "),
        TextChunk(text="read "),
        TextChunk(text="it."),
    ]
    completion = completion_of(items)
    assert completion.content == "Let me read it."
    assert completion.reasoning == "The user wants a file read."
    assert completion.tool_calls == [
        ProposedCall(id="abcDEF123", name="read", arguments='{"path": "hello.py"}')
    ]
    assert completion.usage == Usage(input_tokens=123, output_tokens=45)
    assert completion.finish_reason == "tool_calls"
    assert server.paths == ["/v1/chat/completions"]


async def test_parallel_tool_calls_interleaved_by_index(server: FakeOpenAIServer) -> None:
    server.script(
        Stream(
            [
                chunk({"role": "assistant", "content": None}),
                chunk(call_delta(0, id="callAAAA1", name="read")),
                chunk(call_delta(1, id="callBBBB2", name="bash")),
                chunk(call_delta(1, args='{"command": ')),
                chunk(call_delta(0, args='{"path": ')),
                chunk(
                    {
                        "tool_calls": [
                            {"index": 1, "function": {"arguments": '"ls"}'}},
                            {"index": 0, "function": {"arguments": '"a.py"}'}},
                        ]
                    }
                ),
                chunk({}, "tool_calls"),
                usage_chunk(7, 8),
            ]
        )
    )
    items = await stream_all(backend_for(server))
    assert items[:-1] == []
    completion = completion_of(items)
    assert completion.content == ""
    assert completion.tool_calls == [
        ProposedCall(id="callAAAA1", name="read", arguments='{"path": "a.py"}'),
        ProposedCall(id="callBBBB2", name="bash", arguments='{"command": "ls"}'),
    ]
    assert completion.usage == Usage(input_tokens=7, output_tokens=8)


async def test_think_markers_cut_across_chunks_become_reasoning(server: FakeOpenAIServer) -> None:
    server.script(text_stream("[TH", "INK]I should", " say hi[/TH", "INK]Hi", " there", "!"))
    items = await stream_all(backend_for(server))
    assert thoughts(items) == "I should say hi"
    assert texts(items) == "Hi there!"
    pieces = [item.text for item in items if isinstance(item, TextChunk | ReasoningChunk)]
    assert not any("[" in piece or "]" in piece for piece in pieces)
    completion = completion_of(items)
    assert completion.content == "Hi there!"
    assert completion.reasoning == "I should say hi"
    assert completion.tool_calls == []
    assert completion.finish_reason == "stop"


async def test_text_that_only_looks_like_a_marker_start_is_kept(server: FakeOpenAIServer) -> None:
    server.script(text_stream("a[T", "x] b [", "THIN"))
    items = await stream_all(backend_for(server))
    assert texts(items) == "a[Tx] b [THIN"
    assert thoughts(items) == ""
    assert completion_of(items).content == "a[Tx] b [THIN"


async def test_mistral_content_lists_split_thinking_from_text(server: FakeOpenAIServer) -> None:
    thinking = {"type": "thinking", "thinking": [{"type": "text", "text": "hmm"}]}
    server.script(
        Stream(
            [
                chunk({"role": "assistant", "content": [thinking, {"type": "text", "text": "hi"}]}),
                chunk({"content": [{"type": "text", "text": " you"}]}),
                chunk({}, "stop"),
            ]
        )
    )
    items = await stream_all(backend_for(server))
    assert items[:-1] == [ReasoningChunk(text="hmm"), TextChunk(text="hi"), TextChunk(text=" you")]
    completion = completion_of(items)
    assert completion.reasoning == "hmm"
    assert completion.content == "hi you"
    assert completion.usage == Usage()  # this server sent no usage chunk


# --- the request ----------------------------------------------------------------------------------


READ_SPEC = ToolSpec(
    name="read",
    description="Read a file.",
    parameters={"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
)


@pytest.mark.parametrize(("effort", "temperature", "max_tokens"), [("none", None, None), ("high", 0.2, 256)])
async def test_request_body(
    server: FakeOpenAIServer, effort: Effort, temperature: float | None, max_tokens: int | None
) -> None:
    call = RawToolCall(id="abcDEF123", name="read", arguments='{"path": "a.py"}')
    req = ModelRequest(
        messages=[
            Message(role="system", content="You are terse."),
            Message(role="user", content="Read a.py"),
            Message(role="assistant", content="", reasoning="not sent back", tool_calls=[call]),
            Message(role="tool", content="x = 1", tool_call_id="abcDEF123", name="read"),
            Message(role="assistant", content="It sets x."),
            Message(role="user", content="Thanks"),
        ],
        tools=[READ_SPEC],
        reasoning_effort=effort,
        temperature=temperature,
        max_tokens=max_tokens,
    )
    server.script(text_stream("ok"))
    await stream_all(backend_for(server), req)
    (body,) = server.requests
    assert body["model"] == MODEL
    assert body["stream"] is True
    assert body["reasoning_effort"] == effort
    assert body["stream_options"] == {"include_usage": True}
    assert body.get("temperature") == temperature
    assert body.get("max_tokens") == max_tokens
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "read",
                "description": "Read a file.",
                "parameters": READ_SPEC.parameters,
            },
        }
    ]
    assert body["messages"] == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Read a.py"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "abcDEF123",
                    "type": "function",
                    "function": {"name": "read", "arguments": '{"path": "a.py"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "abcDEF123", "name": "read", "content": "x = 1"},
        {"role": "assistant", "content": "It sets x."},
        {"role": "user", "content": "Thanks"},
    ]


async def test_request_without_tools_sends_no_tools_field(server: FakeOpenAIServer) -> None:
    server.script(text_stream("ok"))
    await stream_all(backend_for(server))
    (body,) = server.requests
    assert "tools" not in body
    assert "temperature" not in body and "max_tokens" not in body


@pytest.mark.parametrize(
    ("choice", "enabled", "sent"),
    [("required", True, "required"), ("auto", True, None), ("required", False, None)],
)
async def test_tool_choice_is_sent_only_when_a_call_is_required(
    server: FakeOpenAIServer, choice: ToolChoice, enabled: bool, sent: str | None
) -> None:
    server.script(text_stream("ok"))
    req = request().model_copy(update={"tools": [READ_SPEC], "tool_choice": choice})
    backend = OpenAIBackend(MODEL, server.base_url, "k", max_retries=0, tool_choice_required=enabled)
    await stream_all(backend, req)
    (body,) = server.requests
    assert body.get("tool_choice") == sent and body["tools"]


async def test_extra_body_fields_are_sent_as_given(server: FakeOpenAIServer) -> None:
    server.script(text_stream("ok"))
    extra = {"structured_outputs": {"grammar": "start: /x/"}, "min_tokens": 2}
    await stream_all(OpenAIBackend(MODEL, server.base_url, "k", max_retries=0, extra_body=extra))
    (body,) = server.requests
    assert body["structured_outputs"] == extra["structured_outputs"] and body["min_tokens"] == 2
    assert body["reasoning_effort"] == "none"


# --- the real loop, against a server that left tool calls as raw text ------------------------------


async def test_loop_runs_a_raw_text_tool_call(tmp_path: Path, server: FakeOpenAIServer) -> None:
    server.script(
        text_stream("I'll read", " it.[TOOL_", "CALLS]re", "ad[AR", 'GS]{"path": ', '"hello.py"}'),
        text_stream("It prints ", "hello."),
    )
    backend = backend_for(server)
    try:
        events = await collect(make_agent(tmp_path, backend))
    finally:
        await backend.aclose()

    (result,) = results(events)
    assert result.ok and result.name == "read"
    assert "print('hello')" in result.output
    end = end_of(events)
    assert end.status == "finished"
    assert end.steps == 2
    assert (end.input_tokens, end.output_tokens) == (20, 10)

    first, second = server.requests
    assert first["reasoning_effort"] == "none"
    assert {t["function"]["name"] for t in first["tools"]} >= {"read"}
    assistant = next(m for m in second["messages"] if m["role"] == "assistant")
    assert assistant["content"] == "I'll read it."
    (call,) = assistant["tool_calls"]
    assert re.fullmatch(r"[A-Za-z0-9]{9}", call["id"])
    assert call["id"] == result.call_id
    assert call["type"] == "function"
    assert call["function"]["name"] == "read"
    assert json.loads(call["function"]["arguments"]) == {"path": "hello.py"}
    tool = next(m for m in second["messages"] if m["role"] == "tool")
    assert tool["tool_call_id"] == call["id"]
    assert "print('hello')" in tool["content"]
    roles = [m["role"] for m in second["messages"]]
    assert roles == ["system", "user", "assistant", "tool"]


# --- retries --------------------------------------------------------------------------------------


def rate_limited() -> Failure:
    return Failure(429, {"error": {"message": "slow down", "type": "rate_limit"}}, FAST_RETRY)


def unavailable() -> Failure:
    return Failure(503, {"error": {"message": "loading model"}}, FAST_RETRY)


async def test_429_is_retried_after_retry_after_ms(server: FakeOpenAIServer) -> None:
    server.script(rate_limited(), text_stream("fine"))
    items = await stream_all(backend_for(server, max_retries=2))
    assert completion_of(items).content == "fine"
    assert len(server.requests) == 2
    assert server.requests[0] == server.requests[1]


async def test_503_twice_then_success(server: FakeOpenAIServer) -> None:
    server.script(unavailable(), unavailable(), text_stream("up"))
    items = await stream_all(backend_for(server, max_retries=2))
    assert completion_of(items).content == "up"
    assert len(server.requests) == 3


# --- clear errors ---------------------------------------------------------------------------------


async def test_401_names_the_api_key_variables(server: FakeOpenAIServer) -> None:
    server.script(Failure(401, {"error": {"message": "Unauthorized"}}))
    message = await error_of(backend_for(server, max_retries=2))
    assert "401" in message
    assert "OPENAI_API_KEY" in message and "MISTRAL_API_KEY" in message
    assert len(server.requests) == 1  # not retried


async def test_404_names_the_model_and_base_url(server: FakeOpenAIServer) -> None:
    server.script(Failure(404, {"error": {"message": f"The model `{MODEL}` does not exist."}}))
    message = await error_of(backend_for(server, max_retries=2))
    assert "404" in message
    assert MODEL in message and server.base_url in message
    assert "/v1" in message
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"error": {"message": "context too long: 40000 > 32768", "type": "invalid_request_error"}},
        {"object": "error", "message": "context too long: 40000 > 32768", "type": "BadRequestError"},
    ],
    ids=["openai-style", "vllm-style"],
)
async def test_400_carries_the_status_and_the_server_message(
    server: FakeOpenAIServer, body: dict[str, Any]
) -> None:
    server.script(Failure(400, body))
    message = await error_of(backend_for(server, max_retries=2))
    assert "400" in message
    assert "context too long: 40000 > 32768" in message
    assert len(server.requests) == 1


async def test_nothing_listening_says_cannot_connect() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = OpenAIBackend(MODEL, f"http://127.0.0.1:{port}/v1", "test-key", max_retries=0, timeout_s=10)
    message = await error_of(backend)
    assert "cannot connect" in message
    assert f"127.0.0.1:{port}" in message


async def test_429_forever_gives_up_after_the_retries(server: FakeOpenAIServer) -> None:
    server.script(rate_limited(), rate_limited(), rate_limited())
    message = await error_of(backend_for(server, max_retries=1))
    assert "429" in message
    assert MODEL in message
    assert len(server.requests) == 2


async def test_backend_error_stops_the_loop_cleanly(tmp_path: Path, server: FakeOpenAIServer) -> None:
    server.script(Failure(401, {"error": {"message": "Unauthorized"}}))
    backend = backend_for(server)
    try:
        events = await collect(make_agent(tmp_path, backend))
    finally:
        await backend.aclose()
    end = end_of(events)
    assert end.status == "backend_error"
    assert "OPENAI_API_KEY" in end.reason


async def test_error_event_inside_the_stream_becomes_a_backend_error(server: FakeOpenAIServer) -> None:
    error = {"object": "error", "message": "engine died mid-generation", "type": "InternalServerError"}
    server.script(Stream([chunk({"role": "assistant", "content": "Part"}), {"error": error}]))
    message = await error_of(backend_for(server, max_retries=2))
    assert "engine died mid-generation" in message
    assert len(server.requests) == 1


# --- context length and the answer limit ------------------------------------------------------------


def vllm_models(max_model_len: int) -> list[dict[str, Any]]:
    """What `vllm serve` lists at /v1/models (fields as vLLM 0.32 sends them)."""
    return [
        {"id": "other", "object": "model", "owned_by": "vllm", "max_model_len": 999},
        {"id": MODEL, "object": "model", "owned_by": "vllm", "root": MODEL, "max_model_len": max_model_len},
    ]


async def test_context_length_is_what_the_server_reports_or_none(server: FakeOpenAIServer) -> None:
    assert await backend_for(server).context_length() is None  # /v1/models answers 404
    server.models = vllm_models(65536)
    backend = backend_for(server)
    assert await backend.context_length() == 65536
    server.models = vllm_models(1)
    assert await backend.context_length() == 65536  # asked once
    configured = OpenAIBackend(MODEL, server.base_url, "k", max_retries=0, context_length=4096)
    assert await configured.context_length() == 4096


async def test_llama_cpp_reports_its_context_as_meta_n_ctx(server: FakeOpenAIServer) -> None:
    """llama.cpp's /v1/models (one model, named after its file, whatever the client calls it)."""
    server.models = [
        {"id": "model.gguf", "object": "model", "owned_by": "llamacpp", "meta": {"n_ctx": 16384}}
    ]
    assert await backend_for(server).context_length() == 16384


async def test_agent_turns_send_the_configured_max_tokens(server: FakeOpenAIServer) -> None:
    from trident.agent.config import Settings
    from trident.agent.llm.resolve import make_backend

    server.script(text_stream("ok"), text_stream("ok"))
    for settings in (Settings(), Settings.model_validate({"openai": {"max_tokens": 100}})):
        backend = make_backend(f"openai:{MODEL}@{server.base_url}", settings)
        try:
            [item async for item in backend.stream(request())]
        finally:
            await backend.aclose()
    assert [body["max_tokens"] for body in server.requests] == [8192, 100]


async def test_a_turn_cut_at_max_tokens_is_not_the_answer(tmp_path: Path, server: FakeOpenAIServer) -> None:
    server.script(text_stream("I was going to say", finish="length"), text_stream("Done."))
    backend = backend_for(server)
    try:
        events = await collect(make_agent(tmp_path, backend))
    finally:
        await backend.aclose()
    end = end_of(events)
    assert end.status == "finished" and end.steps == 2
    assert server.requests[1]["messages"][-1]["content"].startswith("[Your previous answer was cut off")


async def test_old_outputs_are_masked_against_the_served_context(
    tmp_path: Path, server: FakeOpenAIServer
) -> None:
    """A conversation far below the configured budget (96K) but past what the server holds is masked."""
    server.models = vllm_models(8192)
    server.script(
        *(
            Stream(
                [
                    chunk(call_delta(0, id=call_id, name="read", args='{"path": "big.txt"}')),
                    chunk({}, "tool_calls"),
                ]
            )
            for call_id in ("abcDEF123", "abcDEF456")
        ),
        text_stream("Done."),
    )
    backend = OpenAIBackend(MODEL, server.base_url, "k", max_retries=0, max_tokens=1024)
    from trident.agent.loop import Policies
    from trident.agent.policies.masking import ObservationMasker

    big = "".join(f"line {i:04d} " + "x" * 80 + "\n" for i in range(300))  # ~27K chars, ~6.8K tokens
    policies = Policies(masking=ObservationMasker(keep_recent=1))
    try:
        events = await collect(make_agent(tmp_path, backend, {"big.txt": big}, policies))
    finally:
        await backend.aclose()
    assert end_of(events).status == "finished"
    tools_shown = [m["content"] for m in server.requests[2]["messages"] if m["role"] == "tool"]
    assert tools_shown[0].startswith("[output elided to save context") and "line 0299" in tools_shown[1]


async def test_retries_are_chunks_that_say_why_and_how_long(server: FakeOpenAIServer) -> None:
    server.script(unavailable(), rate_limited(), text_stream("up"))
    items = await stream_all(backend_for(server, max_retries=5))
    retries = [item for item in items if isinstance(item, Retrying)]
    assert [(r.attempt, r.retries, r.delay_s) for r in retries] == [(1, 5, 0.01), (2, 5, 0.01)]
    assert "503" in retries[0].reason and "loading model" in retries[0].reason
    assert "429" in retries[1].reason
    assert completion_of(items).content == "up"


async def test_a_stream_cut_mid_answer_is_not_cannot_connect_and_not_retried(
    server: FakeOpenAIServer,
) -> None:
    start = chunk({"role": "assistant", "content": "The first half of"})
    server.script(Stream([start], cut=True), text_stream("never asked"))
    backend = backend_for(server, max_retries=3)
    seen: list[Chunk] = []
    with pytest.raises(BackendError) as raised:
        async for item in backend.stream(request()):
            seen.append(item)
    message = str(raised.value)
    assert "broke off after 17 characters" in message and "cannot connect" not in message
    assert (
        texts(seen) == "The first half of" and len(server.requests) == 1
    )  # an answer was shown: not asked again


async def test_a_stream_cut_before_any_answer_is_retried(server: FakeOpenAIServer) -> None:
    server.script(Stream([chunk({"role": "assistant"})], cut=True), text_stream("second try"))
    items = await stream_all(backend_for(server, max_retries=2))
    assert completion_of(items).content == "second try"
    assert isinstance(items[0], Retrying)


async def test_a_server_asking_for_a_long_wait_or_no_retry_is_not_retried(server: FakeOpenAIServer) -> None:
    busy = {"error": {"message": "come back later"}}
    server.script(Failure(503, busy, {"retry-after": "600"}), Failure(500, busy, {"x-should-retry": "false"}))
    for _ in range(2):
        assert "come back later" in await error_of(backend_for(server, max_retries=3))
    assert len(server.requests) == 2  # each asked once
