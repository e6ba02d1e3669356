"""Typed events: the one stream that the TUI, the headless runner and the eval harness consume.

Every event is appended to the trajectory as it happens; the conversation, the policies' state and
the step counter are all rebuilt from these events on resume (see `agent.state`).
"""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

Effort = Literal["none", "high"]
EffortMode = Literal["auto", "none", "high"]
# What a model turn is asked for: "auto" lets it answer or call; "required" asks for a tool call
# (servers that support it constrain the turn to one; others read it as a hint).
ToolChoice = Literal["auto", "required"]

RunStatus = Literal[
    "finished",  # the model stopped calling tools
    "max_steps",
    "timeout",
    "max_tokens",
    "format_errors",  # too many consecutive malformed tool calls
    "stuck",  # the same action repeated past the limit
    "backend_error",
    "sandbox_error",
    "interrupted",
]


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    seq: int = -1  # position in the trajectory; assigned by the trajectory writer
    ts: float = Field(default_factory=time.time)


class RunStart(_Event):
    type: Literal["run_start"] = "run_start"
    run_id: str
    model: str
    effort_mode: EffortMode
    tools: list[str]
    workspace: str = ""
    settings: dict[str, Any] = Field(default_factory=dict)


class RunResumed(_Event):
    type: Literal["run_resumed"] = "run_resumed"
    run_id: str
    after_seq: int  # the last event kept from the interrupted run
    # tool calls that had started (a `tool_call` was recorded) but are not in the kept prefix: they
    # run again, so a call in flight when trident was killed runs at least once, possibly twice
    rerun_calls: list[str] = Field(default_factory=list)


class SystemMessage(_Event):
    type: Literal["system_message"] = "system_message"
    text: str


class UserMessage(_Event):
    type: Literal["user_message"] = "user_message"
    text: str


class StepStart(_Event):
    type: Literal["step_start"] = "step_start"
    step: int
    effort: Effort
    tool_choice: ToolChoice = "auto"


class TextDelta(_Event):
    type: Literal["text_delta"] = "text_delta"
    text: str


class ReasoningDelta(_Event):
    type: Literal["reasoning_delta"] = "reasoning_delta"
    text: str


class RawToolCall(BaseModel):
    """A tool call as the model produced it, before intake (arguments may be any text)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str
    arguments: str


class Usage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    input_tokens: int = 0
    output_tokens: int = 0


class AssistantTurn(_Event):
    """The model's complete answer for a step: the record history is rebuilt from."""

    type: Literal["assistant_turn"] = "assistant_turn"
    content: str
    reasoning: str = ""
    tool_calls: list[RawToolCall] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    duration_s: float = 0.0
    finish_reason: str | None = None  # as the backend gave it; "length": cut at max_tokens

    @property
    def truncated(self) -> bool:
        """Cut at the output limit: a failing step the model is told about, never an answer."""
        return self.finish_reason == "length"


TRUNCATED_FAILURE = "the answer was cut at the output token limit"
TRUNCATED_NOTE = (
    "[Your previous answer was cut off at the output token limit before it finished, so it was not "
    "taken as an answer. Reason more briefly, and either call a tool or give your final answer.]"
)


class ToolCall(_Event):
    """A call that passed intake: arguments are schema-valid."""

    type: Literal["tool_call"] = "tool_call"
    call_id: str
    name: str
    arguments: dict[str, Any]
    repairs: list[str] = Field(default_factory=list)


class ToolResult(_Event):
    type: Literal["tool_result"] = "tool_result"
    call_id: str
    name: str
    output: str
    ok: bool  # False: the tool failed, or the call was rejected at intake
    error_kind: str | None = None  # e.g. "invalid_json", "schema", "unknown_tool", "tool_failed"
    duration_s: float = 0.0


class Approval(_Event):
    """A user's decision on a tool call before it ran (interactive sessions; unasked calls have none)."""

    type: Literal["approval"] = "approval"
    call_id: str
    name: str
    allowed: bool
    scope: Literal["once", "session"] = "once"  # "session": calls like it are allowed until the session ends
    rule: str = ""  # what "session" allows: a tool, or `TOOL= COMMAND` for one exact command (approval.py)
    reason: str = ""  # a denial's reason, told to the model


class CallPreview(_Event):
    """What an accepted call will do, worked out before it ran (interactive sessions): an edit's diff
    against the file as it was (real line numbers), the exact command `run_tests` runs. Shown on the
    call's card, live and when the session is resumed."""

    type: Literal["call_preview"] = "call_preview"
    call_id: str
    name: str
    diff: str | None = None
    command: str | None = None


CorrectionKind = Literal["text_call", "nudge"]


class Correction(_Event):
    """trident's answer to a turn that ended without a tool call, instead of ending the run: a call
    written as text (`text_call`, a format error: text is never run) or, headless, a finish with the
    task still unchecked (`nudge`). `text` is what the model is told (a user turn); `failure` is why
    the step counts as failing (effort is raised as for any failing step)."""

    type: Literal["correction"] = "correction"
    kind: CorrectionKind
    text: str
    failure: str


class EffortChange(_Event):
    type: Literal["effort_change"] = "effort_change"
    previous: Effort
    effort: Effort
    reason: str


class ModelChange(_Event):
    """The session's model switched (`/model`, or a resumed session whose model could not be loaded)."""

    type: Literal["model_change"] = "model_change"
    previous: str
    model: str
    reason: str = ""


class Compaction(_Event):
    """`/compact`: messages `head` up to `tail_from` of the history replaced by the model's summary.

    The system prompt and first task (before `head`) and the recent turns (from `tail_from`) stay;
    the indices are positions in the history this event is folded into (`trident.agent.history.compacted`).
    """

    type: Literal["compaction"] = "compaction"
    summary: str
    head: int
    tail_from: int
    summarised_turns: int  # the model turns the summary stands for: the ones it replaces and its own
    usage: Usage = Field(default_factory=Usage)
    tokens_before: int = 0  # estimated size of the history, before and after
    tokens_after: int = 0


class BackendRetry(_Event):
    """The model's server failed before answering and is asked again (the backend's own retries)."""

    type: Literal["backend_retry"] = "backend_retry"
    attempt: int  # this retry, from 1
    retries: int  # at most
    reason: str
    delay_s: float


class Error(_Event):
    type: Literal["error"] = "error"
    kind: str
    message: str


class StepEnd(_Event):
    type: Literal["step_end"] = "step_end"
    step: int
    failures: list[str] = Field(default_factory=list)  # why this step counts as failing
    format_errors: int = 0


class RunEnd(_Event):
    type: Literal["run_end"] = "run_end"
    status: RunStatus
    reason: str
    steps: int
    input_tokens: int
    output_tokens: int
    duration_s: float


class Verification(_Event):
    """The test command run by trident itself (not by the model): before the agent, and after it."""

    type: Literal["verification"] = "verification"
    phase: Literal["baseline", "final"]
    command: str
    exit_code: int
    timed_out: bool = False
    runner: str = "unknown"  # pytest | unittest | unknown (then only the exit code counts)
    passed: int = 0
    failed: int = 0
    errors: int = 0
    total: int = 0
    failing: list[str] = Field(default_factory=list)


class Verdict(_Event):
    """The headless run's answer: the exit code of the contract and why. Always the last event."""

    type: Literal["verdict"] = "verdict"
    exit_code: int
    solved: bool
    reason: str
    patch_bytes: int = 0


Event = Annotated[
    RunStart
    | RunResumed
    | SystemMessage
    | UserMessage
    | StepStart
    | TextDelta
    | ReasoningDelta
    | AssistantTurn
    | ToolCall
    | ToolResult
    | Approval
    | CallPreview
    | Correction
    | EffortChange
    | ModelChange
    | Compaction
    | BackendRetry
    | Error
    | StepEnd
    | RunEnd
    | Verification
    | Verdict,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def parse_event(line: str | bytes) -> Event:
    return EVENT_ADAPTER.validate_json(line)
