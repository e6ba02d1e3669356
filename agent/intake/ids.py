"""Tool-call ids: exactly 9 alphanumeric characters, as Mistral's tokenizer requires."""

from __future__ import annotations

import re
import secrets
import string

_ALPHABET = string.ascii_letters + string.digits
_VALID = re.compile(r"[A-Za-z0-9]{9}")


def new_call_id() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(9))


def is_valid_call_id(value: str | None) -> bool:
    return value is not None and _VALID.fullmatch(value) is not None


def ensure_call_id(value: str | None, taken: set[str]) -> str:
    """Keep a backend's id when it is valid and unused, otherwise mint a fresh one."""
    if is_valid_call_id(value) and value not in taken:
        assert value is not None
        return value
    while True:
        fresh = new_call_id()
        if fresh not in taken:
            return fresh
