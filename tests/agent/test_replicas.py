"""`openai:MODEL@URL1,URL2`: requests spread over replicas, per-replica limits, failover, against
real local HTTP servers (the chat-completions test server of test_openai_backend.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tests.agent.test_openai_backend import (
    MODEL,
    FakeOpenAIServer,
    completion_of,
    request,
    text_stream,
    unavailable,
)
from trident.agent.config import Settings
from trident.agent.core.messages import BackendError, Chunk, Retrying
from trident.agent.llm.openai_compat import OpenAIBackend
from trident.agent.llm.replicas import ReplicaSet
from trident.agent.llm.resolve import make_backend


@pytest.fixture
def servers() -> Iterator[list[FakeOpenAIServer]]:
    started = [FakeOpenAIServer(), FakeOpenAIServer()]
    for server in started:
        server.start()
    yield started
    for server in started:
        server.stop()


def replicas(servers: list[FakeOpenAIServer], limit: int = 4, max_retries: int = 2) -> ReplicaSet:
    backends = [OpenAIBackend(MODEL, s.base_url, "k", max_retries=0, timeout_s=10) for s in servers]
    return ReplicaSet(backends, limit=limit, max_retries=max_retries)


async def ask(backend: ReplicaSet) -> list[Chunk]:
    return [item async for item in backend.stream(request())]


def test_a_spec_with_several_base_urls_is_a_replica_set(servers: list[FakeOpenAIServer]) -> None:
    spec = f"openai:{MODEL}@{servers[0].base_url},{servers[1].base_url}"
    backend = make_backend(spec, Settings.model_validate({"openai": {"endpoint_concurrency": 3}}))
    assert isinstance(backend, ReplicaSet) and backend.limit == 3 and backend.name == spec
    assert [r.base_url for r in backend.replicas] == [s.base_url for s in servers]
    assert all(r.max_retries == 0 for r in backend.replicas)  # the set retries, across replicas


async def test_requests_are_spread_over_the_replicas(servers: list[FakeOpenAIServer]) -> None:
    for server in servers:
        server.script(*(text_stream("ok") for _ in range(2)))
    backend = replicas(servers)
    for _ in range(4):
        assert completion_of(await ask(backend)).content == "ok"
    assert [len(s.requests) for s in servers] == [2, 2] and backend.served == [2, 2]
    await backend.aclose()


async def test_a_failing_replica_is_passed_over_at_once_and_then_left_alone(
    servers: list[FakeOpenAIServer],
) -> None:
    servers[0].script(unavailable())
    servers[1].script(text_stream("from the second"), text_stream("again"))
    backend = replicas(servers)
    first = await ask(backend)
    retries = [item for item in first if isinstance(item, Retrying)]
    assert completion_of(first).content == "from the second"
    assert len(retries) == 1 and retries[0].delay_s == 0.0 and "another replica" in retries[0].reason
    assert completion_of(await ask(backend)).content == "again"  # the failed one is cooling off
    assert [len(s.requests) for s in servers] == [1, 2]
    await backend.aclose()


async def test_every_replica_failing_is_a_backend_error_after_the_retries(
    servers: list[FakeOpenAIServer],
) -> None:
    for server in servers:
        server.script(unavailable(), unavailable())
    backend = replicas(servers, max_retries=1)
    with pytest.raises(BackendError, match="every replica failed"):
        await ask(backend)
    assert sum(len(s.requests) for s in servers) == 2
    await backend.aclose()


async def test_a_full_replica_set_makes_the_next_request_wait_for_a_slot(
    servers: list[FakeOpenAIServer],
) -> None:
    backend = replicas(servers, limit=1)
    held = [await backend.acquire(set()), await backend.acquire(set())]
    assert sorted(held) == [0, 1]
    waiting = asyncio.create_task(backend.acquire(set()))
    for _ in range(5):
        await asyncio.sleep(0)
    assert not waiting.done()  # both replicas hold their one request
    await backend.release(1)
    assert await waiting == 1
    await backend.aclose()
