"""Fixtures shared by tests/agent: the local OpenAI-compatible test server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.agent.test_openai_backend import FakeOpenAIServer


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    """A `FakeOpenAIServer` on 127.0.0.1, stopped after the test."""
    fake = FakeOpenAIServer()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
