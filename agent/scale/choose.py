"""`--executor local|ray` (or `[scale] executor`) → an executor."""

from __future__ import annotations

import argparse
from typing import Any

from trident.agent.config import ScaleConfig
from trident.agent.scale.executor import Executor
from trident.agent.scale.local import LocalExecutor


def open_executor(config: ScaleConfig, limit: int) -> Executor:
    """The local executor running `limit` jobs at once, or a Ray one (`MissingRay`: not installed)."""
    if config.executor == "local":
        return LocalExecutor(limit)
    from trident.agent.scale.ray_cluster import RayExecutor

    return RayExecutor(config.ray_address)


def add_executor_arguments(parser: argparse._ActionsContainer) -> None:
    """`--executor` and `--ray-address`, the same for `trident run --tasks` and `trident eval`."""
    parser.add_argument(
        "--executor",
        choices=["local", "ray"],
        help="where batch instances / agent runs / grading chunks run: here (default), or a Ray cluster",
    )
    parser.add_argument(
        "--ray-address",
        metavar="ADDR",
        help="the Ray cluster to join (default $RAY_ADDRESS; neither: start a local Ray instance)",
    )


def executor_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The flags as settings overrides (`[scale]`)."""
    scale = {
        key: value
        for key, value in (("executor", args.executor), ("ray_address", args.ray_address))
        if value is not None
    }
    return {"scale": scale} if scale else {}
