"""The status line: model, sandbox, approval mode, reasoning effort, steps, tokens, elapsed time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual.widgets import Static


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
    step: int
    tokens_in: int
    tokens_out: int
    elapsed_s: float
    busy: bool = False


def render_status(status: Status) -> Text:
    sep = (" │ ", "dim")
    effort_style = "bold magenta" if status.effort == "high" else "cyan"
    mode_style = (
        "bold green" if status.mode == "full-auto" else "yellow" if status.mode == "auto-edit" else ""
    )
    parts: list[str | tuple[str, str]] = [
        ("● " if status.busy else "○ ", "green" if status.busy else "dim"),
        (model_label(status.model), "bold"),
        sep,
        status.sandbox,
        sep,
        (status.mode, mode_style),
        sep,
        "effort ",
        (status.effort, effort_style),
        (f" ({status.effort_mode})", "dim"),
        sep,
        f"step {status.step}",
        sep,
        f"↑{tokens(status.tokens_in)} ↓{tokens(status.tokens_out)}",
        sep,
        clock(status.elapsed_s),
    ]
    return Text.assemble(*parts)


class StatusBar(Static):
    DEFAULT_CSS = """
    StatusBar { height: 1; dock: bottom; background: $panel; padding: 0 1; }
    """

    def show(self, status: Status) -> None:
        self.update(render_status(status))
