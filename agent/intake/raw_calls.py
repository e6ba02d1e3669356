"""Parse tool calls that a backend left in plain text, in Mistral's raw formats.

- v11+ (Mistral Small 4): `content[TOOL_CALLS]name[ARGS]{json}` repeated once per call.
- older: `content[TOOL_CALLS][{"name": ..., "arguments": {...}, "id": ...}, ...]`.

Only for backends that return unparsed text (`Completion.calls_parsed` false): text a model merely
quotes is never parsed into calls where the backend parsed them itself (the engine does, on tokens).

Where this parser and vLLM's own Mistral parser (`vllm serve --tool-call-parser mistral`) could
disagree, each case is decided on purpose; `tests/agent/test_raw_calls.py` holds the corpus and the
engine tests compare it with vLLM's parser classes:
- arguments are the first JSON value after `[ARGS]`; text after it is dropped (as vLLM);
- `name{json}` without `[ARGS]` (a server detokenizing with `skip_special_tokens` drops it) is a
  call (as vLLM);
- the name is the text before `[ARGS]`, stripped (as vLLM): a bad one is an unknown tool;
- content before the calls is stripped, whitespace-only content is none (as vLLM);
- a call cut right after its name has no arguments (`None`: intake rejects it; vLLM sends `{}`,
  which would run a call the model never finished);
- a `[TOOL_CALLS]` with nothing after it is an unparsed call the model is told about (vLLM drops
  it, which can end a run as answered); repeated markers with nothing between count once;
- `[CALL_ID]` and the list form are understood (vLLM's text parser folds the id into the name and
  reads the list form as a tool named `[`);
- a `[TOOL_CALLS]` inside the JSON arguments' strings is part of them (vLLM splits the call there).

Arguments are returned as text, untouched otherwise: repairing and validating them is intake's job.
"""

from __future__ import annotations

import json
import re

from trident.agent.core.messages import ProposedCall

TOOL_CALLS = "[TOOL_CALLS]"
ARGS = "[ARGS]"
CALL_ID = "[CALL_ID]"
_END_TOKENS = ("</s>",)
UNPARSED = "unparsed_tool_call"
_NAME = re.compile(r"[A-Za-z0-9_.\-]+")


def split_raw_tool_calls(text: str) -> tuple[str, list[ProposedCall]] | None:
    """Return (content before the calls, calls), or None when the text holds no `[TOOL_CALLS]`."""
    if TOOL_CALLS not in text:
        return None
    content, _, rest = text.partition(TOOL_CALLS)
    for end in _END_TOKENS:
        rest = rest.replace(end, "")
    if rest.lstrip().startswith("["):
        listed = _parse_list_form(rest)
        if listed is not None:
            return content_before_calls(content), listed
    return content_before_calls(content), _parse_calls(rest)


def content_before_calls(content: str) -> str:
    """The text a turn shows before its calls, stripped (whitespace-only is none), as vLLM does."""
    return content.strip()


def first_json_value(text: str) -> str:
    """The first complete JSON value of `text` (what follows it dropped), else `text` stripped."""
    stripped = text.strip()
    try:
        _, end = json.JSONDecoder().raw_decode(stripped)
    except json.JSONDecodeError:
        return stripped
    return stripped[:end]


def name_without_args(head: str) -> tuple[str, str | None]:
    """A call whose `[ARGS]` never came: (name, arguments from a `{` on, or None when it was cut
    right after its name); UNPARSED and the text when that is not a name."""
    name, brace, arguments = head.partition("{")
    if brace:
        return name.strip(), first_json_value(brace + arguments)
    if _NAME.fullmatch(name.strip()):
        return name.strip(), None
    return UNPARSED, head.strip()


def _split_id(head: str) -> tuple[str | None, str]:
    if CALL_ID not in head:
        return None, head
    name, _, call_id = head.partition(CALL_ID)
    return call_id.strip() or None, name


def _parse_calls(rest: str) -> list[ProposedCall]:
    """`name[ARGS]{json}` (or `name[CALL_ID]id[ARGS]{json}`, or `name{json}`) after each marker."""
    calls: list[ProposedCall] = []
    position = 0
    while True:
        following = rest.find(TOOL_CALLS, position)
        segment_end = len(rest) if following < 0 else following
        segment = rest[position:segment_end]
        if not segment.strip():
            if following < 0:  # a marker with nothing after it: a call cut before its name
                calls.append(ProposedCall(name=UNPARSED, arguments=""))
                return calls
            position = following + len(TOOL_CALLS)  # repeated markers count once
            continue
        args_at, brace_at = segment.find(ARGS), segment.find("{")
        if args_at < 0 and brace_at < 0:  # no arguments: cut right after the name, or not a call
            call_id, name = _split_id(segment)
            if _NAME.fullmatch(name.strip()):
                calls.append(ProposedCall(id=call_id, name=name.strip(), arguments=None))
            else:
                calls.append(ProposedCall(name=UNPARSED, arguments=segment.strip()))
        else:
            use_args = args_at >= 0 and (brace_at < 0 or args_at < brace_at)
            head = segment[:args_at] if use_args else segment[:brace_at]
            start = position + (args_at + len(ARGS) if use_args else brace_at)
            call_id, name = _split_id(head)
            arguments, end = _arguments_at(rest, start)
            calls.append(ProposedCall(id=call_id, name=name.strip(), arguments=arguments))
            following = rest.find(TOOL_CALLS, end)  # text between the JSON and the next call: dropped
        if following < 0:
            return calls
        position = following + len(TOOL_CALLS)


def _arguments_at(rest: str, start: int) -> tuple[str, int]:
    """The arguments starting at `start` and where they end: the first JSON value (a marker inside
    its strings included), else the text up to the next marker."""
    skipped = len(rest[start:]) - len(rest[start:].lstrip())
    try:
        _, end = json.JSONDecoder().raw_decode(rest, start + skipped)
    except json.JSONDecodeError:
        following = rest.find(TOOL_CALLS, start)
        end = len(rest) if following < 0 else following
        return rest[start:end].strip(), end
    return rest[start + skipped : end], end


def _parse_list_form(rest: str) -> list[ProposedCall] | None:
    try:
        value, _ = json.JSONDecoder().raw_decode(rest.lstrip())
    except json.JSONDecodeError:
        return None
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        return None
    calls: list[ProposedCall] = []
    for item in value:
        name = item.get("name")
        arguments = item.get("arguments", item.get("parameters"))
        call_id = item.get("id")
        calls.append(
            ProposedCall(
                id=call_id if isinstance(call_id, str) else None,
                name=name if isinstance(name, str) else UNPARSED,
                arguments=json.dumps(arguments) if isinstance(arguments, dict | list) else arguments,
            )
        )
    return calls
