"""Which tool calls need the user's yes: by the call's kind, the session's mode and what was allowed.

Kinds, declared by each tool (`Tool.kind`): `read` (reading and searching, never asked), `edit`
(file changes) and `exec` (commands, test runs, git changes). Modes, switchable at run time:

- `ask`: edits and commands ask;
- `auto-edit`: edits run, commands ask;
- `full-auto`: nothing asks (the sensible default in a Docker sandbox without network).

"Always this session" allows, for the rest of the session whatever the mode, one tool, or for a
call that runs a command (`bash`, `run_tests COMMAND`) that exact command (re-running the same
test command does not ask again). A shell command cannot be allowed by its program or prefix:
`pytest --basetemp=DIR` deletes DIR, `uv run X` runs anything, `sed 'e CMD'` runs CMD, so a prefix
rule would allow far more than the user saw.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trident.agent.config import MODES, ApprovalMode
from trident.tools.base import CallKind, Toolset


def call_kind(tools: Toolset, name: str, arguments: dict[str, Any]) -> CallKind:
    """A call's kind, as its tool declares it; unknown tools are commands (asked unless full-auto)."""
    tool = tools.get(name)
    return tool.kind(arguments) if tool is not None else "exec"


def default_mode(sandbox_kind: str, network: bool) -> ApprovalMode:
    """full-auto where nothing can escape (Docker, no network); otherwise edits and commands ask."""
    return "full-auto" if sandbox_kind == "docker" and not network else "ask"


def session_rule(name: str, arguments: dict[str, Any]) -> str:
    """The rule "always this session" adds for this call: `TOOL= COMMAND` for a call that runs a
    command (`bash`, `run_tests` with its own command: that exact command), else the tool's name."""
    command = arguments.get("command")
    return f"{name}= {command.strip()}" if isinstance(command, str) else name


@dataclass
class ApprovalPolicy:
    mode: ApprovalMode = "ask"
    allowed: set[str] = field(default_factory=set)  # "always this session": rules from session_rule

    def needs_approval(self, name: str, kind: CallKind, arguments: dict[str, Any]) -> bool:
        if kind == "read" or self.mode == "full-auto":
            return False
        if session_rule(name, arguments) in self.allowed:
            return False
        return not (kind == "edit" and self.mode == "auto-edit")

    def allow_for_session(self, name: str, arguments: dict[str, Any]) -> str:
        """Allow calls like this one for the rest of the session; returns the rule added."""
        rule = session_rule(name, arguments)
        self.allowed.add(rule)
        return rule

    def cycle(self) -> ApprovalMode:
        """The next mode (ask → auto-edit → full-auto → ask), now in force."""
        self.mode = MODES[(MODES.index(self.mode) + 1) % len(MODES)]
        return self.mode
