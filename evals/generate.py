"""Plain generation: n samples per problem from any backend, concurrent, resumable.

Each (scenario, question_id, sample_index) is asked once: answers are appended to the run's
generation store as they arrive, and a resumed run asks only for what the store lacks. A backend
failure (after the backend's own retries) stops the generation with `BackendError`; what arrived
before it stays in the store.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, TypeAdapter, ValidationError

from trident.agent.config import ConfigError
from trident.agent.core.events import Effort
from trident.agent.core.messages import BackendError, Completion, ModelRequest
from trident.evals.backends import ModelSource
from trident.evals.extract import extract_code
from trident.evals.lcb.problems import Problem
from trident.evals.prompt import messages
from trident.evals.store import KeyedRecord, Store, fill


class Generation(KeyedRecord):
    """One sample: the model's answer, the code taken from it, and what it cost."""

    effort: str  # none | high, or "given" for --generations
    output: str  # the answer as the model wrote it (without its reasoning)
    code: str
    reasoning_chars: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    finish_reason: str | None = None
    duration_s: float = 0.0


async def ask(
    source: ModelSource, scenario: str, problem: Problem, index: int, request: ModelRequest
) -> Completion:
    backend = source.backend(scenario, problem.question_id, index)
    completion: Completion | None = None
    async for chunk in backend.stream(request):
        if isinstance(chunk, Completion):
            completion = chunk
    if completion is None:
        raise BackendError(f"backend {backend.name} ended its stream without a completion")
    return completion


async def generate(
    problems: list[Problem],
    source: ModelSource,
    store: Store[Generation],
    *,
    scenario: str,
    n: int,
    effort: Effort,
    temperature: float | None,
    max_tokens: int | None,
    concurrency: int,
    on_done: Callable[[Generation], None] = lambda generation: None,
) -> None:
    """Fill `store` with n samples per problem for `scenario` (skipping what it holds)."""

    async def sample(problem: Problem, index: int) -> Generation:
        request = ModelRequest(
            messages=messages(problem),
            reasoning_effort=effort,
            temperature=temperature,
            max_tokens=max_tokens,
        )
        started = time.monotonic()
        completion = await ask(source, scenario, problem, index, request)
        return Generation(
            scenario=scenario,
            question_id=problem.question_id,
            sample_index=index,
            effort=effort,
            output=completion.content,
            code=extract_code(completion.content),
            reasoning_chars=len(completion.reasoning),
            input_tokens=completion.usage.input_tokens,
            output_tokens=completion.usage.output_tokens,
            finish_reason=completion.finish_reason,
            duration_s=round(time.monotonic() - started, 3),
        )

    await fill(
        store, problems, scenario=scenario, n=n, concurrency=concurrency, sample=sample, on_done=on_done
    )


class GivenGeneration(BaseModel):
    """One entry of a `--generations` file (LiveCodeBench's custom-evaluator input)."""

    question_id: str
    code_list: list[str]
    output_list: list[str] | None = None


class Outside(BaseModel):
    """Given code for problems of the data that the window (dates, release, `--limit`) leaves out:
    not graded, as upstream's `compute_scores` filters its records, and counted in the summary."""

    problems: int = 0
    samples: int = 0


def given_generations(
    path: Path, problems: list[Problem], scenario: str, all_ids: set[str] | None = None
) -> tuple[list[Generation], Outside]:
    """Code to grade without a model: a JSON list of `{"question_id", "code_list"}`.

    Only the selected problems' code is graded; code for other problems of the data (`all_ids`) is
    left out and counted. A question_id the data does not have at all is an error (a typo is not a
    silent zero); selected problems the file does not mention are not graded.
    """
    try:
        entries = _GIVEN.validate_json(path.read_bytes())
    except OSError as exc:
        raise ConfigError(f"--generations {path}: cannot be read: {exc.strerror}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"--generations {path}: {where}: {first['msg']}") from None
    selected = {p.question_id for p in problems}
    known = selected if all_ids is None else selected | all_ids
    ids = [entry.question_id for entry in entries]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    unknown = sorted(set(ids) - known)
    if duplicated:
        raise ConfigError(f"--generations {path}: question_id listed twice: {', '.join(duplicated)}")
    if unknown:
        raise ConfigError(
            f"--generations {path}: {len(unknown)} question_id(s) not among the {len(known)} problems "
            f"of the data: {', '.join(unknown[:5])}{' ...' if len(unknown) > 5 else ''}"
        )
    outside = [entry for entry in entries if entry.question_id not in selected]
    generations = [
        Generation(
            scenario=scenario,
            question_id=entry.question_id,
            sample_index=index,
            effort="given",
            output=(entry.output_list or [])[index] if index < len(entry.output_list or []) else code,
            code=code,
        )
        for entry in entries
        if entry.question_id in selected
        for index, code in enumerate(entry.code_list)
    ]
    return generations, Outside(problems=len(outside), samples=sum(len(e.code_list) for e in outside))


_GIVEN = TypeAdapter(list[GivenGeneration])
