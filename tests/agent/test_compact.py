"""`/compact` without a UI: what it keeps, the model's summary, the event, and resume from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.agent.test_openai_backend import (
    MODEL,
    FakeOpenAIServer,
    Stream,
    call_delta,
    chunk,
    text_stream,
    vllm_models,
)
from tests.chat_helpers import answer, chat_session, git_repo
from tests.helpers import OPEN_SANDBOXES
from trident.agent.config import load_settings
from trident.agent.core.events import Compaction, RawToolCall, RunEnd
from trident.agent.core.messages import Message, model_turns
from trident.agent.core.trajectory import TrajectoryError, load
from trident.agent.history import SUMMARY_HEADER, CompactionError, compacted, plan
from trident.agent.policies.approval import ApprovalPolicy
from trident.agent.session.chat import ChatSession
from trident.agent.session.compact import SUMMARY_PROMPT
from trident.agent.session.saved import chat_resume_point
from trident.sandbox.local import LocalSandbox

SUMMARY = "The user asked for three things; all were answered. Nothing is left."


def _msg(role: str, content: str = "", calls: int = 0) -> Message:
    tool_calls = [RawToolCall(id=f"c{content}{i}", name="read", arguments="{}") for i in range(calls)]
    return Message(role=role, content=content, tool_calls=tool_calls)


def _tool(content: str) -> Message:
    return Message(role="tool", content=content, tool_call_id=f"c{content}0", name="read")


CONVERSATION = [
    _msg("system", "sys"),
    _msg("user", "task"),  # head ends after it
    _msg("assistant", "a", calls=1),
    _tool("a"),
    _msg("assistant", "b"),
    _msg("user", "more"),
    _msg("assistant", "c", calls=1),
    _tool("c"),
    _msg("assistant", "d"),
]


@pytest.mark.parametrize(
    ("keep", "tail_from"),
    [
        (0, 9),  # everything after the task goes
        (1, 8),  # the last answer (the call before it goes with its result)
        (2, 5),  # the user message that asked for the kept turns stays with them
        (3, 4),
    ],
)
def test_plan_keeps_the_head_and_whole_recent_turns(keep: int, tail_from: int) -> None:
    assert plan(CONVERSATION, keep) == (2, tail_from)


def test_plan_refuses_when_nothing_would_go() -> None:
    with pytest.raises(CompactionError, match="within the 4 most recent turns"):
        plan(CONVERSATION, 4)
    with pytest.raises(CompactionError, match="no message"):
        plan([_msg("system", "sys")], 1)


def test_a_previous_summary_is_replaced_not_kept() -> None:
    event = Compaction(summary="old", head=2, tail_from=5, summarised_turns=3)
    once = compacted(CONVERSATION, event)
    assert [m.role for m in once] == ["system", "user", "user", "user", "assistant", "tool", "assistant"]
    assert once[2].content == f"{SUMMARY_HEADER}\n\nold"
    assert model_turns(once) == model_turns(CONVERSATION) + 1
    assert plan(once, 2) == (2, 3)  # the old summary goes, "more" stays with its answers


def test_a_compaction_that_does_not_fit_its_history_is_refused() -> None:
    with pytest.raises(TrajectoryError, match="does not fit the 9 messages"):
        compacted(CONVERSATION, Compaction(summary="s", head=2, tail_from=12, summarised_turns=1))


async def test_compact_summarises_records_and_resumes(tmp_path: Path) -> None:
    turns = [answer("One."), answer("Two."), answer("Three."), answer(SUMMARY), answer("Four.")]
    session = chat_session(tmp_path, turns)
    session.settings.compact.keep_turns = 1
    for text in ("first", "second", "third"):
        await session.send(text, lambda e: None)
    before = list(session.agent.state.messages)
    event = await session.compact()
    assert event.summary == SUMMARY and event.usage.input_tokens == 100  # the script's 4th line
    messages = session.agent.state.messages
    assert len(before) == 7 and [m.content for m in messages] == [
        before[0].content,
        "first",
        f"{SUMMARY_HEADER}\n\n{SUMMARY}",
        "third",
        "Three.",
    ]
    assert model_turns(messages) == 4 and session.agent.state.input_tokens == 400
    session.close()

    recorded = load(session.writer.path)
    assert isinstance(recorded[-1], Compaction) and isinstance(recorded[-2], RunEnd)
    kept, _ = chat_resume_point(recorded)
    assert kept[-1] == recorded[-1]
    resumed, _ = ChatSession.resume(
        session.writer.path, session.settings, session.repo, session.model, session.sandbox, ApprovalPolicy()
    )
    assert resumed.agent.state.messages == messages and resumed.resumed == recorded
    await resumed.send("fourth", lambda e: None)
    assert resumed.agent.state.messages[-1].content == "Four."


async def test_a_failing_model_leaves_the_history_as_it_was(tmp_path: Path) -> None:
    session = chat_session(tmp_path, [answer("One."), answer("Two.")])  # no line for the summary
    session.settings.compact.keep_turns = 1
    for text in ("first", "second"):
        await session.send(text, lambda e: None)
    before = list(session.agent.state.messages)
    with pytest.raises(CompactionError, match=r"could not summarise: scripted session .* has 2 turns"):
        await session.compact()
    assert session.agent.state.messages == before
    assert not any(isinstance(e, Compaction) for e in load(session.writer.path))


async def test_asked_without_tools_at_effort_none(tmp_path: Path, server: FakeOpenAIServer) -> None:
    repo = git_repo(tmp_path / "repo")
    settings = load_settings(repo)
    settings.compact.keep_turns = 1
    OPEN_SANDBOXES.append(LocalSandbox(repo))
    session = ChatSession.start(
        settings, repo, f"openai:m@{server.base_url}", OPEN_SANDBOXES[-1], ApprovalPolicy(), run_id="openai"
    )
    server.script(text_stream("One."), text_stream("Two."), text_stream(SUMMARY), text_stream("Three."))
    await session.send("first", lambda e: None)
    await session.send("second", lambda e: None)
    await session.compact()
    await session.send("third", lambda e: None)
    await session.backend.aclose()
    turn, summary_request, after = server.requests[1:]
    assert "tools" in turn and turn["reasoning_effort"] == "none"
    assert "tools" not in summary_request and summary_request["reasoning_effort"] == "none"
    assert summary_request["messages"][:-1] == turn["messages"] + [{"role": "assistant", "content": "Two."}]
    assert summary_request["messages"][-1] == {"role": "user", "content": SUMMARY_PROMPT}
    assert [(m["role"], m["content"].splitlines()[0]) for m in after["messages"][1:]] == [
        ("user", "first"),
        ("user", SUMMARY_HEADER),
        ("user", "second"),
        ("assistant", "Two."),
        ("user", "third"),
    ]


async def test_the_summary_request_is_masked_against_the_served_context(
    tmp_path: Path, server: FakeOpenAIServer
) -> None:
    """A conversation far below `[masking] budget_tokens` (96K) but past what the server holds (8K) is
    summarised from its masked form, as the loop shows it, not sent whole into a refused request."""
    big = "".join(f"line {i:04d} " + "x" * 80 + "\n" for i in range(300))  # ~6.8K tokens
    repo = git_repo(tmp_path / "repo", {"big.txt": big})
    settings = load_settings(repo)
    settings.compact.keep_turns = 1
    settings.masking.keep_recent = 1
    settings.openai.max_tokens = 1024
    OPEN_SANDBOXES.append(LocalSandbox(repo))
    session = ChatSession.start(
        settings,
        repo,
        f"openai:{MODEL}@{server.base_url}",
        OPEN_SANDBOXES[-1],
        ApprovalPolicy(),
        run_id="masked",
    )
    server.models = vllm_models(8192)
    read_big = [
        Stream(
            [
                chunk(call_delta(0, id=call_id, name="read", args='{"path": "big.txt"}')),
                chunk({}, "tool_calls"),
            ]
        )
        for call_id in ("abcDEF123", "abcDEF456")
    ]
    server.script(*read_big, text_stream("Read it twice."), text_stream("Two."), text_stream(SUMMARY))
    await session.send("first", lambda e: None)
    await session.send("second", lambda e: None)
    await session.compact()
    await session.backend.aclose()
    summary_request = server.requests[-1]
    assert summary_request["messages"][-1] == {"role": "user", "content": SUMMARY_PROMPT}
    tools_shown = [m["content"] for m in summary_request["messages"] if m["role"] == "tool"]
    assert len(tools_shown) == 2
    assert tools_shown[0].startswith("[output elided to save context") and "line 0299" in tools_shown[1]
