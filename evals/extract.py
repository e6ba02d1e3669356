"""Code out of a model answer: reasoning stripped first, then the last fenced block.

Reasoning comes as `[THINK]…[/THINK]` (Mistral) or `<think>…</think>` (other open models); a closing
tag with no opening one means the server cut the opening off, so everything before it is reasoning.
An answer cut short inside its reasoning has no code. The code is the body of the last complete
fenced block (a fence is a line starting with three backticks); no block gives "" (graded as a
failure, as upstream).
"""

from __future__ import annotations

import re

_TAGS = (("[THINK]", "[/THINK]"), ("<think>", "</think>"))
_FENCE = re.compile(r"^\s*```")


def strip_reasoning(text: str) -> str:
    """`text` without its reasoning sections."""
    for opening, closing in _TAGS:
        if closing in text:
            text = text[text.rindex(closing) + len(closing) :]
        elif opening in text:  # reasoning that never ended: the answer never came
            text = text[: text.index(opening)]
    return text


def last_fenced_block(text: str) -> str:
    """The body of the last complete ``` fenced block, or "" when there is none."""
    lines = text.split("\n")
    fences = [number for number, line in enumerate(lines) if _FENCE.match(line)]
    pairs = [(fences[i], fences[i + 1]) for i in range(0, len(fences) - 1, 2)]
    if not pairs:
        return ""
    start, end = pairs[-1]
    return "\n".join(lines[start + 1 : end])


def extract_code(answer: str) -> str:
    return last_fenced_block(strip_reasoning(answer))
