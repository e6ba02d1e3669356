"""Stuck detection: the same call getting the same result again means the agent is looping."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from trident.agent.config import LimitsConfig
from trident.agent.core.events import Event, ToolCall, ToolResult

_DEFAULT = LimitsConfig()  # the defaults live in the config, once


def _fingerprint(name: str, arguments: dict[str, Any], output: str) -> str:
    blob = json.dumps([name, arguments, output], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass
class StuckDetector:
    stop_after: int = _DEFAULT.stuck_repeats  # identical action+result pairs in a row that end the run
    repeats: int = 1  # length of the current run of identical pairs
    repeated_this_step: bool = False
    _last: str | None = None
    _pending: dict[str, ToolCall] = field(default_factory=dict)

    def observe(self, event: Event) -> None:
        if isinstance(event, ToolCall):
            self._pending[event.call_id] = event
        elif isinstance(event, ToolResult) and event.call_id in self._pending:
            call = self._pending.pop(event.call_id)
            fingerprint = _fingerprint(call.name, call.arguments, event.output)
            if fingerprint == self._last:
                self.repeats += 1
                self.repeated_this_step = True
            else:
                self.repeats = 1
            self._last = fingerprint
        elif event.type == "step_start":
            self.repeated_this_step = False

    def failure(self) -> str | None:
        if self.repeated_this_step:
            return f"repeated the same action with the same result ({self.repeats} times in a row)"
        return None

    def stuck(self) -> bool:
        return self.repeats >= self.stop_after
