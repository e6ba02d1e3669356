"""The one place that builds a sandbox, a backend, the policies and the agent from the settings.

Every front end (`trident run`, batches, chat sessions and the TUI, agentic evals) and the tests
build them here, so a setting means the same everywhere (an earlier copy of this code in each
front end had drifted: the headless run ignored `protected_paths`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from trident.agent.config import Settings
from trident.agent.core.messages import Backend
from trident.agent.core.trajectory import TrajectoryWriter
from trident.agent.llm.resolve import make_backend
from trident.agent.loop import Agent, Policies
from trident.agent.policies.effort import EffortPolicy
from trident.agent.policies.limits import LimitsPolicy
from trident.agent.policies.masking import ObservationMasker
from trident.agent.policies.stuck import StuckDetector
from trident.sandbox.base import Sandbox
from trident.sandbox.client import RunnerSession
from trident.sandbox.factory import open_sandbox
from trident.tools.base import ToolContext, Toolset
from trident.tools.registry import default_tools

__all__ = ["make_agent", "make_backend", "make_policies", "make_sandbox"]


def make_sandbox(
    settings: Settings,
    workspace: Path,
    *,
    mode: Literal["bind", "copy"] = "bind",
    network: bool | None = None,
) -> RunnerSession:
    """The configured sandbox on `workspace` (not started); `network` overrides the config's."""
    box = settings.sandbox
    return open_sandbox(
        box.kind,
        workspace,
        mode=mode,
        image=box.image,
        network=box.network if network is None else network,
        memory_mb=box.memory_mb,
        cpus=box.cpus,
        pids_limit=box.pids_limit,
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
) -> Agent:
    """The agent as the settings configure it (timeouts, policies, temperature, and the config's
    protected paths unless others are given); used by `run`, chat sessions, agentic evals and the
    tests (which may give their own policies)."""
    protected = tuple(settings.protected_paths) if protected_paths is None else protected_paths
    return Agent(
        backend=backend,
        tools=tools or default_tools(),
        context=ToolContext(
            sandbox=sandbox,
            test_command=test_command,
            command_timeout_s=settings.sandbox.command_timeout_s,
            protected_paths=protected,
        ),
        policies=policies or make_policies(settings),
        writer=writer,
        temperature=settings.temperature,
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
