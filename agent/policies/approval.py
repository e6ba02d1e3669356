"""Which tool calls need the user's yes: by the call's kind, the session's mode and what was allowed.

Kinds, declared by each tool (`Tool.kind`): `read` (reading and searching, never asked), `edit`
(file changes) and `exec` (commands, test runs, git changes). Modes, switchable at run time:

- `ask`: edits and commands ask;
- `auto-edit`: edits run, commands ask;
- `full-auto`: nothing asks (the sensible default in a Docker sandbox without network).

"Always this session" allows one tool for the rest of the session, whatever the mode.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from tools.base import CallKind, Toolset

ApprovalMode = Literal["ask", "auto-edit", "full-auto"]
MODES: tuple[ApprovalMode, ...] = ("ask", "auto-edit", "full-auto")


def call_kind(tools: Toolset, name: str, arguments: dict[str, Any]) -> CallKind:
    """A call's kind, as its tool declares it; unknown tools are commands (asked unless full-auto)."""
    tool = tools.get(name)
    return tool.kind(arguments) if tool is not None else "exec"


def default_mode(sandbox_kind: str, network: bool) -> ApprovalMode:
    """full-auto where nothing can escape (Docker, no network); otherwise edits and commands ask."""
    return "full-auto" if sandbox_kind == "docker" and not network else "ask"


@dataclass
class ApprovalPolicy:
    mode: ApprovalMode = "ask"
    allowed_tools: set[str] = field(default_factory=set)  # "always this session"

    def needs_approval(self, name: str, kind: CallKind) -> bool:
        if kind == "read" or self.mode == "full-auto" or name in self.allowed_tools:
            return False
        return not (kind == "edit" and self.mode == "auto-edit")

    def allow_for_session(self, name: str) -> None:
        self.allowed_tools.add(name)

    def cycle(self) -> ApprovalMode:
        """The next mode (ask → auto-edit → full-auto → ask), now in force."""
        self.mode = MODES[(MODES.index(self.mode) + 1) % len(MODES)]
        return self.mode
