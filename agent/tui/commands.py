"""Slash commands: the table (/help prints it, completion offers it) and parsing a typed line."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    name: str
    usage: str
    help: str


COMMANDS: tuple[Command, ...] = (
    Command("help", "/help", "commands, keys, approval modes and the AGENTS.md files in use"),
    Command("model", "/model [SPEC]", "show the model, or switch to SPEC (openai:MODEL@URL, vllm:DIR, …)"),
    Command(
        "effort", "/effort [none|high|auto]", "show or set reasoning effort (auto: raised on failing steps)"
    ),
    Command("mode", "/mode [ask|auto-edit|full-auto]", "show or set the approval mode (Shift+Tab cycles)"),
    Command("diff", "/diff", "the working tree's changes against HEAD"),
    Command("undo", "/undo", "take back trident's last edit or commit"),
    Command("clear", "/clear", "start a new conversation (the old one stays saved)"),
    Command("compact", "/compact", "replace older turns with the model's summary (frees context)"),
    Command("resume", "/resume", "pick a saved session of this repository and continue it"),
    Command("copy", "/copy", "copy the last answer to the clipboard (OSC 52)"),
    Command(
        "export", "/export [PATH]", "write the conversation as markdown (default trident-ID.md in the repo)"
    ),
    Command("sandbox", "/sandbox", "where commands run, and how isolated that is"),
    Command("quit", "/quit", "leave (the session stays saved for /resume)"),
)
NAMES = {command.name: command for command in COMMANDS}

KEYS = (
    ("Enter", "send the message (while a step runs: queue it, sent when the step ends)"),
    ("Shift+Enter / Alt+Enter / Ctrl+J", "new line (or `\\` then Enter, in any terminal)"),
    ("Esc", "cancel the running step, or close the candidate list; never erases what you typed"),
    (
        "Ctrl+C",
        "copy the selection (drag with the mouse; Shift+drag in some terminals); without one, cancel the "
        "running step; with nothing running, clear the message (Up brings it back)",
    ),
    ("Shift+Tab", "cycle the approval mode"),
    (
        "Up / Down",
        "input history from the first/last line (kept across sessions); on an empty line, "
        "Up first takes back the last queued message",
    ),
    ("Tab / Enter", "take the highlighted @path or /command candidate (Up/Down pick)"),
    ("Tab", "with no candidate list: focus the conversation (arrows scroll it); typing comes back here"),
    ("PageUp / PageDown", "scroll the conversation (Ctrl+Home: its start; Ctrl+End: the newest output)"),
    ("Ctrl+O", "unfold or fold the newest long tool output (or click the card)"),
    ("Ctrl+Q", "quit"),
)


class CommandError(ValueError):
    """A slash command typed wrong: the message says what is expected."""


def parse(line: str) -> tuple[Command, str] | None:
    """`/name args` → (command, args); None for a line that is not a command; unknown → CommandError."""
    line = line.strip()
    if not line.startswith("/") or line.startswith("//"):
        return None
    name, _, rest = line[1:].partition(" ")
    command = NAMES.get(name.lower())
    if command is None:
        raise CommandError(f"unknown command /{name}; /help lists them")
    return command, rest.strip()


def matching(prefix: str) -> list[Command]:
    """`/c` → every command starting with `c`, in the table's order."""
    if not prefix.startswith("/") or " " in prefix:
        return []
    return [c for c in COMMANDS if c.name.startswith(prefix[1:].lower())]


def complete(prefix: str) -> str | None:
    """`/ef` → `/effort ` (the first match)."""
    match = matching(prefix)
    return f"/{match[0].name} " if match else None


def _cell(usage: str) -> str:
    """A usage string as a table cell: `|` separates alternatives, not columns."""
    return "`" + usage.replace("|", "\\|") + "`"


def help_text(agents_files: list[str], mode: str) -> str:
    """The /help answer (markdown)."""
    rows = "\n".join(f"| {_cell(c.usage)} | {c.help} |" for c in COMMANDS)
    keys = "\n".join(f"| {key} | {what} |" for key, what in KEYS)
    files = "\n".join(f"- `{name}`" for name in agents_files) or "- none found"
    return (
        f"**Commands**\n\n| command | what it does |\n|---|---|\n{rows}\n\n"
        f"**Keys**\n\n| key | what it does |\n|---|---|\n{keys}\n\n"
        f"**Approval modes** (now: `{mode}`): `ask` asks before edits and commands; `auto-edit` makes "
        "edits without asking and asks before commands; `full-auto` asks nothing. Reading and searching "
        "never ask. Answer a prompt with **y** (yes), **a** (always this session) or **n** (no, with a "
        "reason the model is told).\n\n"
        "Type `@path` to attach a file to your message. `!command` runs a command in the sandbox at once, "
        "without asking the model; the model gets its output with your next message.\n\n"
        f"**AGENTS.md files in the system prompt**\n\n{files}"
    )
