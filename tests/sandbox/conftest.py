from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from sandbox.base import SandboxError


@pytest.fixture(scope="session")
def docker_client() -> Iterator[Any]:
    """The real Docker engine. Skipped where there is none, unless TRIDENT_REQUIRE_DOCKER=1 (CI)."""
    from sandbox.docker import docker_client as connect

    try:
        client = connect()
    except SandboxError as exc:
        if os.environ.get("TRIDENT_REQUIRE_DOCKER") == "1":
            pytest.fail(f"Docker is required here: {exc}")
        pytest.skip(f"no Docker engine: {exc}")
    yield client
    client.close()


@pytest.fixture(scope="session")
def sandbox_image(docker_client: Any) -> str:
    """The offline-built base image (built once, then cached by recipe hash)."""
    from sandbox.image import ensure_image

    return ensure_image(docker_client)
