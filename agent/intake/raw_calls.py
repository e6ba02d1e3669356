"""Parse tool calls that a backend left in plain text, in Mistral's raw formats.

- v11+ (Mistral Small 4): `content[TOOL_CALLS]name[ARGS]{json}` repeated once per call.
- older: `content[TOOL_CALLS][{"name": ..., "arguments": {...}, "id": ...}, ...]`.

Arguments are returned as text, untouched: repairing and validating them is intake's job.
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
_NAME = re.compile(r"\s*([A-Za-z0-9_.\-]+)\s*")


def split_raw_tool_calls(text: str) -> tuple[str, list[ProposedCall]] | None:
    """Return (content before the calls, calls), or None when the text holds no `[TOOL_CALLS]`."""
    if TOOL_CALLS not in text:
        return None
    content, _, rest = text.partition(TOOL_CALLS)
    for end in _END_TOKENS:
        rest = rest.replace(end, "")
    if rest.lstrip().startswith("["):
        calls = _parse_list_form(rest)
        if calls is not None:
            return content, calls
    calls = [_parse_one(segment) for segment in rest.split(TOOL_CALLS)]
    return content, calls


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


def _parse_one(segment: str) -> ProposedCall:
    """`name[ARGS]{json}`, optionally `name[CALL_ID]id[ARGS]{json}`; else an unparsed call."""
    head, sep, arguments = segment.partition(ARGS)
    if not sep:
        return ProposedCall(name=UNPARSED, arguments=segment.strip())
    call_id: str | None = None
    if CALL_ID in head:
        head, _, call_id = head.partition(CALL_ID)
        call_id = call_id.strip()
    match = _NAME.fullmatch(head)
    if not match:
        return ProposedCall(name=UNPARSED, arguments=segment.strip())
    return ProposedCall(id=call_id, name=match.group(1), arguments=arguments.strip())
