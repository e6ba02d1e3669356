"""The trust question, asked before the TUI opens on a repository whose `.trident.toml` asks for
settings that weaken the sandbox or move credentials (`config.GUARDED`) and that is not trusted yet.

It shows what the file asks for (and whether it changed since the user trusted it), and records the
answer: "trust" is the same recorded, revocable decision as `trident trust DIR`, bound to the file
exactly as it was shown (its sha256); "not now" (or Esc) opens the TUI with those settings ignored, and
asks again next time. It is a small app of its own, run before the session is built, because the
settings it decides choose the sandbox and the model the session is built with.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from trident.agent.config import set_trust


class TrustApp(App[bool]):
    DEFAULT_CSS = """
    TrustApp { align: center middle; }
    TrustApp > Vertical {
        width: 90%; max-width: 100; height: auto; border: round $warning; padding: 0 1; background: $surface;
    }
    TrustApp .keys { margin: 1 0 0 0; }
    """
    BINDINGS = [  # noqa: RUF012
        Binding("t", "answer(True)", "trust"),
        Binding("n", "answer(False)", "not now"),
        Binding("escape", "answer(False)", "not now", show=False),
    ]

    def __init__(
        self, repo: Path, requests: dict[str, Any], sha256: str | None = None, *, changed: bool = False
    ) -> None:
        """`sha256`: the digest of the file whose `requests` are shown (what trusting it records);
        `changed`: the repository was trusted with another version of the file."""
        super().__init__()
        self.repo, self.requests, self.sha256, self.changed = repo, requests, sha256, changed

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Trust this repository?"
            changed = " changed since you trusted this repository, and now" if self.changed else ""
            yield Static(Text.assemble((str(self.repo / ".trident.toml"), "bold"), changed, " asks for:"))
            yield Static(
                Text("\n".join(f"  {name} = {value!r}" for name, value in self.requests.items())),
                id="requests",
            )
            yield Static(
                "These settings can weaken the sandbox, or choose the model your API key is sent to. "
                "Trust the repository only if you trust whoever wrote this file. Not now: they are "
                "ignored (you are asked again next time). Trust holds for this file as it is: if it "
                f"changes, you are asked again. Revoke: trident trust --revoke {self.repo}"
            )
            yield Static(
                Text.assemble(("t", "bold"), " trust   ", ("n", "bold"), " / ", ("Esc", "bold"), " not now"),
                classes="keys",
            )

    def action_answer(self, trusted: bool) -> None:
        if trusted:
            set_trust(self.repo, True, self.sha256)
        self.exit(trusted)


def ask_trust(repo: Path, requests: dict[str, Any], sha256: str | None, *, changed: bool = False) -> bool:
    """Ask on the terminal; True when the user trusted the repository (recorded)."""
    return bool(TrustApp(repo, requests, sha256, changed=changed).run())
