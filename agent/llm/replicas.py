"""`openai:MODEL@URL1,URL2,...`: one model served by several replicas (vLLM data-parallel servers).

Requests are spread over the endpoints, each holding at most `limit` at once (`[openai]
endpoint_concurrency`): a request goes to the endpoint with the most free slots (ties in turn) and
waits when every endpoint is full. A replica that fails before answering (no connection, a timeout,
429, 5xx) is set aside for `cool_off_s` and the request goes at once to another one (a `Retrying`
chunk with no wait says so); when none is left, the backend waits and retries as one endpoint does
(`[openai] max_retries` in all). An answer that has started streaming is never asked again.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable

from trident.agent.core.messages import BackendError, CallSyntax, Chunk, ModelRequest, Retrying
from trident.agent.llm.openai_compat import FIRST_DELAY_S, MAX_DELAY_S, EndpointUnavailable, OpenAIBackend

COOL_OFF_S = 30.0  # how long a failed replica is passed over while others answer


class ReplicaSet:
    call_syntax: CallSyntax = "structured"

    def __init__(
        self,
        replicas: list[OpenAIBackend],
        *,
        limit: int,
        max_retries: int,
        cool_off_s: float = COOL_OFF_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not replicas:
            raise ValueError("a replica set needs at least one replica")
        self.replicas = replicas  # each asked with its own retries off: this set retries
        self.limit = max(1, limit)
        self.max_retries = max_retries
        self.cool_off_s = cool_off_s
        self.clock = clock
        self.name = f"openai:{replicas[0].model}@{','.join(r.base_url for r in replicas)}"
        self.in_flight = [0] * len(replicas)
        self.down_until = [0.0] * len(replicas)
        self.served = [0] * len(replicas)  # requests each replica answered in full
        self._turn = 0
        self._free: asyncio.Condition | None = None

    @property
    def max_tokens(self) -> int | None:
        return self.replicas[0].max_tokens

    def pick(self, tried: set[int]) -> int | None:
        """The endpoint for the next try: one with a free slot, up before down, untried before
        tried, then the most free slots, ties in turn; None when every endpoint is full."""
        now = self.clock()
        open_ = [i for i in range(len(self.replicas)) if self.in_flight[i] < self.limit]
        if not open_:
            return None
        count = len(self.replicas)

        def rank(i: int) -> tuple[bool, bool, int, int]:
            return (
                self.down_until[i] > now,
                i in tried,
                self.in_flight[i],
                (i - self._turn) % count,
            )

        chosen = min(open_, key=rank)
        self._turn = (chosen + 1) % count
        return chosen

    async def acquire(self, tried: set[int]) -> int:
        if self._free is None:
            self._free = asyncio.Condition()
        async with self._free:
            while (index := self.pick(tried)) is None:
                await self._free.wait()
            self.in_flight[index] += 1
            return index

    async def release(self, index: int) -> None:
        assert self._free is not None
        async with self._free:
            self.in_flight[index] -= 1
            self._free.notify()

    def _healthy_untried(self, tried: set[int]) -> bool:
        now = self.clock()
        return any(self.down_until[i] <= now and i not in tried for i in range(len(self.replicas)))

    async def stream(self, request: ModelRequest) -> AsyncIterator[Chunk]:
        tried: set[int] = set()
        for attempt in range(self.max_retries + 1):
            index = await self.acquire(tried)
            try:
                async for piece in self.replicas[index].stream(request):
                    yield piece
                self.served[index] += 1
                return
            except EndpointUnavailable as exc:  # nothing was passed on: another replica may answer
                self.down_until[index] = self.clock() + self.cool_off_s
                tried.add(index)
                if attempt == self.max_retries:
                    raise BackendError(f"every replica failed; the last: {exc}") from None
                elsewhere = self._healthy_untried(tried)
                delay = 0.0 if elsewhere else min(FIRST_DELAY_S * 2.0**attempt, MAX_DELAY_S)
                retry = Retrying(
                    attempt=attempt + 1,
                    retries=self.max_retries,
                    reason=f"{exc} ({'another replica' if elsewhere else 'every replica failed'})",
                    delay_s=delay * (1 - 0.25 * random.random()),
                )
            finally:
                await self.release(index)
            yield retry
            await asyncio.sleep(retry.delay_s)

    async def context_length(self) -> int | None:
        for replica in self.replicas:  # every replica serves the same model: the first that says
            length = await replica.context_length()
            if length is not None:
                return length
        return None

    async def aclose(self) -> None:
        for replica in self.replicas:
            await replica.aclose()
