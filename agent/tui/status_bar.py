"""The status line: model, sandbox, approval mode, effort, step, tokens, context fill, elapsed time.

The step, tokens, context and time are on the right and always shown; the left part is cut to fit."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual.widgets import Static

from trident.agent.tui.diff_view import CYAN, GREEN, MAGENTA, MUTED, REMOVED, YELLOW

FULLISH, FULL = 0.75, 0.9  # of the context window: shown in yellow, then red (time for /compact)


def model_label(spec: str) -> str:
    """A short name for a model spec: no URLs or directories."""
    kind, _, rest = spec.partition(":")
    if kind == "openai":
        return rest.split("@", 1)[0] or spec
    if kind in ("scripted", "vllm"):
        return f"{kind}:{Path(rest).name}"
    return spec


def tokens(count: int) -> str:
    return f"{count / 1000:.1f}k" if count >= 1000 else str(count)


def clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@dataclass(frozen=True)
class Status:
    model: str
    sandbox: str  # e.g. "docker · no network", "local · not isolated"
    mode: str  # approval mode
    effort: str
    effort_mode: str
    step: int  # the running step, else the last finished one
    tokens_in: int
    tokens_out: int
    elapsed_s: float
    busy: bool = False
    streaming_out: int = 0  # estimated output tokens of the turn streaming now (not counted yet)
    context_used: int = 0  # the conversation's tokens: the model's count of its last turn, else estimated
    context_length: int | None = None  # the model's context window, when the backend knows it


SEP = (" │ ", MUTED)


def render_left(status: Status, short: bool = False) -> Text:
    """`short`: the sandbox in a word and the effort without its mode, so the effort stays readable."""
    effort_style = f"bold {MAGENTA}" if status.effort == "high" else CYAN
    mode_style = (
        f"bold {GREEN}" if status.mode == "full-auto" else YELLOW if status.mode == "auto-edit" else ""
    )
    return Text.assemble(
        ("● " if status.busy else "○ ", GREEN if status.busy else MUTED),
        (model_label(status.model), "bold"),
        SEP,
        status.sandbox.split(",")[0] if short else status.sandbox,
        SEP,
        (status.mode, mode_style),
        SEP,
        "effort ",
        (status.effort, effort_style),
        ("" if short else f" ({status.effort_mode})", MUTED),
    )


def render_context(status: Status) -> Text:
    """`ctx 12.3k/32.8k 38%`: how much of the model's context the conversation fills (`ctx ~12.3k`
    when the window is unknown; `~` while a turn streams, the estimate)."""
    used = status.context_used + status.streaming_out
    approx = "~" if status.streaming_out or not status.context_length else ""
    if not status.context_length:
        return Text(f"ctx {approx}{tokens(used)}")
    fill = used / status.context_length
    style = REMOVED if fill >= FULL else YELLOW if fill >= FULLISH else ""
    return Text.assemble(
        f"ctx {approx}{tokens(used)}/{tokens(status.context_length)} ", (f"{fill:.0%}", style)
    )


def render_right(status: Status) -> Text:
    out = tokens(status.tokens_out + status.streaming_out)
    return Text.assemble(
        SEP,
        f"step {status.step}",
        SEP,
        f"↑{tokens(status.tokens_in)} ↓{'~' if status.streaming_out else ''}{out}",
        SEP,
        render_context(status),
        SEP,
        clock(status.elapsed_s),
    )


def render_status(status: Status, width: int | None = None) -> Text:
    """The line; at `width`, the left part is shortened, then cut (with …), so the step, tokens,
    context and time stay."""
    left, right = render_left(status), render_right(status)
    if width is not None and left.cell_len + right.cell_len > width:
        left = render_left(status, short=True)
    if width is not None and left.cell_len + right.cell_len > width:
        left.truncate(max(width - right.cell_len, 1), overflow="ellipsis")
    if width is not None:
        left.pad_right(max(width - left.cell_len - right.cell_len, 0))
    return Text.assemble(left, right)


class StatusBar(Static):
    DEFAULT_CSS = """
    StatusBar { height: 1; dock: bottom; background: $panel; padding: 0 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.status: Status | None = None

    def show(self, status: Status) -> None:
        self.status = status
        self.update(render_status(status, self.content_size.width or None))

    def on_resize(self) -> None:
        if self.status is not None:
            self.show(self.status)
