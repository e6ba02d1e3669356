"""Tool calls a model wrote as text in its answer, recognised so it can be told, never run.

A backend that parses calls itself (`Completion.calls_parsed`) returns whatever the model did not
mark as a call as plain content. Small models often write the call there instead: a fenced
```json object naming a tool, Hermes `<tool_call>...</tool_call>` tags the server did not parse, or
`[TOOL_CALLS]` typed as characters. Running such text would run what a model merely quoted (a file
it read, an example in a task); ending the run on it would end it as "answered". So it is found
here and answered as a format error (`trident.agent.policies.text_calls`).

Only a JSON object (fenced or bare, anywhere in the text) that names one of the run's tools (`name`,
or `function.name`) with arguments (`arguments` or `parameters`) or with nothing else (`{"name":
"run_tests"}`: a call without arguments) counts; or a fenced block that opens as such an object but
does not parse (a string left open: the call was meant, its JSON is broken); or a Hermes/Mistral
marker whatever follows it. Prose that mentions a tool, or a JSON example of something else, is an
answer. (Qwen2.5-Coder-1.5B wrote all these shapes: a ```json block, a bare object, objects one a
line under a `<tools>` line copied from its prompt, `{"name": "run_tests"}`, and a `write` whose
file content ran past its unclosed string.)
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Literal

from trident.agent.intake.raw_calls import TOOL_CALLS

TextCallForm = Literal["fenced_json", "json", "hermes", "tool_calls_marker"]
_FENCE = re.compile(r"```[A-Za-z0-9_-]*[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL)
_HERMES = re.compile(r"<tool_call>(.*?)(?:</tool_call>|\Z)", re.DOTALL)
_OBJECT = re.compile(r'[\[{]\s*(?:\{\s*)?"(?:name|function)"\s*:')  # where a call's JSON may start
_BROKEN = re.compile(r'\s*\{\s*"name"\s*:\s*"([A-Za-z0-9_.\-]+)"\s*,\s*"(?:arguments|parameters)"\s*:')
FORM_NAMES: dict[TextCallForm, str] = {
    "fenced_json": "a fenced JSON block",
    "json": "a JSON object",
    "hermes": "<tool_call> tags written as text",
    "tool_calls_marker": "[TOOL_CALLS] typed as text",
}


@dataclass(frozen=True)
class TextCall:
    form: TextCallForm
    name: str | None  # the tool it names, when that could be read
    arguments: str | None  # its arguments as JSON text, when they could be read


def _named_call(value: Any, tools: Collection[str]) -> TextCall | None:
    """A call read from a parsed JSON value: an object (or a list's first object) naming a tool."""
    if isinstance(value, list) and value and isinstance(value[0], dict):
        value = value[0]
    if not isinstance(value, dict):
        return None
    function = value.get("function")
    name = function.get("name") if isinstance(function, dict) else value.get("name")
    holder = function if isinstance(function, dict) else value
    arguments = holder.get("arguments", holder.get("parameters"))
    if arguments is None and set(holder) == {"name"}:
        arguments = {}  # the call of a tool without arguments, or one whose arguments were forgotten
    if not isinstance(name, str) or name not in tools or arguments is None:
        return None
    text = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
    return TextCall("json", name, text)


def _json_call(text: str, tools: Collection[str]) -> TextCall | None:
    stripped = text.strip()
    if not stripped.startswith(("{", "[")):
        return None
    try:
        value, _ = json.JSONDecoder().raw_decode(stripped)
    except json.JSONDecodeError:
        return None
    return _named_call(value, tools)


def _marked_call(body: str, form: TextCallForm, tools: Collection[str]) -> TextCall:
    """What follows a marker: the call it holds when readable, else the marker alone (still a call)."""
    found = _json_call(body, tools)
    if found is not None:
        return TextCall(form, found.name, found.arguments)
    name = re.match(r"\s*([A-Za-z0-9_.\-]+)", body)
    if name is None or name.group(1) not in tools:
        return TextCall(form, None, None)
    rest = body[name.end() :].strip()
    try:
        _, end = json.JSONDecoder().raw_decode(rest)
    except json.JSONDecodeError:
        return TextCall(form, name.group(1), None)
    return TextCall(form, name.group(1), rest[:end])


def find_text_call(content: str, tools: Collection[str]) -> TextCall | None:
    """The first tool call written as text in `content`, or None when it holds none."""
    hermes = _HERMES.search(content)
    if hermes is not None:
        return _marked_call(hermes.group(1), "hermes", tools)
    if TOOL_CALLS in content:
        return _marked_call(
            content.partition(TOOL_CALLS)[2].replace("[ARGS]", ""), "tool_calls_marker", tools
        )
    for block in _FENCE.finditer(content):
        found = _json_call(block.group(1), tools)
        if found is not None:
            return TextCall("fenced_json", found.name, found.arguments)
        broken = _BROKEN.match(block.group(1))
        if broken is not None and broken.group(1) in tools:  # a call meant, its JSON not parseable
            return TextCall("fenced_json", broken.group(1), None)
    for start in _OBJECT.finditer(content):  # bare, anywhere: after prose, under a `<tools>` line
        found = _json_call(content[start.start() :], tools)
        if found is not None:
            return found
    return None
