"""Tool-call intake: extract calls (structured or raw text), repair the unambiguous, validate.

Every call gets a verdict: `Accepted` (schema-valid arguments, plus the repairs made) or `Rejected`
(an error message naming what is wrong, for the model to correct). Nothing is silently dropped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal, get_args

from jsonschema import Draft202012Validator

from trident.agent.core.events import RawToolCall
from trident.agent.core.messages import CallSyntax, Completion
from trident.agent.intake.ids import ensure_call_id
from trident.agent.intake.raw_calls import UNPARSED, split_raw_tool_calls
from trident.agent.intake.repair import ArgumentsError, parse_arguments, unstringify_nested
from trident.agent.intake.schema_errors import describe_errors, minimal_example
from trident.tools.base import ToolSpec

RejectKind = Literal["invalid_json", "schema", "unknown_tool", "unparsed"]
REJECT_KINDS: frozenset[str] = frozenset(get_args(RejectKind))


@dataclass(frozen=True)
class Accepted:
    call: RawToolCall
    name: str
    arguments: dict[str, Any]
    repairs: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Rejected:
    call: RawToolCall
    kind: RejectKind
    message: str


Verdict = Accepted | Rejected


def _normal(name: str) -> str:
    name = name.strip().lower().replace("-", "_")
    return name.removeprefix("functions.")


class Intake:
    """Holds the tools' schemas and their compiled validators (compiled once, on first use)."""

    def __init__(self, tools: Mapping[str, ToolSpec]) -> None:
        self._tools = dict(tools)
        self._validators: dict[str, Draft202012Validator] = {}

    @property
    def tools(self) -> Mapping[str, ToolSpec]:
        return self._tools

    @cached_property
    def _by_normal_name(self) -> dict[str, list[str]]:
        index: dict[str, list[str]] = {}
        for name in self._tools:
            index.setdefault(_normal(name), []).append(name)
        return index

    def validator(self, name: str) -> Draft202012Validator:
        if name not in self._validators:
            self._validators[name] = Draft202012Validator(self._tools[name].parameters)
        return self._validators[name]

    def extract(self, completion: Completion, taken_ids: set[str]) -> tuple[str, list[RawToolCall]]:
        """Content text and the calls with final 9-character ids: structured, or parsed from the text
        of a backend that returns it unparsed (never from text a backend already parsed)."""
        content = completion.content
        proposed = list(completion.tool_calls)
        if not proposed and not completion.calls_parsed:
            raw = split_raw_tool_calls(content)
            if raw is not None:
                content, proposed = raw
        calls: list[RawToolCall] = []
        taken = set(taken_ids)
        for p in proposed:
            call_id = ensure_call_id(p.id, taken)
            taken.add(call_id)
            arguments = p.arguments
            text = arguments if isinstance(arguments, str) else json.dumps(arguments)
            calls.append(RawToolCall(id=call_id, name=p.name, arguments=text))
        return content, calls

    def resolve_name(self, name: str) -> tuple[str | None, list[str]]:
        if name in self._tools:
            return name, []
        matches = self._by_normal_name.get(_normal(name), [])
        if len(matches) == 1:
            return matches[0], [f"tool name `{name}` read as `{matches[0]}`"]
        return None, []

    def check(self, call: RawToolCall, syntax: CallSyntax = "structured") -> Verdict:
        """Accepted, or Rejected with a correction worded in the backend's own call `syntax`."""
        if call.name == UNPARSED:
            how = (
                "Write each call as name[ARGS]{json}."
                if syntax == "raw"
                else "Call the tool as a function call (with its name and JSON arguments), not as text."
            )
            return Rejected(
                call,
                "unparsed",
                f"Could not parse a tool call from your output ({call.arguments[:120]!r}). {how} "
                + self._available(),
            )
        name, repairs = self.resolve_name(call.name)
        if name is None:
            return Rejected(call, "unknown_tool", f"Unknown tool `{call.name}`. " + self._available())
        spec = self._tools[name]
        try:
            arguments, fixed = parse_arguments(call.arguments)
        except ArgumentsError as exc:
            return Rejected(
                call, "invalid_json", f"Invalid arguments for `{name}`: {exc}. {self._example(name, syntax)}"
            )
        arguments, nested = unstringify_nested(arguments, spec.parameters)
        repairs += fixed + nested
        problems = describe_errors(self.validator(name).iter_errors(arguments))
        if problems:
            listed = "\n".join(f"- {p}" for p in problems)
            return Rejected(
                call, "schema", f"Invalid arguments for `{name}`:\n{listed}\n{self._example(name, syntax)}"
            )
        return Accepted(call, name, arguments, repairs)

    def _available(self) -> str:
        return "Available tools: " + ", ".join(sorted(self._tools)) + "."

    def _example(self, name: str, syntax: CallSyntax) -> str:
        example = json.dumps(minimal_example(self._tools[name].parameters))
        if syntax == "raw":
            return f"A minimal valid call: {name}[ARGS]{example}"
        return f"A minimal valid call: the function `{name}` with the arguments {example}"


def history_arguments(call: RawToolCall) -> str:
    """Arguments to put back in the conversation: always valid JSON, faithful to what was sent.

    Servers re-parse tool-call arguments found in history and fail on malformed JSON, so a payload
    that does not parse is wrapped as `{"_unparsed_arguments": "<text>"}` instead.
    """
    try:
        arguments, _ = parse_arguments(call.arguments)
    except ArgumentsError:
        return json.dumps({"_unparsed_arguments": call.arguments}, ensure_ascii=False)
    return json.dumps(arguments, ensure_ascii=False)
