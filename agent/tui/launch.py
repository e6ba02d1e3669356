"""`trident` / `trident chat`: settings, model, sandbox and session, then the app; closed on exit."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from trident.agent.config import ApprovalMode, ConfigError, load_settings, resolve_model
from trident.agent.core.messages import BackendError
from trident.agent.policies.approval import ApprovalPolicy, default_mode
from trident.agent.session.chat import ChatSession
from trident.agent.wiring import make_backend, make_sandbox, resolve_sandbox_kind
from trident.sandbox import hostgit

EXIT_USAGE, EXIT_SANDBOX, EXIT_BACKEND = 2, 4, 5


def repo_root(start: Path) -> Path:
    """The git work tree containing `start`, else `start` itself (asked of git, hardened)."""
    return hostgit.repo_root(start)


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
    settings = resolve_sandbox_kind(settings)  # before the TUI: its lines stay on the terminal
    box = settings.sandbox
    if box.kind == "docker" and box.image is None:
        from trident.sandbox.base import SandboxError
        from trident.sandbox.docker import docker_client
        from trident.sandbox.image import ensure_image

        try:  # first use: the image is built offline now, with progress, not under the TUI
            ensure_image(docker_client(), log=lambda line: print(f"trident: {line}", file=sys.stderr))
        except SandboxError as exc:
            print(f"trident: {exc}", file=sys.stderr)
            return EXIT_SANDBOX
    sandbox = make_sandbox(settings, repo.resolve(), user_repo=True)
    mode = approval or settings.approval or default_mode(box.kind, box.network)
    session = ChatSession.start(settings, repo, model, sandbox, ApprovalPolicy(mode=mode), backend=backend)
    TridentApp(session).run()  # it closes the session, backend and sandbox when it ends
    return 0
