"""The engine tests' shared, expensive pieces: one tiny checkpoint and one loaded engine per session.

They need vLLM (`pip install '.[cpu]'`); without it they are skipped with the reason, unless
TRIDENT_REQUIRE_VLLM=1 (CI), where a missing engine is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from trident.agent.config import EngineConfig
from trident.agent.llm.vllm_engine import Engine, vllm_missing
from trident.tools.base import ToolSpec

# Small and fast to start: 1 GiB of KV cache (the CPU backend otherwise reserves most of memory),
# no graph capture, a short context.
TEST_ENGINE = EngineConfig(max_model_len=16384, kv_cache_gib=1, enforce_eager=True, max_tokens=48)

# Bounded strings: random weights wander inside a string until max_tokens cuts the JSON.
READ = ToolSpec(
    name="read",
    description="Read a file.",
    parameters={
        "type": "object",
        "properties": {"path": {"type": "string", "maxLength": 12}, "limit": {"type": "integer"}},
        "required": ["path"],
        "additionalProperties": False,
    },
)
EDIT = ToolSpec(
    name="edit",
    description="Replace text in a file.",
    parameters={
        "type": "object",
        "properties": {
            "path": {"type": "string", "maxLength": 12},
            "mode": {"type": "string", "enum": ["once", "all"]},
        },
        "required": ["path", "mode"],
        "additionalProperties": False,
    },
)


def require_vllm() -> None:
    reason = vllm_missing()
    if reason is None:
        return
    if os.environ.get("TRIDENT_REQUIRE_VLLM") == "1":
        pytest.fail(f"vLLM is required here (TRIDENT_REQUIRE_VLLM=1): {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-weight Mistral Small 4-shaped checkpoint, written by the real CLI command."""
    require_vllm()
    from trident.cli import main

    path = tmp_path_factory.mktemp("tiny") / "model"
    assert main(["engine", "make-tiny", str(path)]) == 0
    return path


@pytest.fixture(scope="session")
def engine(tiny_checkpoint: Path) -> Iterator[Engine]:
    """The loaded engine, shared by every test; tests using it run on the session's event loop."""
    from trident.agent.llm.vllm_engine import shared_engine, shutdown_engines

    yield shared_engine(tiny_checkpoint, TEST_ENGINE)
    shutdown_engines()  # while pytest still captures output (at exit its streams are closed)
