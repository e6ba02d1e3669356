"""Turn jsonschema errors into messages a model can act on, with a minimal valid example."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from jsonschema import ValidationError

from trident.agent.intake.repair import resolve_ref, type_name

_MAX_ERRORS = 3


def field_path(error: ValidationError) -> str:
    path = "$"
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _shown(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_error(error: ValidationError) -> str:
    path = field_path(error)
    validator = error.validator
    expected: Any = error.validator_value
    instance: Any = error.instance
    schema: Any = error.schema
    got = f"got {type_name(error.instance)} {_shown(error.instance)}"
    if validator == "required":
        missing = [name for name in expected if name not in instance]
        return f"{path}: missing required field(s) {', '.join(f'`{m}`' for m in missing)}"
    if validator == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        extra = sorted(set(instance) - set(allowed))
        return (
            f"{path}: unexpected field(s) {', '.join(f'`{e}`' for e in extra)}; "
            f"allowed fields: {', '.join(f'`{a}`' for a in allowed) or '(none)'}"
        )
    if validator == "type":
        return f"{path}: expected {expected}, {got}"
    if validator == "enum":
        return f"{path}: expected one of {_shown(expected)}, {got}"
    if validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return f"{path}: expected a number with {validator} {expected}, {got}"
    if validator in ("minLength", "maxLength", "minItems", "maxItems", "pattern", "const"):
        return f"{path}: expected {validator} {_shown(expected)}, {got}"
    return f"{path}: {error.message}"


def describe_errors(errors: Iterable[ValidationError]) -> list[str]:
    ordered = sorted(errors, key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    return [describe_error(e) for e in ordered[:_MAX_ERRORS]]


def minimal_example(schema: dict[str, Any], root: dict[str, Any] | None = None) -> Any:
    """The smallest instance with every required field filled with a placeholder of the right type."""
    root = root or schema
    node = resolve_ref(schema, root)
    if node.get("examples"):
        return node["examples"][0]
    if "default" in node:
        return node["default"]
    if "const" in node:
        return node["const"]
    if node.get("enum"):
        return node["enum"][0]
    for key in ("anyOf", "oneOf"):
        branches = [b for b in node.get(key, []) if resolve_ref(b, root).get("type") != "null"]
        if branches:
            return minimal_example(branches[0], root)
    kind = node.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in node:
        props = node.get("properties", {})
        return {name: minimal_example(props.get(name, {}), root) for name in node.get("required", [])}
    if kind == "array":
        return []
    if kind == "integer":
        return int(node.get("minimum", 0))
    if kind == "number":
        return node.get("minimum", 0)
    if kind == "boolean":
        return False
    if kind == "string":
        return "..."
    return None
