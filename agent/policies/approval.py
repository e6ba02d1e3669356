"""Which tool calls need the user's yes: by the call's kind, the session's mode and what was allowed.

Kinds, declared by each tool (`Tool.kind`): `read` (reading and searching, never asked), `edit`
(file changes) and `exec` (commands, test runs, git changes). Modes, switchable at run time:

- `ask`: edits and commands ask;
- `auto-edit`: edits run, commands ask;
- `full-auto`: nothing asks (the sensible default in a Docker sandbox without network).

"Always this session" allows, for the rest of the session whatever the mode, one tool, or for
`bash` one kind of command: a simple command's program (with its subcommand for runners such as
`python -m pytest`, `npm test`, `git status`), so "always" on `pytest -q tests/a.py` also allows
`pytest tests/b.py` but not `rm -rf build`. A command with shell syntax (operators, substitution,
redirection, globs, variable assignments), one that runs another command (`sh`, `env`, `xargs`,
`sudo`, `find`, ...) and inline code (`python -c`, `node -e`) are allowed again only exactly.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any, Literal

from tools.base import CallKind, Toolset

ApprovalMode = Literal["ask", "auto-edit", "full-auto"]
MODES: tuple[ApprovalMode, ...] = ("ask", "auto-edit", "full-auto")
SHELL_SYNTAX = frozenset(";&|<>`$()\n\\*?[]{}~")  # a command with any of these is not "simple"
RUNNERS = frozenset(  # programs whose first argument says what runs (`npm test`, `cargo build`)
    {"python", "python3", "uv", "npm", "npx", "pnpm", "yarn", "bun", "node", "deno", "cargo", "go",
     "make", "git", "poetry", "pip", "pip3", "pipx", "dotnet", "mvn", "gradle", "bundle", "rake", "tox"}
)  # fmt: skip
WRAPPERS = frozenset(  # programs that run any other command: allowed again only exactly
    {"sh", "bash", "zsh", "dash", "fish", "env", "sudo", "doas", "su", "xargs", "timeout", "nice", "nohup",
     "exec", "eval", "command", "builtin", "time", "watch", "stdbuf", "setsid", "chroot", "ssh", "find"}
)  # fmt: skip
INLINE_CODE = frozenset({"-c", "-e", "--eval", "--command"})  # `python -c CODE`, `node -e CODE`


def call_kind(tools: Toolset, name: str, arguments: dict[str, Any]) -> CallKind:
    """A call's kind, as its tool declares it; unknown tools are commands (asked unless full-auto)."""
    tool = tools.get(name)
    return tool.kind(arguments) if tool is not None else "exec"


def default_mode(sandbox_kind: str, network: bool) -> ApprovalMode:
    """full-auto where nothing can escape (Docker, no network); otherwise edits and commands ask."""
    return "full-auto" if sandbox_kind == "docker" and not network else "ask"


def command_prefix(command: str) -> str | None:
    """What "always" allows of a shell command: its program (and a runner's subcommand, `python -m`'s
    module), or None when the command has shell syntax (then only the exact command is allowed)."""
    if any(char in SHELL_SYNTAX for char in command):
        return None
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    if not words or "=" in words[0] or words[0].rsplit("/", 1)[-1] in WRAPPERS:
        return None
    if any(word in INLINE_CODE for word in words[1:3]):
        return None  # the code is the command: a prefix would allow any code
    size = 1
    if words[0].rsplit("/", 1)[-1] in RUNNERS and len(words) > 1:
        size = 3 if words[1] == "-m" and len(words) > 2 else 2
    return " ".join(words[:size])


def session_rule(name: str, arguments: dict[str, Any]) -> str:
    """The rule "always this session" adds for this call: `bash: PREFIX …`, `bash= COMMAND`, or the tool."""
    command = arguments.get("command")
    if name != "bash" or not isinstance(command, str):
        return name
    prefix = command_prefix(command)
    return f"bash: {prefix} …" if prefix is not None else f"bash= {command.strip()}"


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
