"""Tool-call arguments forced valid: grammars for a turn, schema-constrained regeneration of a call.

Two paths, tried in order, each counted in `ForcingStats`:
1. the whole turn is generated under Mistral's Lark grammar (mistral_common's `GrammarFactory`,
   every tool strict, so each call's arguments follow that tool's JSON schema), run by vLLM's
   `guidance` structured-output backend;
2. a call whose arguments still fail validation (cut by `max_tokens`, or generated without the
   grammar) is regenerated alone: the prompt plus the output up to its `[ARGS]` token, constrained
   by the tool's JSON schema. Only when that fails too does the model hear about an error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from trident.agent.core.events import RawToolCall
from trident.agent.core.messages import ModelRequest
from trident.agent.intake.calls import Accepted, Intake, Rejected
from trident.agent.llm.mistral_format import MistralFormat
from trident.agent.llm.openai_compat import openai_tools
from trident.tools.base import ToolSpec

if TYPE_CHECKING:
    from mistral_common.guidance.grammar_factory import GrammarFactory

_PLACEHOLDER_ID = "a" * 9
# llguidance's JSON options: exactly `json.dumps` spacing, as mistral_common renders past calls.
# Left flexible, a grammar lets (random) weights pad arguments with whitespace until max_tokens.
_JSON_LAYOUT = {"whitespace_flexible": False, "item_separator": ", ", "key_separator": ": "}


def guided_schema(parameters: dict[str, Any]) -> dict[str, Any]:
    """A tool's argument schema with the JSON layout pinned for the structured-output backend."""
    return {**(parameters or {"type": "object"}), "x-guidance": _JSON_LAYOUT}


class ForcingStats(BaseModel):
    """How often each path was taken, over the backend's life."""

    turns: int = 0
    grammar_turns: int = 0
    calls: int = 0
    valid_as_generated: int = 0
    regenerated_valid: int = 0
    regenerated_invalid: int = 0  # left to intake: the model gets the error
    not_regenerable: int = 0  # unknown tool or no `[ARGS]`: left to intake

    def summary(self) -> str:
        return (
            f"{self.calls} tool call(s) in {self.turns} turn(s) ({self.grammar_turns} under the grammar): "
            f"{self.valid_as_generated} valid as generated, {self.regenerated_valid} regenerated valid, "
            f"{self.regenerated_invalid} still invalid, {self.not_regenerable} not regenerable"
        )


class ToolGrammars:
    """Lark grammars for one tokenizer; mistral_common caches the rendering per tool set."""

    def __init__(self, fmt: MistralFormat) -> None:
        self._fmt = fmt

    @cached_property
    def _factory(self) -> GrammarFactory:
        from mistral_common.guidance.grammar_factory import GrammarFactory

        return GrammarFactory(self._fmt.tokenizer)

    def turn(self, request: ModelRequest) -> str:
        """Mistral's grammar for an answer: optional `[THINK]…[/THINK]`, then text or tool calls."""
        from mistral_common.protocol.instruct.tool_calls import Tool, ToolChoiceEnum

        tools = [Tool.from_openai(t) for t in openai_tools(request, strict=True)]
        for tool in tools:
            tool.function.parameters = guided_schema(tool.function.parameters)
        grammar: str = self._factory.get_lark_from_jinja(
            template=self._factory.select_jinja_template(),
            mode=ToolChoiceEnum.auto if tools else ToolChoiceEnum.none,
            tools=tools or None,
            json_schema=None,
            parallel_tool_calls=True,
        )
        return grammar

    def _call(self, tool: ToolSpec) -> str:
        """One call of `tool` after its `[TOOL_CALLS]`: `name[ARGS]{schema-valid json}`."""
        schema = json.dumps(guided_schema(tool.parameters), ensure_ascii=False)
        return f"{json.dumps(tool.name)} <[{self._fmt.args_id}]> %json {schema}"

    def calls_only(self, request: ModelRequest) -> str:
        """A turn that must call (`tool_choice: "required"`): one or more calls of the request's tools,
        each with schema-valid arguments, nothing else; at effort high a `[THINK]…[/THINK]` first.
        (mistral_common's `any`/`required` grammars still admit text before each call: a turn cut
        by `max_tokens` may never reach one.)"""
        fmt = self._fmt
        calls = " | ".join(self._call(tool) for tool in request.tools)
        think = (
            f"(<[{fmt.think_id}]> /(.|\\n)+/ <[{fmt.end_think_id}]>)? "
            if request.reasoning_effort == "high"
            else ""
        )
        return f"start: {think}call+\ncall: <[{fmt.tool_calls_id}]> ({calls})\n"

    def forced_call(self, tool: ToolSpec) -> str:
        """Exactly one call of `tool`, nothing before it: `[TOOL_CALLS]name[ARGS]{schema-valid json}`."""
        return f"start: <[{self._fmt.tool_calls_id}]> {self._call(tool)}\n"


class ArgumentChecker:
    """Intake's own verdict on a call, so the engine regenerates exactly what intake would reject."""

    def __init__(self) -> None:
        self._intakes: dict[str, Intake] = {}

    def for_tools(self, tools: list[ToolSpec]) -> ToolsetChecker:
        """The checker of one tool set (looked up once per turn; intakes cached by the tools' specs)."""
        key = json.dumps([t.model_dump() for t in tools], sort_keys=True)
        if key not in self._intakes:
            self._intakes[key] = Intake({t.name: t for t in tools})
        return ToolsetChecker(tools, self._intakes[key])


@dataclass(frozen=True)
class ToolsetChecker:
    tools: list[ToolSpec]
    intake: Intake

    def check(self, name: str, arguments: str) -> Accepted | Rejected:
        return self.intake.check(RawToolCall(id=_PLACEHOLDER_ID, name=name, arguments=arguments), "raw")

    def regenerable(self, verdict: Rejected) -> ToolSpec | None:
        """The tool whose schema constrains a regeneration: only for bad arguments of a known tool."""
        if verdict.kind not in ("invalid_json", "schema"):
            return None
        resolved, _ = self.intake.resolve_name(verdict.call.name)
        return next((t for t in self.tools if t.name == resolved), None)
