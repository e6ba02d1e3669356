"""Which backend answers which (problem, sample): any `--model` spec, plus `scripted:DIR` for evals.

A spec goes to `agent.llm.resolve.make_backend` and one backend serves every request. The scripted
backend picks its turn by the number of assistant messages in the conversation, so independent
problems would all replay turn 0 of one file; for evals `scripted:DIR` (a directory) gives every
problem its own session, the first of `DIR/<scenario>/<question_id>.<sample_index>.jsonl`,
`DIR/<scenario>/<question_id>.jsonl`, `DIR/<question_id>.<sample_index>.jsonl`,
`DIR/<question_id>.jsonl` that exists (scenario: `codegeneration`, `agentic`, ...; the scripted
session format of the README, unchanged).
"""

from __future__ import annotations

from pathlib import Path

from trident.agent.config import Settings
from trident.agent.core.messages import Backend, BackendError
from trident.agent.llm.scripted import ScriptedBackend
from trident.agent.wiring import make_backend


class ModelSource:
    """Backends for `spec`; `close()` closes every backend it opened."""

    def __init__(self, spec: str, settings: Settings) -> None:
        self.spec = spec
        self._settings = settings
        scheme, _, target = spec.partition(":")
        self._scripted_dir = Path(target) if scheme == "scripted" and Path(target).is_dir() else None
        self._shared: Backend | None = None
        self._opened: list[Backend] = []

    def backend(self, scenario: str, question_id: str, sample_index: int) -> Backend:
        if self._scripted_dir is None:
            if self._shared is None:
                self._shared = make_backend(self.spec, self._settings)
                self._opened.append(self._shared)
            return self._shared
        names = (f"{question_id}.{sample_index}.jsonl", f"{question_id}.jsonl")
        for path in [self._scripted_dir / scenario / name for name in names] + [
            self._scripted_dir / name for name in names
        ]:
            if path.is_file():
                backend = ScriptedBackend(path)
                self._opened.append(backend)
                return backend
        raise BackendError(
            f"scripted directory {self._scripted_dir} has no session for {scenario} {question_id} sample "
            f"{sample_index} ([{scenario}/]{question_id}[.{sample_index}].jsonl)"
        )

    async def close(self) -> None:
        for backend in self._opened:
            await backend.aclose()
        self._opened.clear()
        self._shared = None
