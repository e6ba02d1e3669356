"""reasoning_effort escalation: raise to `high` on a failing step, lower after calm steps.

Changing effort rewrites the first user turn (`[MODEL_SETTINGS]`), which invalidates the prefix
cache, so the policy is sticky: once high it stays high for `hysteresis` successful steps in a row.
State is rebuilt purely from events (`observe`), so a resumed run continues where it was.
"""

from __future__ import annotations

from dataclasses import dataclass

from trident.agent.config import EffortConfig
from trident.agent.core.events import Effort, EffortChange, EffortMode, Event, StepEnd

_DEFAULT = EffortConfig()  # the defaults live in the config, once


@dataclass
class EffortPolicy:
    mode: EffortMode = _DEFAULT.mode
    hysteresis: int = _DEFAULT.hysteresis
    current: Effort = "none"
    calm_steps: int = 0  # successful steps in a row while high

    def __post_init__(self) -> None:
        if self.mode != "auto":
            self.current = self.mode

    def observe(self, event: Event) -> None:
        if isinstance(event, EffortChange):
            self.current = event.effort
            self.calm_steps = 0
        elif isinstance(event, StepEnd) and self.current == "high":
            self.calm_steps = 0 if event.failures else self.calm_steps + 1

    def decide(self, failures: list[str]) -> EffortChange | None:
        """The change to make at the end of a step with these failures, if any."""
        if self.mode != "auto":
            return None
        if failures and self.current == "none":
            return EffortChange(previous="none", effort="high", reason="; ".join(failures))
        if not failures and self.current == "high" and self.calm_steps + 1 >= self.hysteresis:
            steps = self.calm_steps + 1
            return EffortChange(previous="high", effort="none", reason=f"{steps} successful step(s) in a row")
        return None

    def override(self, mode: EffortMode) -> EffortChange | None:
        """A user's `/effort` choice: switch mode, and the effort itself when it differs."""
        self.mode = mode
        target: Effort = "none" if mode == "auto" else mode
        if target == self.current:
            return None
        return EffortChange(previous=self.current, effort=target, reason=f"set to {mode} by the user")
