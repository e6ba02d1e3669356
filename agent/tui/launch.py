"""`trident` / `trident chat`: settings, model, sandbox and session, then the app; closed on exit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from trident.agent.config import ApprovalMode, ConfigError, load_settings, resolve_model
from trident.agent.core.messages import BackendError
from trident.agent.policies.approval import ApprovalPolicy, default_mode
from trident.agent.session.chat import ChatSession
from trident.agent.wiring import make_backend, make_sandbox

EXIT_USAGE, EXIT_SANDBOX, EXIT_BACKEND = 2, 4, 5


def repo_root(start: Path) -> Path:
    """The git work tree containing `start`, else `start` itself."""
    found = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"], cwd=start, capture_output=True, text=True, check=False
    )
    return Path(found.stdout.strip()) if found.returncode == 0 and found.stdout.strip() else start


def run_chat(repo: Path, overrides: dict[str, Any], approval: ApprovalMode | None = None) -> int:
    """Open the TUI on `repo` (edited in place, through the sandbox). Returns the exit code."""
    from trident.agent.tui.app import TridentApp  # Textual is imported only when the TUI is used

    try:
        if not repo.is_dir():
            raise ConfigError(f"--repo {repo} is not a directory")
        settings = load_settings(repo, overrides)
        model = resolve_model(settings)
        backend = make_backend(model, settings)
    except ConfigError as exc:
        print(f"trident: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BackendError as exc:
        print(f"trident: {exc}", file=sys.stderr)
        return EXIT_BACKEND
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        print(
            "trident: the interactive TUI needs a terminal; use `trident run` for headless work",
            file=sys.stderr,
        )
        return EXIT_USAGE
    box = settings.sandbox
    sandbox = make_sandbox(settings, repo.resolve())
    mode = approval or settings.approval or default_mode(box.kind, box.network)
    session = ChatSession.start(settings, repo, model, sandbox, ApprovalPolicy(mode=mode), backend=backend)
    TridentApp(session).run()  # it closes the session, backend and sandbox when it ends
    return 0
