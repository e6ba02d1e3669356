"""`/compact`: the conversation summarised by its own model.

The session's backend is asked, without tools and at reasoning effort none, for a concise summary
of the conversation so far (the task, what was done, files changed, what is left). What stays
around that summary is `trident.agent.history`'s plan; the result is one `Compaction` event.
Nothing changes when the model cannot answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from trident.agent.core.events import Compaction
from trident.agent.core.messages import BackendError, Completion, Message, ModelRequest, model_turns
from trident.agent.history import CompactionError, compacted, plan
from trident.agent.policies.masking import estimate_tokens

if TYPE_CHECKING:
    from trident.agent.loop import Agent

SUMMARY_PROMPT = (
    "The context is being compacted: everything before the most recent turns will be replaced by "
    "your summary of it. Summarise the conversation so far, concisely and concretely: the user's task "
    "and requests; what was done and found; the files changed or created (paths) and how; decisions "
    "and constraints to remember; what is left to do. Answer with the summary only; call no tools."
)


async def summarise(agent: Agent) -> Completion:
    """The model's summary of `agent`'s conversation, shown as the loop would show it: old outputs masked
    against the context the backend serves, not only the configured budget."""
    completion: Completion | None = None
    try:
        shown = await agent.shown_messages()
        request = ModelRequest(
            messages=[*shown, Message(role="user", content=SUMMARY_PROMPT)],
            reasoning_effort="none",
            temperature=agent.temperature,
        )
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
