"""Property-based: random malformed payloads never crash intake or the loop, and always get an answer."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import end_of, results, run_script
from trident.agent.core.events import RawToolCall, ToolCall
from trident.agent.intake.calls import Accepted, Intake, Rejected, history_arguments
from trident.agent.intake.raw_calls import split_raw_tool_calls
from trident.tools.registry import default_tools

INTAKE = Intake(default_tools().specs())
NAMES = st.sampled_from([*default_tools().names(), "Read", "run-tests", "nope", "", "[ARGS]", "read[ARGS]"])
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
# strings that look like what a confused model emits: fragments of JSON, markers, fences
FRAGMENTS = st.lists(
    st.sampled_from(
        ['{"path": ', '"a.py"', "}", "{", ",", "]", "[", "```json\n", "```", "[TOOL_CALLS]", "[ARGS]", '\\"']
    )
    | st.text(max_size=10),
    max_size=12,
).map("".join)
ARGUMENTS = FRAGMENTS | JSONISH.map(json.dumps) | st.text(max_size=60)


@settings(max_examples=400, deadline=None)
@given(name=NAMES, arguments=ARGUMENTS)
def test_intake_always_gives_a_verdict_with_a_message(name: str, arguments: str) -> None:
    verdict = INTAKE.check(RawToolCall(id="abcdefghi", name=name, arguments=arguments))
    if isinstance(verdict, Rejected):
        assert verdict.message.strip()
    else:
        assert isinstance(verdict, Accepted) and isinstance(verdict.arguments, dict)
        assert list(INTAKE.validator(verdict.name).iter_errors(verdict.arguments)) == []
    json.loads(history_arguments(RawToolCall(id="abcdefghi", name=name, arguments=arguments)))


@settings(max_examples=300, deadline=None)
@given(text=st.lists(FRAGMENTS | st.sampled_from(["read", "bash", "[TOOL_CALLS]"]), max_size=8).map("".join))
def test_raw_text_parsing_never_raises(text: str) -> None:
    split = split_raw_tool_calls(text)
    assert (split is None) == ("[TOOL_CALLS]" not in text)


# no shell tools here: random text must never be run as a command
SAFE_NAMES = st.sampled_from(["read", "edit", "write", "Read", "nope", "", "[ARGS]"])
TURN = st.fixed_dictionaries(
    {
        "tool_calls": st.lists(
            st.fixed_dictionaries({"name": SAFE_NAMES, "arguments": ARGUMENTS}), min_size=1, max_size=3
        )
    }
) | st.builds(lambda raw: {"raw": "[TOOL_CALLS]" + raw.replace("bash", "b")}, FRAGMENTS)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(turns=st.lists(TURN, min_size=1, max_size=4))
async def test_the_loop_survives_any_malformed_turns(turns: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        events = await run_script(Path(tmp), [*turns, {"content": "done"}])
    end = end_of(events)
    assert end.status in ("finished", "format_errors", "stuck")
    answered = results(events)
    for result in answered:
        assert result.output.strip()
    executed = {e.call_id for e in events if isinstance(e, ToolCall)}
    assert executed <= {r.call_id for r in answered}
