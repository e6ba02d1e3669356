"""What a compaction leaves of the conversation: the plan (what stays around the summary) and its fold.

A `/compact` keeps the system prompt and the first task message (before `head`), the most recent
turns (from `tail_from`), and between them one user message holding the summary. The plan is a
`Compaction` event, so `RunState` folds it the same way live and on resume (`compacted`).
"""

from __future__ import annotations

from trident.agent.core.events import Compaction
from trident.agent.core.messages import Message
from trident.agent.core.trajectory import TrajectoryError

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
