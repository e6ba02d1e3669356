"""Observation masking: old tool outputs are elided from what the model is shown, the task never is.

When the conversation's estimated size passes the budget, the content of tool results older than
the most recent `keep_recent` ones is replaced by a short note. System and user messages and every
assistant turn stay as they are, so the task and the agent's own reasoning trail survive.

The budget is `budget_tokens`, or less where the backend serves a shorter context: the context
length minus the answer's room (`answer_room`), the tools' schemas (sent with every request: about
4.6K tokens for the default tools) and a margin (`MARGIN` of the context, for the chat template's
framing and the estimate's error), so a conversation is masked before it overflows. On a small
window the answer's room is capped at `ANSWER_SHARE` of the context (a 16K llama.cpp server with
the default `max_tokens` of 8192 would otherwise leave almost nothing for the conversation).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from trident.agent.config import MaskingConfig
from trident.agent.core.messages import Message
from trident.tools.base import ToolSpec

CHARS_PER_TOKEN = 4
MARGIN = 0.1  # of the context: the chat template's framing, the estimate's error
ANSWER_SHARE = 0.25  # of a known context: the most an answer is given room for


def schema_tokens(specs: Iterable[ToolSpec]) -> int:
    """The estimated size of the tools' schemas as a request carries them."""
    return sum(len(json.dumps(spec.model_dump(), ensure_ascii=False)) for spec in specs) // CHARS_PER_TOKEN


def answer_room(context_length: int | None, max_tokens: int | None) -> int | None:
    """The output tokens to ask for: the backend's `max_tokens`, at most `ANSWER_SHARE` of a known context."""
    if context_length is None:
        return max_tokens
    cap = int(context_length * ANSWER_SHARE)
    return cap if max_tokens is None else min(max_tokens, cap)


def estimate_tokens(messages: list[Message]) -> int:
    chars = sum(len(m.content) + sum(len(c.arguments) for c in m.tool_calls) for m in messages)
    return chars // CHARS_PER_TOKEN


_DEFAULT = MaskingConfig()  # the defaults live in the config, once


@dataclass
class ObservationMasker:
    budget_tokens: int = _DEFAULT.budget_tokens
    keep_recent: int = _DEFAULT.keep_recent
    min_chars: int = _DEFAULT.min_chars

    def budget(
        self, context_length: int | None = None, answer_tokens: int | None = None, fixed_tokens: int = 0
    ) -> int:
        """The token budget for the messages, on a backend serving `context_length` with answers up to
        `answer_tokens` and `fixed_tokens` more in every request (the tools' schemas)."""
        if context_length is None:
            return self.budget_tokens
        room = context_length - (answer_tokens or 0) - fixed_tokens - int(context_length * MARGIN)
        return max(0, min(self.budget_tokens, room))

    def mask(self, messages: list[Message], budget: int | None = None) -> list[Message]:
        if estimate_tokens(messages) <= (self.budget_tokens if budget is None else budget):
            return messages
        tool_positions = [i for i, m in enumerate(messages) if m.role == "tool"]
        old = set(tool_positions[: max(0, len(tool_positions) - self.keep_recent)])
        out: list[Message] = []
        for i, message in enumerate(messages):
            if i in old and len(message.content) > self.min_chars:
                note = (
                    f"[output elided to save context: {len(message.content)} chars; rerun the tool if needed]"
                )
                message = message.model_copy(update={"content": note})
            out.append(message)
        return out
