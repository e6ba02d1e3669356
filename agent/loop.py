"""The loop: model turn -> intake -> tools -> events. No policy lives here.

`Agent.run` is one async generator of typed events. Each event is persisted (trajectory), folded
into the run state and shown to the policies before it is yielded, so what a consumer sees, what
is on disk and what the loop knows are the same thing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from trident.agent.core.events import (
    Approval,
    AssistantTurn,
    BackendRetry,
    Correction,
    Error,
    Event,
    RawToolCall,
    ReasoningDelta,
    RunEnd,
    RunStatus,
    StepEnd,
    StepStart,
    TextDelta,
    ToolCall,
    ToolResult,
)
from trident.agent.core.messages import (
    Backend,
    BackendError,
    CallSyntax,
    Completion,
    Message,
    ModelRequest,
    ReasoningChunk,
    Retrying,
    TextChunk,
)
from trident.agent.core.trajectory import TrajectoryWriter
from trident.agent.intake.calls import Accepted, Intake
from trident.agent.policies.call_choice import CallChoicePolicy
from trident.agent.policies.effort import EffortPolicy
from trident.agent.policies.limits import LimitsPolicy, Stop
from trident.agent.policies.masking import ObservationMasker, answer_room, schema_tokens
from trident.agent.policies.nudge import NudgePolicy
from trident.agent.policies.stuck import StuckDetector
from trident.agent.policies.text_calls import text_call_correction
from trident.agent.state import RunState
from trident.sandbox.base import SandboxError
from trident.tools.base import ToolContext, Toolset


@dataclass
class Policies:
    effort: EffortPolicy = field(default_factory=EffortPolicy)
    limits: LimitsPolicy = field(default_factory=LimitsPolicy)
    stuck: StuckDetector = field(default_factory=StuckDetector)
    masking: ObservationMasker = field(default_factory=ObservationMasker)
    nudge: NudgePolicy = field(default_factory=NudgePolicy)
    call_choice: CallChoicePolicy = field(default_factory=CallChoicePolicy)

    def observe(self, event: Event) -> None:
        self.effort.observe(event)
        self.limits.observe(event)
        self.stuck.observe(event)
        self.nudge.observe(event)
        self.call_choice.observe(event)

    def correct(self, turn: AssistantTurn, intake: Intake, syntax: CallSyntax) -> Correction | None:
        """The answer to a turn that ended without a tool call, or None: the run ends as finished."""
        tools = list(intake.tools)
        return text_call_correction(turn.content, intake, tools, syntax) or self.nudge.check()

    def stop(self) -> Stop | None:
        if self.stuck.stuck():
            return Stop("stuck", f"the same action gave the same result {self.stuck.repeats} times in a row")
        return self.limits.check()


# Asked before an accepted call runs: None lets it run unasked, an `Approval` is the user's decision.
Approver = Callable[[ToolCall], Awaitable[Approval | None]]


class _Halt(Exception):
    def __init__(self, status: RunStatus, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


@dataclass
class Agent:
    backend: Backend
    tools: Toolset
    context: ToolContext
    policies: Policies = field(default_factory=Policies)
    writer: TrajectoryWriter | None = None
    state: RunState = field(default_factory=RunState)
    temperature: float | None = None
    approver: Approver | None = None  # interactive sessions; headless runs never ask
    _seq: int = 0
    _started: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self._specs = self.tools.specs()
        self._intake = Intake(self._specs)
        self._schema_tokens = schema_tokens(self._specs.values())

    def replay(self, events: list[Event]) -> None:
        """Fold recorded events into state and policies without emitting them (resume)."""
        for event in events:
            self.state.apply(event)
            self.policies.observe(event)
        self._seq = len(events)

    def emit(self, event: Event) -> Event:
        if self.writer is not None:
            event = self.writer.append(event)
        else:
            event = event.model_copy(update={"seq": self._seq})
        self._seq += 1
        self.state.apply(event)
        self.policies.observe(event)
        return event

    async def run(self, opening: list[Event]) -> AsyncIterator[Event]:
        """Emit the opening events (run start and task, or run resumed), then step until done."""
        try:
            for event in opening:
                yield self.emit(event)
            while True:
                if self.state.pending_turn is None:
                    stop = self.policies.stop()
                    if stop is not None:
                        yield self._end(stop.status, stop.reason)
                        return
                    start = self.emit(
                        StepStart(
                            step=self.state.step + 1,
                            effort=self.policies.effort.current,
                            tool_choice=self.policies.call_choice.next_choice(),
                        )
                    )
                    assert isinstance(start, StepStart)
                    yield start
                    async for event in self._model_turn(start):
                        yield event
                turn = self.state.pending_turn
                assert turn is not None
                for call in turn.tool_calls:
                    if call.id not in self.state.done_calls:
                        async for event in self._run_call(call):
                            yield event
                answered = not turn.tool_calls and not turn.truncated  # a cut turn is a failing step
                if answered and not self.state.step_corrected:
                    correction = self.policies.correct(turn, self._intake, self.backend.call_syntax)
                    if correction is not None:
                        yield self.emit(correction)
                corrected = self.state.step_corrected
                for event in self._close_step():
                    yield event
                if answered and not corrected:
                    yield self._end("finished", "the model answered without calling a tool")
                    return
        except _Halt as halt:
            yield self.emit(Error(kind=halt.status, message=halt.reason))
            yield self._end(halt.status, halt.reason)
        except (asyncio.CancelledError, KeyboardInterrupt):
            self._end("interrupted", "interrupted by the user")
            raise

    async def shown_messages(self) -> list[Message]:
        """The conversation as the model is shown it: old outputs masked against the context the
        backend serves (BackendError: that context could not be learnt)."""
        context = await self.backend.context_length()
        answer = answer_room(context, self.backend.max_tokens)
        budget = self.policies.masking.budget(context, answer, self._schema_tokens)
        return self.policies.masking.mask(self.state.messages, budget)

    async def answer_tokens(self) -> int | None:
        """The output tokens a request asks for: the backend's, capped on a small served window."""
        return answer_room(await self.backend.context_length(), self.backend.max_tokens)

    async def _model_turn(self, step: StepStart) -> AsyncIterator[Event]:
        try:
            shown = await self.shown_messages()
        except BackendError as exc:
            raise _Halt("backend_error", str(exc)) from exc
        request = ModelRequest(
            messages=shown,
            tools=list(self._specs.values()),
            reasoning_effort=step.effort,
            temperature=self.temperature,
            max_tokens=await self.answer_tokens(),
            tool_choice=step.tool_choice,
        )
        started = time.monotonic()
        completion: Completion | None = None
        try:
            async for chunk in self.backend.stream(request):
                if isinstance(chunk, TextChunk):
                    yield self.emit(TextDelta(text=chunk.text))
                elif isinstance(chunk, ReasoningChunk):
                    yield self.emit(ReasoningDelta(text=chunk.text))
                elif isinstance(chunk, Retrying):
                    retry = BackendRetry(
                        attempt=chunk.attempt,
                        retries=chunk.retries,
                        reason=chunk.reason,
                        delay_s=chunk.delay_s,
                    )
                    yield self.emit(retry)
                else:
                    completion = chunk
        except BackendError as exc:
            raise _Halt("backend_error", str(exc)) from exc
        if completion is None:
            raise _Halt("backend_error", f"backend {self.backend.name} ended its stream without a completion")
        for notice in completion.notices:
            yield self.emit(Error(kind="backend_notice", message=notice))
        content, calls = self._intake.extract(completion, self.state.call_ids)
        yield self.emit(
            AssistantTurn(
                content=content,
                reasoning=completion.reasoning,
                tool_calls=calls,
                usage=completion.usage,
                duration_s=time.monotonic() - started,
                finish_reason=completion.finish_reason,
            )
        )

    async def _run_call(self, call: RawToolCall) -> AsyncIterator[Event]:
        verdict = self._intake.check(call, self.backend.call_syntax)
        if not isinstance(verdict, Accepted):
            yield self.emit(
                ToolResult(
                    call_id=call.id, name=call.name, output=verdict.message, ok=False, error_kind=verdict.kind
                )
            )
            return
        accepted = self.emit(
            ToolCall(call_id=call.id, name=verdict.name, arguments=verdict.arguments, repairs=verdict.repairs)
        )
        yield accepted
        if self.approver is not None:
            assert isinstance(accepted, ToolCall)
            approval = await self.approver(accepted)
            if approval is not None:
                yield self.emit(approval)
                if not approval.allowed:
                    why = f": {approval.reason}" if approval.reason else ""
                    denied = f"The user did not allow this call{why}. Do not retry it unchanged."
                    yield self.emit(
                        ToolResult(
                            call_id=call.id, name=verdict.name, output=denied, ok=False, error_kind="denied"
                        )
                    )
                    return
        started = time.monotonic()
        kind: str | None
        try:
            output = await self.tools[verdict.name].invoke(verdict.arguments, self.context)
            text, ok = output.output, output.ok
            kind = None if ok else "tool_failed"
        except SandboxError as exc:
            raise _Halt("sandbox_error", f"sandbox failed during `{verdict.name}`: {exc}") from exc
        except Exception as exc:  # a bug in a tool must not end the run: the model hears about it
            text, ok, kind = (
                f"internal error in `{verdict.name}`: {type(exc).__name__}: {exc}",
                False,
                "tool_crashed",
            )
        if verdict.repairs:
            text = f"[note: your call was repaired: {'; '.join(verdict.repairs)}]\n{text}"
        yield self.emit(
            ToolResult(
                call_id=call.id,
                name=verdict.name,
                output=text,
                ok=ok,
                error_kind=kind,
                duration_s=time.monotonic() - started,
            )
        )

    def _close_step(self) -> list[Event]:
        failures = list(self.state.step_failures)
        repeated = self.policies.stuck.failure()
        if repeated:
            failures.append(repeated)
        events: list[Event] = []
        change = self.policies.effort.decide(failures)
        if change is not None:
            events.append(self.emit(change))
        events.append(
            self.emit(
                StepEnd(
                    step=self.state.step + 1, failures=failures, format_errors=self.state.step_format_errors
                )
            )
        )
        return events

    def _end(self, status: RunStatus, reason: str) -> Event:
        return self.emit(
            RunEnd(
                status=status,
                reason=reason,
                steps=self.state.step,
                input_tokens=self.state.input_tokens,
                output_tokens=self.state.output_tokens,
                duration_s=self.policies.limits.elapsed_s(),
            )
        )
