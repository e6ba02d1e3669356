"""Budgets: steps, wall time, tokens, consecutive format errors. Each breach stops with its status."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from trident.agent.config import LimitsConfig
from trident.agent.core.events import (
    AssistantTurn,
    Compaction,
    Event,
    RunResumed,
    RunStart,
    RunStatus,
    StepEnd,
)

_DEFAULT = LimitsConfig()  # the defaults live in the config, once


@dataclass(frozen=True)
class Stop:
    status: RunStatus
    reason: str


@dataclass
class LimitsPolicy:
    max_steps: int = _DEFAULT.max_steps
    timeout_s: float | None = _DEFAULT.timeout_s
    max_tokens: int | None = _DEFAULT.max_tokens
    max_format_errors: int = _DEFAULT.max_format_errors
    steps: int = 0
    tokens: int = 0
    format_error_streak: int = 0
    elapsed_before_s: float = 0.0  # time spent by earlier segments of a resumed run
    _segment_start_ts: float | None = None
    _last_ts: float | None = None
    _clock_start: float = field(default_factory=time.monotonic)

    def observe(self, event: Event) -> None:
        if isinstance(event, RunStart | RunResumed):
            if self._segment_start_ts is not None and self._last_ts is not None:
                self.elapsed_before_s += self._last_ts - self._segment_start_ts
            self._segment_start_ts = event.ts
            self._clock_start = time.monotonic()  # the live segment is timed by this process
        self._last_ts = event.ts
        if isinstance(event, StepEnd):
            self.steps = event.step
            self.format_error_streak = self.format_error_streak + 1 if event.format_errors else 0
        elif isinstance(event, AssistantTurn | Compaction):
            self.tokens += event.usage.input_tokens + event.usage.output_tokens

    def elapsed_s(self) -> float:
        return self.elapsed_before_s + time.monotonic() - self._clock_start

    def check(self) -> Stop | None:
        if self.format_error_streak >= self.max_format_errors:
            return Stop(
                "format_errors", f"{self.format_error_streak} consecutive steps with malformed tool calls"
            )
        if self.steps >= self.max_steps:
            return Stop("max_steps", f"step limit of {self.max_steps} reached")
        if self.max_tokens is not None and self.tokens >= self.max_tokens:
            return Stop("max_tokens", f"token budget of {self.max_tokens} used ({self.tokens})")
        if self.timeout_s is not None and self.elapsed_s() >= self.timeout_s:
            return Stop("timeout", f"time limit of {self.timeout_s:g}s reached")
        return None
