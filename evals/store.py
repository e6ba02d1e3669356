"""An append-only JSONL store of records keyed by (scenario, question_id, sample_index): the resume.

Every finished generation, agent run and grade is appended and flushed as it completes, so a killed
eval run loses at most the line being written; reopening the store skips every key it holds and
nothing is asked of the model (or graded) twice. A last line cut short by a kill is dropped; a bad
line elsewhere is an error naming the file and line (the store is never silently rewritten).
`fill` produces what a store lacks (generations, agent runs), a bounded number at once.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from trident.evals.concurrency import run_all
from trident.evals.lcb.problems import Problem

Key = tuple[str, str, int]  # (scenario, question_id, sample_index)


class KeyedRecord(BaseModel):
    """What every stored record starts with: which scenario, problem and sample it belongs to."""

    scenario: str
    question_id: str
    sample_index: int

    @property
    def key(self) -> Key:
        return (self.scenario, self.question_id, self.sample_index)


R = TypeVar("R", bound=KeyedRecord)


class StoreError(ValueError):
    """A store file that cannot be read back: `path:line: problem`."""


class Store(Generic[R]):
    def __init__(self, path: Path, model: type[R]) -> None:
        self.path = path
        self.model = model
        self.records: dict[Key, R] = {}
        self._handle: IO[str] | None = None
        if path.exists():
            self._load()

    def _load(self) -> None:
        try:
            lines = self.path.read_text(encoding="utf-8").split("\n")
        except (OSError, UnicodeDecodeError) as exc:
            raise StoreError(f"{self.path}: cannot be read: {exc}") from None
        complete = len(lines)
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = self.model.model_validate_json(line)
            except ValidationError as exc:
                if number == len(lines):  # cut short by a kill: it never finished
                    complete = number - 1
                    break
                raise StoreError(f"{self.path}:{number}: {exc.errors()[0]['msg']}") from None
            self.records[record.key] = record
        if complete < len(lines):  # drop the partial line so the next append starts clean
            self.path.write_text("".join(line + "\n" for line in lines[:complete] if line.strip()))

    def __contains__(self, key: Key) -> bool:
        return key in self.records

    def add(self, record: R) -> None:
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self.path.open("a", encoding="utf-8")
        self._handle.write(record.model_dump_json() + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self.records[record.key] = record

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


async def fill(
    store: Store[R],
    problems: list[Problem],
    *,
    scenario: str,
    n: int,
    concurrency: int,
    sample: Callable[[Problem, int], Awaitable[R]],
    on_done: Callable[[R], None],
) -> None:
    """`sample(problem, index)` for each of the n samples per problem that `store` lacks, at most
    `concurrency` at once; each record is added to the store as it arrives, then given to `on_done`.
    The first failure cancels the rest and is raised; what arrived before it stays in the store."""
    limit = asyncio.Semaphore(concurrency)

    async def one(problem: Problem, index: int) -> None:
        async with limit:
            record = await sample(problem, index)
        store.add(record)
        on_done(record)

    await run_all(
        one(problem, index)
        for problem in problems
        for index in range(n)
        if (scenario, problem.question_id, index) not in store
    )
