"""A tool call written as text is never run: it is answered as a format error saying how to call.

When a turn ends without a (structured) call but its text holds one (`intake.text_calls`), the run
does not end as "answered": the model is told that nothing ran and exactly how to make the call,
with its own arguments checked against the tool's schema (what is wrong with them, or that they
were fine). The step counts one format error, like a rejected call, so a model that keeps writing
calls as text ends the run at `limits.max_format_errors` (status `format_errors`).
"""

from __future__ import annotations

import json
from collections.abc import Collection

from trident.agent.core.events import Correction, RawToolCall
from trident.agent.core.messages import CallSyntax
from trident.agent.intake.calls import Accepted, Intake
from trident.agent.intake.text_calls import FORM_NAMES, TextCall, find_text_call

FAILURE = "a tool call written as text"


def _how(name: str, arguments: str, syntax: CallSyntax) -> str:
    if syntax == "raw":
        return f"Write it as {name}[ARGS]{arguments}"
    return (
        f"Make it a real function call: the tool `{name}` with the arguments {arguments}, emitted as a "
        'tool call (the way your chat format marks one, e.g. <tool_call>{"name": '
        f'"{name}", "arguments": {arguments}}}</tool_call>), not quoted in a code block or in your answer'
    )


def correction_text(found: TextCall, intake: Intake, tools: Collection[str], syntax: CallSyntax) -> str:
    head = (
        f"Your answer holds a tool call written as text ({FORM_NAMES[found.form]}): text is never run, "
        "so nothing was done."
    )
    if found.name is None:
        listed = ", ".join(sorted(tools))
        return f"{head} Call one of the tools as a function call, not as text. Available tools: {listed}."
    if found.arguments is None:
        how = _how(found.name, "{...}", syntax)
        return f"{head} Its arguments are not valid JSON (a string left open, or a bracket).\n{how}."
    verdict = intake.check(RawToolCall(id="text", name=found.name, arguments=found.arguments), syntax)
    if isinstance(verdict, Accepted):
        arguments = json.dumps(verdict.arguments, ensure_ascii=False)
        return f"{head} {_how(verdict.name, arguments, syntax)}."
    how = _how(found.name, "{...}", syntax)
    return f"{head} Its arguments would also be rejected: {verdict.message}\n{how}."


def text_call_correction(
    content: str, intake: Intake, tools: Collection[str], syntax: CallSyntax
) -> Correction | None:
    """The format error answering `content`, a turn without calls, when it holds a call as text."""
    found = find_text_call(content, tools)
    if found is None:
        return None
    return Correction(kind="text_call", text=correction_text(found, intake, tools, syntax), failure=FAILURE)
