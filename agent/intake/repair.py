"""Parse tool-call arguments, repairing only what is unambiguous.

Repairs: code fences around the JSON, trailing commas before a closing bracket, a JSON object that
was encoded twice (a string holding the object), and nested objects or arrays sent as strings where
the schema wants an object or array. Anything else is an error with a precise message: a bad payload
is never turned into `{}`.
"""

from __future__ import annotations

import json
import re
from typing import Any

_FENCE = re.compile(r"^```[A-Za-z0-9_-]*\s*\n?(.*?)\n?\s*```$", re.DOTALL)


class ArgumentsError(ValueError):
    """The arguments are not a JSON object and no unambiguous repair makes them one."""


def _strip_trailing_commas(text: str) -> str:
    """Drop commas that directly precede `}` or `]` (whitespace between), outside strings."""
    out: list[str] = []
    in_string = False
    escaped = False
    pending_comma: int | None = None  # index in `out` of a comma that may be trailing
    for ch in text:
        if in_string:
            out.append(ch)
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch in "}]" and pending_comma is not None:
            del out[pending_comma]
            pending_comma = None
        elif not ch.isspace():
            pending_comma = None
        if ch == ",":
            pending_comma = len(out)
        elif ch == '"':
            in_string = True
        out.append(ch)
    return "".join(out)


def _describe(exc: json.JSONDecodeError, text: str) -> str:
    start = max(0, exc.pos - 20)
    snippet = text[start : exc.pos + 20].replace("\n", "\\n")
    return f"{exc.msg} at line {exc.lineno} column {exc.colno} (near {snippet!r})"


def parse_arguments(raw: str | dict[str, Any] | list[Any] | None) -> tuple[dict[str, Any], list[str]]:
    """Return the arguments object and the list of repairs applied to get it."""
    repairs: list[str] = []
    if raw is None:
        raise ArgumentsError("no arguments were given; send a JSON object")
    if isinstance(raw, dict):
        return raw, repairs
    if isinstance(raw, list):
        raise ArgumentsError("arguments must be a JSON object, got a JSON array")
    text = raw.strip()
    if text == "":
        return {}, ["empty arguments read as {}"]
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1).strip()
        repairs.append("removed a code fence around the JSON")
    try:
        value: Any = json.loads(text)
    except json.JSONDecodeError as first:
        fixed = _strip_trailing_commas(text)
        if fixed == text:
            raise ArgumentsError(f"arguments are not valid JSON: {_describe(first, text)}") from None
        try:
            value = json.loads(fixed)
        except json.JSONDecodeError:
            raise ArgumentsError(f"arguments are not valid JSON: {_describe(first, text)}") from None
        repairs.append("removed a trailing comma")
    if isinstance(value, str):
        try:
            inner = json.loads(value)
        except json.JSONDecodeError:
            inner = None
        if isinstance(inner, dict):
            repairs.append("decoded arguments that were JSON-encoded twice")
            value = inner
    if not isinstance(value, dict):
        raise ArgumentsError(f"arguments must be a JSON object, got {type_name(value)}")
    return value, repairs


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _wants(schema: dict[str, Any], json_type: str) -> bool:
    """Does this property schema accept `json_type` but not a string?"""
    types: set[str] = set()
    for branch in [schema, *schema.get("anyOf", []), *schema.get("oneOf", [])]:
        declared = branch.get("type")
        if isinstance(declared, str):
            types.add(declared)
        elif isinstance(declared, list):
            types.update(t for t in declared if isinstance(t, str))
    return json_type in types and "string" not in types


def unstringify_nested(arguments: dict[str, Any], schema: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Decode top-level values sent as strings where the schema wants an object or an array."""
    properties = schema.get("properties", {})
    repairs: list[str] = []
    result = dict(arguments)
    for key, value in arguments.items():
        prop = properties.get(key)
        if not isinstance(value, str) or not isinstance(prop, dict):
            continue
        prop = resolve_ref(prop, schema)
        try:
            decoded = json.loads(value)
        except json.JSONDecodeError:
            continue
        if isinstance(decoded, dict) and _wants(prop, "object"):
            result[key] = decoded
            repairs.append(f"decoded `{key}`: an object sent as a string")
        elif isinstance(decoded, list) and _wants(prop, "array"):
            result[key] = decoded
            repairs.append(f"decoded `{key}`: an array sent as a string")
    return result, repairs


def resolve_ref(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """Follow a local `$ref` ("#/$defs/Name") once; other nodes come back unchanged."""
    ref = node.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return node
    target: Any = root
    for part in ref[2:].split("/"):
        target = target.get(part, {}) if isinstance(target, dict) else {}
    return target if isinstance(target, dict) else node
