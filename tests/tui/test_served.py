"""The TUI on an OpenAI-compatible server (the local test server): the context window's fill in the
status bar; a failing server: each retry on one line that counts, a stream cut mid-answer said once as
what it is (not "cannot connect"), the partial answer kept and marked cut, the conversation going on."""

from __future__ import annotations

from pathlib import Path

from tests.agent.test_openai_backend import (
    MODEL,
    Failure,
    FakeOpenAIServer,
    Stream,
    chunk,
    text_stream,
    unavailable,
    usage_chunk,
)
from tests.chat_helpers import git_repo
from tests.helpers import OPEN_SANDBOXES
from tests.tui.conftest import SIZE, visible_text
from tests.tui.test_app import idle, type_line, until
from trident.agent.config import load_settings
from trident.agent.core.events import AssistantTurn, BackendRetry, StepEnd
from trident.agent.core.trajectory import load
from trident.agent.llm.openai_compat import OpenAIBackend
from trident.agent.policies.approval import ApprovalPolicy
from trident.agent.session.chat import CUT, ChatSession
from trident.agent.session.input_history import InputHistory
from trident.agent.tui.app import TridentApp
from trident.sandbox.local import LocalSandbox


def served_app(tmp_path: Path, server: FakeOpenAIServer, context_length: int | None = None) -> TridentApp:
    """The app on a session whose model is the test server (an OpenAI-compatible one)."""
    repo = git_repo(tmp_path / "repo")
    OPEN_SANDBOXES.append(LocalSandbox(repo))
    model = OpenAIBackend(
        MODEL, server.base_url, "test-key", max_retries=5, timeout_s=10, context_length=context_length
    )
    session = ChatSession.start(
        load_settings(repo),
        repo,
        f"openai:{MODEL}@{server.base_url}",
        OPEN_SANDBOXES[-1],
        ApprovalPolicy(mode="ask"),
        backend=model,
        run_id="errors-test",
    )
    return TridentApp(session, history=InputHistory(), clock=lambda: 0.0)


async def test_retries_then_a_cut_stream_then_the_conversation_goes_on(
    tmp_path: Path, server: FakeOpenAIServer
) -> None:
    half = chunk({"role": "assistant", "content": "The first half of the answer"})
    slow = Failure(503, {"error": {"message": "loading model"}}, {"retry-after-ms": "800"})
    server.script(unavailable(), slow, Stream([half], cut=True), text_stream("Back again."))
    app = served_app(tmp_path, server)
    async with app.run_test(size=SIZE) as pilot:
        await type_line(pilot, "explain it")
        waiting = "the server answered 503 (loading model): retrying (2/5) in 0.8s…"
        await until(pilot, lambda: waiting in visible_text(app), "the second retry's line")
        await idle(pilot)
        text = visible_text(app)
        assert text.count("retry") == 1  # one line, counting up, then saying it answered
        assert "the server answered 503 (loading model); it answered on retry 2/5" in text
        assert text.count("broke off after 28 characters") == 1 and "cannot connect" not in text
        assert "✗ the model's server failed: the answer's stream from" in text
        assert "stopped (backend_error)" not in text  # said once
        assert f"The first half of the answer\n{CUT}" in text  # the partial answer, marked cut
        await type_line(pilot, "go on")
        await idle(pilot)
        assert "Back again." in visible_text(app)
    events = load(app.session.writer.path)
    assert [(e.attempt, e.retries) for e in events if isinstance(e, BackendRetry)] == [(1, 5), (2, 5)]
    turns = [e.content for e in events if isinstance(e, AssistantTurn)]
    assert turns == [f"The first half of the answer\n{CUT}", "Back again."]
    assert server.requests[-1]["messages"][-2] == {
        "role": "assistant",
        "content": f"The first half of the answer\n{CUT}",
    }  # the model is told its last answer was cut


async def test_the_status_bar_shows_how_full_the_context_is(tmp_path: Path, server: FakeOpenAIServer) -> None:
    words = [chunk({"role": "assistant", "content": ""})]
    words += [chunk({"content": f"word{i} "}) for i in range(400)]
    server.script(Stream([*words, chunk({}, "stop"), usage_chunk(3000, 1000)]))
    app = served_app(tmp_path, server, context_length=5000)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: "/5.0k " in str(app.status_bar.content), "the window's size")
        await type_line(pilot, "talk")
        await idle(pilot)
        line = str(app.status_bar.content)
        assert "ctx 4.0k/5.0k 80%" in line  # the model's own count: what it read and wrote
        assert line.rstrip().endswith("0:00")  # at 80 columns the right part stays whole


async def test_a_server_that_never_answers_leaves_no_cut_answer(
    tmp_path: Path, server: FakeOpenAIServer
) -> None:
    server.script(
        Failure(400, {"error": {"message": "bad request: no such thing"}}), text_stream("Fine now.")
    )
    app = served_app(tmp_path, server)
    async with app.run_test(size=SIZE) as pilot:
        await type_line(pilot, "hello")
        await idle(pilot)
        text = visible_text(app)
        assert (
            text.count("bad request: no such thing") == 1 and "retrying" not in text
        )  # a 400 is not retried
        assert CUT not in text  # there was nothing to cut
        await type_line(pilot, "again")
        await idle(pilot)
        assert "Fine now." in visible_text(app)
    steps = [e.step for e in load(app.session.writer.path) if isinstance(e, StepEnd)]
    assert steps == [1, 2]  # the failed step ended; the next one is the next step
