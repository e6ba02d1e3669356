"""The run's state as a fold over its events: conversation, step counter, pending work, tokens.

The loop never keeps state that is not derived from events, so resuming a run is replaying its
trajectory into a fresh `RunState` (and into the policies) and carrying on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from trident.agent.core.events import (
    TRUNCATED_FAILURE,
    TRUNCATED_NOTE,
    AssistantTurn,
    Compaction,
    Correction,
    Event,
    RawToolCall,
    RunStart,
    StepEnd,
    StepStart,
    SystemMessage,
    ToolCall,
    ToolResult,
    UserMessage,
)
from trident.agent.core.messages import Message
from trident.agent.history import compacted
from trident.agent.intake.calls import REJECT_KINDS, history_arguments


@dataclass
class RunState:
    run_id: str = ""
    messages: list[Message] = field(default_factory=list)
    step: int = 0  # last completed step
    pending_turn: AssistantTurn | None = None  # the current step's model answer, once it came
    done_calls: set[str] = field(default_factory=set)  # call ids of the current step with a result
    call_ids: set[str] = field(default_factory=set)
    step_format_errors: int = 0
    step_failures: list[str] = field(default_factory=list)
    step_corrected: bool = False  # the current step's answer was met with a `Correction`
    input_tokens: int = 0
    output_tokens: int = 0

    def apply(self, event: Event) -> None:
        if isinstance(event, RunStart):
            self.run_id = event.run_id
        elif isinstance(event, SystemMessage):
            self.messages.append(Message(role="system", content=event.text))
        elif isinstance(event, UserMessage):
            self.messages.append(Message(role="user", content=event.text))
        elif isinstance(event, StepStart):
            self.pending_turn = None
            self.done_calls = set()
            self.step_format_errors = 0
            self.step_failures = []
            self.step_corrected = False
        elif isinstance(event, AssistantTurn):
            self.pending_turn = event
            self.input_tokens += event.usage.input_tokens
            self.output_tokens += event.usage.output_tokens
            self.call_ids.update(c.id for c in event.tool_calls)
            calls = [
                RawToolCall(id=c.id, name=c.name, arguments=history_arguments(c)) for c in event.tool_calls
            ]
            self.messages.append(
                Message(role="assistant", content=event.content, reasoning=event.reasoning, tool_calls=calls)
            )
            if event.truncated:
                self.step_failures.append(TRUNCATED_FAILURE)
        elif isinstance(event, ToolCall):
            pass
        elif isinstance(event, ToolResult):
            self.done_calls.add(event.call_id)
            if event.error_kind in REJECT_KINDS:
                self.step_format_errors += 1
                self.step_failures.append(f"rejected call to `{event.name}` ({event.error_kind})")
            elif not event.ok and event.error_kind != "denied":  # a user's "no" is not the model failing
                self.step_failures.append(f"`{event.name}` failed")
            self.messages.append(
                Message(role="tool", content=event.output, tool_call_id=event.call_id, name=event.name)
            )
        elif isinstance(event, Correction):
            self.step_corrected = True
            self.step_failures.append(event.failure)
            if event.kind == "text_call":
                self.step_format_errors += 1
            self.messages.append(Message(role="user", content=event.text))
        elif isinstance(event, StepEnd):
            if self.pending_turn is not None and self.pending_turn.truncated:  # after its calls' results
                self.messages.append(Message(role="user", content=TRUNCATED_NOTE))
            self.step = event.step
            self.pending_turn = None
        elif isinstance(event, Compaction):
            self.messages = compacted(self.messages, event)
            self.input_tokens += event.usage.input_tokens
            self.output_tokens += event.usage.output_tokens
