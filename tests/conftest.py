from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import OPEN_SANDBOXES
from trident.sandbox.base import SandboxError
from trident.sandbox.client import RunnerSession
from trident.sandbox.docker import DockerSandbox, DockerSettings
from trident.sandbox.local import LocalSandbox

# Markers by what a test needs (pyproject.toml declares them): `pytest -m "not slow"` is the fast loop.
DOCKER_FIXTURES = {"docker_client", "sandbox_image"}
ENGINE_TIMEOUT_S = 900  # an engine test may pay for loading the engine (the default timeout is 300 s)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(str(item.fspath))
        params = getattr(item, "callspec", None)
        uses_docker = bool(DOCKER_FIXTURES & set(getattr(item, "fixturenames", ()))) or (
            params is not None and "docker" in params.params.values()
        )
        needs = {
            "docker": uses_docker,
            "vllm": "engine" in path.parts,
            "tmux": path.name == "test_smoke_tmux.py",
            "live": "live" in path.parts,  # a real model's server: TRIDENT_LIVE_MODEL_URL (tests/live/)
        }
        for marker, needed in needs.items():
            if needed:
                item.add_marker(marker)
        if any(needs.values()):
            item.add_marker("slow")
        if needs["vllm"]:
            item.add_marker(pytest.mark.timeout(ENGINE_TIMEOUT_S))


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's config or writes into their state directory."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    for name in ("TRIDENT_CONFIG", "TRIDENT_MODEL", "OPENAI_API_KEY", "MISTRAL_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
async def close_sandboxes() -> AsyncIterator[None]:
    yield
    while OPEN_SANDBOXES:
        await OPEN_SANDBOXES.pop().close()


@pytest.fixture(scope="session")
def docker_client() -> Iterator[Any]:
    """The real Docker engine. Skipped where there is none, unless TRIDENT_REQUIRE_DOCKER=1 (CI)."""
    from trident.sandbox.docker import docker_client as connect

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
    from trident.sandbox.image import ensure_image

    return ensure_image(docker_client)


@pytest.fixture(params=["local", "docker"])
async def box(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[RunnerSession]:
    """A started sandbox of each kind over an empty workspace: local, and a real Docker container."""
    sandbox: RunnerSession
    if request.param == "local":
        (tmp_path / "ws").mkdir()
        sandbox = LocalSandbox(tmp_path / "ws")
    else:
        sandbox = DockerSandbox(
            mode="copy", settings=DockerSettings(image=request.getfixturevalue("sandbox_image"))
        )
    await sandbox.start()
    yield sandbox
    await sandbox.close()


@pytest.fixture(params=["local", "docker"])
def sandbox_flags(request: pytest.FixtureRequest) -> list[str]:
    """`trident run` flags for each sandbox kind; the Docker one needs (and gets) the real engine."""
    if request.param == "local":
        return ["--sandbox", "local"]
    return ["--sandbox", "docker", "--image", request.getfixturevalue("sandbox_image")]


@pytest.fixture
def server() -> Iterator[Any]:
    """A `FakeOpenAIServer` (tests/agent/test_openai_backend.py) on 127.0.0.1, stopped after the test."""
    from tests.agent.test_openai_backend import FakeOpenAIServer

    fake = FakeOpenAIServer()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
