"""Premature finish: a headless model that stops with its task unchecked is told what is still open.

Real models stop early: they answer "done" with the tests still red, or before changing anything.
When a turn ends without a tool call and the task is not checked, trident answers once with what
is still open instead of ending the run:

- nothing was changed yet (no edit tool succeeded, and no command ran that could have changed files);
- with a test command: `run_tests` was never run, or not after the last edit, or its last run failed
  (the failing tests are named).

At most `max_nudges` per run (`limits.max_nudges`); 0 turns them off, as in interactive sessions,
where the user decides (wiring gives the config's number to headless runs only). Each nudge is a
`Correction` event (so a resumed run counts the ones already given) and makes the step a failing
one, which raises the effort as any failing step does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from trident.agent.core.events import Correction, Event, ToolCall, ToolResult

TESTS_TOOL = "run_tests"
FAILING_SHOWN = 5
_TestState = Literal["never", "failed", "passed"]


def failing_tests(output: str) -> list[str]:
    """The failing test ids `run_tests` listed (its `FAILED id - message` / `ERROR id` lines)."""
    found: list[str] = []
    for line in output.splitlines():
        words = line.strip().split(" ", 1)
        if len(words) == 2 and words[0] in ("FAILED", "ERROR") and not words[1].startswith(("(", ":")):
            found.append(words[1].split(" - ", 1)[0].strip())
    return list(dict.fromkeys(found))


@dataclass
class NudgePolicy:
    max_nudges: int = 0  # 0: never (interactive sessions; policies built by hand)
    test_command: str | None = None
    edit_tools: frozenset[str] = frozenset({"edit", "write", "apply_patch"})
    read_tools: frozenset[str] = frozenset()  # calls that cannot change files
    nudges: int = 0
    changed: bool = False  # files may differ from the repository as given
    edited_since_tests: bool = False
    tests: _TestState = "never"
    failing: list[str] = field(default_factory=list)
    _pending: dict[str, ToolCall] = field(default_factory=dict)

    def observe(self, event: Event) -> None:
        if isinstance(event, Correction) and event.kind == "nudge":
            self.nudges += 1
        elif isinstance(event, ToolCall):
            self._pending[event.call_id] = event
        elif isinstance(event, ToolResult) and event.call_id in self._pending:
            self._result(self._pending.pop(event.call_id), event)

    def _result(self, call: ToolCall, result: ToolResult) -> None:
        if call.name == TESTS_TOOL and not call.arguments.get("command"):
            self.tests = "passed" if result.ok else "failed"
            self.failing = failing_tests(result.output) if not result.ok else []
            self.edited_since_tests = False
        elif call.name in self.edit_tools and result.ok:
            self.changed = self.edited_since_tests = True
        elif call.name not in self.read_tools and call.name != TESTS_TOOL:
            self.changed = True  # a command may have changed files: "nothing changed" is not claimed

    def open_items(self) -> list[str]:
        """What is still unchecked, in words for the model; empty when the task looks checked."""
        items: list[str] = []
        if not self.changed:
            items.append("nothing has been changed yet")
        if self.test_command:
            if self.tests == "never":
                items.append("the tests were never run (`run_tests`)")
            elif self.edited_since_tests:
                items.append("the tests were not run after your last edit (`run_tests`)")
            elif self.tests == "failed":
                shown = ", ".join(self.failing[:FAILING_SHOWN]) or "see the last `run_tests` output"
                more = len(self.failing) - FAILING_SHOWN
                items.append(f"the tests still fail: {shown}" + (f" and {more} more" if more > 0 else ""))
        return items

    def check(self) -> Correction | None:
        """The nudge to answer a turn that ended without a tool call, or None: let the run end."""
        if self.nudges >= self.max_nudges:
            return None
        items = self.open_items()
        if not items:
            return None
        text = (
            f"You stopped, but the task is not checked: {'; '.join(items)}. Continue with a tool call, "
            "or say plainly why it cannot be done."
        )
        return Correction(
            kind="nudge", text=text, failure="ended with the task unchecked: " + "; ".join(items)
        )
