"""`/compact`: the conversation summarised by its own model, and the history that summary leaves.

The session's backend is asked, without tools and at reasoning effort none, for a concise summary
of the conversation so far (the task, what was done, files changed, what is left). The history
then keeps the system prompt and the first task message (before `head`), the most recent turns
(from `tail_from`), and between them one user message holding the summary. That plan is a
`Compaction` event, so `RunState` folds it the same way live and on resume. Nothing changes when
the model cannot answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.events import Compaction
from agent.llm.base import BackendError, Completion, Message, ModelRequest, model_turns
from agent.policies.compaction import estimate_tokens
from agent.trajectory import TrajectoryError

if TYPE_CHECKING:
    from agent.loop import Agent

SUMMARY_PROMPT = (
    "The context is being compacted: everything before the most recent turns will be replaced by "
    "your summary of it. Summarise the conversation so far, concisely and concretely: the user's task "
    "and requests; what was done and found; the files changed or created (paths) and how; decisions "
    "and constraints to remember; what is left to do. Answer with the summary only; call no tools."
)
SUMMARY_HEADER = "[Summary of the earlier conversation, written when its context was compacted]"


class CompactionError(Exception):
    """Nothing was compacted: the history stays as it was (the message says why)."""


def plan(messages: list[Message], keep_turns: int) -> tuple[int, int]:
    """(head, tail_from): what stays of `messages` around the summary. CompactionError: nothing would go.

    The tail starts at the `keep_turns`-th last model answer, with the user messages just before it
    (never inside a call and its results); a previous summary is replaced, not kept.
    """
    first_user = next((i for i, m in enumerate(messages) if m.role == "user"), None)
    if first_user is None:
        raise CompactionError("nothing to compact yet: the conversation has no message")
    head = first_user + 1
    answers = [i for i in range(head, len(messages)) if messages[i].role == "assistant"]
    if keep_turns == 0:
        tail_from = len(messages)
    else:
        tail_from = answers[-keep_turns] if keep_turns <= len(answers) else head
    while (
        tail_from > head
        and messages[tail_from - 1].role == "user"
        and not messages[tail_from - 1].summarised_turns
    ):
        tail_from -= 1
    if tail_from <= head:
        raise CompactionError(
            f"nothing to compact yet: the conversation is within the {keep_turns} most recent turns kept"
        )
    return head, tail_from


def compacted(messages: list[Message], event: Compaction) -> list[Message]:
    """The history after `event`: head, the summary as a user message, tail."""
    if not 0 < event.head <= event.tail_from <= len(messages):
        raise TrajectoryError(
            f"compaction (event {event.seq}) does not fit the {len(messages)} messages before it"
        )
    summary = Message(
        role="user",
        content=f"{SUMMARY_HEADER}\n\n{event.summary}",
        summarised_turns=event.summarised_turns,
    )
    return [*messages[: event.head], summary, *messages[event.tail_from :]]


async def summarise(agent: Agent) -> Completion:
    """The model's summary of `agent`'s conversation (as the loop would show it, old outputs masked)."""
    shown = agent.policies.compactor.compact(agent.state.messages)
    request = ModelRequest(
        messages=[*shown, Message(role="user", content=SUMMARY_PROMPT)],
        reasoning_effort="none",
        temperature=agent.temperature,
    )
    completion: Completion | None = None
    try:
        async for chunk in agent.backend.stream(request):
            if isinstance(chunk, Completion):
                completion = chunk
    except BackendError as exc:
        raise CompactionError(f"the model could not summarise: {exc}") from exc
    if completion is None or not completion.content.strip():
        raise CompactionError("the model returned no summary")
    return completion


async def compact(agent: Agent, keep_turns: int) -> Compaction:
    """Summarise `agent`'s conversation with its own backend and emit the compaction (CompactionError:
    the history is left as it was)."""
    messages = agent.state.messages
    head, tail_from = plan(messages, keep_turns)
    completion = await summarise(agent)
    event = Compaction(
        summary=completion.content.strip(),
        head=head,
        tail_from=tail_from,
        summarised_turns=model_turns(messages[head:tail_from]) + 1,
        usage=completion.usage,
        tokens_before=estimate_tokens(messages),
    )
    event = event.model_copy(update={"tokens_after": estimate_tokens(compacted(messages, event))})
    emitted = agent.emit(event)
    assert isinstance(emitted, Compaction)
    return emitted
