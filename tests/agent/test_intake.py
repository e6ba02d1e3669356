"""Intake units: extraction (structured and raw text), repair, validation messages, ids."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.helpers import run_script
from trident.agent.core.events import RawToolCall, ToolResult
from trident.agent.core.messages import Completion, ProposedCall
from trident.agent.intake.calls import Accepted, Intake, Rejected, history_arguments
from trident.agent.intake.ids import is_valid_call_id
from trident.agent.intake.raw_calls import UNPARSED, split_raw_tool_calls
from trident.agent.intake.repair import ArgumentsError, parse_arguments
from trident.tools.base import ToolSpec
from trident.tools.registry import default_tools

PLAN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "steps": {"type": "array", "items": {"type": "string"}},
        "meta": {"type": "object", "properties": {"owner": {"type": "string"}}},
        "mode": {"enum": ["fast", "slow"]},
        "count": {"type": "integer", "minimum": 1},
    },
    "required": ["title", "steps"],
    "additionalProperties": False,
}


@pytest.fixture
def intake() -> Intake:
    specs = default_tools().specs()
    specs["plan"] = ToolSpec(name="plan", description="a plan", parameters=PLAN_SCHEMA)
    return Intake(specs)


def call(name: str, arguments: str) -> RawToolCall:
    return RawToolCall(id="abcDEF123", name=name, arguments=arguments)


def test_valid_call_is_accepted_without_repairs(intake: Intake) -> None:
    verdict = intake.check(call("read", '{"path": "a.py"}'))
    assert isinstance(verdict, Accepted)
    assert verdict.arguments == {"path": "a.py"} and verdict.repairs == []


@pytest.mark.parametrize(
    ("arguments", "repair"),
    [
        ('```json\n{"path": "a.py"}\n```', "code fence"),
        ('{"path": "a.py",}', "trailing comma"),
        ('"{\\"path\\": \\"a.py\\"}"', "encoded twice"),
    ],
)
def test_unambiguous_repairs(intake: Intake, arguments: str, repair: str) -> None:
    verdict = intake.check(call("read", arguments))
    assert isinstance(verdict, Accepted), verdict
    assert verdict.arguments == {"path": "a.py"}
    assert any(repair in r for r in verdict.repairs)


def test_stringified_nested_values_are_decoded_only_where_the_schema_wants_them(intake: Intake) -> None:
    arguments = {"title": "[1]", "steps": '["a", "b"]', "meta": '{"owner": "me"}'}
    verdict = intake.check(call("plan", json.dumps(arguments)))
    assert isinstance(verdict, Accepted), verdict
    assert verdict.arguments == {"title": "[1]", "steps": ["a", "b"], "meta": {"owner": "me"}}
    assert len(verdict.repairs) == 2


def test_trailing_comma_inside_a_string_is_left_alone() -> None:
    value, repairs = parse_arguments('{"text": "a,}", "n": [1,2,],}')
    assert value == {"text": "a,}", "n": [1, 2]}
    assert repairs == ["removed a trailing comma"]


@pytest.mark.parametrize("payload", ["not json", "{'path': 'a.py'}", '{"path": ', "[1, 2]", "42", "null"])
def test_bad_payloads_are_never_turned_into_an_empty_object(payload: str) -> None:
    with pytest.raises(ArgumentsError):
        parse_arguments(payload)


def test_tool_name_differing_in_case_or_dash_is_repaired(intake: Intake) -> None:
    verdict = intake.check(call("Run-Tests", "{}"))
    assert isinstance(verdict, Accepted)
    assert verdict.name == "run_tests" and "read as `run_tests`" in verdict.repairs[0]


def test_unknown_tool_lists_the_available_tools(intake: Intake) -> None:
    verdict = intake.check(call("delete_everything", "{}"))
    assert isinstance(verdict, Rejected) and verdict.kind == "unknown_tool"
    assert "`delete_everything`" in verdict.message
    for name in default_tools().names():
        assert f" {name}" in verdict.message


def test_invalid_json_names_the_position_and_gives_an_example(intake: Intake) -> None:
    verdict = intake.check(call("read", '{"path" "a.py"}'), "raw")
    assert isinstance(verdict, Rejected) and verdict.kind == "invalid_json"
    assert "line 1 column 9" in verdict.message
    assert 'read[ARGS]{"path": "src/app.py"}' in verdict.message


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"steps": []}, "$: missing required field(s) `title`"),
        ({"title": 3, "steps": []}, "$.title: expected string, got a number 3"),
        ({"title": "t", "steps": [1]}, "$.steps[0]: expected string, got a number 1"),
        ({"title": "t", "steps": [], "colour": "red"}, "$: unexpected field(s) `colour`; allowed fields:"),
        (
            {"title": "t", "steps": [], "mode": "medium"},
            '$.mode: expected one of ["fast", "slow"], got a string',
        ),
        (
            {"title": "t", "steps": [], "count": 0},
            "$.count: expected a number with minimum 1, got a number 0",
        ),
    ],
)
def test_schema_errors_name_the_field_what_was_expected_and_what_came(
    intake: Intake, arguments: dict[str, Any], expected: str
) -> None:
    verdict = intake.check(call("plan", json.dumps(arguments)), "raw")
    assert isinstance(verdict, Rejected) and verdict.kind == "schema"
    assert expected in verdict.message
    example = json.loads(verdict.message.split("plan[ARGS]", 1)[1])
    assert list(Draft202012Validator(PLAN_SCHEMA).iter_errors(example)) == []


@pytest.mark.parametrize("name", [t for t in default_tools().names()])
def test_every_tools_minimal_example_is_itself_valid(intake: Intake, name: str) -> None:
    verdict = intake.check(call(name, '{"no_such_field": 1}'), "raw")
    assert isinstance(verdict, Rejected)
    example = json.loads(verdict.message.split(f"{name}[ARGS]", 1)[1])
    assert isinstance(intake.check(call(name, json.dumps(example))), Accepted)


def test_raw_v11_format_with_several_calls() -> None:
    text = 'Reading both.[TOOL_CALLS]read[ARGS]{"path": "a.py"}[TOOL_CALLS]read[ARGS]{"path": "b.py"}</s>'
    split = split_raw_tool_calls(text)
    assert split is not None
    content, calls = split
    assert content == "Reading both."
    assert [(c.name, c.arguments) for c in calls] == [
        ("read", '{"path": "a.py"}'),
        ("read", '{"path": "b.py"}'),
    ]


def test_raw_list_form_and_call_id_form() -> None:
    listed = split_raw_tool_calls(
        '[TOOL_CALLS][{"name": "read", "arguments": {"path": "a"}, "id": "abc123XYZ"}]'
    )
    assert listed is not None and listed[1][0].id == "abc123XYZ"
    assert json.loads(str(listed[1][0].arguments)) == {"path": "a"}
    with_id = split_raw_tool_calls('[TOOL_CALLS]read[CALL_ID]abc123XYZ[ARGS]{"path": "a"}')
    assert with_id is not None and with_id[1][0].id == "abc123XYZ" and with_id[1][0].name == "read"


def test_raw_text_that_is_no_call_becomes_an_unparsed_call(intake: Intake) -> None:
    split = split_raw_tool_calls("[TOOL_CALLS]what is this?")
    assert split is not None and split[1][0].name == UNPARSED
    verdict = intake.check(RawToolCall(id="abcDEF123", name=UNPARSED, arguments=str(split[1][0].arguments)))
    assert isinstance(verdict, Rejected) and "Available tools" in verdict.message


def test_extract_assigns_valid_unique_ids(intake: Intake) -> None:
    completion = Completion(
        tool_calls=[
            ProposedCall(id="call_0123456789abcdef", name="read", arguments={"path": "a"}),
            ProposedCall(id="Abc123xyz", name="read", arguments='{"path": "b"}'),
            ProposedCall(id="Abc123xyz", name="read", arguments='{"path": "c"}'),
            ProposedCall(name="read", arguments=None),
        ]
    )
    _, calls = intake.extract(completion, taken_ids={"zzzzzzzz1"})
    ids = [c.id for c in calls]
    assert all(is_valid_call_id(i) for i in ids) and len(set(ids)) == 4
    assert ids[1] == "Abc123xyz" and ids[2] != "Abc123xyz"
    assert calls[0].arguments == '{"path": "a"}'


def test_extract_parses_raw_text_when_there_are_no_structured_calls(intake: Intake) -> None:
    raw = Completion(content='Ok.[TOOL_CALLS]bash[ARGS]{"command": "ls"}', calls_parsed=False)
    content, calls = intake.extract(raw, set())
    assert content == "Ok." and calls[0].name == "bash" and calls[0].arguments == '{"command": "ls"}'


def test_history_arguments_are_always_valid_json() -> None:
    assert json.loads(history_arguments(call("read", '{"path": "a",}'))) == {"path": "a"}
    assert json.loads(history_arguments(call("read", "{oops"))) == {"_unparsed_arguments": "{oops"}


def test_corrections_speak_the_backends_own_call_syntax(intake: Intake) -> None:
    bad = RawToolCall(id="abcdefgh1", name="plan", arguments='{"title": 3, "steps": []}')
    structured = intake.check(bad, "structured")
    raw = intake.check(bad, "raw")
    assert isinstance(structured, Rejected) and isinstance(raw, Rejected)
    assert (
        "the function `plan` with the arguments {" in structured.message
        and "[ARGS]" not in structured.message
    )
    assert 'A minimal valid call: plan[ARGS]{"title": ' in raw.message
    text = RawToolCall(id="abcdefgh2", name=UNPARSED, arguments="[TOOL_CALLS]plan{")
    unparsed = intake.check(text, "structured")
    assert isinstance(unparsed, Rejected) and "as a function call" in unparsed.message
    assert "[ARGS]" not in unparsed.message
    raw_unparsed = intake.check(text, "raw")
    assert isinstance(raw_unparsed, Rejected) and "name[ARGS]{json}" in raw_unparsed.message


async def test_a_structured_backend_is_corrected_in_its_own_terms(tmp_path: Path) -> None:
    bad = {"tool_calls": [{"name": "read", "arguments": {"path": 7}}]}
    events = await run_script(tmp_path, [bad, {"content": "done"}])
    (result,) = [e for e in events if isinstance(e, ToolResult)]
    assert result.error_kind == "schema" and "the function `read` with the arguments" in result.output
