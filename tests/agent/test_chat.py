"""The interactive session without a UI: turns, approvals, undo, effort, cancellation, resume."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from tests.chat_helpers import answer, chat_session, edit_turn
from tests.helpers import write_session
from trident.agent.core.events import (
    Approval,
    EffortChange,
    Event,
    ModelChange,
    RunEnd,
    StepStart,
    TextDelta,
    ToolCall,
    ToolResult,
    UserMessage,
)
from trident.agent.core.messages import Message
from trident.agent.core.trajectory import load
from trident.agent.policies.approval import ApprovalPolicy
from trident.agent.session.chat import INTERRUPTED, ChatSession, Decision
from trident.agent.session.saved import chat_resume_point, list_sessions


def _valid_conversation(messages: list[Message]) -> None:
    """Every assistant tool call has exactly one tool answer, before the next assistant/user turn."""
    open_calls: set[str] = set()
    for message in messages:
        if message.role == "tool":
            assert message.tool_call_id in open_calls
            open_calls.remove(message.tool_call_id or "")
        else:
            assert not open_calls, f"unanswered calls {open_calls} before a {message.role} message"
            open_calls = {c.id for c in message.tool_calls}
    assert not open_calls


async def test_a_second_message_continues_the_same_conversation(tmp_path: Path) -> None:
    session = chat_session(tmp_path, [answer("Hello."), answer("Still here.")])
    events: list[Event] = []
    first = await session.send("hi", events.append)
    second = await session.send("and now?", events.append)
    assert first is not None and first.status == "finished"
    assert second is not None and second.status == "finished"
    roles = [m.role for m in session.agent.state.messages]
    assert roles == ["system", "user", "assistant", "user", "assistant"]
    assert session.agent.state.step == 2
    on_disk = load(session.writer.path)
    assert [e.type for e in on_disk].count("run_end") == 2
    assert [e.text for e in on_disk if isinstance(e, UserMessage)] == ["hi", "and now?"]


async def test_denial_with_a_reason_is_what_the_model_hears(tmp_path: Path) -> None:
    session = chat_session(tmp_path, [edit_turn(), answer()])
    session.ask = _answers(Decision("no", "use a different approach"))
    events: list[Event] = []
    await session.send("fix add", events.append)
    approval = next(e for e in events if isinstance(e, Approval))
    assert not approval.allowed and approval.reason == "use a different approach"
    result = next(e for e in events if isinstance(e, ToolResult))
    assert result.error_kind == "denied" and "use a different approach" in result.output
    assert (session.repo / "calc.py").read_text() == "def add(a, b):\n    return a - b\n"
    assert session.agent.policies.effort.current == "none"  # a user's no is not a failing step
    assert any(isinstance(e, Approval) for e in load(session.writer.path))


async def test_always_this_session_asks_once(tmp_path: Path) -> None:
    second = edit_turn("    return a + b\n", "    return b + a\n")
    session = chat_session(tmp_path, [edit_turn(), second, answer()])
    asked: list[str] = []

    async def ask(call: ToolCall) -> Decision:
        asked.append(call.name)
        return Decision("always")

    session.ask = ask
    events: list[Event] = []
    await session.send("fix add", events.append)
    assert asked == ["edit"]
    assert [e.scope for e in events if isinstance(e, Approval)] == ["session"]
    assert (session.repo / "calc.py").read_text().endswith("return b + a\n")


@pytest.mark.parametrize(
    ("mode", "asked"), [("ask", ["edit", "bash"]), ("auto-edit", ["bash"]), ("full-auto", [])]
)
async def test_modes_decide_what_asks(tmp_path: Path, mode: str, asked: list[str]) -> None:
    turns = [
        {"tool_calls": [{"name": "read", "arguments": {"path": "calc.py"}}]},
        edit_turn(),
        {"tool_calls": [{"name": "bash", "arguments": {"command": "echo ran"}}]},
        answer(),
    ]
    session = chat_session(tmp_path, turns, mode=mode)  # type: ignore[arg-type]
    seen: list[str] = []

    async def ask(call: ToolCall) -> Decision:
        seen.append(call.name)
        return Decision("yes")

    session.ask = ask
    await session.send("go", lambda e: None)
    assert seen == asked


async def test_undo_restores_the_last_edit_and_tells_the_model(tmp_path: Path) -> None:
    write_new = {"tool_calls": [{"name": "write", "arguments": {"path": "new.py", "content": "x = 1\n"}}]}
    session = chat_session(tmp_path, [edit_turn(), write_new, answer(), answer()], mode="full-auto")
    await session.send("fix add and add new.py", lambda e: None)
    assert (session.repo / "new.py").exists()
    assert "new.py" in await session.undo()
    assert not (session.repo / "new.py").exists()  # a created file is removed
    assert "calc.py" in await session.undo()
    assert (session.repo / "calc.py").read_text().endswith("return a - b\n")
    assert (await session.undo()).startswith("nothing to undo")
    await session.send("thanks", lambda e: None)
    last_user = [m for m in session.agent.state.messages if m.role == "user"][-1]
    assert "undid your last change" in last_user.content and last_user.content.endswith("thanks")


async def test_effort_override_is_an_event(tmp_path: Path) -> None:
    session = chat_session(tmp_path, [answer()])
    change = session.set_effort("high")
    assert isinstance(change, EffortChange) and change.effort == "high" and "user" in change.reason
    assert session.set_effort("high") is None
    assert session.agent.policies.effort.mode == "high"
    assert any(isinstance(e, EffortChange) for e in load(session.writer.path))


async def test_cancelling_a_command_kills_it_and_the_session_goes_on(tmp_path: Path) -> None:
    long_command = {
        "tool_calls": [{"name": "bash", "arguments": {"command": "sleep 300 & echo $! > sleeper.pid; wait"}}]
    }
    session = chat_session(tmp_path, [long_command, answer("After the interruption.")], mode="full-auto")
    started = asyncio.Event()
    events: list[Event] = []

    def sink(event: Event) -> None:
        events.append(event)
        if isinstance(event, ToolCall):
            started.set()

    turn = asyncio.create_task(session.send("run it", sink))
    await started.wait()
    pid_file = session.repo / "sleeper.pid"
    while not pid_file.exists() or not pid_file.read_text().strip():
        await asyncio.sleep(0.05)
    pid = int(pid_file.read_text())
    turn.cancel()
    with pytest.raises(asyncio.CancelledError):
        await turn
    for _ in range(100):  # the runner kills the command's process group; give the kernel a moment
        if not _alive(pid):
            break
        await asyncio.sleep(0.05)
    assert not _alive(pid)
    result = next(e for e in events if isinstance(e, ToolResult))
    assert result.error_kind == "interrupted" and INTERRUPTED in result.output
    _valid_conversation(session.agent.state.messages)
    end = await session.send("carry on", events.append)
    assert end is not None and end.status == "finished"
    echo = await session.sandbox.exec("echo alive", timeout=10)
    assert echo.output.strip() == "alive"  # the shell came back


async def test_cancelling_while_the_model_streams_keeps_its_text(tmp_path: Path) -> None:
    slow = {"content": "one two three four five six seven eight nine ten", "delay": 0.05}
    session = chat_session(tmp_path, [slow, answer("Next.")], mode="full-auto")
    streamed = asyncio.Event()

    def sink(event: Event) -> None:
        if isinstance(event, TextDelta) and "three" in event.text:
            streamed.set()

    turn = asyncio.create_task(session.send("count", sink))
    await streamed.wait()
    turn.cancel()
    with pytest.raises(asyncio.CancelledError):
        await turn
    cut = session.agent.state.messages[-1]
    assert cut.role == "assistant" and cut.content.startswith("one two three") and INTERRUPTED in cut.content
    assert "ten" not in cut.content
    _valid_conversation(session.agent.state.messages)
    end = await session.send("go on", lambda e: None)
    assert end is not None and end.status == "finished"


async def test_cancelling_an_approval_closes_the_step_resumably(tmp_path: Path) -> None:
    session = chat_session(tmp_path, [edit_turn()], mode="ask")
    asked = asyncio.Event()
    session.ask = _flagging(asked)
    turn = asyncio.create_task(session.send("fix add", lambda e: None))
    await asked.wait()
    turn.cancel()
    with pytest.raises(asyncio.CancelledError):
        await turn
    _valid_conversation(session.agent.state.messages)
    kept, unsent = chat_resume_point(load(session.writer.path))
    assert unsent == [] and kept[-1].type == "step_end"
    assert (session.repo / "calc.py").read_text().endswith("return a - b\n")


async def test_resume_continues_a_saved_session(tmp_path: Path) -> None:
    session = chat_session(tmp_path, [answer("One."), answer("Two.")])
    await session.send("first", lambda e: None)
    session.close()
    saved = list_sessions(session.repo)
    assert [s.run_id for s in saved] == ["chat-test"] and saved[0].title == "first" and saved[0].turns == 1
    resumed, unsent = ChatSession.resume(
        saved[0].path,
        session.settings,
        session.repo,
        session.model,
        session.sandbox,
        ApprovalPolicy(),
    )
    assert unsent == []
    end = await resumed.send("second", lambda e: None)
    assert end is not None and end.status == "finished"
    assert [m.content for m in resumed.agent.state.messages if m.role == "assistant"] == ["One.", "Two."]


def _resume(session: ChatSession, model: str) -> ChatSession:
    """`session`'s trajectory continued by a caller that is on `model`."""
    session.close()
    resumed, _ = ChatSession.resume(
        session.writer.path, session.settings, session.repo, model, session.sandbox, ApprovalPolicy()
    )
    return resumed


async def test_a_model_switch_is_recorded_and_resumed(tmp_path: Path) -> None:
    session = chat_session(tmp_path, [answer("One.")])
    first = session.model
    script = write_session(tmp_path / "other.jsonl", [answer("Other one."), answer("Other two.")])
    other = f"scripted:{script}"
    change = await session.set_model(other)
    assert (change.previous, change.model) == (first, other)
    await session.send("first", lambda e: None)
    assert load(session.writer.path)[2] == change
    resumed = _resume(session, first)  # the caller is back on the first model: the session is not
    assert resumed.model == other and resumed.backend.name == other
    await resumed.send("second", lambda e: None)
    assert [m.content for m in resumed.agent.state.messages if m.role == "assistant"] == [
        "Other one.",
        "Other two.",
    ]


async def test_a_saved_model_that_cannot_be_loaded_is_switched_from_visibly(tmp_path: Path) -> None:
    session = chat_session(tmp_path, [answer("One.")])
    first = session.model
    gone = write_session(tmp_path / "gone.jsonl", [answer()])
    await session.set_model(f"scripted:{gone}")
    gone.unlink()
    resumed = _resume(session, first)
    assert resumed.model == first
    change = resumed.resumed[-1]
    assert isinstance(change, ModelChange) and change.model == first and "cannot be loaded" in change.reason
    assert load(resumed.writer.path)[-1] == change


async def test_a_switch_during_a_turn_cut_by_a_crash_is_kept(tmp_path: Path) -> None:
    session = chat_session(tmp_path, [answer("One.")])
    await session.send("first", lambda e: None)
    session.agent.emit(UserMessage(text="second"))
    session.agent.emit(StepStart(step=2, effort="none"))
    switch = session.agent.emit(ModelChange(previous=session.model, model="scripted:elsewhere.jsonl"))
    kept, unsent = chat_resume_point(load(session.writer.path))  # the process died here
    assert unsent == ["second"] and kept[-1] == switch and isinstance(kept[-2], RunEnd)


async def test_a_turn_cut_by_a_crash_hands_its_message_back(tmp_path: Path) -> None:
    session = chat_session(tmp_path, [answer("One.")])
    await session.send("first", lambda e: None)
    session.agent.emit(UserMessage(text="second, never answered"))  # then the process died
    session.close()
    kept, unsent = chat_resume_point(load(session.writer.path))
    assert unsent == ["second, never answered"]
    assert isinstance(kept[-1], RunEnd)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def _answers(decision: Decision) -> Callable[[ToolCall], Awaitable[Decision]]:
    async def ask(call: ToolCall) -> Decision:
        return decision

    return ask


def _flagging(flag: asyncio.Event) -> Callable[[ToolCall], Awaitable[Decision]]:
    async def ask(call: ToolCall) -> Decision:
        flag.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    return ask


async def test_a_running_command_streams_its_output(tmp_path: Path) -> None:
    # The command waits for a file the test writes only after it has seen "ready" live:
    # if output came only at the end, this would never finish.
    handshake = "echo ready; while [ ! -f go ]; do sleep 0.05; done; echo finished"
    session = chat_session(
        tmp_path,
        [{"tool_calls": [{"name": "bash", "arguments": {"command": handshake, "timeout_s": 60}}]}, answer()],
        mode="full-auto",
    )
    seen: list[tuple[str, str]] = []

    def live(call_id: str, text: str) -> None:
        seen.append((call_id, text))
        if "ready" in text:
            (session.repo / "go").write_text("")

    session.on_output = live
    events: list[Event] = []
    await session.send("handshake", events.append)
    result = next(e for e in events if isinstance(e, ToolResult))
    assert result.ok and result.output.endswith("ready\nfinished")
    assert {call_id for call_id, _ in seen} == {result.call_id}
    assert "".join(text for _, text in seen) == "ready\nfinished\n"
