"""The one place that builds a sandbox, a backend, the policies and the agent from the settings.

Every front end (`trident run`, batches, chat sessions and the TUI, agentic evals) and the tests
build them here, so a setting means the same everywhere (an earlier copy of this code in each
front end had drifted: the headless run ignored `protected_paths`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from trident.agent.config import ConfigError, Settings
from trident.agent.core.messages import Backend
from trident.agent.core.trajectory import TrajectoryWriter
from trident.agent.llm.resolve import make_backend
from trident.agent.loop import Agent, Policies
from trident.agent.policies.effort import EffortPolicy
from trident.agent.policies.limits import LimitsPolicy
from trident.agent.policies.masking import ObservationMasker
from trident.agent.policies.nudge import NudgePolicy
from trident.agent.policies.stuck import StuckDetector
from trident.sandbox.base import Sandbox
from trident.sandbox.client import RunnerSession
from trident.sandbox.factory import open_sandbox
from trident.tools.base import ToolContext, Toolset
from trident.tools.registry import default_tools

__all__ = ["make_agent", "make_backend", "make_policies", "make_sandbox", "resolve_sandbox_kind"]

NOT_ISOLATED = (
    "the local sandbox does not isolate: commands run as you, on this machine, with your files and network"
)


LOCAL_AS_ROOT = (
    "the local sandbox does not isolate, and trident runs as root: the agent's commands run as root on "
    "this machine, and can change anything on it, trident and the tests that decide its verdicts included"
)
LOCAL_ROOT_REFUSED = (
    "trident runs as root: it will not fall back to the local sandbox, where the agent's commands would "
    "run as root on this machine. Start Docker, run trident as a normal user, or ask for it explicitly "
    "with --sandbox local"
)


def _first(why: str) -> str:
    return why.splitlines()[0] if why else "?"


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def docker_answers() -> tuple[bool, str]:
    """Whether a Docker engine answers here (and why not)."""
    from trident.sandbox.base import SandboxError
    from trident.sandbox.docker import docker_client

    try:
        docker_client().close()
    except SandboxError as exc:
        return False, str(exc)
    except Exception as exc:  # the docker SDK missing or misconfigured: no engine for us
        return False, f"{type(exc).__name__}: {exc}"
    return True, ""


def resolve_sandbox_kind(settings: Settings, *, say: Callable[[str], None] = _stderr) -> Settings:
    """`sandbox.kind = "auto"` made concrete: Docker where an engine answers, else local, said on
    stderr with what that means. An explicit `local` is said too.

    As root, the local sandbox protects nothing (commands are root on this machine: they can change
    trident itself, the tests that decide its verdicts, anything): `auto` never falls back to it
    (ConfigError), and an explicit `local` is said to be root."""
    kind = settings.sandbox.kind
    root = os.geteuid() == 0
    if kind == "auto":
        found, why = docker_answers()
        kind = "docker" if found else "local"
        if not found and root:
            raise ConfigError(f"no Docker engine answered ({_first(why)}), and {LOCAL_ROOT_REFUSED}")
        if not found:
            say(f"trident: no Docker engine answered ({_first(why)}); {NOT_ISOLATED}")
    elif kind == "local":
        say(f"trident: {LOCAL_AS_ROOT if root else NOT_ISOLATED} (sandbox.kind = local)")
    if kind == settings.sandbox.kind:
        return settings
    return settings.model_copy(update={"sandbox": settings.sandbox.model_copy(update={"kind": kind})})


def make_sandbox(
    settings: Settings,
    workspace: Path,
    *,
    mode: Literal["bind", "copy"] = "bind",
    network: bool | None = None,
    user_repo: bool = False,
) -> RunnerSession:
    """The configured sandbox on `workspace` (not started); `network` overrides the config's.

    `user_repo`: the workspace is the user's own repository, edited in place (the TUI); else a copy
    trident made (headless runs, agentic evals). See `open_sandbox`."""
    box = settings.sandbox
    kind = box.kind if box.kind != "auto" else resolve_sandbox_kind(settings).sandbox.kind
    assert kind != "auto"
    return open_sandbox(
        kind,
        workspace,
        mode=mode,
        image=box.image,
        network=box.network if network is None else network,
        memory_mb=box.memory_mb,
        cpus=box.cpus,
        pids_limit=box.pids_limit,
        max_file_mb=box.max_file_mb,
        workspace_mb=box.workspace_mb,
        bind_growth_mb=box.bind_growth_mb,
        user_repo=user_repo,
    )


def make_agent(
    settings: Settings,
    backend: Backend,
    sandbox: Sandbox,
    writer: TrajectoryWriter,
    *,
    test_command: str | None,
    tools: Toolset | None = None,
    protected_paths: tuple[str, ...] | None = None,
    policies: Policies | None = None,
    headless: bool = False,
) -> Agent:
    """The agent as the settings configure it (timeouts, policies, temperature, and the config's
    protected paths unless others are given); used by `run`, chat sessions, agentic evals and the
    tests (which may give their own policies). `headless`: no user decides when the model stops, so
    a premature finish is nudged (`limits.max_nudges`)."""
    protected = tuple(settings.protected_paths) if protected_paths is None else protected_paths
    tools = tools or default_tools()
    if policies is None:
        policies = make_policies(settings)
        if headless:
            policies.nudge = make_nudge(settings, tools, test_command)
    return Agent(
        backend=backend,
        tools=tools,
        context=ToolContext(
            sandbox=sandbox,
            test_command=test_command,
            command_timeout_s=settings.sandbox.command_timeout_s,
            protected_paths=protected,
        ),
        policies=policies,
        writer=writer,
        temperature=settings.temperature,
    )


def make_nudge(settings: Settings, tools: Toolset, test_command: str | None) -> NudgePolicy:
    """Premature-finish nudges for a headless run (interactive sessions have none: the user decides)."""
    return NudgePolicy(
        max_nudges=settings.limits.max_nudges,
        test_command=test_command,
        edit_tools=frozenset(n for n in tools.names() if tools[n].edits_files),
        read_tools=frozenset(n for n in tools.names() if tools[n].read_only),
    )


def make_policies(settings: Settings) -> Policies:
    return Policies(
        effort=EffortPolicy(mode=settings.effort.mode, hysteresis=settings.effort.hysteresis),
        limits=LimitsPolicy(
            max_steps=settings.limits.max_steps,
            timeout_s=settings.limits.timeout_s,
            max_tokens=settings.limits.max_tokens,
            max_format_errors=settings.limits.max_format_errors,
        ),
        stuck=StuckDetector(stop_after=settings.limits.stuck_repeats),
        masking=ObservationMasker(
            budget_tokens=settings.masking.budget_tokens,
            keep_recent=settings.masking.keep_recent,
            min_chars=settings.masking.min_chars,
        ),
    )
