"""The tool base class: pydantic arguments -> the JSON schema the model sees; prompt in a .md file.

A tool's description lives beside its module as `<module>.md`, so prompts are edited as text.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from trident.sandbox.base import PathRefused, Sandbox

CallKind = Literal["read", "edit", "exec"]  # what a call does, as approvals see it


class ToolSpec(BaseModel):
    """What the model is told about a tool: its name, description and arguments' JSON schema."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str
    parameters: dict[str, Any]


class ToolArgs(BaseModel):
    """Base of every argument model: unknown fields are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


ArgsT = TypeVar("ArgsT", bound=ToolArgs)


@dataclass
class ToolContext:
    sandbox: Sandbox
    test_command: str | None = None
    command_timeout_s: float = 120.0
    protected_paths: tuple[str, ...] = ()  # globs (from .trident.toml) the agent must not touch
    on_output: Callable[[str], None] | None = None  # live output of commands (the TUI); None: at the end


@dataclass(frozen=True)
class ToolOutput:
    output: str
    ok: bool = True


class ToolError(Exception):
    """The tool ran and failed in a way the model can fix (no match, bad path...)."""


def clean_schema(node: Any) -> Any:
    """Drop pydantic's `title` annotations (noise for the model), keeping properties named title."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "title" and isinstance(value, str):
                continue
            if key in ("properties", "$defs") and isinstance(value, dict):
                out[key] = {name: clean_schema(sub) for name, sub in value.items()}
            else:
                out[key] = clean_schema(value)
        return out
    if isinstance(node, list):
        return [clean_schema(item) for item in node]
    return node


class Tool(ABC, Generic[ArgsT]):
    name: ClassVar[str]
    args_model: ClassVar[type[ToolArgs]]
    read_only: ClassVar[bool] = False  # reads and searches only: never asked for approval
    edits_files: ClassVar[bool] = False  # changes files and nothing else (approval kind `edit`)

    @classmethod
    def kind(cls, arguments: Mapping[str, Any]) -> CallKind:
        """What a call with these arguments does: `read`, `edit` (file changes) or `exec` (the rest)."""
        if cls.read_only:
            return "read"
        return "edit" if cls.edits_files else "exec"

    @classmethod
    def description(cls) -> str:
        path = Path(inspect.getfile(cls)).with_suffix(".md")
        return path.read_text(encoding="utf-8").strip()

    @classmethod
    def spec(cls) -> ToolSpec:
        schema = clean_schema(cls.args_model.model_json_schema())
        return ToolSpec(name=cls.name, description=cls.description(), parameters=schema)

    async def invoke(self, arguments: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        """Validate with the pydantic model (already schema-checked) and run; failures become output."""
        try:
            args = self.args_model.model_validate(arguments)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or '(arguments)'}: {e['msg']}"
                for e in exc.errors(include_url=False)
            )
            return ToolOutput(f"Invalid arguments for `{self.name}`: {problems}", ok=False)
        try:
            return await self.run(args, ctx)  # type: ignore[arg-type]
        except (ToolError, PathRefused) as exc:
            return ToolOutput(f"Error: {exc}", ok=False)

    @abstractmethod
    async def run(self, args: ArgsT, ctx: ToolContext) -> ToolOutput: ...


class Toolset:
    """The tools of a run, by name."""

    def __init__(self, tools: list[Tool[Any]]) -> None:
        self._tools = {tool.name: tool for tool in tools}

    def __getitem__(self, name: str) -> Tool[Any]:
        return self._tools[name]

    def get(self, name: str) -> Tool[Any] | None:
        return self._tools.get(name)

    def extended(self, *tools: Tool[Any]) -> Toolset:
        """A new toolset with these tools added (or replacing tools of the same name)."""
        return Toolset([*self._tools.values(), *tools])

    def names(self) -> list[str]:
        return list(self._tools)

    def specs(self) -> dict[str, ToolSpec]:
        return {name: tool.spec() for name, tool in self._tools.items()}
