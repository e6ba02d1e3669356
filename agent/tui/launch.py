"""`trident` / `trident chat`: settings, model, sandbox and session, then the app; closed on exit."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from trident.agent.config import (
    ApprovalMode,
    ConfigError,
    load_settings,
    read_repo_file,
    resolve_model,
    trust_state,
    untrusted_requests,
)
from trident.agent.core.messages import BackendError
from trident.agent.core.trajectory import TrajectoryError
from trident.agent.policies.approval import ApprovalPolicy, default_mode
from trident.agent.session.chat import ChatSession
from trident.agent.session.saved import find_session, resumable
from trident.agent.wiring import make_backend, make_sandbox, resolve_sandbox_kind
from trident.sandbox import hostgit

EXIT_USAGE, EXIT_SANDBOX, EXIT_BACKEND = 2, 4, 5


def repo_root(start: Path) -> Path:
    """The git work tree containing `start`, else `start` itself (asked of git, hardened)."""
    return hostgit.repo_root(start)


def saved_session(repo: Path, resume: str | None, continue_last: bool) -> tuple[Path | None, bool]:
    """The trajectory `--resume ID` / `--continue` names (None: a new session), and whether the
    session picker opens at start (`--resume` without an ID). ConfigError for an unknown ID."""
    if resume:
        found = find_session(repo.resolve(), resume)
        if found is None:
            raise ConfigError(
                f"no saved session {resume!r} (`trident chat --resume` lists this repository's)"
            )
        return found.path, False
    if continue_last:
        newest = resumable(repo.resolve())
        return (newest[0].path if newest else None), False
    return None, resume is not None


def run_chat(
    repo: Path,
    overrides: dict[str, Any],
    approval: ApprovalMode | None = None,
    *,
    resume: str | None = None,
    continue_last: bool = False,
) -> int:
    """Open the TUI on `repo` (edited in place, through the sandbox). Returns the exit code.

    `resume`: a saved session's id ("" opens the picker); `continue_last`: the newest of this repository."""
    from trident.agent.tui.app import TridentApp  # Textual is imported only when the TUI is used

    try:
        if not repo.is_dir():
            raise ConfigError(f"--repo {repo} is not a directory")
        file = read_repo_file(repo)
        requests = untrusted_requests(repo, file) if sys.stdin.isatty() and sys.stdout.isatty() else {}
        if requests:  # asked once, before anything is built with the settings it decides
            from trident.agent.tui.trust_prompt import ask_trust

            ask_trust(repo, requests, file.sha256, changed=trust_state(repo, file.sha256) == "changed")
        settings = load_settings(repo, overrides)
        model = resolve_model(settings)
        saved, pick = saved_session(repo, resume, continue_last)
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
    try:
        settings = resolve_sandbox_kind(settings)  # before the TUI: its lines stay on the terminal
    except ConfigError as exc:
        print(f"trident: {exc}", file=sys.stderr)
        return EXIT_USAGE
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
    approvals = ApprovalPolicy(mode=mode)
    unsent: list[str] = []
    if saved is not None:
        try:
            session, unsent = ChatSession.resume(
                saved, settings, repo, model, sandbox, approvals, backend=backend
            )
        except TrajectoryError as exc:
            print(f"trident: cannot resume {saved}: {exc}", file=sys.stderr)
            return EXIT_USAGE
    else:
        session = ChatSession.start(settings, repo, model, sandbox, approvals, backend=backend)
        if continue_last:
            print(
                "trident: no saved session of this repository to continue; a new one starts", file=sys.stderr
            )
    app = TridentApp(session, unsent="\n".join(unsent), pick_session=pick)
    app.run()  # it closes the session, backend and sandbox when it ends
    line = farewell(app.session)
    if line:  # the app's screen is gone: the terminal keeps where the conversation is
        print(line)
    return 0


def farewell(session: ChatSession) -> str | None:
    """The line left in the terminal after the app: the session's id and how to get back to it (None
    for a session without a message)."""
    if not any(m.role == "user" for m in session.agent.state.messages):
        return None
    return f"trident: session {session.run_id} saved; `trident chat --resume {session.run_id}` continues it"
